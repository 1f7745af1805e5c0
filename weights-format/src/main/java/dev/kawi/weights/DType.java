package dev.kawi.weights;

/**
 * Element types of tensors in a {@code .kawi} file and the byte size of their layouts.
 *
 * <p>Q8 and Q4 tensors are stored in two planes, both starting on a 64-byte boundary of the
 * tensor: the quantized values (row-major, one row after another) and then the per-block F32
 * scales (row-major, {@code cols / 32} per row). See {@link QuantCodec} and FORMAT.md.
 */
public enum DType {
    /** IEEE 754 binary32. */
    F32(0),
    /** IEEE 754 binary16. */
    F16(1),
    /** bfloat16: the upper half of a binary32. */
    BF16(2),
    /** int8 in blocks of 32 along the last dimension, one F32 scale per block. */
    Q8(3),
    /** int4 (two per byte) in blocks of 32 along the last dimension, one F32 scale per block. */
    Q4(4);

    /** Stable numeric code, for binary encodings that need one. */
    public final int code;

    DType(int code) {
        this.code = code;
    }

    /** True for the block-quantized types Q8 and Q4. */
    public boolean isQuantized() {
        return this == Q8 || this == Q4;
    }

    /** Parses the name used in the metadata ("F32", "Q8", ...), or returns null when unknown. */
    public static DType fromName(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    /**
     * Bytes of a tensor of this type with {@code rows} rows of {@code cols} elements (the last
     * dimension is {@code cols}, the product of the others is {@code rows}).
     *
     * @throws ArithmeticException when the size does not fit in a long
     * @throws IllegalArgumentException when a quantized tensor's cols is not a multiple of 32
     */
    public long byteSize(long rows, long cols) {
        long n = Math.multiplyExact(rows, cols);
        return switch (this) {
            case F32 -> Math.multiplyExact(n, 4L);
            case F16, BF16 -> Math.multiplyExact(n, 2L);
            case Q8, Q4 -> Math.addExact(scalesOffset(rows, cols), scalesBytes(rows, cols));
        };
    }

    /** Bytes of one row of quantized values (Q8: cols, Q4: cols / 2). */
    public long quantRowBytes(long cols) {
        requireQuantized();
        QuantCodec.checkCols(cols);
        return this == Q8 ? cols : cols / 2;
    }

    /** Offset, from the tensor's start, of the F32 scales plane: the values plane rounded up to 64. */
    public long scalesOffset(long rows, long cols) {
        return align64(Math.multiplyExact(rows, quantRowBytes(cols)));
    }

    /** Bytes of the scales plane: one F32 per block. */
    public long scalesBytes(long rows, long cols) {
        requireQuantized();
        return Math.multiplyExact(Math.multiplyExact(rows, cols / QuantCodec.BLOCK), 4L);
    }

    private void requireQuantized() {
        if (!isQuantized()) {
            throw new IllegalStateException(this + " is not a block-quantized type");
        }
    }

    /** Rounds up to a multiple of 64 (the alignment of tensors and planes). */
    public static long align64(long x) {
        return Math.addExact(x, 63L) & ~63L;
    }
}

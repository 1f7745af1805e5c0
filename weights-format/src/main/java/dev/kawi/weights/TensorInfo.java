package dev.kawi.weights;

import java.util.Arrays;

/**
 * One entry of the tensor table.
 *
 * @param name   unique name, e.g. "encoder.layers.0.ffn.fc1.weight"
 * @param dtype  element type and layout
 * @param shape  dimensions, outermost first; the last is contiguous (and the quantization axis)
 * @param offset absolute byte offset in the file, a multiple of 64
 * @param size   bytes, exactly {@code dtype.byteSize(rows(), cols())}
 * @param crc32c CRC-32C (Castagnoli) of the tensor's bytes, as an unsigned 32-bit value
 */
public record TensorInfo(String name, DType dtype, long[] shape, long offset, long size, long crc32c) {

    /** Copies the shape. */
    public TensorInfo {
        shape = shape.clone();
    }

    /** A copy of the shape. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Size of dimension i. */
    public long dim(int i) {
        return shape[i];
    }

    /** The last dimension (1 for a scalar). */
    public long cols() {
        return shape.length == 0 ? 1 : shape[shape.length - 1];
    }

    /** Product of all dimensions but the last. */
    public long rows() {
        long r = 1;
        for (int i = 0; i < shape.length - 1; i++) {
            r = Math.multiplyExact(r, shape[i]);
        }
        return r;
    }

    /** Total element count. */
    public long elementCount() {
        return Math.multiplyExact(rows(), cols());
    }

    /** The shape as text, e.g. "[512, 2048]". */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && offset == t.offset && size == t.size && crc32c == t.crc32c;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Long.hashCode(offset);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + shapeString() + " @" + offset + "+" + size;
    }
}

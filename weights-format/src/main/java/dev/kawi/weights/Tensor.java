package dev.kawi.weights;

import java.lang.foreign.MemorySegment;

/**
 * A tensor's table entry and its bytes: a read-only slice of the memory-mapped file, valid until
 * the {@link KawiFile} is closed. Nothing is copied.
 *
 * @param info the table entry
 * @param data exactly {@code info.size()} bytes, 64-byte aligned
 */
public record Tensor(TensorInfo info, MemorySegment data) {

    /** Name of the tensor. */
    public String name() {
        return info.name();
    }

    /** Element type. */
    public DType dtype() {
        return info.dtype();
    }

    /** The values plane of a Q8/Q4 tensor (rows x quantRowBytes). */
    public MemorySegment quants() {
        DType t = info.dtype();
        return data.asSlice(0, info.rows() * t.quantRowBytes(info.cols()));
    }

    /** The F32 scales plane of a Q8/Q4 tensor (rows x cols/32). */
    public MemorySegment scales() {
        DType t = info.dtype();
        return data.asSlice(t.scalesOffset(info.rows(), info.cols()), t.scalesBytes(info.rows(), info.cols()));
    }

    /** Decodes row r into dst[0, cols) as floats, whatever the dtype. */
    public void readRow(long r, float[] dst) {
        if (r < 0 || r >= info.rows()) {
            throw new IndexOutOfBoundsException("row " + r + " of " + info.rows() + " in " + info.name());
        }
        QuantCodec.readRow(info.dtype(), data, info.rows(), info.cols(), r, dst, 0);
    }

    /** Decodes the whole tensor as floats (a copy on the heap; for tests and tools, not for inference). */
    public float[] toFloats() {
        int rows = Math.toIntExact(info.rows());
        int cols = Math.toIntExact(info.cols());
        float[] out = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) {
            QuantCodec.readRow(info.dtype(), data, rows, cols, r, out, r * cols);
        }
        return out;
    }
}

package dev.kawi.runtime.kernels;

import dev.kawi.weights.DType;
import dev.kawi.weights.QuantCodec;
import dev.kawi.weights.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * A weight matrix of {@code rows x cols} (out x in: the reduction dimension is last), read in
 * place in its file layout (see weights-format/FORMAT.md).
 *
 * @param dtype  storage type
 * @param rows   N, the output dimension
 * @param cols   K, the reduction dimension (a multiple of 32 for Q8/Q4)
 * @param data   F32/F16/BF16: the elements, row-major; Q8/Q4: the values plane
 * @param scales Q8/Q4: the F32 scales plane (rows x cols/32); otherwise null
 */
public record Weights(DType dtype, int rows, int cols, MemorySegment data, MemorySegment scales) {

    /** Checks that the segments are large enough for the shape. */
    public Weights {
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException("weights must be at least 1x1, got " + rows + "x" + cols);
        }
        long need = switch (dtype) {
            case F32 -> 4L * rows * cols;
            case F16, BF16 -> 2L * rows * cols;
            case Q8, Q4 -> (long) rows * dtype.quantRowBytes(cols);
        };
        if (data.byteSize() < need) {
            throw new IllegalArgumentException(dtype + " " + rows + "x" + cols + " needs " + need + " bytes, segment has " + data.byteSize());
        }
        if (dtype.isQuantized()) {
            if (scales == null || scales.byteSize() < dtype.scalesBytes(rows, cols)) {
                throw new IllegalArgumentException(dtype + " " + rows + "x" + cols + " needs a scales plane of " + dtype.scalesBytes(rows, cols) + " bytes");
            }
        }
    }

    /** A 2-D tensor of a model file as weights. */
    public static Weights of(Tensor t) {
        long[] shape = t.info().shape();
        if (shape.length != 2) {
            throw new IllegalArgumentException(t.name() + ": weights must be 2-D, shape is " + t.info().shapeString());
        }
        int rows = Math.toIntExact(shape[0]);
        int cols = Math.toIntExact(shape[1]);
        return t.dtype().isQuantized()
                ? new Weights(t.dtype(), rows, cols, t.quants(), t.scales())
                : new Weights(t.dtype(), rows, cols, t.data(), null);
    }

    /** F32 weights over {@code data} (row-major rows x cols). */
    public static Weights f32(MemorySegment data, int rows, int cols) {
        return new Weights(DType.F32, rows, cols, data, null);
    }

    /** Number of quantization blocks per row (Q8/Q4). */
    public int blocksPerRow() {
        return cols / QuantCodec.BLOCK;
    }
}

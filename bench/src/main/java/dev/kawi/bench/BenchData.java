package dev.kawi.bench;

import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.runtime.kernels.ScalarKernels;
import dev.kawi.runtime.kernels.Weights;
import dev.kawi.runtime.kernels.simd.VectorKernels;
import dev.kawi.weights.DType;
import dev.kawi.weights.QuantCodec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.SplittableRandom;

/** Shared set-up of the kernel benchmarks: which kernels to measure, and seeded random off-heap data. */
final class BenchData {
    /** System property choosing the kernels measured: {@code vector} (default) or {@code scalar}. */
    static final String KERNELS_PROPERTY = "kawi.bench.kernels";
    /** Every buffer starts on a 64-byte boundary, like tensors in a .kawi file. */
    static final long ALIGN = 64;

    // Activations are in native order (the Kernels contract); weights in the file's little-endian layout.
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfFloat F32_LE = F32.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private BenchData() {
    }

    /** {@code new VectorKernels(threads)}, or the scalar kernels when {@code -Dkawi.bench.kernels=scalar}. */
    static Kernels kernels(int threads) {
        String which = System.getProperty(KERNELS_PROPERTY, "vector").trim().toLowerCase(Locale.ROOT);
        Kernels k = switch (which) {
            case "vector" -> new VectorKernels(threads);
            case "scalar" -> new ScalarKernels();
            default -> throw new IllegalArgumentException("-D" + KERNELS_PROPERTY + "=" + which + ": use vector or scalar");
        };
        if (k.threads() != threads) {
            // JMH prints the fork's output: the thread count in the report would otherwise be wrong unnoticed.
            System.err.println("NOTE: " + k.name() + " uses " + k.threads() + " thread(s), not the " + threads + " asked for");
        }
        return k;
    }

    /** {@code count} floats uniform in [-1, 1), 64-byte aligned. */
    static MemorySegment randomF32(Arena arena, long count, SplittableRandom rnd) {
        MemorySegment s = arena.allocate(4 * Math.max(1, count), ALIGN);
        for (long i = 0; i < count; i++) {
            s.setAtIndex(F32, i, (float) (rnd.nextDouble() * 2 - 1));
        }
        return s;
    }

    /** A zeroed F32 buffer of {@code count} floats, 64-byte aligned. */
    static MemorySegment zerosF32(Arena arena, long count) {
        return arena.allocate(4 * Math.max(1, count), ALIGN);
    }

    /**
     * A {@code rows x cols} weight matrix with values uniform in [-1, 1), stored in {@code dtype}'s
     * file layout (weights-format/FORMAT.md) in one 64-byte aligned segment: quantized through
     * {@link QuantCodec}, values plane first, then the F32 scales plane at its aligned offset.
     */
    static Weights randomWeights(Arena arena, DType dtype, int rows, int cols, SplittableRandom rnd) {
        MemorySegment all = arena.allocate(dtype.byteSize(rows, cols), ALIGN);
        float[] row = new float[cols];
        byte[] q = dtype.isQuantized() ? new byte[(int) dtype.quantRowBytes(cols)] : null;
        float[] s = dtype.isQuantized() ? new float[cols / QuantCodec.BLOCK] : null;
        long scalesOff = dtype.isQuantized() ? dtype.scalesOffset(rows, cols) : 0;
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < cols; i++) {
                row[i] = (float) (rnd.nextDouble() * 2 - 1);
            }
            long base = (long) r * cols;
            switch (dtype) {
                case F32 -> MemorySegment.copy(row, 0, all, F32_LE, 4 * base, cols);
                case F16 -> {
                    for (int i = 0; i < cols; i++) {
                        all.setAtIndex(I16_LE, base + i, Float.floatToFloat16(row[i]));
                    }
                }
                case BF16 -> {
                    for (int i = 0; i < cols; i++) {
                        all.setAtIndex(I16_LE, base + i, QuantCodec.floatToBf16(row[i]));
                    }
                }
                case Q8, Q4 -> {
                    if (dtype == DType.Q8) {
                        QuantCodec.quantizeRowQ8(row, 0, cols, q, 0, s, 0);
                    } else {
                        QuantCodec.quantizeRowQ4(row, 0, cols, q, 0, s, 0);
                    }
                    MemorySegment.copy(q, 0, all, ValueLayout.JAVA_BYTE, (long) r * q.length, q.length);
                    MemorySegment.copy(s, 0, all, F32_LE, scalesOff + 4L * r * s.length, s.length);
                }
            }
        }
        if (!dtype.isQuantized()) {
            return new Weights(dtype, rows, cols, all, null);
        }
        return new Weights(dtype, rows, cols, all.asSlice(0, scalesOff), all.asSlice(scalesOff, dtype.scalesBytes(rows, cols)));
    }

    /** Row {@code r} of {@code w} decoded to floats, through the weights-format codec. */
    static void decodeRow(Weights w, int r, float[] dst) {
        int k = w.cols();
        if (!w.dtype().isQuantized()) {
            QuantCodec.readRow(w.dtype(), w.data(), w.rows(), k, r, dst, 0);
            return;
        }
        byte[] q = new byte[(int) w.dtype().quantRowBytes(k)];
        float[] s = new float[w.blocksPerRow()];
        MemorySegment.copy(w.data(), ValueLayout.JAVA_BYTE, (long) r * q.length, q, 0, q.length);
        MemorySegment.copy(w.scales(), F32_LE, 4L * r * s.length, s, 0, s.length);
        if (w.dtype() == DType.Q8) {
            QuantCodec.dequantizeRowQ8(q, 0, s, 0, k, dst, 0);
        } else {
            QuantCodec.dequantizeRowQ4(q, 0, s, 0, k, dst, 0);
        }
    }

    /**
     * Checks {@code C[i][j]} of a finished {@code C = A · Wᵀ} against a double-precision dot
     * product of A's row and W's decoded row, so a benchmark never times a kernel that computes
     * the wrong thing (or nothing).
     */
    static void checkGemmElement(MemorySegment a, int lda, Weights w, MemorySegment c, int ldc, int i, int j) {
        int k = w.cols();
        float[] row = new float[k];
        decodeRow(w, j, row);
        double dot = 0;
        double mag = 0;
        for (int p = 0; p < k; p++) {
            double x = a.getAtIndex(F32, (long) i * lda + p);
            dot += x * row[p];
            mag += Math.abs(x * row[p]);
        }
        double got = c.getAtIndex(F32, (long) i * ldc + j);
        // 1e-3 of the magnitude sum: far above F32 rounding over K <= 2048 terms, far below any real bug.
        if (!(Math.abs(got - dot) <= 1e-3 * mag + 1e-6)) {
            throw new IllegalStateException(String.format(Locale.ROOT,
                    "gemm %s (K=%d, N=%d): C[%d][%d] = %g, expected %g: the kernel under test is wrong",
                    w.dtype(), k, w.rows(), i, j, got, dot));
        }
    }
}

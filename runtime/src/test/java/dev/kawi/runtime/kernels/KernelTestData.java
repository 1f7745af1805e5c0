package dev.kawi.runtime.kernels;

import dev.kawi.weights.DType;
import dev.kawi.weights.QuantCodec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/** Builds off-heap test matrices and weights in every file layout. */
final class KernelTestData {
    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private KernelTestData() {
    }

    /** n floats, uniform in (-1, 1), at element offset off of a fresh 64-aligned segment (extra room after). */
    static MemorySegment floats(Arena arena, SplittableRandom rnd, long off, long n) {
        MemorySegment s = arena.allocate(4 * (off + n + 16), 64);
        for (long i = 0; i < off + n + 16; i++) {
            s.setAtIndex(F, i, (float) rnd.nextDouble(-1, 1));
        }
        return s;
    }

    /** Weights rows x cols in {@code dtype}, from random floats, laid out as FORMAT.md says. */
    static Weights weights(Arena arena, SplittableRandom rnd, DType dtype, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian() * 0.5f;
        }
        return weights(arena, dtype, rows, cols, v);
    }

    static Weights weights(Arena arena, DType dtype, int rows, int cols, float[] v) {
        switch (dtype) {
            case F32 -> {
                MemorySegment d = arena.allocate(4L * v.length, 64);
                MemorySegment.copy(v, 0, d, F, 0, v.length);
                return Weights.f32(d, rows, cols);
            }
            case F16, BF16 -> {
                MemorySegment d = arena.allocate(2L * v.length, 64);
                for (int i = 0; i < v.length; i++) {
                    short h = dtype == DType.F16 ? Float.floatToFloat16(v[i]) : QuantCodec.floatToBf16(v[i]);
                    d.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, h);
                }
                return new Weights(dtype, rows, cols, d, null);
            }
            default -> {
                int rowBytes = (int) dtype.quantRowBytes(cols);
                byte[] q = new byte[rows * rowBytes];
                float[] s = new float[rows * cols / QuantCodec.BLOCK];
                for (int r = 0; r < rows; r++) {
                    if (dtype == DType.Q8) {
                        QuantCodec.quantizeRowQ8(v, r * cols, cols, q, r * rowBytes, s, r * cols / QuantCodec.BLOCK);
                    } else {
                        QuantCodec.quantizeRowQ4(v, r * cols, cols, q, r * rowBytes, s, r * cols / QuantCodec.BLOCK);
                    }
                }
                MemorySegment d = arena.allocate(q.length, 64);
                MemorySegment.copy(q, 0, d, ValueLayout.JAVA_BYTE, 0, q.length);
                MemorySegment sc = arena.allocate(4L * s.length, 64);
                MemorySegment.copy(s, 0, sc, F, 0, s.length);
                return new Weights(dtype, rows, cols, d, sc);
            }
        }
    }

    static float[] read(MemorySegment s, long off, long n) {
        float[] out = new float[(int) n];
        MemorySegment.copy(s, F, 4 * off, out, 0, (int) n);
        return out;
    }
}

package dev.kawi.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.runtime.kernels.simd.VectorKernels;
import dev.kawi.weights.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The vector matrix products against the scalar oracle, for every weight dtype, odd and
 * vector-length +/- 1 sizes, unaligned offsets and strides; and the bit-identity guarantees:
 * every thread count, and any row alone or inside a batch.
 */
class GemmConformanceTest {
    private static final long SEED = 0xC0FFEE;
    private static final ScalarKernels SCALAR = new ScalarKernels();
    private static final VectorKernels V1 = new VectorKernels(1);
    private static final VectorKernels V2 = new VectorKernels(2);
    private static final VectorKernels V3 = new VectorKernels(3);

    @AfterAll
    static void shutdown() {
        // Pools are daemon threads; nothing to close for the JVM to exit.
    }

    /** |vector - oracle| <= tol, with tol scaled by the reduction length and the operand magnitudes. */
    private static void assertClose(float[] expected, float[] actual, double tol, String what) {
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs((double) expected[i] - actual[i]);
            int at = i;
            assertTrue(err <= tol * (1 + Math.abs(expected[i])), () -> what + " at " + at + ": expected " + expected[at]
                    + " got " + actual[at] + " (seed " + SEED + ")");
        }
    }

    private static float[] gemm(Kernels kern, int m, MemorySegment a, long aOff, int lda, Weights w, Epilogue ep, Arena arena, long cOff, int ldc) {
        MemorySegment c = arena.allocate(4L * (cOff + (long) m * ldc + 8), 64);
        kern.gemm(m, a, aOff, lda, w, c, cOff, ldc, ep);
        float[] out = new float[m * w.rows()];
        for (int i = 0; i < m; i++) {
            MemorySegment.copy(c, KernelTestData.F, 4 * (cOff + (long) i * ldc), out, i * w.rows(), w.rows());
        }
        return out;
    }

    @Test
    void gemmMatchesScalarForEveryDtypeAndShape() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int[][] shapes = {{1, 8, 32}, {1, 9, 64}, {1, 17, 96}, {2, 3, 32}, {3, 5, 7}, {4, 3, 8}, {5, 7, 9}, {7, 13, 33},
            {1, 1, 1}, {1, 100, 15}, {9, 31, 64}, {16, 24, 160}, {33, 65, 127}, {4, 4098, 32}, {1, 4098, 64}, {2, 40, 4098}};
        try (Arena arena = Arena.ofShared()) {
            for (int[] s : shapes) {
                int m = s[0], n = s[1], k = s[2];
                for (DType t : DType.values()) {
                    if (t.isQuantized() && k % 32 != 0) {
                        continue;
                    }
                    Weights w = KernelTestData.weights(arena, rnd, t, n, k);
                    int lda = k + 3;
                    long aOff = 5;
                    MemorySegment a = KernelTestData.floats(arena, rnd, aOff, (long) m * lda);
                    float[] expected = gemm(SCALAR, m, a, aOff, lda, w, Epilogue.NONE, arena, 3, n + 1);
                    for (Kernels v : new Kernels[] {V1, V2}) {
                        float[] actual = gemm(v, m, a, aOff, lda, w, Epilogue.NONE, arena, 3, n + 1);
                        // Float accumulation of k products of magnitude <~ 1: error grows like k * ulp.
                        assertClose(expected, actual, 2e-6 * k, "gemm " + t + " " + m + "x" + n + "x" + k + " " + v.name());
                    }
                }
            }
        }
    }

    @Test
    void epilogueBiasActivationResidual() {
        SplittableRandom rnd = new SplittableRandom(SEED + 1);
        try (Arena arena = Arena.ofShared()) {
            for (int m : new int[] {1, 6}) {
                int n = 37, k = 64;
                Weights w = KernelTestData.weights(arena, rnd, DType.Q8, n, k);
                MemorySegment a = KernelTestData.floats(arena, rnd, 0, (long) m * k);
                MemorySegment bias = KernelTestData.floats(arena, rnd, 0, n);
                MemorySegment res = KernelTestData.floats(arena, rnd, 2, (long) m * n);
                for (Activation act : Activation.values()) {
                    Epilogue ep = new Epilogue(bias, act, res, 2, n);
                    float[] expected = gemm(SCALAR, m, a, 0, k, w, ep, arena, 0, n);
                    float[] actual = gemm(V2, m, a, 0, k, w, ep, arena, 0, n);
                    assertClose(expected, actual, 2e-5, "epilogue " + act + " m=" + m);
                }
            }
        }
    }

    @Test
    void residualMayAliasTheOutput() {
        SplittableRandom rnd = new SplittableRandom(SEED + 2);
        try (Arena arena = Arena.ofShared()) {
            int m = 5, n = 16, k = 32;
            Weights w = KernelTestData.weights(arena, rnd, DType.F32, n, k);
            MemorySegment a = KernelTestData.floats(arena, rnd, 0, (long) m * k);
            MemorySegment c = KernelTestData.floats(arena, rnd, 0, (long) m * n);
            float[] before = KernelTestData.read(c, 0, (long) m * n);
            float[] plain = gemm(V1, m, a, 0, k, w, Epilogue.NONE, arena, 0, n);
            V1.gemm(m, a, 0, k, w, c, 0, n, Epilogue.withResidual(null, c, 0, n));
            float[] after = KernelTestData.read(c, 0, (long) m * n);
            for (int i = 0; i < after.length; i++) {
                assertEquals(plain[i] + before[i], after[i], "c += A·Wᵀ at " + i);
            }
        }
    }

    @Test
    void bitIdenticalAtEveryThreadCountAndBatchSize() {
        SplittableRandom rnd = new SplittableRandom(SEED + 3);
        try (Arena arena = Arena.ofShared()) {
            for (DType t : DType.values()) {
                int m = 37, n = 203, k = 96;
                Weights w = KernelTestData.weights(arena, rnd, t, n, k);
                MemorySegment a = KernelTestData.floats(arena, rnd, 0, (long) m * k);
                float[] ref = gemm(V1, m, a, 0, k, w, Epilogue.NONE, arena, 0, n);
                assertEquals(java.util.Arrays.toString(ref), java.util.Arrays.toString(gemm(V2, m, a, 0, k, w, Epilogue.NONE, arena, 0, n)), t + " 2 threads");
                assertEquals(java.util.Arrays.toString(ref), java.util.Arrays.toString(gemm(V3, m, a, 0, k, w, Epilogue.NONE, arena, 0, n)), t + " 3 threads");
                // Each row alone (the 1-row path) and each prefix batch give the same bits as inside the big batch.
                for (int i : new int[] {0, 1, 17, 36}) {
                    float[] alone = gemm(V2, 1, a, (long) i * k, k, w, Epilogue.NONE, arena, 0, n);
                    for (int j = 0; j < n; j++) {
                        assertEquals(Float.floatToRawIntBits(ref[i * n + j]), Float.floatToRawIntBits(alone[j]),
                                t + " row " + i + " col " + j + " alone vs in batch (seed " + (SEED + 3) + ")");
                    }
                }
                for (int mm : new int[] {2, 3, 5}) {
                    float[] part = gemm(V1, mm, a, 0, k, w, Epilogue.NONE, arena, 0, n);
                    for (int x = 0; x < part.length; x++) {
                        assertEquals(Float.floatToRawIntBits(ref[x]), Float.floatToRawIntBits(part[x]), t + " batch " + mm + " element " + x);
                    }
                }
            }
        }
    }

    @Test
    void largeOneRowProductsAreSplitAcrossThreadsWithTheSameBits() {
        // Above the size where the 1-row path uses the pool (1M weights): 1100 x 1024.
        SplittableRandom rnd = new SplittableRandom(SEED + 5);
        try (Arena arena = Arena.ofShared()) {
            for (DType t : DType.values()) {
                Weights w = KernelTestData.weights(arena, rnd, t, 1100, 1024);
                MemorySegment a = KernelTestData.floats(arena, rnd, 0, 1024);
                float[] one = gemm(V1, 1, a, 0, 1024, w, Epilogue.NONE, arena, 0, 1100);
                float[] two = gemm(V2, 1, a, 0, 1024, w, Epilogue.NONE, arena, 0, 1100);
                float[] three = gemm(V3, 1, a, 0, 1024, w, Epilogue.NONE, arena, 0, 1100);
                assertEquals(java.util.Arrays.toString(one), java.util.Arrays.toString(two), t + " 2 threads");
                assertEquals(java.util.Arrays.toString(one), java.util.Arrays.toString(three), t + " 3 threads");
                float[] expected = gemm(SCALAR, 1, a, 0, 1024, w, Epilogue.NONE, arena, 0, 1100);
                assertClose(expected, one, 2e-6 * 1024, "large gemv " + t);
            }
        }
    }

    /**
     * A·B and Aᵀ·B compute each element as one fused multiply-add chain over p = 0..k-1 in order
     * (from C when accumulating): exactly, for shapes that cross every blocking boundary, at 1
     * and 2 threads.
     */
    @Test
    void matmulIsOneFmaChainPerElementAtEveryThreadCount() {
        SplittableRandom rnd = new SplittableRandom(SEED + 5);
        // 7 x 520 x 8300: 33 depth blocks, more than one thread's packed-B budget holds at once,
        // so they are packed and run in two groups.
        int[][] shapes = {{5, 3, 2}, {97, 257, 300}, {13, 600, 700}, {7, 520, 8300}};
        try (Arena arena = Arena.ofShared()) {
            for (int[] s : shapes) {
                int m = s[0], n = s[1], k = s[2];
                MemorySegment a = KernelTestData.floats(arena, rnd, 0, (long) m * k);
                MemorySegment at = KernelTestData.floats(arena, rnd, 0, (long) k * m);
                MemorySegment b = KernelTestData.floats(arena, rnd, 0, (long) k * n);
                MemorySegment c0 = KernelTestData.floats(arena, rnd, 0, (long) m * n);
                float[] init = KernelTestData.read(c0, 0, (long) m * n);
                float[] aa = KernelTestData.read(a, 0, (long) m * k);
                float[] aat = KernelTestData.read(at, 0, (long) k * m);
                float[] bb = KernelTestData.read(b, 0, (long) k * n);
                for (VectorKernels v : new VectorKernels[] {V1, V2}) {
                    for (boolean trans : new boolean[] {false, true}) {
                        MemorySegment c = arena.allocate(4L * m * n, 64);
                        MemorySegment.copy(c0, 0, c, 0, 4L * m * n);
                        if (trans) {
                            v.matmulTransA(m, n, k, at, 0, m, b, 0, n, c, 0, n, true);
                        } else {
                            v.matmul(m, n, k, a, 0, k, b, 0, n, c, 0, n, true);
                        }
                        float[] got = KernelTestData.read(c, 0, (long) m * n);
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < n; j++) {
                                float x = init[i * n + j];
                                for (int p = 0; p < k; p++) {
                                    x = Math.fma(trans ? aat[p * m + i] : aa[i * k + p], bb[p * n + j], x);
                                }
                                if (Float.floatToRawIntBits(x) != Float.floatToRawIntBits(got[i * n + j])) {
                                    throw new AssertionError((trans ? "matmulTransA " : "matmul ") + m + "x" + n + "x" + k + " threads "
                                            + v.threads() + " element (" + i + "," + j + "): " + got[i * n + j] + " != " + x + " (seed " + (SEED + 5) + ")");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void matmulAndTransposedMatmulMatchScalar() {
        SplittableRandom rnd = new SplittableRandom(SEED + 4);
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {8, 9, 17}, {16, 33, 64}, {37, 20, 129}, {100, 300, 300}, {7, 520, 513}, {200, 70, 600}};
        try (Arena arena = Arena.ofShared()) {
            for (int[] s : shapes) {
                int m = s[0], n = s[1], k = s[2];
                MemorySegment a = KernelTestData.floats(arena, rnd, 1, (long) (m + 1) * (k + 2));
                MemorySegment at = KernelTestData.floats(arena, rnd, 1, (long) (k + 1) * (m + 2));
                MemorySegment b = KernelTestData.floats(arena, rnd, 3, (long) (k + 1) * (n + 1));
                for (boolean acc : new boolean[] {false, true}) {
                    MemorySegment c0 = KernelTestData.floats(arena, new SplittableRandom(9), 2, (long) m * (n + 4));
                    MemorySegment c1 = KernelTestData.floats(arena, new SplittableRandom(9), 2, (long) m * (n + 4));
                    SCALAR.matmul(m, n, k, a, 1, k + 2, b, 3, n + 1, c0, 2, n + 4, acc);
                    V2.matmul(m, n, k, a, 1, k + 2, b, 3, n + 1, c1, 2, n + 4, acc);
                    assertClose(KernelTestData.read(c0, 0, (long) m * (n + 4) + 2), KernelTestData.read(c1, 0, (long) m * (n + 4) + 2),
                            2e-6 * k, "matmul " + m + "x" + n + "x" + k + " acc=" + acc);
                    SCALAR.matmulTransA(m, n, k, at, 1, m + 2, b, 3, n + 1, c0, 2, n + 4, acc);
                    V2.matmulTransA(m, n, k, at, 1, m + 2, b, 3, n + 1, c1, 2, n + 4, acc);
                    assertClose(KernelTestData.read(c0, 0, (long) m * (n + 4) + 2), KernelTestData.read(c1, 0, (long) m * (n + 4) + 2),
                            2e-6 * k, "matmulTransA " + m + "x" + n + "x" + k + " acc=" + acc);
                }
            }
        }
    }

    @Test
    void quantizedExtremesAreDecodedExactly() {
        // Raw bytes -128 and 127, nibbles 0 and 15, scale 1: each product is exact, so the sum is exact.
        try (Arena arena = Arena.ofShared()) {
            int k = 64;
            MemorySegment q8 = arena.allocate(k, 64);
            MemorySegment q4 = arena.allocate(k / 2, 64);
            MemorySegment sc = arena.allocate(8, 64);
            sc.setAtIndex(KernelTestData.F, 0, 1f);
            sc.setAtIndex(KernelTestData.F, 1, 0.5f);
            for (int i = 0; i < k; i++) {
                q8.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (i % 2 == 0 ? -128 : 127));
            }
            for (int i = 0; i < k / 2; i++) {
                q4.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) 0xF0); // low 0 -> -8, high 15 -> 7
            }
            MemorySegment x = arena.allocate(4L * k, 64);
            for (int i = 0; i < k; i++) {
                x.setAtIndex(KernelTestData.F, i, 1f);
            }
            MemorySegment c = arena.allocate(4, 64);
            V1.gemm(1, x, 0, k, new Weights(DType.Q8, 1, k, q8, sc), c, 0, 1, Epilogue.NONE);
            assertEquals(16 * -128 + 16 * 127 + 0.5f * (16 * -128 + 16 * 127), c.getAtIndex(KernelTestData.F, 0));
            V1.gemm(1, x, 0, k, new Weights(DType.Q4, 1, k, q4, sc), c, 0, 1, Epilogue.NONE);
            assertEquals(16 * -8 + 16 * 7 + 0.5f * (16 * -8 + 16 * 7), c.getAtIndex(KernelTestData.F, 0));
        }
    }

    @Test
    void f16DecodingIsExactForAllBitPatterns() {
        try (Arena arena = Arena.ofShared()) {
            int n = 65536;
            MemorySegment d = arena.allocate(2L * n, 64);
            for (int i = 0; i < n; i++) {
                d.setAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) i);
            }
            // Embedding-free check through the GEMM: x = e_p picks column p of W (k = 65536 / rows).
            int k = 256, rows = n / k;
            Weights w = new Weights(DType.F16, rows, k, d, null);
            float[] row = new float[k];
            for (int r = 0; r < rows; r++) {
                ScalarKernels.weightRow(w, r, row);
                for (int p = 0; p < k; p++) {
                    float expected = Float.float16ToFloat((short) (r * k + p));
                    assertEquals(Float.floatToRawIntBits(expected) == Float.floatToRawIntBits(row[p]) || (Float.isNaN(expected) && Float.isNaN(row[p])), true);
                }
            }
        }
    }
}

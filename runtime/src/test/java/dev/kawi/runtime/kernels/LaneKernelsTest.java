package dev.kawi.runtime.kernels;

import static dev.kawi.runtime.kernels.OpsTestSupport.SEED;
import static dev.kawi.runtime.kernels.OpsTestSupport.anyValue;
import static dev.kawi.runtime.kernels.OpsTestSupport.gaussian;
import static dev.kawi.runtime.kernels.OpsTestSupport.set;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kawi.runtime.kernels.simd.VectorKernels;
import dev.kawi.weights.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The lane kernels against the vector kernels of this JVM's vector width: every result must have
 * the same bits (NaN compared as NaN), since a {@link WarmingKernels} switches from one to the
 * other in the middle of a translation. CI runs this at 512 and at 256 bits.
 */
class LaneKernelsTest {
    private static final Kernels V = new VectorKernels(2);
    private static final LaneKernels LK = new LaneKernels(VectorKernels.lanes());
    private static final Activation[] ACTS = Activation.values();

    /** Two segments with the same random contents (n floats plus room). */
    private static MemorySegment[] pair(Arena arena, Random r, long n, double scale, boolean specials) {
        MemorySegment a = arena.allocate(4 * (n + 8), 64);
        for (long i = 0; i < n + 8; i++) {
            set(a, i, specials && r.nextInt(16) == 0 ? anyValue(r) : (float) (r.nextGaussian() * scale));
        }
        MemorySegment b = arena.allocate(a.byteSize(), 64);
        b.copyFrom(a);
        return new MemorySegment[] {a, b};
    }

    private static void assertSameBits(long seed, String what, MemorySegment v, MemorySegment l) {
        long n = v.byteSize() / 4;
        for (long i = 0; i < n; i++) {
            float a = v.getAtIndex(OpsTestSupport.FL, i);
            float b = l.getAtIndex(OpsTestSupport.FL, i);
            if (Float.floatToIntBits(a) != Float.floatToIntBits(b)) {
                fail(String.format("seed=%d %s: element %d: vector %s (0x%08x) vs lanes %s (0x%08x)", seed, what, i, a,
                        Float.floatToRawIntBits(a), b, Float.floatToRawIntBits(b)));
            }
        }
    }

    @Test
    void lanesMatchThisJvm() {
        assertEquals(KernelProvider.vectorLanes(), LK.lanes());
        assertTrue(LK.lanes() >= 4, "lanes " + LK.lanes());
        assertThrows(IllegalArgumentException.class, () -> new LaneKernels(12));
        assertEquals(1, LK.threads());
    }

    @Test
    void gemmSameBits() {
        long seed = SEED + 501;
        Random r = new Random(seed);
        DType[] types = DType.values();
        int[] ms = {1, 2, 3, 4, 5, 7, 9, 17, 33};
        int[] ns = {1, 3, 8, 9, 17, 64, 70, 130};
        int[] ksQuant = {32, 64, 96, 256, 288};
        int[] ksFloat = {1, 7, 15, 16, 17, 31, 33, 100, 256, 257};
        try (Arena arena = Arena.ofShared()) {
            for (int t = 0; t < 400; t++) {
                DType dt = types[t % types.length];
                int m = ms[r.nextInt(ms.length)];
                int n = ns[r.nextInt(ns.length)];
                int k = dt.isQuantized() ? ksQuant[r.nextInt(ksQuant.length)] : ksFloat[r.nextInt(ksFloat.length)];
                Weights w = KernelTestData.weights(arena, new java.util.SplittableRandom(r.nextLong()), dt, n, k);
                int lda = k + r.nextInt(3);
                int ldc = n + r.nextInt(3);
                long aOff = r.nextInt(4);
                long cOff = r.nextInt(4);
                MemorySegment a = pair(arena, r, aOff + (long) m * lda, 1, t % 7 == 0)[0];
                MemorySegment bias = r.nextBoolean() ? pair(arena, r, n, 0.5, false)[0] : null;
                Activation act = ACTS[r.nextInt(ACTS.length)];
                int mode = r.nextInt(3); // 0: no residual, 1: separate residual, 2: residual is C (no activation)
                if (mode == 2) {
                    act = Activation.NONE;
                }
                MemorySegment[] c = pair(arena, r, cOff + (long) m * ldc, 1, false);
                MemorySegment res = mode == 1 ? pair(arena, r, (long) m * ldc + 5, 1, false)[0] : null;
                long resOff = mode == 1 ? r.nextInt(4) : cOff;
                Epilogue ev = mode == 0 ? Epilogue.of(bias, act) : new Epilogue(bias, act, mode == 1 ? res : c[0], resOff, ldc);
                Epilogue el = mode == 0 ? Epilogue.of(bias, act) : new Epilogue(bias, act, mode == 1 ? res : c[1], resOff, ldc);
                V.gemm(m, a, aOff, lda, w, c[0], cOff, ldc, ev);
                LK.gemm(m, a, aOff, lda, w, c[1], cOff, ldc, el);
                assertSameBits(seed, String.format("gemm #%d %s m=%d n=%d k=%d act=%s mode=%d", t, dt, m, n, k, act, mode), c[0], c[1]);
            }
        }
    }

    @Test
    void gemmRejectsAnAliasedResidualWithAnActivation() {
        try (Arena arena = Arena.ofShared()) {
            Weights w = KernelTestData.weights(arena, new java.util.SplittableRandom(1), DType.F32, 4, 4);
            MemorySegment a = OpsTestSupport.floats(arena, 16);
            MemorySegment c = OpsTestSupport.floats(arena, 16);
            assertThrows(IllegalArgumentException.class, () -> LK.gemm(2, a, 0, 4, w, c, 0, 4, new Epilogue(null, Activation.RELU, c, 0, 4)));
        }
    }

    @Test
    void productsSameBits() {
        long seed = SEED + 502;
        Random r = new Random(seed);
        try (Arena arena = Arena.ofShared()) {
            for (int t = 0; t < 120; t++) {
                int m = r.nextInt(20);
                int n = r.nextInt(40);
                int k = t % 10 == 0 ? 0 : 1 + r.nextInt(300);
                boolean trans = r.nextBoolean();
                boolean acc = r.nextBoolean();
                int lda = (trans ? m : k) + r.nextInt(3);
                int ldb = n + r.nextInt(3);
                int ldc = n + r.nextInt(3);
                MemorySegment a = pair(arena, r, (long) (trans ? k : m) * lda + 1, 1, false)[0];
                MemorySegment b = pair(arena, r, (long) k * ldb + 1, 1, false)[0];
                MemorySegment[] c = pair(arena, r, (long) m * ldc + 1, 1, false);
                if (trans) {
                    V.matmulTransA(m, n, k, a, 1, lda, b, 1, ldb, c[0], 1, ldc, acc);
                    LK.matmulTransA(m, n, k, a, 1, lda, b, 1, ldb, c[1], 1, ldc, acc);
                } else {
                    V.matmul(m, n, k, a, 1, lda, b, 1, ldb, c[0], 1, ldc, acc);
                    LK.matmul(m, n, k, a, 1, lda, b, 1, ldb, c[1], 1, ldc, acc);
                }
                assertSameBits(seed, String.format("product #%d m=%d n=%d k=%d trans=%s acc=%s", t, m, n, k, trans, acc), c[0], c[1]);
            }
        }
    }

    @Test
    void rowOpsSameBits() {
        long seed = SEED + 503;
        Random r = new Random(seed);
        int[] colsList = {1, 2, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 255, 256, 257, 512, 1000, 4097, 8000};
        try (Arena arena = Arena.ofShared()) {
            for (int t = 0; t < 160; t++) {
                int rows = 1 + r.nextInt(5);
                int cols = colsList[r.nextInt(colsList.length)];
                int ld = cols + r.nextInt(3);
                long off = r.nextInt(4);
                double scale = new double[] {1, 10, 100, 0.01, 1e20}[r.nextInt(5)];
                boolean specials = t % 5 == 0;
                int[] valid = null;
                if (r.nextBoolean()) {
                    valid = new int[rows];
                    for (int i = 0; i < rows; i++) {
                        valid[i] = r.nextInt(cols + 3) - 1;
                    }
                }
                String what = String.format("#%d rows=%d cols=%d scale=%s specials=%s", t, rows, cols, scale, specials);
                MemorySegment[] x = pair(arena, r, off + (long) rows * ld, scale, specials);
                V.softmax(x[0], off, rows, cols, ld, valid);
                LK.softmax(x[1], off, rows, cols, ld, valid);
                assertSameBits(seed, "softmax " + what, x[0], x[1]);
                x = pair(arena, r, off + (long) rows * ld, scale, specials);
                V.logSoftmax(x[0], off, rows, cols, ld, valid);
                LK.logSoftmax(x[1], off, rows, cols, ld, valid);
                assertSameBits(seed, "logSoftmax " + what, x[0], x[1]);

                MemorySegment gamma = pair(arena, r, cols, 1, false)[0];
                MemorySegment beta = pair(arena, r, cols, 1, false)[0];
                x = pair(arena, r, off + (long) rows * ld, scale, specials);
                MemorySegment[] stats = pair(arena, r, 2L * rows, 1, false);
                boolean inPlace = r.nextBoolean();
                MemorySegment[] out = inPlace ? x : pair(arena, r, (long) rows * cols, 1, false);
                long oOff = inPlace ? off : 0;
                int ldo = inPlace ? ld : cols;
                V.layerNorm(out[0], oOff, ldo, x[0], off, ld, rows, cols, gamma, beta, 1e-5f, stats[0], stats[0].asSlice(4L * rows));
                LK.layerNorm(out[1], oOff, ldo, x[1], off, ld, rows, cols, gamma, beta, 1e-5f, stats[1], stats[1].asSlice(4L * rows));
                assertSameBits(seed, "layerNorm " + what, out[0], out[1]);
                assertSameBits(seed, "layerNorm stats " + what, stats[0], stats[1]);

                x = pair(arena, r, off + (long) rows * ld, scale, specials);
                V.rmsNorm(x[0], off, ld, x[0], off, ld, rows, cols, gamma, t % 7 == 0 ? 0f : 1e-6f);
                LK.rmsNorm(x[1], off, ld, x[1], off, ld, rows, cols, gamma, t % 7 == 0 ? 0f : 1e-6f);
                assertSameBits(seed, "rmsNorm " + what, x[0], x[1]);
            }
        }
    }

    @Test
    void elementWiseSameBits() {
        long seed = SEED + 504;
        Random r = new Random(seed);
        long[] sizes = {1, 5, 15, 16, 17, 100, 4095, 4096, 4097, 40000};
        try (Arena arena = Arena.ofShared()) {
            for (long n : sizes) {
                for (Activation act : ACTS) {
                    MemorySegment[] x = pair(arena, r, n + 3, 5, true);
                    V.activation(act, x[0], 3, n);
                    LK.activation(act, x[1], 3, n);
                    assertSameBits(seed, "activation " + act + " n=" + n, x[0], x[1]);
                }
                MemorySegment[] a = pair(arena, r, n + 2, 3, true);
                MemorySegment b = pair(arena, r, n + 2, 3, true)[0];
                V.add(a[0], 1, a[0], 1, b, 2, n);
                LK.add(a[1], 1, a[1], 1, b, 2, n);
                assertSameBits(seed, "add n=" + n, a[0], a[1]);
                a = pair(arena, r, n + 2, 3, true);
                V.scale(a[0], 2, n, 0.37f);
                LK.scale(a[1], 2, n, 0.37f);
                assertSameBits(seed, "scale n=" + n, a[0], a[1]);
            }
            // Every special value through every activation, alone.
            for (Activation act : ACTS) {
                for (float v : OpsTestSupport.SPECIALS) {
                    MemorySegment[] x = pair(arena, r, 1, 1, false);
                    set(x[0], 0, v);
                    set(x[1], 0, v);
                    V.activation(act, x[0], 0, 1);
                    LK.activation(act, x[1], 0, 1);
                    assertSameBits(seed, "activation " + act + " of " + v, x[0], x[1]);
                }
            }
        }
    }

    @Test
    void embeddingSameBits() {
        long seed = SEED + 505;
        Random r = new Random(seed);
        try (Arena arena = Arena.ofShared()) {
            for (DType dt : DType.values()) {
                for (int cols : dt.isQuantized() ? new int[] {32, 64, 256} : new int[] {1, 17, 64, 256}) {
                    Weights w = KernelTestData.weights(arena, new java.util.SplittableRandom(r.nextLong()), dt, 50, cols);
                    int[] ids = {0, 49, 7, 7, 23};
                    MemorySegment[] out = pair(arena, r, 5L * (cols + 2) + 1, 1, false);
                    V.embedding(w, ids, 1, 4, 16f, out[0], 1, cols + 2);
                    LK.embedding(w, ids, 1, 4, 16f, out[1], 1, cols + 2);
                    assertSameBits(seed, "embedding " + dt + " cols=" + cols, out[0], out[1]);
                }
            }
            Weights w = KernelTestData.weights(arena, new java.util.SplittableRandom(r.nextLong()), DType.Q8, 10, 32);
            MemorySegment out = OpsTestSupport.floats(arena, 64);
            assertThrows(IndexOutOfBoundsException.class, () -> LK.embedding(w, new int[] {1, 10}, 0, 2, 1f, out, 0, 32));
        }
    }

    @Test
    void argmaxAndTopKSame() {
        long seed = SEED + 506;
        Random r = new Random(seed);
        try (Arena arena = Arena.ofShared()) {
            for (int t = 0; t < 200; t++) {
                int n = 1 + r.nextInt(t < 100 ? 70 : 9000);
                MemorySegment x = OpsTestSupport.floats(arena, n + 1);
                int kind = t % 4;
                for (int i = 0; i <= n; i++) {
                    float v = switch (kind) {
                        case 0 -> (float) r.nextGaussian();
                        case 1 -> r.nextInt(4);                                  // many ties
                        case 2 -> r.nextInt(5) == 0 ? Float.NaN : r.nextInt(3) - 1f; // NaN and ties
                        default -> r.nextBoolean() ? -0f : r.nextInt(3) == 0 ? 0f : Float.NEGATIVE_INFINITY;
                    };
                    set(x, i, v);
                }
                String what = "seed=" + seed + " #" + t + " n=" + n + " kind=" + kind;
                assertEquals(V.argmax(x, 1, n), LK.argmax(x, 1, n), "argmax " + what);
                int k = 1 + r.nextInt(Math.min(n, 12));
                int[] iv = new int[k];
                int[] il = new int[k];
                float[] vv = new float[k];
                float[] vl = new float[k];
                V.topK(x, 1, n, k, iv, vv);
                LK.topK(x, 1, n, k, il, vl);
                assertArrayEquals(iv, il, "topK indices " + what);
                assertArrayEquals(vv, vl, "topK values " + what);
            }
        }
    }

    @Test
    void attentionSameBits() {
        long seed = SEED + 507;
        Random r = new Random(seed);
        int[] dims = {1, 7, 16, 17, 32, 64, 80};
        try (Arena arena = Arena.ofShared()) {
            for (int t = 0; t < 120; t++) {
                int batch = 1 + r.nextInt(3);
                int heads = 1 + r.nextInt(3);
                int d = dims[r.nextInt(dims.length)];
                int kvLen = 1 + r.nextInt(t % 10 == 0 ? 300 : 40);
                boolean causal = r.nextBoolean();
                int qLen = causal && r.nextBoolean() ? kvLen : 1 + r.nextInt(20);
                int[] valid = r.nextBoolean() ? null : new int[batch];
                if (valid != null) {
                    for (int b = 0; b < batch; b++) {
                        valid[b] = r.nextInt(kvLen + 2) - 1;
                    }
                }
                int width = heads * d;
                int ld = width + r.nextInt(3);
                MemorySegment q = pair(arena, r, (long) batch * qLen * ld + 2, 1, false)[0];
                MemorySegment k = pair(arena, r, (long) batch * kvLen * ld + 2, 1, false)[0];
                MemorySegment v = pair(arena, r, (long) batch * kvLen * ld + 2, 1, false)[0];
                MemorySegment[] out = pair(arena, r, (long) batch * qLen * ld + 2, 1, false);
                MemorySegment[] wts = pair(arena, r, (long) batch * heads * qLen * kvLen + 1, 1, false);
                float scale = 1 / (float) Math.sqrt(d);
                V.attention(batch, heads, d, qLen, kvLen, valid, causal, scale, q, 1, ld, k, 2, ld, v, 0, ld, out[0], 1, ld, wts[0], 1);
                LK.attention(batch, heads, d, qLen, kvLen, valid, causal, scale, q, 1, ld, k, 2, ld, v, 0, ld, out[1], 1, ld, wts[1], 1);
                String what = String.format("attention #%d batch=%d heads=%d d=%d qLen=%d kvLen=%d causal=%s", t, batch, heads, d, qLen, kvLen, causal);
                assertSameBits(seed, what, out[0], out[1]);
                assertSameBits(seed, what + " weights", wts[0], wts[1]);
            }
        }
    }

    @Test
    void attentionStepSameBits() {
        long seed = SEED + 508;
        Random r = new Random(seed);
        int[] dims = {1, 7, 16, 17, 32, 64, 80};
        try (Arena arena = Arena.ofShared()) {
            for (int t = 0; t < 120; t++) {
                int batch = 1 + r.nextInt(4);
                int heads = 1 + r.nextInt(3);
                int d = dims[r.nextInt(dims.length)];
                int capacity = 1 + r.nextInt(t % 10 == 0 ? 300 : 30);
                int rowStride = capacity + r.nextInt(3);
                int[] lengths = new int[batch];
                int[] rows = new int[batch * rowStride];
                for (int b = 0; b < batch; b++) {
                    lengths[b] = r.nextInt(capacity + 1);
                    for (int j = 0; j < rowStride; j++) {
                        rows[b * rowStride + j] = r.nextInt(capacity);
                    }
                }
                int ldkv = heads * d + r.nextInt(3);
                MemorySegment kc = pair(arena, r, (long) capacity * ldkv + 1, 1, false)[0];
                MemorySegment vc = pair(arena, r, (long) capacity * ldkv + 1, 1, false)[0];
                int ldq = heads * d + r.nextInt(3);
                MemorySegment q = pair(arena, r, (long) batch * ldq + 1, 1, false)[0];
                MemorySegment[] out = pair(arena, r, (long) batch * ldq + 1, 1, false);
                int ldw = capacity + 1;
                MemorySegment[] wts = pair(arena, r, (long) batch * heads * ldw + 1, 1, false);
                float scale = 1 / (float) Math.sqrt(d);
                V.attentionStep(batch, heads, d, scale, q, 1, ldq, kc, vc, ldkv, rows, rowStride, lengths, out[0], 0, ldq, wts[0], 1, ldw);
                LK.attentionStep(batch, heads, d, scale, q, 1, ldq, kc, vc, ldkv, rows, rowStride, lengths, out[1], 0, ldq, wts[1], 1, ldw);
                String what = String.format("attentionStep #%d batch=%d heads=%d d=%d lengths=%s", t, batch, heads, d, java.util.Arrays.toString(lengths));
                assertSameBits(seed, what, out[0], out[1]);
                assertSameBits(seed, what + " weights", wts[0], wts[1]);
            }
            MemorySegment buf = OpsTestSupport.floats(arena, 64);
            assertThrows(IllegalArgumentException.class, () -> LK.attentionStep(1, 1, 4, 1f, buf, 0, 4, buf, buf, 4, new int[4], 4,
                    new int[] {-1}, buf, 0, 4, null, 0, 0));
        }
    }

    @Test
    void warmingKernelsSwitchWithoutChangingResults() {
        long seed = SEED + 509;
        Random r = new Random(seed);
        WarmingKernels wk = new WarmingKernels(LK, 2);
        assertTrue(wk.name().startsWith("lanes-"), wk.name());
        try (Arena arena = Arena.ofShared()) {
            Weights w = KernelTestData.weights(arena, new java.util.SplittableRandom(r.nextLong()), DType.Q8, 300, 256);
            MemorySegment a = pair(arena, r, 3L * 256, 1, false)[0];
            MemorySegment[] c = pair(arena, r, 3L * 300, 1, false);
            wk.gemm(3, a, 0, 256, w, c[0], 0, 300, Epilogue.NONE);
            wk.softmax(c[0], 0, 3, 300, 300, null);
            assertTrue(!wk.promoted());
            wk.promote();
            assertTrue(wk.promoted());
            assertEquals(KernelProvider.get(2).name(), wk.name());
            assertEquals(2, wk.threads());
            wk.gemm(3, a, 0, 256, w, c[1], 0, 300, Epilogue.NONE);
            wk.softmax(c[1], 0, 3, 300, 300, null);
            assertSameBits(seed, "before and after promotion", c[0], c[1]);
        }
    }
}

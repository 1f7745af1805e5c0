package dev.kawi.runtime.kernels;

import static dev.kawi.runtime.kernels.OpsTestSupport.SEED;
import static dev.kawi.runtime.kernels.OpsTestSupport.anyValue;
import static dev.kawi.runtime.kernels.OpsTestSupport.assertBitIdentical;
import static dev.kawi.runtime.kernels.OpsTestSupport.copy;
import static dev.kawi.runtime.kernels.OpsTestSupport.floats;
import static dev.kawi.runtime.kernels.OpsTestSupport.gaussian;
import static dev.kawi.runtime.kernels.OpsTestSupport.get;
import static dev.kawi.runtime.kernels.OpsTestSupport.same;
import static dev.kawi.runtime.kernels.OpsTestSupport.set;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kawi.runtime.kernels.simd.VectorKernels;
import dev.kawi.weights.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/**
 * The vector kernels give bit-identical results at 1, 2 and 3 threads. Inputs live in a shared
 * arena (a confined segment makes the kernels run on the caller alone, which would prove nothing),
 * and the sizes are above the kernels' split thresholds so that the work really is divided.
 */
class OpsDeterminismTest {
    private static final Kernels[] K = {new VectorKernels(1), new VectorKernels(2), new VectorKernels(3)};

    /**
     * Runs {@code op(kernels, out)} once per thread count, each on a fresh copy of {@code init},
     * and asserts that the outputs are identical.
     */
    private static void sameAtEveryThreadCount(String what, Arena arena, MemorySegment init, BiConsumer<Kernels, MemorySegment> op) {
        MemorySegment first = null;
        for (Kernels k : K) {
            MemorySegment out = copy(arena, init);
            op.accept(k, out);
            if (first == null) {
                first = out;
            } else {
                assertBitIdentical(what + ": 1 vs " + k.threads() + " threads", first, out);
            }
        }
    }

    @Test
    void rowOpsAreThreadCountIndependent() {
        Random r = new Random(SEED + 90);
        try (Arena arena = Arena.ofShared()) {
            int rows = 64;
            int cols = 1000;
            int ld = 1003;
            MemorySegment x = floats(arena, 1 + (long) rows * ld);
            gaussian(r, x, 0, x.byteSize() / 4, 5);
            int[] valid = new int[rows];
            for (int i = 0; i < rows; i++) {
                valid[i] = i % 9 == 0 ? 0 : 1 + r.nextInt(cols);
            }
            sameAtEveryThreadCount("softmax", arena, x, (k, s) -> k.softmax(s, 1, rows, cols, ld, valid));
            sameAtEveryThreadCount("logSoftmax", arena, x, (k, s) -> k.logSoftmax(s, 1, rows, cols, ld, null));

            int nRows = 100;
            int n = 515;
            MemorySegment gamma = floats(arena, n);
            MemorySegment beta = floats(arena, n);
            gaussian(r, gamma, 0, n, 1);
            gaussian(r, beta, 0, n, 1);
            MemorySegment in = floats(arena, 3 + (long) nRows * n);
            gaussian(r, in, 0, in.byteSize() / 4, 2);
            // Output, mean and rstd all in one segment so that one comparison covers them.
            long outAt = 3 + (long) nRows * n;
            MemorySegment buf = floats(arena, outAt + (long) nRows * n + 2L * nRows);
            MemorySegment.copy(in, 0, buf, 0, in.byteSize());
            sameAtEveryThreadCount("layerNorm", arena, buf, (k, s) -> k.layerNorm(s, outAt, n, s, 3, n, nRows, n, gamma, beta, 1e-5f,
                    s.asSlice(4 * (outAt + (long) nRows * n)), s.asSlice(4 * (outAt + (long) nRows * n + nRows))));
            sameAtEveryThreadCount("rmsNorm", arena, buf, (k, s) -> k.rmsNorm(s, outAt, n, s, 3, n, nRows, n, gamma, 1e-6f));
        }
    }

    @Test
    void elementwiseOpsAreThreadCountIndependent() {
        Random r = new Random(SEED + 91);
        try (Arena arena = Arena.ofShared()) {
            int n = 3 * (1 << 15) + 17;
            MemorySegment x = floats(arena, 2L * n + 8);
            for (long i = 0; i < x.byteSize() / 4; i++) {
                set(x, i, anyValue(r));
            }
            for (Activation act : Activation.values()) {
                sameAtEveryThreadCount(act.name(), arena, x, (k, s) -> k.activation(act, s, 3, n));
            }
            // out [1, n - 3) apart from the inputs a [n + 5, 2n + 1) and b [n + 4, 2n), which may overlap each other.
            sameAtEveryThreadCount("add", arena, x, (k, s) -> k.add(s, 1, s, n + 5, s, n + 4, n - 4));
            sameAtEveryThreadCount("add in place", arena, x, (k, s) -> k.add(s, 1, s, 1, s, n + 4, n - 4));
            sameAtEveryThreadCount("scale", arena, x, (k, s) -> k.scale(s, 7, n, -1.75f));
        }
    }

    @Test
    void gathersAndSearchesAreThreadCountIndependent() {
        Random r = new Random(SEED + 92);
        try (Arena arena = Arena.ofShared()) {
            for (DType dtype : DType.values()) {
                Weights w = OpsConformanceTest.table(arena, dtype, 300, 96, r);
                int[] ids = r.ints(500, 0, 300).toArray();
                MemorySegment out = floats(arena, 3 + 500L * 97);
                sameAtEveryThreadCount("embedding " + dtype, arena, out, (k, s) -> k.embedding(w, ids, 0, 500, 22.6f, s, 3, 97));
            }
            int n = 32000;
            MemorySegment x = floats(arena, n + 1);
            for (int i = 0; i <= n; i++) {
                set(x, i, r.nextInt(50) / 4f);   // many ties
            }
            int best = K[0].argmax(x, 1, n);
            int[] idx0 = new int[64];
            float[] val0 = new float[64];
            K[0].topK(x, 1, n, 64, idx0, val0);
            for (Kernels k : K) {
                assertEquals(best, k.argmax(x, 1, n), "seed=" + SEED + " argmax at " + k.threads() + " threads");
                int[] idx = new int[64];
                float[] val = new float[64];
                k.topK(x, 1, n, 64, idx, val);
                assertArrayEquals(idx0, idx, "seed=" + SEED + " topK at " + k.threads() + " threads");
                assertArrayEquals(val0, val, "seed=" + SEED + " topK at " + k.threads() + " threads");
            }
        }
    }

    @Test
    void attentionIsThreadCountIndependent() {
        Random r = new Random(SEED + 93);
        try (Arena arena = Arena.ofShared()) {
            int batch = 2;
            int heads = 4;
            int headDim = 64;
            int qLen = 40;
            int kvLen = 50;
            int d = heads * headDim;
            int ld = 3 * d + 1;
            MemorySegment qkv = floats(arena, 1 + (long) batch * kvLen * ld);
            gaussian(r, qkv, 0, qkv.byteSize() / 4, 1);
            long outN = (long) batch * qLen * d;
            long wN = (long) batch * heads * qLen * kvLen;
            MemorySegment buf = floats(arena, outN + wN);
            for (boolean causal : new boolean[] {false, true}) {
                int[] valid = causal ? null : new int[] {37, 50};
                sameAtEveryThreadCount("attention causal=" + causal, arena, buf, (k, s) -> k.attention(batch, heads, headDim, qLen, kvLen,
                        valid, causal, 0.125f, qkv, 1, ld, qkv, 1 + d, ld, qkv, 1 + 2L * d, ld, s, 0, d, s, outN));
            }

            // A decoding step: 4 beams over a 400-row cache, shuffled shared rows.
            int beams = 4;
            int capacity = 400;
            int[] lengths = {300, 1, 0, 257};
            int rowStride = 300;
            int[] rows = new int[beams * rowStride];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = r.nextInt(capacity);
            }
            MemorySegment kc = floats(arena, (long) capacity * d);
            MemorySegment vc = floats(arena, (long) capacity * d);
            gaussian(r, kc, 0, (long) capacity * d, 1);
            gaussian(r, vc, 0, (long) capacity * d, 1);
            MemorySegment q = floats(arena, (long) beams * d);
            gaussian(r, q, 0, (long) beams * d, 1);
            MemorySegment stepBuf = floats(arena, (long) beams * d + (long) beams * heads * rowStride);
            sameAtEveryThreadCount("attentionStep", arena, stepBuf, (k, s) -> k.attentionStep(beams, heads, headDim, 0.125f,
                    q, 0, d, kc, vc, d, rows, rowStride, lengths, s, 0, d, s, (long) beams * d, rowStride));
        }
    }

    /** Segments of a confined arena cannot be read by pool workers: a multi-threaded kernel must still work, with the same bits. */
    @Test
    void confinedSegmentsGiveTheSameResults() {
        Random r = new Random(SEED + 94);
        int n = 3 * (1 << 15) + 3;
        try (Arena shared = Arena.ofShared(); Arena confined = Arena.ofConfined()) {
            MemorySegment a = floats(shared, n);
            gaussian(r, a, 0, n, 3);
            MemorySegment b = floats(confined, n);
            b.copyFrom(a);
            K[2].activation(Activation.GELU, a, 0, n);
            K[2].activation(Activation.GELU, b, 0, n);
            assertBitIdentical("GELU shared vs confined", a, b);
        }
    }

    /**
     * Every element-wise result is the same whether it is computed in a vector lane or in a
     * scalar tail: the scalar twins of exp, GELU and swish match the vector code bit for bit. (A
     * one-element call is all tail.) Without this, results would depend on where chunks end.
     */
    @Test
    void vectorLanesAndScalarTailsAgree() {
        Random r = new Random(SEED + 95);
        try (Arena arena = Arena.ofConfined()) {
            int n = 4099;
            MemorySegment x = floats(arena, n);
            for (int i = 0; i < n; i++) {
                set(x, i, i < OpsTestSupport.SPECIALS.length ? OpsTestSupport.SPECIALS[i] : anyValue(r));
            }
            for (Activation act : Activation.values()) {
                MemorySegment bulk = copy(arena, x);
                MemorySegment single = copy(arena, x);
                K[0].activation(act, bulk, 0, n);
                for (int i = 0; i < n; i++) {
                    K[0].activation(act, single, i, 1);
                }
                for (int i = 0; i < n; i++) {
                    if (!same(get(bulk, i), get(single, i))) {
                        fail("seed=" + SEED + " " + act + " of " + get(x, i) + ": vector lane " + get(bulk, i) + " vs scalar tail " + get(single, i));
                    }
                }
            }
        }
    }
}

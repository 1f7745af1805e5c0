package dev.kawi.runtime.kernels;

import static dev.kawi.runtime.kernels.OpsTestSupport.SEED;
import static dev.kawi.runtime.kernels.OpsTestSupport.U;
import static dev.kawi.runtime.kernels.OpsTestSupport.assertBitIdentical;
import static dev.kawi.runtime.kernels.OpsTestSupport.close;
import static dev.kawi.runtime.kernels.OpsTestSupport.failAt;
import static dev.kawi.runtime.kernels.OpsTestSupport.floats;
import static dev.kawi.runtime.kernels.OpsTestSupport.gaussian;
import static dev.kawi.runtime.kernels.OpsTestSupport.get;
import static dev.kawi.runtime.kernels.OpsTestSupport.same;
import static dev.kawi.runtime.kernels.OpsTestSupport.sumBound;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kawi.runtime.kernels.simd.VectorKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Vector attention against the scalar oracle: encoder attention with padding masks, causal
 * attention, cross attention (qLen != kvLen), fused QKV views, and decoding steps over a KV
 * cache addressed through shuffled, shared row indices.
 *
 * <p>Tolerance per query (see {@link OpsTestSupport}): a score's float error is at most
 * dotErr = U (headDim + 8) |scale| sum_i |q_i k_i| + U |score|; a probability's relative error
 * at most pRel = 2 max(dotErr) + sumBound(len) + 8U; an output element's error at most
 * (pRel + U (len + 2)) sum_j p_j |v_j| (the weighted sum is one FMA chain of len terms). All
 * doubled for margin. Fully masked queries and masked weights must be exactly 0.
 */
class AttentionConformanceTest {
    private static final Kernels S = new ScalarKernels();
    private static final Kernels V = new VectorKernels(2);
    private static final float SENTINEL = 777f;

    private static final int[] HEAD_DIMS = {1, 7, 8, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 100, 128};
    private static final int[] KV_LENS = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129,
        255, 256, 257, 511, 512, 513, 1023, 1024};

    private static MemorySegment filled(Arena arena, long n, float v) {
        MemorySegment s = floats(arena, n);
        for (long i = 0; i < n; i++) {
            OpsTestSupport.set(s, i, v);
        }
        return s;
    }

    // ------------------------------------------------------------------ attention

    @Test
    void attentionMatchesScalar() {
        long seed = SEED + 70;
        Random r = new Random(seed);
        int i = 0;
        // Every key length, with head sizes in rotation.
        for (int kvLen : KV_LENS) {
            int headDim = HEAD_DIMS[i % HEAD_DIMS.length];
            boolean big = kvLen > 200;
            int qLen = switch (i % 4) {
                case 0 -> kvLen <= 64 ? kvLen : 17;        // self-attention (causal below)
                case 1 -> 1;
                case 2 -> 1 + r.nextInt(big ? 8 : 40);
                default -> Math.min(kvLen, 16);
            };
            checkAttention(seed, r, big ? 1 : 3, big ? 2 : 3, headDim, qLen, kvLen, i % 2 == 0, i % 3, i % 5 != 4, 1 / (float) Math.sqrt(headDim));
            i++;
        }
        // Every head size, at a few key lengths.
        for (int headDim : HEAD_DIMS) {
            for (int kvLen : new int[] {1, 16, 33}) {
                checkAttention(seed, r, 2, 2, headDim, kvLen, kvLen, true, i % 3, true, 1 / (float) Math.sqrt(headDim));
                checkAttention(seed, r, 2, 3, headDim, 5, kvLen, false, i % 3, i % 2 == 0, 1 / (float) Math.sqrt(headDim));
                i++;
            }
        }
    }

    /** Peaked softmaxes (scale 1 on large scores: most probabilities underflow) and qLen > kvLen with causal. */
    @Test
    void attentionBoundaryCases() {
        long seed = SEED + 71;
        Random r = new Random(seed);
        checkAttention(seed, r, 2, 2, 64, 20, 100, false, 1, true, 4f);
        checkAttention(seed, r, 2, 2, 64, 20, 100, true, 1, true, 4f);
        // Causal with more queries than keys: the first queries see no key and must output zeros.
        checkAttention(seed, r, 2, 2, 16, 12, 5, true, 0, true, 0.25f);
        checkAttention(seed, r, 2, 2, 16, 12, 5, true, 1, true, 0.25f);
        // All items fully masked.
        checkAttention(seed, r, 3, 2, 32, 4, 9, false, 2, true, 0.2f);
    }

    /**
     * @param validMode 0: kvValid null; 1: random valid lengths (some 0, some above kvLen); 2: all 0
     */
    private static void checkAttention(long seed, Random r, int batch, int heads, int headDim, int qLen, int kvLen,
                                       boolean causal, int validMode, boolean withWeights, float scale) {
        int d = heads * headDim;
        int[] kvValid = switch (validMode) {
            case 0 -> null;
            case 1 -> {
                int[] v = new int[batch];
                for (int b = 0; b < batch; b++) {
                    v[b] = switch (b % 3) {
                        case 0 -> 1 + r.nextInt(kvLen);
                        case 1 -> b == 1 && batch > 2 ? 0 : kvLen;
                        default -> kvLen + 5;
                    };
                }
                yield v;
            }
            default -> new int[batch];
        };
        String what = String.format("attention batch=%d heads=%d headDim=%d qLen=%d kvLen=%d causal=%b kvValid=%s scale=%s",
                batch, heads, headDim, qLen, kvLen, causal, java.util.Arrays.toString(kvValid), scale);
        try (Arena arena = Arena.ofConfined()) {
            // Q, K and V as views of one fused projection for self-attention, else Q apart and K|V fused.
            boolean fused = qLen == kvLen && r.nextBoolean();
            int off = 1 + 2 * r.nextInt(4);
            MemorySegment q;
            MemorySegment kv;
            int ldq;
            int ldkv;
            long qOff;
            long kOff;
            long vOff;
            if (fused) {
                ldq = 3 * d + r.nextInt(3);
                ldkv = ldq;
                q = floats(arena, off + (long) batch * qLen * ldq);
                gaussian(r, q, 0, q.byteSize() / 4, 1);
                kv = q;
                qOff = off;
                kOff = off + d;
                vOff = off + 2L * d;
            } else {
                ldq = d + r.nextInt(3);
                ldkv = 2 * d + r.nextInt(3);
                q = floats(arena, off + (long) batch * qLen * ldq);
                kv = floats(arena, off + (long) batch * kvLen * ldkv);
                gaussian(r, q, 0, q.byteSize() / 4, 1);
                gaussian(r, kv, 0, kv.byteSize() / 4, 1);
                qOff = off;
                kOff = off;
                vOff = off + d;
            }
            int ldo = d + r.nextInt(3);
            long outOff = r.nextInt(4);
            long outN = outOff + (long) batch * qLen * ldo;
            long wOff = r.nextInt(4);
            long wN = wOff + (long) batch * heads * qLen * kvLen;
            MemorySegment sOut = filled(arena, outN, SENTINEL);
            MemorySegment vOut = filled(arena, outN, SENTINEL);
            MemorySegment sW = filled(arena, wN, SENTINEL);
            MemorySegment vW = withWeights ? filled(arena, wN, SENTINEL) : null;
            S.attention(batch, heads, headDim, qLen, kvLen, kvValid, causal, scale, q, qOff, ldq, kv, kOff, ldkv, kv, vOff, ldkv,
                    sOut, outOff, ldo, sW, wOff);
            V.attention(batch, heads, headDim, qLen, kvLen, kvValid, causal, scale, q, qOff, ldq, kv, kOff, ldkv, kv, vOff, ldkv,
                    vOut, outOff, ldo, vW, wOff);
            if (withWeights) {
                // The weights output must not change the attention output.
                MemorySegment vOut2 = filled(arena, outN, SENTINEL);
                V.attention(batch, heads, headDim, qLen, kvLen, kvValid, causal, scale, q, qOff, ldq, kv, kOff, ldkv, kv, vOff, ldkv,
                        vOut2, outOff, ldo, null, 0);
                assertBitIdentical(what + " with vs without weights", vOut, vOut2);
            }
            for (int b = 0; b < batch; b++) {
                int valid = kvValid == null ? kvLen : Math.max(0, Math.min(kvLen, kvValid[b]));
                for (int h = 0; h < heads; h++) {
                    for (int t = 0; t < qLen; t++) {
                        int limit = causal ? Math.max(0, Math.min(valid, t + kvLen - qLen + 1)) : valid;
                        long qe = qOff + ((long) b * qLen + t) * ldq + (long) h * headDim;
                        int[] keyRows = new int[limit];
                        for (int j = 0; j < limit; j++) {
                            keyRows[j] = b * kvLen + j;
                        }
                        long wRow = wOff + (((long) b * heads + h) * qLen + t) * kvLen;
                        long oe = outOff + ((long) b * qLen + t) * ldo + (long) h * headDim;
                        compareQuery(seed, what + " b=" + b + " h=" + h + " t=" + t, headDim, scale, q, qe,
                                kv, kOff + (long) h * headDim, ldkv, kv, vOff + (long) h * headDim, ldkv, keyRows,
                                sOut, vOut, oe, sW, vW, wRow);
                        if (vW != null) {
                            for (int j = limit; j < kvLen; j++) {
                                if (!same(get(vW, wRow + j), 0f)) {
                                    fail("seed=" + seed + " " + what + ": masked weight b=" + b + " h=" + h + " t=" + t + " j=" + j + " is " + get(vW, wRow + j));
                                }
                            }
                        }
                    }
                }
            }
            checkUntouched(seed, what, vOut, sOut, outN);
            if (vW != null) {
                checkUntouched(seed, what + " weights", vW, sW, wN);
            }
        }
    }

    /** Elements the oracle left at the sentinel (padding columns, prefix) must be untouched by the vector kernel too. */
    private static void checkUntouched(long seed, String what, MemorySegment v, MemorySegment s, long n) {
        for (long e = 0; e < n; e++) {
            if (same(get(s, e), SENTINEL) && !same(get(v, e), SENTINEL)) {
                fail("seed=" + seed + " " + what + ": element " + e + " outside the output was written");
            }
        }
    }

    /**
     * Checks one query's output (headDim values at oe) and, when vW is not null, its weights
     * (keyRows.length values at wRow), against the oracle within the documented bound.
     */
    private static void compareQuery(long seed, String what, int headDim, float scale, MemorySegment q, long qe,
                                     MemorySegment k, long kBase, int ldk, MemorySegment v, long vBase, int ldv, int[] keyRows,
                                     MemorySegment sOut, MemorySegment vOut, long oe, MemorySegment sW, MemorySegment vW, long wRow) {
        int len = keyRows.length;
        if (len == 0) {
            for (int c = 0; c < headDim; c++) {
                if (!same(get(vOut, oe + c), 0f)) {
                    fail("seed=" + seed + " " + what + ": fully masked query, output " + c + " is " + get(vOut, oe + c));
                }
            }
            return;
        }
        double maxDotErr = 0;
        for (int j = 0; j < len; j++) {
            double abs = 0;
            double dot = 0;
            for (int c = 0; c < headDim; c++) {
                double prod = (double) get(q, qe + c) * get(k, kBase + (long) keyRows[j] * ldk + c);
                abs += Math.abs(prod);
                dot += prod;
            }
            maxDotErr = Math.max(maxDotErr, U * (headDim + 8) * Math.abs(scale) * abs + U * Math.abs(scale * dot));
        }
        double pRel = 2 * maxDotErr + sumBound(len) + 8 * U;
        for (int c = 0; c < headDim; c++) {
            double weighted = 0;
            for (int j = 0; j < len; j++) {
                weighted += get(sW, wRow + j) * Math.abs(get(v, vBase + (long) keyRows[j] * ldv + c));
            }
            double tol = 2 * (pRel + U * (len + 2)) * weighted + 1e-37;
            float sv = get(sOut, oe + c);
            float vv = get(vOut, oe + c);
            if (!close(vv, sv, tol)) {
                failAt(seed, what + " output", c, vv, sv, tol);
            }
        }
        if (vW != null) {
            for (int j = 0; j < len; j++) {
                float sv = get(sW, wRow + j);
                float vv = get(vW, wRow + j);
                double tol = 2 * pRel * sv + 2e-38;
                if (!close(vv, sv, tol)) {
                    failAt(seed, what + " weight", j, vv, sv, tol);
                }
            }
        }
    }

    // ------------------------------------------------------------------ attentionStep

    @Test
    void attentionStepMatchesScalar() {
        long seed = SEED + 80;
        Random r = new Random(seed);
        int i = 0;
        for (int maxLen : KV_LENS) {
            int headDim = HEAD_DIMS[(i * 7) % HEAD_DIMS.length];
            int batch = maxLen > 200 ? 2 : 1 + r.nextInt(5);
            int heads = maxLen > 200 ? 2 : 1 + r.nextInt(4);
            checkStep(seed, r, batch, heads, headDim, maxLen, i % 3 != 2, 1 / (float) Math.sqrt(headDim));
            i++;
        }
        for (int headDim : HEAD_DIMS) {
            checkStep(seed, r, 3, 2, headDim, 40, true, 1 / (float) Math.sqrt(headDim));
        }
        checkStep(seed, r, 4, 2, 64, 300, true, 3f);   // peaked
    }

    /**
     * Decoding steps of {@code batch} beams: each attends to a shuffled subset of cache rows, the
     * beams sharing part of their rows; lengths include 0, 1 and maxLen.
     */
    private static void checkStep(long seed, Random r, int batch, int heads, int headDim, int maxLen, boolean withWeights, float scale) {
        int d = heads * headDim;
        int capacity = maxLen + 20;
        int rowStride = maxLen + r.nextInt(3);
        int[] lengths = new int[batch];
        int[] rows = new int[batch * rowStride + 1];
        List<Integer> pool = new ArrayList<>();
        for (int c = 0; c < capacity; c++) {
            pool.add(c);
        }
        for (int b = 0; b < batch; b++) {
            lengths[b] = switch (b % 4) {
                case 0 -> maxLen;
                case 1 -> 0;
                case 2 -> 1;
                default -> 1 + r.nextInt(maxLen);
            };
            // Beams share the first rows of one shuffled order and differ after a random point.
            if (b == 0 || r.nextBoolean()) {
                Collections.shuffle(pool, r);
            }
            for (int j = 0; j < lengths[b]; j++) {
                rows[b * rowStride + j] = pool.get(j);
            }
        }
        String what = String.format("attentionStep batch=%d heads=%d headDim=%d lengths=%s rowStride=%d scale=%s",
                batch, heads, headDim, java.util.Arrays.toString(lengths), rowStride, scale);
        try (Arena arena = Arena.ofConfined()) {
            int ldkv = d + r.nextInt(3);
            // Caches at unaligned addresses: slices starting 3 and 7 floats into their blocks.
            MemorySegment kCache = floats(arena, 3 + (long) capacity * ldkv).asSlice(12);
            MemorySegment vCache = floats(arena, 7 + (long) capacity * ldkv).asSlice(28);
            gaussian(r, kCache, 0, (long) capacity * ldkv, 1);
            gaussian(r, vCache, 0, (long) capacity * ldkv, 1);
            int ldq = d + r.nextInt(3);
            long qOff = r.nextInt(8);
            MemorySegment q = floats(arena, qOff + (long) batch * ldq);
            gaussian(r, q, 0, q.byteSize() / 4, 1);
            int ldo = d + r.nextInt(3);
            long outOff = r.nextInt(4);
            long outN = outOff + (long) batch * ldo;
            int ldw = maxLen + r.nextInt(3);
            long wOff = r.nextInt(4);
            long wN = wOff + (long) batch * heads * ldw;
            MemorySegment sOut = filled(arena, outN, SENTINEL);
            MemorySegment vOut = filled(arena, outN, SENTINEL);
            MemorySegment sW = filled(arena, wN, SENTINEL);
            MemorySegment vW = withWeights ? filled(arena, wN, SENTINEL) : null;
            S.attentionStep(batch, heads, headDim, scale, q, qOff, ldq, kCache, vCache, ldkv, rows, rowStride, lengths,
                    sOut, outOff, ldo, sW, wOff, ldw);
            V.attentionStep(batch, heads, headDim, scale, q, qOff, ldq, kCache, vCache, ldkv, rows, rowStride, lengths,
                    vOut, outOff, ldo, vW, wOff, ldw);
            for (int b = 0; b < batch; b++) {
                int[] keyRows = java.util.Arrays.copyOfRange(rows, b * rowStride, b * rowStride + lengths[b]);
                for (int h = 0; h < heads; h++) {
                    compareQuery(seed, what + " b=" + b + " h=" + h, headDim, scale, q, qOff + (long) b * ldq + (long) h * headDim,
                            kCache, (long) h * headDim, ldkv, vCache, (long) h * headDim, ldkv, keyRows,
                            sOut, vOut, outOff + (long) b * ldo + (long) h * headDim, sW, vW, wOff + ((long) b * heads + h) * ldw);
                }
            }
            checkUntouched(seed, what, vOut, sOut, outN);
            if (vW != null) {
                checkUntouched(seed, what + " weights", vW, sW, wN);
            }
        }
    }

    @Test
    void attentionStepRejectsNegativeLength() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = floats(arena, 64);
            assertThrows(IllegalArgumentException.class, () -> V.attentionStep(1, 1, 8, 1f, m, 0, 8, m, m, 8,
                    new int[4], 4, new int[] {-1}, m, 0, 8, null, 0, 0), "seed=" + SEED);
        }
    }
}

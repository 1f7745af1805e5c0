package dev.kawi.runtime.kernels.simd;

import static dev.kawi.runtime.kernels.simd.VectorMath.F;
import static dev.kawi.runtime.kernels.simd.VectorMath.FL;
import static dev.kawi.runtime.kernels.simd.VectorMath.L;
import static dev.kawi.runtime.kernels.simd.VectorMath.get;
import static dev.kawi.runtime.kernels.simd.VectorMath.NATIVE;
import static dev.kawi.runtime.kernels.simd.VectorMath.set;

import dev.kawi.runtime.kernels.WorkerPool;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Scaled dot-product attention with the Vector API. Each query is handled on its own, in three
 * steps over a per-thread scratch row: scores (dot products of the pre-scaled query with each
 * key), a softmax, and the probability-weighted sum of the value rows. Keys and values are
 * addressed through a row index array, so the encoder's contiguous K/V and the decoder's shared
 * KV cache (beams pointing at common rows) go through the same code.
 *
 * <p>Determinism: a query's result depends only on its own inputs, never on which task or thread
 * computes it, and horizontal sums use {@link VectorMath#sum}'s fixed order.
 */
final class VectorAttention {
    /** Queries per task of {@link #attention}; a fixed split, whatever the thread count. */
    static final int QUERY_BLOCK = 16;
    /** Below this many multiply-adds a call runs on the caller alone: waking workers costs more. */
    static final long INLINE_WORK = 1L << 16;

    /** Per-thread buffers, grown on demand and kept: the steady state allocates none. */
    private static final class Scratch {
        float[] q = new float[128];   // (headDim) the query times the score scale
        float[] p = new float[512];   // (keys) scores, then probabilities
        int[] iota = new int[0];      // 0, 1, 2, ...: the key rows of a contiguous K/V

        float[] q(int n) {
            if (q.length < n) {
                q = new float[n];
            }
            return q;
        }

        float[] p(int n) {
            if (p.length < n) {
                p = new float[Math.max(n, 2 * p.length)];
            }
            return p;
        }

        int[] iota(int n) {
            if (iota.length < n) {
                iota = new int[Math.max(n, 2 * iota.length)];
                for (int i = 0; i < iota.length; i++) {
                    iota[i] = i;
                }
            }
            return iota;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private VectorAttention() {
    }

    /** Runs the tasks on the pool, or on the caller alone when the call is too small to share. */
    private static void run(WorkerPool pool, int tasks, long work, PoolTask task) {
        PoolTask.run(work < INLINE_WORK ? VectorGemm.SERIAL : pool, tasks, task);
    }

    /** Task = (item, head, block of {@link #QUERY_BLOCK} queries) of {@link #attention}. */
    private static final class AttentionTask extends PoolTask {
        int qBlocks;
        int heads;
        int headDim;
        int qLen;
        int kvLen;
        int[] kvValid;
        boolean causal;
        float scale;
        MemorySegment q;
        long qOff;
        int ldq;
        MemorySegment k;
        long kOff;
        int ldk;
        MemorySegment v;
        long vOff;
        int ldv;
        MemorySegment out;
        long outOff;
        int ldo;
        MemorySegment weights;
        long wOff;

        @Override
        public void accept(int task) {
            int bh = task / qBlocks;
            int b = bh / heads;
            int h = bh % heads;
            int t0 = (task % qBlocks) * QUERY_BLOCK;
            int t1 = Math.min(qLen, t0 + QUERY_BLOCK);
            int valid = kvValid == null ? kvLen : Math.max(0, Math.min(kvLen, kvValid[b]));
            int col = h * headDim;
            long kBase = kOff + (long) b * kvLen * ldk + col;
            long vBase = vOff + (long) b * kvLen * ldv + col;
            Scratch sc = SCRATCH.get();
            int[] rows = sc.iota(kvLen);
            for (int t = t0; t < t1; t++) {
                int limit = causal ? Math.max(0, Math.min(valid, t + kvLen - qLen + 1)) : valid;
                long row = (long) b * qLen + t;
                float[] p = attend(sc, headDim, scale, q, qOff + row * ldq + col, k, kBase, ldk, v, vBase, ldv,
                        rows, 0, limit, out, outOff + row * ldo + col);
                if (weights != null) {
                    long wb = wOff + (((long) b * heads + h) * qLen + t) * kvLen;
                    MemorySegment.copy(p, 0, weights, FL, wb << 2, limit);
                    VectorMath.fill(weights, wb + limit, kvLen - limit, 0f);
                }
            }
        }

        @Override
        boolean shareable() {
            return shareable(q) && shareable(k) && shareable(v) && shareable(out) && shareable(weights);
        }

        @Override
        void clear() {
            kvValid = null;
            q = k = v = out = weights = null;
        }
    }

    /** Task = (item, head) of {@link #attentionStep}. */
    private static final class StepTask extends PoolTask {
        int heads;
        int headDim;
        float scale;
        MemorySegment q;
        long qOff;
        int ldq;
        MemorySegment kCache;
        MemorySegment vCache;
        int ldkv;
        int[] rows;
        int rowStride;
        int[] lengths;
        MemorySegment out;
        long outOff;
        int ldo;
        MemorySegment weights;
        long wOff;
        int ldw;

        @Override
        public void accept(int task) {
            int b = task / heads;
            int h = task % heads;
            int col = h * headDim;
            int len = lengths[b];
            float[] p = attend(SCRATCH.get(), headDim, scale, q, qOff + (long) b * ldq + col, kCache, col, ldkv, vCache, col, ldkv,
                    rows, b * rowStride, len, out, outOff + (long) b * ldo + col);
            if (weights != null) {
                MemorySegment.copy(p, 0, weights, FL, (wOff + ((long) b * heads + h) * ldw) << 2, len);
            }
        }

        @Override
        boolean shareable() {
            return shareable(q) && shareable(kCache) && shareable(vCache) && shareable(out) && shareable(weights);
        }

        @Override
        void clear() {
            rows = lengths = null;
            q = kCache = vCache = out = weights = null;
        }
    }

    /** One instance of each task per calling thread: the kernels are shared by concurrent requests. */
    private static final class Tasks {
        final AttentionTask attention = new AttentionTask();
        final StepTask step = new StepTask();
    }

    private static final ThreadLocal<Tasks> TASKS = ThreadLocal.withInitial(Tasks::new);

    static void attention(WorkerPool pool, int batch, int heads, int headDim, int qLen, int kvLen, int[] kvValid, boolean causal, float scale,
                          MemorySegment q, long qOff, int ldq, MemorySegment k, long kOff, int ldk, MemorySegment v, long vOff, int ldv,
                          MemorySegment out, long outOff, int ldo, MemorySegment weights, long wOff) {
        if (batch <= 0 || heads <= 0 || qLen <= 0 || headDim <= 0) {
            return;
        }
        int qBlocks = (qLen + QUERY_BLOCK - 1) / QUERY_BLOCK;
        long work = (long) batch * heads * qLen * Math.max(1, kvLen) * headDim;
        AttentionTask t = TASKS.get().attention;
        t.qBlocks = qBlocks;
        t.heads = heads;
        t.headDim = headDim;
        t.qLen = qLen;
        t.kvLen = kvLen;
        t.kvValid = kvValid;
        t.causal = causal;
        t.scale = scale;
        t.q = q;
        t.qOff = qOff;
        t.ldq = ldq;
        t.k = k;
        t.kOff = kOff;
        t.ldk = ldk;
        t.v = v;
        t.vOff = vOff;
        t.ldv = ldv;
        t.out = out;
        t.outOff = outOff;
        t.ldo = ldo;
        t.weights = weights;
        t.wOff = wOff;
        run(pool, batch * heads * qBlocks, work, t);
    }

    static void attentionStep(WorkerPool pool, int batch, int heads, int headDim, float scale,
                              MemorySegment q, long qOff, int ldq, MemorySegment kCache, MemorySegment vCache, int ldkv,
                              int[] rows, int rowStride, int[] lengths,
                              MemorySegment out, long outOff, int ldo, MemorySegment weights, long wOff, int ldw) {
        if (batch <= 0 || heads <= 0 || headDim <= 0) {
            return;
        }
        long work = 0;
        for (int b = 0; b < batch; b++) {
            if (lengths[b] < 0) {
                throw new IllegalArgumentException("lengths[" + b + "] = " + lengths[b] + " is negative");
            }
            work += (long) heads * Math.max(1, lengths[b]) * headDim;
        }
        StepTask t = TASKS.get().step;
        t.heads = heads;
        t.headDim = headDim;
        t.scale = scale;
        t.q = q;
        t.qOff = qOff;
        t.ldq = ldq;
        t.kCache = kCache;
        t.vCache = vCache;
        t.ldkv = ldkv;
        t.rows = rows;
        t.rowStride = rowStride;
        t.lengths = lengths;
        t.out = out;
        t.outOff = outOff;
        t.ldo = ldo;
        t.weights = weights;
        t.wOff = wOff;
        t.ldw = ldw;
        run(pool, batch * heads, work, t);
    }

    /**
     * One query of {@code d} elements at {@code q[qe..]} against {@code len} keys: key j is the
     * row {@code rows[rowsOff + j]} of K and V, starting at element {@code kBase + row * ldk} and
     * {@code vBase + row * ldv}. Writes d outputs at {@code out[oe..]} (zeros when len is 0) and
     * returns the scratch array holding the len probabilities.
     */
    private static float[] attend(Scratch sc, int d, float scale, MemorySegment q, long qe,
                                  MemorySegment k, long kBase, int ldk, MemorySegment v, long vBase, int ldv,
                                  int[] rows, int rowsOff, int len, MemorySegment out, long oe) {
        float[] p = sc.p(len);
        if (len == 0) {
            VectorMath.fill(out, oe, d, 0f);
            return p;
        }
        // Scaling the query once costs d multiplies instead of len.
        float[] qs = sc.q(d);
        int c = 0;
        for (; c <= d - L; c += L) {
            FloatVector.fromMemorySegment(F, q, (qe + c) << 2, NATIVE).mul(scale).intoArray(qs, c);
        }
        for (; c < d; c++) {
            qs[c] = get(q, qe + c) * scale;
        }
        scores(qs, d, k, kBase, ldk, rows, rowsOff, len, p);
        softmax(p, len);
        weightedSum(p, len, v, vBase, ldv, rows, rowsOff, d, out, oe);
        return p;
    }

    /**
     * p[j] = qs · key j. Four keys at a time, so four independent FMA chains hide the FMA latency
     * and each query chunk is loaded once for four keys; the remaining keys go one by one with the
     * very same per-key arithmetic (lanes, then the fixed-order lane sum, then the scalar tail).
     */
    private static void scores(float[] qs, int d, MemorySegment k, long kBase, int ldk, int[] rows, int rowsOff, int len, float[] p) {
        int dv = d - d % L;
        int j = 0;
        for (; j <= len - 4; j += 4) {
            long k0 = kBase + (long) rows[rowsOff + j] * ldk;
            long k1 = kBase + (long) rows[rowsOff + j + 1] * ldk;
            long k2 = kBase + (long) rows[rowsOff + j + 2] * ldk;
            long k3 = kBase + (long) rows[rowsOff + j + 3] * ldk;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            for (int c = 0; c < dv; c += L) {
                FloatVector qv = FloatVector.fromArray(F, qs, c);
                a0 = qv.fma(FloatVector.fromMemorySegment(F, k, (k0 + c) << 2, NATIVE), a0);
                a1 = qv.fma(FloatVector.fromMemorySegment(F, k, (k1 + c) << 2, NATIVE), a1);
                a2 = qv.fma(FloatVector.fromMemorySegment(F, k, (k2 + c) << 2, NATIVE), a2);
                a3 = qv.fma(FloatVector.fromMemorySegment(F, k, (k3 + c) << 2, NATIVE), a3);
            }
            // The fixed-order lane sums, written out (see VectorMath.X1).
            if (L >= 16) {
                a0 = a0.add(a0.rearrange(VectorMath.X8));
                a1 = a1.add(a1.rearrange(VectorMath.X8));
                a2 = a2.add(a2.rearrange(VectorMath.X8));
                a3 = a3.add(a3.rearrange(VectorMath.X8));
            }
            if (L >= 8) {
                a0 = a0.add(a0.rearrange(VectorMath.X4));
                a1 = a1.add(a1.rearrange(VectorMath.X4));
                a2 = a2.add(a2.rearrange(VectorMath.X4));
                a3 = a3.add(a3.rearrange(VectorMath.X4));
            }
            if (L >= 4) {
                a0 = a0.add(a0.rearrange(VectorMath.X2));
                a1 = a1.add(a1.rearrange(VectorMath.X2));
                a2 = a2.add(a2.rearrange(VectorMath.X2));
                a3 = a3.add(a3.rearrange(VectorMath.X2));
            }
            float s0 = a0.add(a0.rearrange(VectorMath.X1)).lane(0);
            float s1 = a1.add(a1.rearrange(VectorMath.X1)).lane(0);
            float s2 = a2.add(a2.rearrange(VectorMath.X1)).lane(0);
            float s3 = a3.add(a3.rearrange(VectorMath.X1)).lane(0);
            for (int c = dv; c < d; c++) {
                s0 = Math.fma(qs[c], get(k, k0 + c), s0);
                s1 = Math.fma(qs[c], get(k, k1 + c), s1);
                s2 = Math.fma(qs[c], get(k, k2 + c), s2);
                s3 = Math.fma(qs[c], get(k, k3 + c), s3);
            }
            p[j] = s0;
            p[j + 1] = s1;
            p[j + 2] = s2;
            p[j + 3] = s3;
        }
        for (; j < len; j++) {
            long k0 = kBase + (long) rows[rowsOff + j] * ldk;
            FloatVector a0 = FloatVector.zero(F);
            for (int c = 0; c < dv; c += L) {
                a0 = FloatVector.fromArray(F, qs, c).fma(FloatVector.fromMemorySegment(F, k, (k0 + c) << 2, NATIVE), a0);
            }
            // The fixed-order lane sum, written out (see VectorMath.X1).
            if (L >= 16) {
                a0 = a0.add(a0.rearrange(VectorMath.X8));
            }
            if (L >= 8) {
                a0 = a0.add(a0.rearrange(VectorMath.X4));
            }
            if (L >= 4) {
                a0 = a0.add(a0.rearrange(VectorMath.X2));
            }
            float s0 = a0.add(a0.rearrange(VectorMath.X1)).lane(0);
            for (int c = dv; c < d; c++) {
                s0 = Math.fma(qs[c], get(k, k0 + c), s0);
            }
            p[j] = s0;
        }
    }

    /** Softmax of p[0..n), n >= 1, in place: max, exp and sum (fixed order), one division. */
    private static void softmax(float[] p, int n) {
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        if (n >= L) {
            FloatVector m = FloatVector.fromArray(F, p, 0);
            for (i = L; i <= n - L; i += L) {
                m = m.max(FloatVector.fromArray(F, p, i));
            }
            max = m.reduceLanes(VectorOperators.MAX);   // exact in any order
        }
        for (; i < n; i++) {
            max = Math.max(max, p[i]);
        }
        float sum = VectorMath.expShift(p, n, max);
        float inv = 1f / sum;
        i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(F, p, i).mul(inv).intoArray(p, i);
        }
        for (; i < n; i++) {
            p[i] *= inv;
        }
    }

    /**
     * out[c] = sum over j of p[j] * V[row j][c], each element one FMA chain in key order. Up to
     * four chunks of the head run together (four independent chains, each value row read once per
     * pass); the tail elements use Math.fma in the same order, bit-identical to a lane.
     */
    private static void weightedSum(float[] p, int len, MemorySegment v, long vBase, int ldv, int[] rows, int rowsOff,
                                    int d, MemorySegment out, long oe) {
        int dv = d - d % L;
        int c = 0;
        for (; c <= dv - 4 * L; c += 4 * L) {
            FloatVector o0 = FloatVector.zero(F);
            FloatVector o1 = o0;
            FloatVector o2 = o0;
            FloatVector o3 = o0;
            for (int j = 0; j < len; j++) {
                FloatVector pj = FloatVector.broadcast(F, p[j]);
                long r = vBase + (long) rows[rowsOff + j] * ldv + c;
                o0 = FloatVector.fromMemorySegment(F, v, r << 2, NATIVE).fma(pj, o0);
                o1 = FloatVector.fromMemorySegment(F, v, (r + L) << 2, NATIVE).fma(pj, o1);
                o2 = FloatVector.fromMemorySegment(F, v, (r + 2 * L) << 2, NATIVE).fma(pj, o2);
                o3 = FloatVector.fromMemorySegment(F, v, (r + 3 * L) << 2, NATIVE).fma(pj, o3);
            }
            o0.intoMemorySegment(out, (oe + c) << 2, NATIVE);
            o1.intoMemorySegment(out, (oe + c + L) << 2, NATIVE);
            o2.intoMemorySegment(out, (oe + c + 2 * L) << 2, NATIVE);
            o3.intoMemorySegment(out, (oe + c + 3 * L) << 2, NATIVE);
        }
        for (; c < dv; c += L) {
            FloatVector o0 = FloatVector.zero(F);
            for (int j = 0; j < len; j++) {
                o0 = FloatVector.fromMemorySegment(F, v, (vBase + (long) rows[rowsOff + j] * ldv + c) << 2, NATIVE).fma(FloatVector.broadcast(F, p[j]), o0);
            }
            o0.intoMemorySegment(out, (oe + c) << 2, NATIVE);
        }
        for (; c < d; c++) {
            float o = 0f;
            for (int j = 0; j < len; j++) {
                o = Math.fma(get(v, vBase + (long) rows[rowsOff + j] * ldv + c), p[j], o);
            }
            set(out, oe + c, o);
        }
    }
}

package dev.kawi.runtime.kernels;

import dev.kawi.weights.QuantCodec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The Vector API kernels' arithmetic, lane by lane, in plain scalar Java: for the lane count of
 * the vector kernels ({@link KernelProvider#vectorLanes()}) every result is bit-identical to
 * theirs, at any thread count. It exists for start-up: Vector API code and per-element
 * {@link MemorySegment} access are fast only once C2 has compiled them (about a second of
 * compiling on two cores, during which the interpreter runs them a thousand times slower), while
 * these loops over heap arrays are fast from the first call (interpreter, then C1). A
 * {@link WarmingKernels} serves calls with them until the vector kernels are warm.
 *
 * <p>The arithmetic each vector kernel performs (see {@code kernels.simd}):
 * <ul>
 *   <li>dot products (GEMM, attention scores): lane l accumulates {@code fma(a[p], w[p], acc)} for
 *       p = l, l + L, ... below the last full vector, the lanes are added by the fixed tree
 *       ({@link LaneMath#sumLanes}), then the remaining products are added one by one with fma;
 *       quantized weights are dequantized first, {@code q * scale} ({@code fma(n, s, -8s)} for Q4);
 *   <li>GEMM epilogue: {@code act(acc + bias) + residual};
 *   <li>A·B products: one fma chain per element over p in order, from 0 or from C;
 *   <li>norm sums: four accumulators of L lanes, a full-vector tail into the first, the four
 *       added pairwise, the lane tree, then a scalar tail; exp sums: lanes summed in blocks of 16
 *       vectors, the tree, then a scalar tail;
 *   <li>attention output: one fma chain per element over the keys in order.
 * </ul>
 * Single-threaded; safe to share (scratch buffers are per thread).
 */
public final class LaneKernels implements Kernels {
    private static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfFloat F32_LE = FL.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Vectors per block of the exp sums (VectorMath.SUM_BLOCK). */
    private static final int SUM_BLOCK = 16;
    /** Floats of decoded weights per chunk: 32 KB, so a chunk stays in L1 while every row of A passes over it. */
    private static final int W_CHUNK = 8192;
    /** Floats of A per row block. */
    private static final int A_BLOCK = 1 << 16;
    /** Elements per piece of the element-wise operations. */
    private static final int PIECE = 4096;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final int lanes;

    /** Kernels reproducing vector kernels of {@code lanes} float lanes (a power of two, 1 to 64). */
    public LaneKernels(int lanes) {
        if (lanes < 1 || lanes > 64 || Integer.bitCount(lanes) != 1) {
            throw new IllegalArgumentException("lanes must be a power of two in [1, 64], was " + lanes);
        }
        this.lanes = lanes;
    }

    /** The float lanes whose arithmetic these kernels reproduce. */
    public int lanes() {
        return lanes;
    }

    @Override
    public String name() {
        return "lanes-" + (32 * lanes) + " (scalar, 1 thread)";
    }

    @Override
    public int threads() {
        return 1;
    }

    /** Per-thread buffers, grown on demand and kept. */
    private static final class Scratch {
        float[] a = new float[0];
        float[] w = new float[0];
        float[] res = new float[0];
        float[] row = new float[0];
        float[] row2 = new float[0];
        float[] row3 = new float[0];
        float[] bias = new float[0];
        float[] acc = new float[256];
        float[] tot = new float[64];
        float[] blk = new float[64];
        byte[] q = new byte[0];
        short[] h = new short[0];
        float[] sc = new float[0];

        static float[] grow(float[] b, int n) {
            return b.length < n ? new float[Math.max(n, b.length + (b.length >> 1))] : b;
        }

        float[] a(int n) {
            return a = grow(a, n);
        }

        float[] w(int n) {
            return w = grow(w, n);
        }

        float[] res(int n) {
            return res = grow(res, n);
        }

        float[] row(int n) {
            return row = grow(row, n);
        }

        float[] row2(int n) {
            return row2 = grow(row2, n);
        }

        float[] row3(int n) {
            return row3 = grow(row3, n);
        }

        float[] bias(int n) {
            return bias = grow(bias, n);
        }

        float[] sc(int n) {
            return sc = grow(sc, n);
        }

        byte[] q(int n) {
            if (q.length < n) {
                q = new byte[Math.max(n, q.length + (q.length >> 1))];
            }
            return q;
        }

        short[] h(int n) {
            if (h.length < n) {
                h = new short[Math.max(n, h.length + (h.length >> 1))];
            }
            return h;
        }
    }

    // ------------------------------------------------------------------ the canonical dot product

    /** a[ai..ai+k) · w[wi..wi+k): lanes, the tree, then the scalar tail. */
    private float dot(float[] a, int ai, float[] w, int wi, int k, float[] acc) {
        if (lanes == 16) {
            return dot16(a, ai, w, wi, k, acc);
        }
        if (lanes == 8) {
            return dot8(a, ai, w, wi, k);
        }
        int l = lanes;
        int kv = k - k % l;
        for (int lane = 0; lane < l; lane++) {
            float s = 0f;
            for (int p = lane; p < kv; p += l) {
                s = Math.fma(a[ai + p], w[wi + p], s);
            }
            acc[lane] = s;
        }
        float s = LaneMath.sumLanes(acc, 0, l);
        for (int p = kv; p < k; p++) {
            s = Math.fma(a[ai + p], w[wi + p], s);
        }
        return s;
    }

    /**
     * {@link #dot} for 16 lanes, in two passes of 8 lanes (lanes 0-7, then 8-15), each lane a local
     * accumulator, the body unrolled: C1 (all a one-sentence run gets) spills 16 live accumulators
     * and ran 3-7x slower; C2 runs either as fast. Lane sums go through t for the tree.
     */
    private static float dot16(float[] a, int ai, float[] w, int wi, int k, float[] t) {
        int kv = k - k % 16;
        for (int g = 0; g < 16; g += 8) {
            float s0 = 0f; float s1 = 0f; float s2 = 0f; float s3 = 0f; float s4 = 0f; float s5 = 0f; float s6 = 0f; float s7 = 0f;
            for (int p = g; p < kv; p += 16) {
                int x = ai + p;
                int y = wi + p;
                s0 = Math.fma(a[x], w[y], s0);
                s1 = Math.fma(a[x + 1], w[y + 1], s1);
                s2 = Math.fma(a[x + 2], w[y + 2], s2);
                s3 = Math.fma(a[x + 3], w[y + 3], s3);
                s4 = Math.fma(a[x + 4], w[y + 4], s4);
                s5 = Math.fma(a[x + 5], w[y + 5], s5);
                s6 = Math.fma(a[x + 6], w[y + 6], s6);
                s7 = Math.fma(a[x + 7], w[y + 7], s7);
            }
            t[g] = s0; t[g + 1] = s1; t[g + 2] = s2; t[g + 3] = s3; t[g + 4] = s4; t[g + 5] = s5; t[g + 6] = s6; t[g + 7] = s7;
        }
        // The lane tree of LaneMath.sumLanes, written out.
        float s = (((t[0] + t[8]) + (t[4] + t[12])) + ((t[2] + t[10]) + (t[6] + t[14]))) + (((t[1] + t[9]) + (t[5] + t[13])) + ((t[3] + t[11]) + (t[7] + t[15])));
        for (int p = kv; p < k; p++) {
            s = Math.fma(a[ai + p], w[wi + p], s);
        }
        return s;
    }

    /** {@link #dot} for 8 lanes: the accumulators in locals, the body unrolled (fast in C1 and C2). */
    private static float dot8(float[] a, int ai, float[] w, int wi, int k) {
        int kv = k - k % 8;
        float s0 = 0f; float s1 = 0f; float s2 = 0f; float s3 = 0f; float s4 = 0f; float s5 = 0f; float s6 = 0f; float s7 = 0f;
        for (int p = 0; p < kv; p += 8) {
            int x = ai + p;
            int y = wi + p;
            s0 = Math.fma(a[x], w[y], s0);
            s1 = Math.fma(a[x + 1], w[y + 1], s1);
            s2 = Math.fma(a[x + 2], w[y + 2], s2);
            s3 = Math.fma(a[x + 3], w[y + 3], s3);
            s4 = Math.fma(a[x + 4], w[y + 4], s4);
            s5 = Math.fma(a[x + 5], w[y + 5], s5);
            s6 = Math.fma(a[x + 6], w[y + 6], s6);
            s7 = Math.fma(a[x + 7], w[y + 7], s7);
        }
        // The lane tree of LaneMath.sumLanes, written out.
        float s = ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7));
        for (int p = kv; p < k; p++) {
            s = Math.fma(a[ai + p], w[wi + p], s);
        }
        return s;
    }

    /**
     * {@link #dot16} against a Q8 row: weight p is {@code q[p] * scale[p / 32]} (the codec's dequantization,
     * as the vector kernels compute it), fused into the loop. k is a multiple of 32, so there is no tail.
     */
    private static float dotQ8x16(float[] a, int ai, byte[] q, int qi, float[] sc, int si, int k, float[] t) {
        for (int g = 0; g < 16; g += 8) {
            float s0 = 0f; float s1 = 0f; float s2 = 0f; float s3 = 0f; float s4 = 0f; float s5 = 0f; float s6 = 0f; float s7 = 0f;
            for (int p = g; p < k; p += 16) {
                int x = ai + p;
                int y = qi + p;
                float f = sc[si + (p >> 5)];
                s0 = Math.fma(a[x], q[y] * f, s0);
                s1 = Math.fma(a[x + 1], q[y + 1] * f, s1);
                s2 = Math.fma(a[x + 2], q[y + 2] * f, s2);
                s3 = Math.fma(a[x + 3], q[y + 3] * f, s3);
                s4 = Math.fma(a[x + 4], q[y + 4] * f, s4);
                s5 = Math.fma(a[x + 5], q[y + 5] * f, s5);
                s6 = Math.fma(a[x + 6], q[y + 6] * f, s6);
                s7 = Math.fma(a[x + 7], q[y + 7] * f, s7);
            }
            t[g] = s0; t[g + 1] = s1; t[g + 2] = s2; t[g + 3] = s3; t[g + 4] = s4; t[g + 5] = s5; t[g + 6] = s6; t[g + 7] = s7;
        }
        // The lane tree of LaneMath.sumLanes, written out.
        return (((t[0] + t[8]) + (t[4] + t[12])) + ((t[2] + t[10]) + (t[6] + t[14]))) + (((t[1] + t[9]) + (t[5] + t[13])) + ((t[3] + t[11]) + (t[7] + t[15])));
    }

    /**
     * {@link #dot8} against a Q8 row: weight p is {@code q[p] * scale[p / 32]} (the codec's dequantization,
     * as the vector kernels compute it), fused into the loop. k is a multiple of 32, so there is no tail.
     */
    private static float dotQ8x8(float[] a, int ai, byte[] q, int qi, float[] sc, int si, int k) {
        float s0 = 0f; float s1 = 0f; float s2 = 0f; float s3 = 0f; float s4 = 0f; float s5 = 0f; float s6 = 0f; float s7 = 0f;
        for (int p = 0; p < k; p += 8) {
            int x = ai + p;
            int y = qi + p;
            float f = sc[si + (p >> 5)];
            s0 = Math.fma(a[x], q[y] * f, s0);
            s1 = Math.fma(a[x + 1], q[y + 1] * f, s1);
            s2 = Math.fma(a[x + 2], q[y + 2] * f, s2);
            s3 = Math.fma(a[x + 3], q[y + 3] * f, s3);
            s4 = Math.fma(a[x + 4], q[y + 4] * f, s4);
            s5 = Math.fma(a[x + 5], q[y + 5] * f, s5);
            s6 = Math.fma(a[x + 6], q[y + 6] * f, s6);
            s7 = Math.fma(a[x + 7], q[y + 7] * f, s7);
        }
        // The lane tree of LaneMath.sumLanes, written out.
        return ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7));
    }

    // ------------------------------------------------------------------ gemm

    @Override
    public void gemm(int m, MemorySegment a, long aOff, int lda, Weights w, MemorySegment c, long cOff, int ldc, Epilogue ep) {
        if (m <= 0) {
            return;
        }
        if (ep.residual() != null && ep.activation() != Activation.NONE && c.asOverlappingSlice(ep.residual()).isPresent()) {
            throw new IllegalArgumentException("the residual may alias the output only without an activation");
        }
        int n = w.rows();
        int k = w.cols();
        Scratch s = SCRATCH.get();
        float[] bias = null;
        if (ep.bias() != null) {
            bias = s.bias(n);
            MemorySegment.copy(ep.bias(), FL, 0, bias, 0, n);
        }
        int mb = Math.max(1, Math.min(m, A_BLOCK / k));
        int nb = Math.max(1, Math.min(n, W_CHUNK / k));
        for (int i0 = 0; i0 < m; i0 += mb) {
            int rows = Math.min(mb, m - i0);
            float[] x = s.a(rows * k);
            for (int i = 0; i < rows; i++) {
                MemorySegment.copy(a, FL, 4 * (aOff + (long) (i0 + i) * lda), x, i * k, k);
            }
            float[] res = s.res(rows * nb);
            for (int j0 = 0; j0 < n; j0 += nb) {
                int cols = Math.min(nb, n - j0);
                if (w.dtype() == dev.kawi.weights.DType.Q8 && (lanes == 16 || lanes == 8)) {
                    // Q8 rows are dequantized inside the dot product: no decoded copy to write and read back.
                    int bpr = k / QuantCodec.BLOCK;
                    byte[] q = s.q(cols * k);
                    float[] sc = s.sc(cols * bpr);
                    MemorySegment.copy(w.data(), ValueLayout.JAVA_BYTE, (long) j0 * k, q, 0, cols * k);
                    MemorySegment.copy(w.scales(), FL, 4L * j0 * bpr, sc, 0, cols * bpr);
                    for (int i = 0; i < rows; i++) {
                        for (int j = 0; j < cols; j++) {
                            res[i * cols + j] = lanes == 16 ? dotQ8x16(x, i * k, q, j * k, sc, j * bpr, k, s.acc) : dotQ8x8(x, i * k, q, j * k, sc, j * bpr, k);
                        }
                    }
                } else {
                    float[] wd = s.w(cols * k);
                    decodeRows(w, j0, cols, wd, s);
                    for (int i = 0; i < rows; i++) {
                        for (int j = 0; j < cols; j++) {
                            res[i * cols + j] = dot(x, i * k, wd, j * k, k, s.acc);
                        }
                    }
                }
                for (int i = 0; i < rows; i++) {
                    writeOut(res, i * cols, c, cOff + (long) (i0 + i) * ldc + j0, i0 + i, j0, cols, ep, bias, s);
                }
            }
        }
    }

    /** Results res[ro..ro+n) of row i, columns j0.., through the epilogue into C at element cBase. */
    private static void writeOut(float[] res, int ro, MemorySegment c, long cBase, int i, int j0, int n, Epilogue ep, float[] bias,
                                 Scratch s) {
        float[] out = s.row(n);
        float[] r = null;
        if (ep.residual() != null) {
            // Read before C is written: the residual may be C itself.
            r = s.row2(n);
            MemorySegment.copy(ep.residual(), FL, 4 * (ep.residualOff() + (long) i * ep.ldr() + j0), r, 0, n);
        }
        Activation act = ep.activation();
        for (int j = 0; j < n; j++) {
            float v = res[ro + j];
            if (bias != null) {
                v += bias[j0 + j];
            }
            if (act != Activation.NONE) {
                v = LaneMath.apply(act, v);
            }
            if (r != null) {
                v += r[j];
            }
            out[j] = v;
        }
        MemorySegment.copy(out, 0, c, FL, 4 * cBase, n);
    }

    /** Rows [j0, j0+rows) of W as floats into dst (stride k): the F32 value of every weight. */
    private static void decodeRows(Weights w, int j0, int rows, float[] dst, Scratch s) {
        int k = w.cols();
        int n = rows * k;
        switch (w.dtype()) {
            case F32 -> MemorySegment.copy(w.data(), FL, 4L * j0 * k, dst, 0, n);
            case F16, BF16 -> {
                short[] h = s.h(n);
                MemorySegment.copy(w.data(), ValueLayout.JAVA_SHORT_UNALIGNED, 2L * j0 * k, h, 0, n);
                if (w.dtype() == dev.kawi.weights.DType.F16) {
                    for (int i = 0; i < n; i++) {
                        dst[i] = Float.float16ToFloat(h[i]);
                    }
                } else {
                    for (int i = 0; i < n; i++) {
                        dst[i] = QuantCodec.bf16ToFloat(h[i]);
                    }
                }
            }
            case Q8 -> {
                int bpr = k / QuantCodec.BLOCK;
                byte[] q = s.q(n);
                float[] sc = s.sc(rows * bpr);
                MemorySegment.copy(w.data(), ValueLayout.JAVA_BYTE, (long) j0 * k, q, 0, n);
                MemorySegment.copy(w.scales(), FL, 4L * j0 * bpr, sc, 0, rows * bpr);
                // Rows of whole blocks follow each other, so element p's scale is block p / 32 of the chunk.
                for (int p = 0; p < n; p++) {
                    dst[p] = q[p] * sc[p >> 5];
                }
            }
            case Q4 -> {
                int bpr = k / QuantCodec.BLOCK;
                int half = QuantCodec.BLOCK / 2;
                byte[] q = s.q(n / 2);
                float[] sc = s.sc(rows * bpr);
                MemorySegment.copy(w.data(), ValueLayout.JAVA_BYTE, (long) j0 * (k / 2), q, 0, n / 2);
                MemorySegment.copy(w.scales(), FL, 4L * j0 * bpr, sc, 0, rows * bpr);
                // Value j of a block is the low nibble of byte j, value j + 16 the high one;
                // fma(n, s, -8s) is (n - 8) * s rounded once, as the vector kernels decode it.
                for (int b = 0; b < rows * bpr; b++) {
                    float f = sc[b];
                    float m8 = -8f * f;
                    int qb = b * half;
                    int o = b * QuantCodec.BLOCK;
                    for (int j = 0; j < half; j++) {
                        int v = q[qb + j];
                        dst[o + j] = Math.fma((float) (v & 0x0F), f, m8);
                        dst[o + half + j] = Math.fma((float) ((v >>> 4) & 0x0F), f, m8);
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ A·B products

    @Override
    public void matmul(int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                       MemorySegment c, long cOff, int ldc, boolean accumulate) {
        product(m, n, k, a, aOff, lda, false, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    @Override
    public void matmulTransA(int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                             MemorySegment c, long cOff, int ldc, boolean accumulate) {
        product(m, n, k, a, aOff, lda, true, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    /** C (+)= op(A)·B, each element one fma chain over p = 0..k-1 in order. */
    private static void product(int m, int n, int k, MemorySegment a, long aOff, int lda, boolean transA, MemorySegment b, long bOff,
                                int ldb, MemorySegment c, long cOff, int ldc, boolean accumulate) {
        if (m <= 0 || n <= 0) {
            return;
        }
        if (k <= 0) {
            if (!accumulate) {
                for (int i = 0; i < m; i++) {
                    c.asSlice(4 * (cOff + (long) i * ldc), 4L * n).fill((byte) 0);
                }
            }
            return;
        }
        Scratch s = SCRATCH.get();
        float[] bb = s.w(k * n);
        for (int p = 0; p < k; p++) {
            MemorySegment.copy(b, FL, 4 * (bOff + (long) p * ldb), bb, p * n, n);
        }
        float[] aa = s.a(m * k);
        if (transA) {
            // A is k x m: element (i, p) of op(A) is A[p][i]; stored here as aa[p * m + i].
            for (int p = 0; p < k; p++) {
                MemorySegment.copy(a, FL, 4 * (aOff + (long) p * lda), aa, p * m, m);
            }
        } else {
            for (int i = 0; i < m; i++) {
                MemorySegment.copy(a, FL, 4 * (aOff + (long) i * lda), aa, i * k, k);
            }
        }
        float[] acc = s.row(n);
        for (int i = 0; i < m; i++) {
            long ci = 4 * (cOff + (long) i * ldc);
            if (accumulate) {
                MemorySegment.copy(c, FL, ci, acc, 0, n);
            } else {
                java.util.Arrays.fill(acc, 0, n, 0f);
            }
            for (int p = 0; p < k; p++) {
                float av = transA ? aa[p * m + i] : aa[i * k + p];
                int bo = p * n;
                for (int j = 0; j < n; j++) {
                    acc[j] = Math.fma(av, bb[bo + j], acc[j]);
                }
            }
            MemorySegment.copy(acc, 0, c, FL, ci, n);
        }
    }

    // ------------------------------------------------------------------ softmax

    private static int validCols(int[] valid, int r, int cols) {
        return valid == null ? cols : Math.max(0, Math.min(cols, valid[r]));
    }

    private static float max(float[] x, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[i]);
        }
        return max;
    }

    /**
     * Sum of e^(p[i] - shift) over p[0..n), storing the terms when {@code store}: lanes add up
     * blocks of 16 vectors, blocks are added into totals, the tree, then the scalar tail.
     */
    private float expShift(float[] p, int n, float shift, boolean store, Scratch s) {
        int l = lanes;
        float[] tot = s.tot;
        float[] blk = s.blk;
        java.util.Arrays.fill(tot, 0, l, 0f);
        java.util.Arrays.fill(blk, 0, l, 0f);
        int i = 0;
        int count = 0;
        for (; i <= n - l; i += l) {
            for (int lane = 0; lane < l; lane++) {
                float e = LaneMath.exp(p[i + lane] - shift);
                if (store) {
                    p[i + lane] = e;
                }
                blk[lane] += e;
            }
            if (++count == SUM_BLOCK) {
                for (int lane = 0; lane < l; lane++) {
                    tot[lane] += blk[lane];
                    blk[lane] = 0f;
                }
                count = 0;
            }
        }
        for (int lane = 0; lane < l; lane++) {
            tot[lane] += blk[lane];
        }
        float sum = LaneMath.sumLanes(tot, 0, l);
        for (; i < n; i++) {
            float e = LaneMath.exp(p[i] - shift);
            if (store) {
                p[i] = e;
            }
            sum += e;
        }
        return sum;
    }

    @Override
    public void softmax(MemorySegment x, long off, int rows, int cols, int ld, int[] valid) {
        if (rows <= 0) {
            return;
        }
        Scratch s = SCRATCH.get();
        float[] row = s.row3(cols);
        for (int r = 0; r < rows; r++) {
            long base = 4 * (off + (long) r * ld);
            int len = validCols(valid, r, cols);
            MemorySegment.copy(x, FL, base, row, 0, len);
            if (len > 0) {
                float max = max(row, len);
                float inv = 1f / expShift(row, len, max, true, s);
                for (int j = 0; j < len; j++) {
                    row[j] *= inv;
                }
            }
            java.util.Arrays.fill(row, len, cols, 0f);
            MemorySegment.copy(row, 0, x, FL, base, cols);
        }
    }

    @Override
    public void logSoftmax(MemorySegment x, long off, int rows, int cols, int ld, int[] valid) {
        if (rows <= 0) {
            return;
        }
        Scratch s = SCRATCH.get();
        float[] row = s.row3(cols);
        for (int r = 0; r < rows; r++) {
            long base = 4 * (off + (long) r * ld);
            int len = validCols(valid, r, cols);
            MemorySegment.copy(x, FL, base, row, 0, len);
            if (len > 0) {
                float max = max(row, len);
                float logSum = (float) Math.log(expShift(row, len, max, false, s));
                for (int j = 0; j < len; j++) {
                    row[j] = (row[j] - max) - logSum;
                }
            }
            java.util.Arrays.fill(row, len, cols, Float.NEGATIVE_INFINITY);
            MemorySegment.copy(row, 0, x, FL, base, cols);
        }
    }

    // ------------------------------------------------------------------ norms

    /** Sum of (x - c)^2 (squares) or of x over x[0..n), with the norms' four accumulators. */
    private float sum4(float[] x, int n, float c, boolean squares, Scratch s) {
        int l = lanes;
        float[] acc = s.acc;
        java.util.Arrays.fill(acc, 0, 4 * l, 0f);
        int i = 0;
        for (; i <= n - 4 * l; i += 4 * l) {
            for (int q = 0; q < 4; q++) {
                for (int lane = 0; lane < l; lane++) {
                    int a = q * l + lane;
                    if (squares) {
                        float d = x[i + a] - c;
                        acc[a] = Math.fma(d, d, acc[a]);
                    } else {
                        acc[a] += x[i + a];
                    }
                }
            }
        }
        for (; i <= n - l; i += l) {
            for (int lane = 0; lane < l; lane++) {
                if (squares) {
                    float d = x[i + lane] - c;
                    acc[lane] = Math.fma(d, d, acc[lane]);
                } else {
                    acc[lane] += x[i + lane];
                }
            }
        }
        for (int lane = 0; lane < l; lane++) {
            acc[lane] = (acc[lane] + acc[l + lane]) + (acc[2 * l + lane] + acc[3 * l + lane]);
        }
        float sum = LaneMath.sumLanes(acc, 0, l);
        for (; i < n; i++) {
            if (squares) {
                float d = x[i] - c;
                sum = Math.fma(d, d, sum);
            } else {
                sum += x[i];
            }
        }
        return sum;
    }

    @Override
    public void layerNorm(MemorySegment out, long outOff, int ldo, MemorySegment x, long xOff, int ldx, int rows, int cols,
                          MemorySegment gamma, MemorySegment beta, float eps, MemorySegment meanOut, MemorySegment rstdOut) {
        if (cols <= 0 || rows <= 0) {
            return;
        }
        Scratch s = SCRATCH.get();
        float[] g = s.row(cols);
        float[] b = s.row2(cols);
        float[] xr = s.row3(cols);
        MemorySegment.copy(gamma, FL, 0, g, 0, cols);
        MemorySegment.copy(beta, FL, 0, b, 0, cols);
        for (int r = 0; r < rows; r++) {
            MemorySegment.copy(x, FL, 4 * (xOff + (long) r * ldx), xr, 0, cols);
            // Two passes (mean, then squared deviations): no cancellation when the mean is large.
            float mean = sum4(xr, cols, 0f, false, s) / cols;
            float var = sum4(xr, cols, mean, true, s) / cols;
            if (!Float.isFinite(mean) || !Float.isFinite(var)) {
                layerNormRowDouble(xr, cols, g, b, eps, meanOut, rstdOut, r);
            } else {
                float rstd = (float) (1.0 / Math.sqrt((double) var + eps));
                if (meanOut != null) {
                    meanOut.setAtIndex(FL, r, mean);
                }
                if (rstdOut != null) {
                    rstdOut.setAtIndex(FL, r, rstd);
                }
                for (int j = 0; j < cols; j++) {
                    float nv = (xr[j] - mean) * rstd;
                    xr[j] = Math.fma(nv, g[j], b[j]);
                }
            }
            MemorySegment.copy(xr, 0, out, FL, 4 * (outOff + (long) r * ldo), cols);
        }
    }

    /** The rare-case row (float sums overflowed, or inf/NaN): the same formula in double; result in xr. */
    private static void layerNormRowDouble(float[] xr, int cols, float[] g, float[] b, float eps, MemorySegment meanOut,
                                           MemorySegment rstdOut, int r) {
        double mean = 0;
        for (int j = 0; j < cols; j++) {
            mean += xr[j];
        }
        mean /= cols;
        double var = 0;
        for (int j = 0; j < cols; j++) {
            double d = xr[j] - mean;
            var += d * d;
        }
        var /= cols;
        double rstd = 1.0 / Math.sqrt(var + eps);
        if (meanOut != null) {
            meanOut.setAtIndex(FL, r, (float) mean);
        }
        if (rstdOut != null) {
            rstdOut.setAtIndex(FL, r, (float) rstd);
        }
        for (int j = 0; j < cols; j++) {
            xr[j] = (float) ((xr[j] - mean) * rstd * g[j] + b[j]);
        }
    }

    @Override
    public void rmsNorm(MemorySegment out, long outOff, int ldo, MemorySegment x, long xOff, int ldx, int rows, int cols,
                        MemorySegment gamma, float eps) {
        if (cols <= 0 || rows <= 0) {
            return;
        }
        Scratch s = SCRATCH.get();
        float[] g = s.row(cols);
        float[] xr = s.row3(cols);
        MemorySegment.copy(gamma, FL, 0, g, 0, cols);
        for (int r = 0; r < rows; r++) {
            MemorySegment.copy(x, FL, 4 * (xOff + (long) r * ldx), xr, 0, cols);
            float ss = sum4(xr, cols, 0f, true, s);
            double rms;
            if (Float.isFinite(ss)) {
                rms = 1.0 / Math.sqrt((double) ss / cols + eps);
            } else {
                double d = 0;
                for (int j = 0; j < cols; j++) {
                    double v = xr[j];
                    d += v * v;
                }
                rms = 1.0 / Math.sqrt(d / cols + eps);
            }
            float rf = (float) rms;
            if (rf == 0f || !Float.isFinite(rf)) {
                for (int j = 0; j < cols; j++) {
                    xr[j] = (float) (xr[j] * rms * g[j]);
                }
            } else {
                for (int j = 0; j < cols; j++) {
                    xr[j] = xr[j] * rf * g[j];
                }
            }
            MemorySegment.copy(xr, 0, out, FL, 4 * (outOff + (long) r * ldo), cols);
        }
    }

    // ------------------------------------------------------------------ element-wise

    @Override
    public void activation(Activation act, MemorySegment x, long off, long n) {
        if (act == Activation.NONE || n <= 0) {
            return;
        }
        float[] v = SCRATCH.get().row3(PIECE);
        for (long start = 0; start < n; start += PIECE) {
            int len = (int) Math.min(PIECE, n - start);
            long at = 4 * (off + start);
            MemorySegment.copy(x, FL, at, v, 0, len);
            for (int i = 0; i < len; i++) {
                v[i] = LaneMath.apply(act, v[i]);
            }
            MemorySegment.copy(v, 0, x, FL, at, len);
        }
    }

    @Override
    public void add(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff, long n) {
        Scratch s = SCRATCH.get();
        float[] va = s.row3(PIECE);
        float[] vb = s.row2(PIECE);
        for (long start = 0; start < n; start += PIECE) {
            int len = (int) Math.min(PIECE, n - start);
            MemorySegment.copy(a, FL, 4 * (aOff + start), va, 0, len);
            MemorySegment.copy(b, FL, 4 * (bOff + start), vb, 0, len);
            for (int i = 0; i < len; i++) {
                va[i] += vb[i];
            }
            MemorySegment.copy(va, 0, out, FL, 4 * (outOff + start), len);
        }
    }

    @Override
    public void scale(MemorySegment x, long off, long n, float s) {
        float[] v = SCRATCH.get().row3(PIECE);
        for (long start = 0; start < n; start += PIECE) {
            int len = (int) Math.min(PIECE, n - start);
            long at = 4 * (off + start);
            MemorySegment.copy(x, FL, at, v, 0, len);
            for (int i = 0; i < len; i++) {
                v[i] *= s;
            }
            MemorySegment.copy(v, 0, x, FL, at, len);
        }
    }

    // ------------------------------------------------------------------ embedding

    @Override
    public void embedding(Weights table, int[] ids, int idsOff, int count, float scale, MemorySegment out, long outOff, int ldo) {
        // Check every id before writing anything, so a bad id leaves the output untouched.
        for (int r = 0; r < count; r++) {
            int id = ids[idsOff + r];
            if (id < 0 || id >= table.rows()) {
                throw new IndexOutOfBoundsException("token id " + id + " outside the embedding table of " + table.rows() + " rows");
            }
        }
        int cols = table.cols();
        Scratch s = SCRATCH.get();
        float[] row = s.row3(cols);
        for (int r = 0; r < count; r++) {
            int id = ids[idsOff + r];
            switch (table.dtype()) {
                case F32 -> {
                    MemorySegment.copy(table.data(), F32_LE, 4L * id * cols, row, 0, cols);
                    for (int j = 0; j < cols; j++) {
                        row[j] *= scale;
                    }
                }
                case F16, BF16 -> {
                    short[] h = s.h(cols);
                    MemorySegment.copy(table.data(), I16_LE, 2L * id * cols, h, 0, cols);
                    boolean bf16 = table.dtype() == dev.kawi.weights.DType.BF16;
                    for (int j = 0; j < cols; j++) {
                        row[j] = (bf16 ? QuantCodec.bf16ToFloat(h[j]) : Float.float16ToFloat(h[j])) * scale;
                    }
                }
                case Q8 -> {
                    int blocks = table.blocksPerRow();
                    byte[] q = s.q(cols);
                    float[] sc = s.sc(blocks);
                    MemorySegment.copy(table.data(), ValueLayout.JAVA_BYTE, (long) id * cols, q, 0, cols);
                    MemorySegment.copy(table.scales(), F32_LE, 4L * id * blocks, sc, 0, blocks);
                    for (int j = 0; j < cols; j++) {
                        row[j] = q[j] * sc[j / QuantCodec.BLOCK] * scale;
                    }
                }
                case Q4 -> {
                    int blocks = table.blocksPerRow();
                    int half = QuantCodec.BLOCK / 2;
                    byte[] q = s.q(cols / 2);
                    float[] sc = s.sc(blocks);
                    MemorySegment.copy(table.data(), ValueLayout.JAVA_BYTE, (long) id * (cols / 2), q, 0, cols / 2);
                    MemorySegment.copy(table.scales(), F32_LE, 4L * id * blocks, sc, 0, blocks);
                    for (int b = 0; b < blocks; b++) {
                        float f = sc[b];
                        for (int j = 0; j < half; j++) {
                            int v = q[b * half + j];
                            row[b * QuantCodec.BLOCK + j] = ((v & 0x0F) - QuantCodec.Q4_OFFSET) * f * scale;
                            row[b * QuantCodec.BLOCK + half + j] = (((v >> 4) & 0x0F) - QuantCodec.Q4_OFFSET) * f * scale;
                        }
                    }
                }
            }
            MemorySegment.copy(row, 0, out, FL, 4 * (outOff + (long) r * ldo), cols);
        }
    }

    // ------------------------------------------------------------------ argmax / top-k

    @Override
    public int argmax(MemorySegment x, long off, int n) {
        if (n <= 0) {
            return 0;
        }
        float[] v = SCRATCH.get().row3(n);
        MemorySegment.copy(x, FL, 4 * off, v, 0, n);
        // The largest non-NaN value, then the first element equal to it (-0.0 == 0.0); no match
        // means every element is NaN: index 0.
        float best = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            if (v[i] > best) {
                best = v[i];
            }
        }
        for (int i = 0; i < n; i++) {
            if (v[i] == best) {
                return i;
            }
        }
        return 0;
    }

    /** Ranking key: NaN counts as -inf. */
    private static float key(float v) {
        return Float.isNaN(v) ? Float.NEGATIVE_INFINITY : v;
    }

    /** True when (va, ia) ranks below (vb, ib): smaller key, or equal key and higher index. */
    private static boolean worse(float va, int ia, float vb, int ib) {
        int c = Float.compare(key(va), key(vb));
        return c < 0 || (c == 0 && ia > ib);
    }

    private static void siftDown(int[] idx, float[] val, int i, int size) {
        int ci = idx[i];
        float cv = val[i];
        while (true) {
            int c = 2 * i + 1;
            if (c >= size) {
                break;
            }
            if (c + 1 < size && worse(val[c + 1], idx[c + 1], val[c], idx[c])) {
                c++;
            }
            if (!worse(val[c], idx[c], cv, ci)) {
                break;
            }
            idx[i] = idx[c];
            val[i] = val[c];
            i = c;
        }
        idx[i] = ci;
        val[i] = cv;
    }

    private static void offer(int[] idx, float[] val, int k, int i, float v) {
        if (worse(val[0], idx[0], v, i)) {
            idx[0] = i;
            val[0] = v;
            siftDown(idx, val, 0, k);
        }
    }

    @Override
    public void topK(MemorySegment x, long off, int n, int k, int[] idx, float[] val) {
        if (k > n) {
            throw new IllegalArgumentException("k = " + k + " > n = " + n);
        }
        if (k <= 0) {
            return;
        }
        float[] v = SCRATCH.get().row3(n);
        MemorySegment.copy(x, FL, 4 * off, v, 0, n);
        for (int i = 0; i < k; i++) {
            idx[i] = i;
            val[i] = v[i];
        }
        for (int i = k / 2 - 1; i >= 0; i--) {
            siftDown(idx, val, i, k);
        }
        int l = lanes;
        int i = k;
        // As the vector scan: per full vector, the lanes >= the root's key at the vector's start
        // are offered in lane order.
        for (; i <= n - l; i += l) {
            float root = key(val[0]);
            for (int lane = 0; lane < l; lane++) {
                if (v[i + lane] >= root) {
                    offer(idx, val, k, i + lane, v[i + lane]);
                }
            }
        }
        for (; i < n; i++) {
            offer(idx, val, k, i, v[i]);
        }
        for (int end = k - 1; end > 0; end--) {
            int ti = idx[0];
            float tv = val[0];
            idx[0] = idx[end];
            val[0] = val[end];
            idx[end] = ti;
            val[end] = tv;
            siftDown(idx, val, 0, end);
        }
    }

    // ------------------------------------------------------------------ attention

    @Override
    public void attention(int batch, int heads, int headDim, int qLen, int kvLen, int[] kvValid, boolean causal, float scale,
                          MemorySegment q, long qOff, int ldq, MemorySegment k, long kOff, int ldk, MemorySegment v, long vOff, int ldv,
                          MemorySegment out, long outOff, int ldo, MemorySegment weights, long wOff) {
        if (batch <= 0 || heads <= 0 || qLen <= 0 || headDim <= 0) {
            return;
        }
        int d = headDim;
        Scratch s = SCRATCH.get();
        for (int b = 0; b < batch; b++) {
            int valid = kvValid == null ? kvLen : Math.max(0, Math.min(kvLen, kvValid[b]));
            for (int h = 0; h < heads; h++) {
                int col = h * d;
                float[] kh = s.a(Math.max(1, valid * d));
                float[] vh = s.w(Math.max(1, valid * d));
                for (int j = 0; j < valid; j++) {
                    MemorySegment.copy(k, FL, 4 * (kOff + ((long) b * kvLen + j) * ldk + col), kh, j * d, d);
                    MemorySegment.copy(v, FL, 4 * (vOff + ((long) b * kvLen + j) * ldv + col), vh, j * d, d);
                }
                for (int t = 0; t < qLen; t++) {
                    int limit = causal ? Math.max(0, Math.min(valid, t + kvLen - qLen + 1)) : valid;
                    long row = (long) b * qLen + t;
                    float[] p = attend(s, d, scale, q, qOff + row * ldq + col, kh, vh, limit, out, outOff + row * ldo + col);
                    if (weights != null) {
                        long wb = wOff + (((long) b * heads + h) * qLen + t) * kvLen;
                        MemorySegment.copy(p, 0, weights, FL, wb << 2, limit);
                        weights.asSlice((wb + limit) << 2, 4L * (kvLen - limit)).fill((byte) 0);
                    }
                }
            }
        }
    }

    @Override
    public void attentionStep(int batch, int heads, int headDim, float scale,
                              MemorySegment q, long qOff, int ldq, MemorySegment kCache, MemorySegment vCache, int ldkv,
                              int[] rows, int rowStride, int[] lengths,
                              MemorySegment out, long outOff, int ldo, MemorySegment weights, long wOff, int ldw) {
        if (batch <= 0 || heads <= 0 || headDim <= 0) {
            return;
        }
        for (int b = 0; b < batch; b++) {
            if (lengths[b] < 0) {
                throw new IllegalArgumentException("lengths[" + b + "] = " + lengths[b] + " is negative");
            }
        }
        int d = headDim;
        Scratch s = SCRATCH.get();
        for (int b = 0; b < batch; b++) {
            int len = lengths[b];
            for (int h = 0; h < heads; h++) {
                int col = h * d;
                float[] kh = s.a(Math.max(1, len * d));
                float[] vh = s.w(Math.max(1, len * d));
                for (int j = 0; j < len; j++) {
                    long r = (long) rows[b * rowStride + j] * ldkv + col;
                    MemorySegment.copy(kCache, FL, 4 * r, kh, j * d, d);
                    MemorySegment.copy(vCache, FL, 4 * r, vh, j * d, d);
                }
                float[] p = attend(s, d, scale, q, qOff + (long) b * ldq + col, kh, vh, len, out, outOff + (long) b * ldo + col);
                if (weights != null) {
                    MemorySegment.copy(p, 0, weights, FL, (wOff + ((long) b * heads + h) * ldw) << 2, len);
                }
            }
        }
    }

    /**
     * One query of d elements at q[qe..] against len keys (rows of kh and vh, stride d): writes d
     * outputs at out[oe..] (zeros when len is 0) and returns the scratch row of probabilities.
     */
    private float[] attend(Scratch s, int d, float scale, MemorySegment q, long qe, float[] kh, float[] vh, int len,
                           MemorySegment out, long oe) {
        float[] p = s.res(Math.max(len, 1));
        float[] qs = s.row(d);
        float[] o = s.row2(d);
        java.util.Arrays.fill(o, 0, d, 0f);
        if (len > 0) {
            MemorySegment.copy(q, FL, 4 * qe, qs, 0, d);
            for (int c = 0; c < d; c++) {
                qs[c] *= scale;
            }
            for (int j = 0; j < len; j++) {
                p[j] = dot(qs, 0, kh, j * d, d, s.acc);
            }
            float inv = 1f / expShift(p, len, max(p, len), true, s);
            for (int j = 0; j < len; j++) {
                p[j] *= inv;
            }
            // Each output element is one fma chain over the keys in order.
            for (int j = 0; j < len; j++) {
                float pj = p[j];
                int vo = j * d;
                for (int c = 0; c < d; c++) {
                    o[c] = Math.fma(vh[vo + c], pj, o[c]);
                }
            }
        }
        MemorySegment.copy(o, 0, out, FL, 4 * oe, d);
        return p;
    }
}

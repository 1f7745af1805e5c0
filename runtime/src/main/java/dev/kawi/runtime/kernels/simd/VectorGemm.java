package dev.kawi.runtime.kernels.simd;

import dev.kawi.runtime.kernels.Epilogue;
import dev.kawi.runtime.kernels.Activation;
import dev.kawi.runtime.kernels.Weights;
import dev.kawi.runtime.kernels.WorkerPool;
import dev.kawi.weights.DType;
import dev.kawi.weights.QuantCodec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix products with the Vector API.
 *
 * <h2>One arithmetic per output element</h2>
 * Every path (the 1-row GEMV, the register-tiled GEMM, edge tiles, any thread count) computes
 * each output element with the same sequence of float operations, so a sentence gives the same
 * bits alone or in a batch and at any thread count:
 * <ol>
 *   <li>the weight row is read as floats: F32 as is, F16/BF16 converted (exact), Q8/Q4 as
 *       {@code q * scale} (one float multiply, the codec's dequantization);
 *   <li>L lanes (L = the float vector length) accumulate {@code acc[l] = fma(a[k], w[k], acc[l])}
 *       for {@code k = l, l + L, l + 2L, ...} up to the last full vector;
 *   <li>the lanes are summed by a fixed tree ({@link #sumLanes}): lane i += lane i + L/2, then L/4, ...;
 *   <li>the remaining {@code k % L} products are added one by one with scalar {@code Math.fma};
 *   <li>the epilogue: {@code + bias}, activation, {@code + residual}.
 * </ol>
 * {@code reduceLanes(ADD)} is not used because its order is unspecified (the interpreter and C2
 * may differ). A consequence: a Q8 model computes exactly what the F32 kernel computes on its
 * dequantized weights, which is what quantization-aware training evaluates.
 *
 * <h2>Paths</h2>
 * m = 1 (decoding) streams W from the mapped file, 8 rows at a time (8 independent FMA chains
 * cover the FMA latency x throughput of 2 ports x 4 cycles), with the conversion fused for
 * F32/Q8/Q4. m >= 2 copies (dequantizes) 3 rows of W into a heap panel once per column tile and
 * runs a 4x3 register tile over a block of A rows copied to the heap (heap arrays avoid the
 * per-access checks of segments in the innermost loop; the A block is sized to stay in L2).
 */
final class VectorGemm {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    /** Byte species with L lanes: one load of Q8 values widens to one float vector. */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
    /** One Q4 block (16 bytes). */
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(L * 32));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Activations and biases are in native order (the file's tensors are little-endian, checked when a model loads). */
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    /** Rows of A per block of the tiled path: 64 rows of K = 1024 floats is 256 KiB, inside Zen 3's 512 KiB L2. */
    private static final int MC_BYTES = 256 * 1024;
    /** W rows per task on the 1-row path: small enough to give both cores work on a 512-wide layer. */
    private static final int GEMV_ROWS_PER_TASK = 64;
    /**
     * A 1-row product smaller than this many weights runs on the calling thread: handing work to
     * a second core costs a few microseconds, more than it saves on e.g. a 256 x 768 layer
     * (measured: 2 threads made a 256-wide decoder step slower). Results do not change.
     */
    private static final long GEMV_PARALLEL_MIN = 1L << 20;

    /** A pool of one thread (the caller), for calls too small to share. */
    static final WorkerPool SERIAL = new WorkerPool(1);

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private VectorGemm() {
    }

    /** Per-thread buffers, grown on demand and then reused: the steady state allocates nothing. */
    static final class Scratch {
        private float[] a = new float[0];   // A block of the tiled path (rows x k)
        private float[] w = new float[0];   // W panel: NR rows x k, or 8 decoded rows on the 1-row path
        private float[] x = new float[0];   // the 1-row input, or a tile's results
        private float[] cb = new float[0];  // a task's results before they go to C
        private float[] sc = new float[0];  // 8 rows of scales on the 1-row path
        private byte[] q = new byte[0];     // 8 rows of quantized values on the 1-row path
        /** Accumulator lanes for {@link #sumLanes}: up to 16 accumulators. */
        final float[] lanes = new float[16 * L];

        float[] a(int n) {
            return a = grow(a, n);
        }

        float[] w(int n) {
            return w = grow(w, n);
        }

        float[] x(int n) {
            return x = grow(x, n);
        }

        float[] cb(int n) {
            return cb = grow(cb, n);
        }

        float[] sc(int n) {
            return sc = grow(sc, n);
        }

        byte[] q(int n) {
            if (q.length < n) {
                q = new byte[n];
            }
            return q;
        }

        private static float[] grow(float[] b, int n) {
            return b.length < n ? new float[n] : b;
        }
    }

    /**
     * Step 3, the fixed summation tree, over lanes stored at t[off .. off+L): halve repeatedly,
     * t[i] += t[i + h] for h = L/2, L/4, ..., 1. Scalar on purpose: the same bits in the
     * interpreter and in C2, and it keeps kernel bodies small enough for C2 to inline every
     * Vector API call in them (a vector rotation tree per accumulator did not fit).
     */
    static float sumLanes(float[] t, int off) {
        for (int h = L / 2; h >= 1; h /= 2) {
            for (int i = 0; i < h; i++) {
                t[off + i] += t[off + i + h];
            }
        }
        return t[off];
    }

    /**
     * Rotations by L/2, L/4, ..., 1: {@code v + rotate(v, h)} for each h in turn leaves in lane 0
     * exactly the additions of {@link #sumLanes} (lane i pairs with i + h, as in the halving tree).
     */
    private static final VectorShuffle<Float> ROT1 = VectorShuffle.iota(F, Math.max(1, L / 2), 1, true);
    private static final VectorShuffle<Float> ROT2 = VectorShuffle.iota(F, Math.max(1, L / 4), 1, true);
    private static final VectorShuffle<Float> ROT3 = VectorShuffle.iota(F, Math.max(1, L / 8), 1, true);
    private static final VectorShuffle<Float> ROT4 = VectorShuffle.iota(F, Math.max(1, L / 16), 1, true);
    private static final int LEVELS = Integer.numberOfTrailingZeros(L);
    /** The vector tree is written for up to 16 lanes; wider vectors use the scalar tree. */
    static final boolean VECTOR_TREE = LEVELS >= 1 && LEVELS <= 4;

    /**
     * Replaces the {@code count} accumulators stored at t[0], t[L], t[2L], ... by their sums in
     * t[0..count), by the rotation tree (about 1.5 ns each, against 9 ns for the scalar loop).
     * Kernels store accumulators and call this rather than pass vectors: a call C2 does not
     * inline would box vector arguments, and inlining the tree into the big kernels exceeded C2's
     * node budget (both measured: several times slower).
     */
    static void reduceStored(float[] t, int count) {
        for (int i = 0; i < count; i++) {
            FloatVector v = FloatVector.fromArray(F, t, i * L);
            v = v.add(v.rearrange(ROT1));
            if (LEVELS >= 2) {
                v = v.add(v.rearrange(ROT2));
            }
            if (LEVELS >= 3) {
                v = v.add(v.rearrange(ROT3));
            }
            if (LEVELS >= 4) {
                v = v.add(v.rearrange(ROT4));
            }
            t[i] = v.lane(0);
        }
    }

    /**
     * The sums of {@code count} accumulators stored at t[0], t[L], ... into t[0..count), by the
     * vector tree where it is written for this width and by {@link #sumLanes} otherwise (the
     * same additions either way).
     */
    static void sumsOfStored(float[] t, int count) {
        if (VECTOR_TREE) {
            reduceStored(t, count);
            return;
        }
        for (int i = 0; i < count; i++) {
            t[i] = sumLanes(t, i * L);
        }
    }

    // ------------------------------------------------------------------ gemm: C = A · Wᵀ

    static void gemm(WorkerPool pool, int m, MemorySegment a, long aOff, int lda, Weights w,
                     MemorySegment c, long cOff, int ldc, Epilogue ep) {
        if (m <= 0) {
            return;
        }
        if (ep.residual() != null && ep.activation() != Activation.NONE && c.asOverlappingSlice(ep.residual()).isPresent()) {
            throw new IllegalArgumentException("the residual may alias the output only without an activation");
        }
        if (m < 4) {
            // Up to 3 rows: streaming W once per row beats a 4-row tile that is mostly padding.
            for (int i = 0; i < m; i++) {
                gemv(pool, i, a, aOff + (long) i * lda, w, c, cOff + (long) i * ldc, ep);
            }
        } else {
            TiledTask t = TASKS.get().tiled;
            t.a.set(a, aOff, lda);
            t.w.set(w);
            t.run(pool, m, w.rows(), w.cols(), c, cOff, ldc, ep, false);
        }
    }

    static void matmul(WorkerPool pool, int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                       MemorySegment c, long cOff, int ldc, boolean accumulate) {
        outer(pool, m, n, k, a, aOff, lda, false, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    static void matmulTransA(WorkerPool pool, int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                             MemorySegment c, long cOff, int ldc, boolean accumulate) {
        outer(pool, m, n, k, a, aOff, lda, true, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    // ------------------------------------------------------------------ A·B and Aᵀ·B (training products)

    /**
     * Rows of the outer-product micro-tile. With 256-bit vectors 6 rows x 2 vectors = 12
     * accumulators, 15 registers with the loads (AVX2 has 16). AVX-512 has 32 registers, so it
     * takes 8 rows (16 accumulators): 15-20% faster on the trainer's weight gradients, and level
     * or better on the rest (measured by thread CPU time, same machine, same hour).
     */
    private static final int OMR = L >= 16 ? 8 : 6;
    /** Eight float lanes (both AVX2 and AVX-512 have them): one run of OMR values (plus two when OMR is 6), when packing Aᵀ. */
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    /** Columns of the micro-tile. */
    private static final int ONR = 2 * L;
    /** Depth of a packed block: a B micro-panel (OKC x ONR floats) stays in L1. */
    private static final int OKC = 256;
    /** Rows of a packed A block (a multiple of OMR; about 70 KB, in L2). */
    private static final int OMC = 96;
    /**
     * Most floats of packed B a thread keeps (16 MB): the depth blocks of one column panel that are
     * packed at once (all of them up to a depth of about 8000 at 512 columns; deeper products pack groups of blocks).
     */
    private static final long PACKED_B_FLOATS = 4L << 20;
    /** Columns of a packed B block (a multiple of ONR; 512 KB at depth 256, in L2). */
    private static final int ONC = 512;

    /** Per-thread packing buffers of the outer-product path. */
    private static final class OuterScratch {
        final float[] ap = new float[OMC * OKC];
        // Off-heap and 64-byte aligned: the micro-kernel's B loads are whole vectors, and a heap
        // array starts wherever the collector put it (a 512-bit load from one 16 bytes off a cache
        // line splits across two lines: a third of the speed, in some JVM runs and not others).
        private MemorySegment bp = Arena.ofAuto().allocate(4L * ONC * OKC, 64);
        final float[] row = new float[Math.max(OMC, ONC) + OKC];
        final float[] tile = new float[OMR * ONR];

        /** The packed-B buffer, grown to hold {@code n} floats (all depth blocks of one column panel). */
        MemorySegment packedB(long n) {
            if (bp.byteSize() < 4 * n) {
                bp = Arena.ofAuto().allocate(4 * n, 64);
            }
            return bp;
        }
    }

    private static final ThreadLocal<OuterScratch> OUTER = ThreadLocal.withInitial(OuterScratch::new);

    /**
     * {@code C (+)= op(A) · B} with B {@code k x n} row-major and op(A) = A ({@code m x k}) or Aᵀ (A
     * stored {@code k x m}): the BLIS scheme. Blocks of B and A are packed into panels (zero-padded
     * to whole micro-tiles) and a 6 x 2L micro-kernel broadcasts A values against B vectors. Each
     * element of C is one chain of fused multiply-adds over p = 0..k-1 in order, started from C
     * (accumulate) or 0: blocking, tiling and threads change nothing in the result. Work is split
     * over blocks of rows (or of columns when there are few rows) only.
     */
    private static void outer(WorkerPool pool, int m, int n, int k, MemorySegment a, long aOff, int lda, boolean transA,
                              MemorySegment b, long bOff, int ldb, MemorySegment c, long cOff, int ldc, boolean accumulate) {
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
        // One task per thread, each over a contiguous range of whole blocks: a task packs each B
        // block once and runs every row block of its range against it (one task per row block
        // re-packed all of B for each, a third of the time on the trainer's shapes).
        int rowBlocks = (m + OMC - 1) / OMC;
        int colBlocks = (n + ONC - 1) / ONC;
        boolean byRows = rowBlocks >= colBlocks;
        int blocks = byRows ? rowBlocks : colBlocks;
        int tasks = Math.min(pool.threads(), blocks);
        int per = (blocks + tasks - 1) / tasks * (byRows ? OMC : ONC);
        int count = ((byRows ? m : n) + per - 1) / per;
        OuterTask task = OUTER_TASK.get();
        task.set(m, n, k, a, aOff, lda, transA, b, bOff, ldb, c, cOff, ldc, accumulate, byRows, per);
        PoolTask.run(pool, count, task);
    }

    private static final ThreadLocal<OuterTask> OUTER_TASK = ThreadLocal.withInitial(OuterTask::new);

    /** The outer-product path's pool task: task t computes one contiguous range of rows or columns. Reused call after call. */
    private static final class OuterTask extends PoolTask {
        private int m;
        private int n;
        private int k;
        private MemorySegment a;
        private long aOff;
        private int lda;
        private boolean transA;
        private MemorySegment b;
        private long bOff;
        private int ldb;
        private MemorySegment c;
        private long cOff;
        private int ldc;
        private boolean accumulate;
        private boolean byRows;
        private int per;

        void set(int m, int n, int k, MemorySegment a, long aOff, int lda, boolean transA, MemorySegment b, long bOff, int ldb,
                 MemorySegment c, long cOff, int ldc, boolean accumulate, boolean byRows, int per) {
            this.m = m;
            this.n = n;
            this.k = k;
            this.a = a;
            this.aOff = aOff;
            this.lda = lda;
            this.transA = transA;
            this.b = b;
            this.bOff = bOff;
            this.ldb = ldb;
            this.c = c;
            this.cOff = cOff;
            this.ldc = ldc;
            this.accumulate = accumulate;
            this.byRows = byRows;
            this.per = per;
        }

        @Override
        boolean shareable() {
            return PoolTask.shareable(a) && PoolTask.shareable(b) && PoolTask.shareable(c);
        }

        @Override
        void clear() {
            a = null;
            b = null;
            c = null;
        }

        @Override
        public void accept(int t) {
            int i0 = byRows ? t * per : 0;
            int i1 = byRows ? Math.min(m, i0 + per) : m;
            int j0 = byRows ? 0 : t * per;
            int j1 = byRows ? n : Math.min(n, j0 + per);
            outerRange(i0, i1, j0, j1, k, a, aOff, lda, transA, b, bOff, ldb, c, cOff, ldc, accumulate);
        }
    }

    private static void outerRange(int i0, int i1, int j0, int j1, int k, MemorySegment a, long aOff, int lda, boolean transA,
                                   MemorySegment b, long bOff, int ldb, MemorySegment c, long cOff, int ldc, boolean accumulate) {
        OuterScratch s = OUTER.get();
        // Depth blocks of equal size (k = 320 gives 160 + 160, not 256 + 64): short blocks pay the
        // tile's load and store for little work.
        int kBlocks = (k + OKC - 1) / OKC;
        int kStep = (k + kBlocks - 1) / kBlocks;
        for (int jc = j0; jc < j1; jc += ONC) {
            int nc = Math.min(ONC, j1 - jc);
            int panelsB = (nc + ONR - 1) / ONR;
            long blockB = (long) kStep * panelsB * ONR;
            // B's depth blocks for this column panel are packed first (as many as PACKED_B_FLOATS
            // holds: all of them on the trainer's shapes), then each row block runs through those
            // depth blocks in turn: its C block (OMC x ONC, at most 192 KB) stays in L2 from one
            // depth block to the next. Depth-block-outer order swept all of C once per depth block,
            // and its tiles' loads missed the caches (the trainer's weight gradients, thousands
            // deep, and the output projection's, 8000 deep).
            int group = (int) Math.max(1, Math.min(kBlocks, PACKED_B_FLOATS / blockB));
            MemorySegment bp = s.packedB(group * blockB);
            for (int g0 = 0; g0 < kBlocks; g0 += group) {
                int g1 = Math.min(kBlocks, g0 + group);
                for (int blk = g0; blk < g1 && blk * kStep < k; blk++) {
                    int pc = blk * kStep;
                    packB(b, bOff, ldb, pc, Math.min(kStep, k - pc), jc, nc, bp, (blk - g0) * blockB);
                }
                for (int ic = i0; ic < i1; ic += OMC) {
                    int mc = Math.min(OMC, i1 - ic);
                    int panelsA = (mc + OMR - 1) / OMR;
                    for (int blk = g0; blk < g1 && blk * kStep < k; blk++) {
                        int pc = blk * kStep;
                        int kc = Math.min(kStep, k - pc);
                        boolean load = accumulate || pc > 0;
                        packA(a, aOff, lda, transA, ic, mc, pc, kc, s);
                        for (int q = 0; q < panelsB; q++) {
                            int jj = jc + q * ONR;
                            int nr = Math.min(ONR, jc + nc - jj);
                            for (int r = 0; r < panelsA; r++) {
                                int ii = ic + r * OMR;
                                int mr = Math.min(OMR, ic + mc - ii);
                                micro(kc, s.ap, r * kc * OMR, transA ? 1 : kc, transA ? OMR : 1, bp,
                                        (blk - g0) * blockB + q * kc * ONR, c, cOff + (long) ii * ldc + jj, ldc, mr, nr, load, s.tile);
                            }
                        }
                    }
                }
            }
        }
    }

    /** Packs B[pc..pc+kc, jc..jc+nc) into panels of ONR columns, p-major, zero-padded, at float {@code at} of bp. */
    private static void packB(MemorySegment b, long bOff, int ldb, int pc, int kc, int jc, int nc, MemorySegment bp, long at) {
        int full = nc / ONR;
        int panels = (nc + ONR - 1) / ONR;
        for (int p = 0; p < kc; p++) {
            long src = bOff + (long) (pc + p) * ldb + jc;
            for (int q = 0; q < full; q++) {
                long base = at + (long) q * kc * ONR + (long) p * ONR;
                for (int h = 0; h < ONR; h += L) {
                    FloatVector.fromMemorySegment(F, b, 4 * (src + q * ONR + h), NATIVE).intoMemorySegment(bp, 4 * (base + h), NATIVE);
                }
            }
            if (full < panels) {
                long base = at + (long) full * kc * ONR + (long) p * ONR;
                int cols = nc - full * ONR;
                MemorySegment.copy(b, 4 * (src + full * ONR), bp, 4 * base, 4L * cols);
                bp.asSlice(4 * (base + cols), 4L * (ONR - cols)).fill((byte) 0);
            }
        }
    }

    /** Packs rows ic..ic+mc, depth pc..pc+kc of op(A) into panels of OMR rows, p-major, zero-padded. */
    private static void packA(MemorySegment a, long aOff, int lda, boolean transA, int ic, int mc, int pc, int kc, OuterScratch s) {
        float[] ap = s.ap;
        float[] row = s.row;
        int panels = (mc + OMR - 1) / OMR;
        if (transA) {
            // A is k x m: row p holds op(A)'s column p, so each p gives OMR consecutive values per panel.
            int full = mc / OMR;
            for (int p = 0; p < kc; p++) {
                long src0 = aOff + (long) (pc + p) * lda + ic;
                // Runs of OMR (6 or 8) values move as 8-float vectors straight from A: with 6, the
                // two extra lanes land in the slot of depth p + 1, written next. Staging each row through a
                // heap array first, when A's rows are 4 KB apart (a 1024-wide gradient), made the
                // packing a third of the product's time (now a sixth; likely 4K aliasing of the
                // loads from A with the stores to the array).
                int vecPanels = p < kc - 1 ? full - 1 : 0;
                for (int r = 0; r < vecPanels; r++) {
                    FloatVector.fromMemorySegment(F8, a, 4 * (src0 + r * OMR), NATIVE).intoArray(ap, r * kc * OMR + p * OMR);
                }
                for (int r = Math.max(vecPanels, 0); r < full; r++) {
                    int base = r * kc * OMR + p * OMR;
                    long src = src0 + r * OMR;
                    for (int x = 0; x < OMR; x++) {
                        ap[base + x] = a.getAtIndex(FL, src + x);
                    }
                }
                if (full == panels) {
                    continue;
                }
                MemorySegment.copy(a, FL, 4 * (src0 + full * OMR), row, full * OMR, mc - full * OMR);
                for (int r = full; r < panels; r++) {
                    int base = r * kc * OMR + p * OMR;
                    for (int x = 0; x < OMR; x++) {
                        int i = r * OMR + x;
                        ap[base + x] = i < mc ? row[i] : 0f;
                    }
                }
            }
        } else {
            // A is row-major: each panel holds its OMR rows one after another (row r at r * kc),
            // copied in bulk; the micro-kernel reads them with stride kc.
            for (int i = 0; i < panels * OMR; i++) {
                int base = (i / OMR) * kc * OMR + (i % OMR) * kc;
                if (i < mc) {
                    MemorySegment.copy(a, FL, 4 * (aOff + (long) (ic + i) * lda + pc), ap, base, kc);
                } else {
                    java.util.Arrays.fill(ap, base, base + kc, 0f);
                }
            }
        }
    }

    /**
     * The micro-kernel: the 6 x 2L tile of C at {@code cBase} (only mr x nr of it is real) gets
     * {@code Σ_p a[p] ⊗ b[p]} over kc packed steps, starting from C when {@code load} (else 0).
     * The tile passes through a heap array both ways: one straight-line path for every tile
     * keeps the twelve accumulators in registers (C2 gives up on vector values merged from
     * different branches), and no load or store touches C outside the real elements.
     */
    private static void micro(int kc, float[] ap, int aOff, int rs, int ps, MemorySegment bp, long bOff, MemorySegment c, long cBase, int ldc,
                              int mr, int nr, boolean load, float[] tile) {
        boolean full = mr == OMR && nr == ONR;
        if (!load) {
            java.util.Arrays.fill(tile, 0f);
        } else if (full) {
            // Whole tiles move with vector loads and stores: a MemorySegment.copy per row cost a
            // third of a 256-deep kernel call.
            for (int i = 0; i < OMR; i++) {
                for (int h = 0; h < ONR; h += L) {
                    FloatVector.fromMemorySegment(F, c, 4 * (cBase + (long) i * ldc + h), NATIVE).intoArray(tile, i * ONR + h);
                }
            }
        } else {
            java.util.Arrays.fill(tile, 0f);
            for (int i = 0; i < mr; i++) {
                MemorySegment.copy(c, FL, 4 * (cBase + (long) i * ldc), tile, i * ONR, nr);
            }
        }
        if (OMR == 8) {
            microTile8(kc, ap, aOff, rs, ps, bp, bOff, tile);
        } else {
            microTile(kc, ap, aOff, rs, ps, bp, bOff, tile);
        }
        if (full) {
            for (int i = 0; i < OMR; i++) {
                for (int h = 0; h < ONR; h += L) {
                    FloatVector.fromArray(F, tile, i * ONR + h).intoMemorySegment(c, 4 * (cBase + (long) i * ldc + h), NATIVE);
                }
            }
        } else {
            for (int i = 0; i < mr; i++) {
                MemorySegment.copy(tile, i * ONR, c, FL, 4 * (cBase + (long) i * ldc), nr);
            }
        }
    }

    /**
     * {@code tile (6 x 2L) += Σ_p a[·, p] ⊗ bp[p]}, one fused multiply-add chain per element; A's
     * element (r, p) is {@code ap[aOff + r·rs + p·ps]} (row-major or p-major panels).
     */
    private static void microTile(int kc, float[] ap, int aOff, int rs, int ps, MemorySegment bp, long bOff, float[] tile) {
        FloatVector c00 = FloatVector.fromArray(F, tile, 0);
        FloatVector c01 = FloatVector.fromArray(F, tile, L);
        FloatVector c10 = FloatVector.fromArray(F, tile, ONR);
        FloatVector c11 = FloatVector.fromArray(F, tile, ONR + L);
        FloatVector c20 = FloatVector.fromArray(F, tile, 2 * ONR);
        FloatVector c21 = FloatVector.fromArray(F, tile, 2 * ONR + L);
        FloatVector c30 = FloatVector.fromArray(F, tile, 3 * ONR);
        FloatVector c31 = FloatVector.fromArray(F, tile, 3 * ONR + L);
        FloatVector c40 = FloatVector.fromArray(F, tile, 4 * ONR);
        FloatVector c41 = FloatVector.fromArray(F, tile, 4 * ONR + L);
        FloatVector c50 = FloatVector.fromArray(F, tile, 5 * ONR);
        FloatVector c51 = FloatVector.fromArray(F, tile, 5 * ONR + L);
        for (int p = 0; p < kc; p++) {
            // Indices linear in p, so that C2 hoists the range checks out of the loop.
            int ai = aOff + p * ps;
            long bi = 4 * (bOff + (long) p * ONR);
            FloatVector b0 = FloatVector.fromMemorySegment(F, bp, bi, NATIVE);
            FloatVector b1 = FloatVector.fromMemorySegment(F, bp, bi + 4 * L, NATIVE);
            FloatVector x = FloatVector.broadcast(F, ap[ai]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(F, ap[ai + rs]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(F, ap[ai + 2 * rs]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(F, ap[ai + 3 * rs]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(F, ap[ai + 4 * rs]);
            c40 = b0.fma(x, c40);
            c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(F, ap[ai + 5 * rs]);
            c50 = b0.fma(x, c50);
            c51 = b1.fma(x, c51);
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, L);
        c10.intoArray(tile, ONR);
        c11.intoArray(tile, ONR + L);
        c20.intoArray(tile, 2 * ONR);
        c21.intoArray(tile, 2 * ONR + L);
        c30.intoArray(tile, 3 * ONR);
        c31.intoArray(tile, 3 * ONR + L);
        c40.intoArray(tile, 4 * ONR);
        c41.intoArray(tile, 4 * ONR + L);
        c50.intoArray(tile, 5 * ONR);
        c51.intoArray(tile, 5 * ONR + L);
    }

    /**
     * The micro-kernel with 8 rows (16 accumulators), for 512-bit vectors (32 registers). It is
     * written out beside the 6-row one rather than shared with it: accumulators in a loop or an
     * array leave the registers (C2 boxes such vectors), and AVX2's 16 registers cannot hold 8 rows.
     */
    private static void microTile8(int kc, float[] ap, int aOff, int rs, int ps, MemorySegment bp, long bOff, float[] tile) {
        FloatVector c00 = FloatVector.fromArray(F, tile, 0);
        FloatVector c01 = FloatVector.fromArray(F, tile, L);
        FloatVector c10 = FloatVector.fromArray(F, tile, ONR);
        FloatVector c11 = FloatVector.fromArray(F, tile, ONR + L);
        FloatVector c20 = FloatVector.fromArray(F, tile, 2 * ONR);
        FloatVector c21 = FloatVector.fromArray(F, tile, 2 * ONR + L);
        FloatVector c30 = FloatVector.fromArray(F, tile, 3 * ONR);
        FloatVector c31 = FloatVector.fromArray(F, tile, 3 * ONR + L);
        FloatVector c40 = FloatVector.fromArray(F, tile, 4 * ONR);
        FloatVector c41 = FloatVector.fromArray(F, tile, 4 * ONR + L);
        FloatVector c50 = FloatVector.fromArray(F, tile, 5 * ONR);
        FloatVector c51 = FloatVector.fromArray(F, tile, 5 * ONR + L);
        FloatVector c60 = FloatVector.fromArray(F, tile, 6 * ONR);
        FloatVector c61 = FloatVector.fromArray(F, tile, 6 * ONR + L);
        FloatVector c70 = FloatVector.fromArray(F, tile, 7 * ONR);
        FloatVector c71 = FloatVector.fromArray(F, tile, 7 * ONR + L);
        for (int p = 0; p < kc; p++) {
            int ai = aOff + p * ps;
            long bi = 4 * (bOff + (long) p * ONR);
            FloatVector b0 = FloatVector.fromMemorySegment(F, bp, bi, NATIVE);
            FloatVector b1 = FloatVector.fromMemorySegment(F, bp, bi + 4 * L, NATIVE);
            FloatVector x = FloatVector.broadcast(F, ap[ai]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(F, ap[ai + rs]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(F, ap[ai + 2 * rs]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(F, ap[ai + 3 * rs]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(F, ap[ai + 4 * rs]);
            c40 = b0.fma(x, c40);
            c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(F, ap[ai + 5 * rs]);
            c50 = b0.fma(x, c50);
            c51 = b1.fma(x, c51);
            x = FloatVector.broadcast(F, ap[ai + 6 * rs]);
            c60 = b0.fma(x, c60);
            c61 = b1.fma(x, c61);
            x = FloatVector.broadcast(F, ap[ai + 7 * rs]);
            c70 = b0.fma(x, c70);
            c71 = b1.fma(x, c71);
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, L);
        c10.intoArray(tile, ONR);
        c11.intoArray(tile, ONR + L);
        c20.intoArray(tile, 2 * ONR);
        c21.intoArray(tile, 2 * ONR + L);
        c30.intoArray(tile, 3 * ONR);
        c31.intoArray(tile, 3 * ONR + L);
        c40.intoArray(tile, 4 * ONR);
        c41.intoArray(tile, 4 * ONR + L);
        c50.intoArray(tile, 5 * ONR);
        c51.intoArray(tile, 5 * ONR + L);
        c60.intoArray(tile, 6 * ONR);
        c61.intoArray(tile, 6 * ONR + L);
        c70.intoArray(tile, 7 * ONR);
        c71.intoArray(tile, 7 * ONR + L);
    }


    /** Where rows of A come from: a row-major matrix. Reused call after call. */
    static final class ASource {
        private MemorySegment seg;
        private long off;
        private int ld;

        void set(MemorySegment seg, long off, int ld) {
            this.seg = seg;
            this.off = off;
            this.ld = ld;
        }

        MemorySegment seg() {
            return seg;
        }

        /** Copies rows [i0, i0+rows) (each k long) into dst, row stride k. */
        void copy(int i0, int rows, int k, float[] dst) {
            for (int i = 0; i < rows; i++) {
                MemorySegment.copy(seg, FL, 4 * (off + (long) (i0 + i) * ld), dst, i * k, k);
            }
        }
    }

    /** Where rows of W come from: a Weights matrix (row j = output j). Reused call after call. */
    static final class WSource {
        private Weights w;

        void set(Weights w) {
            this.w = w;
        }

        /** True when every segment W is read from may be accessed by worker threads. */
        boolean shareable() {
            return PoolTask.shareable(w.data()) && PoolTask.shareable(w.scales());
        }

        /** Decodes rows [j0, j0+rows) of W as floats into dst, row stride k. */
        void copy(int j0, int rows, int k, float[] dst) {
            for (int j = 0; j < rows; j++) {
                decodeRow(w, j0 + j, dst, j * k);
            }
        }
    }

    /**
     * Register-tiled product for m >= 2. Tasks are fixed (A-row block, W-column range) pairs, so
     * the output is independent of which thread runs which task.
     */
    static final class TiledTask extends PoolTask {
        final ASource a = new ASource();
        final WSource w = new WSource();
        private int m;
        private int n;
        private int k;
        private MemorySegment c;
        private long cOff;
        private int ldc;
        private Epilogue ep;
        private boolean accumulate;
        private int mc;
        private int colChunk;
        private int perRow;

        /** Runs the product with the sources set in {@link #a} and {@link #w}. */
        void run(WorkerPool pool, int m, int n, int k, MemorySegment c, long cOff, int ldc, Epilogue ep, boolean accumulate) {
            this.m = m;
            this.n = n;
            this.k = k;
            this.c = c;
            this.cOff = cOff;
            this.ldc = ldc;
            this.ep = ep;
            this.accumulate = accumulate;
            mc = Math.max(4, Math.min(m, (MC_BYTES / 4 / Math.max(k, 1)) & ~3));
            int rowBlocks = (m + mc - 1) / mc;
            // Split the columns too when there are few row blocks, so both cores work; chunks are
            // multiples of the 3-row W tile.
            int colChunks = rowBlocks >= pool.threads() ? 1 : Math.max(1, Math.min(pool.threads() * 2 / rowBlocks, n / 48));
            colChunk = ((n + colChunks - 1) / colChunks + NR - 1) / NR * NR;
            perRow = (n + colChunk - 1) / colChunk;
            PoolTask.run(pool, rowBlocks * perRow, this);
        }

        @Override
        public void accept(int t) {
            int i0 = (t / perRow) * mc;
            int j0 = (t % perRow) * colChunk;
            tiledBlock(i0, Math.min(mc, m - i0), j0, Math.min(colChunk, n - j0), k, a, w, c, cOff, ldc, ep, accumulate);
        }

        @Override
        boolean shareable() {
            return shareable(a.seg()) && w.shareable() && shareable(c) && shareable(ep.bias()) && shareable(ep.residual());
        }

        @Override
        void clear() {
            a.set(null, 0, 0);
            w.set(null);
            c = null;
            ep = null;
        }
    }

    /** Blocks of {@link #GEMV_ROWS_PER_TASK} W rows of one 1-row product. */
    static final class GemvTask extends PoolTask {
        private float[] x;
        private Weights w;
        private int row;
        private MemorySegment c;
        private long cOff;
        private Epilogue ep;

        @Override
        public void accept(int t) {
            int j0 = t * GEMV_ROWS_PER_TASK;
            gemvRows(x, w, j0, Math.min(w.rows(), j0 + GEMV_ROWS_PER_TASK), row, c, cOff, ep);
        }

        @Override
        boolean shareable() {
            return shareable(w.data()) && shareable(w.scales()) && shareable(c) && shareable(ep.bias()) && shareable(ep.residual());
        }

        @Override
        void clear() {
            x = null;
            w = null;
            c = null;
            ep = null;
        }
    }

    /** One instance of each task per calling thread: the kernels are shared by concurrent requests. */
    private static final class Tasks {
        final TiledTask tiled = new TiledTask();
        final GemvTask gemv = new GemvTask();
    }

    private static final ThreadLocal<Tasks> TASKS = ThreadLocal.withInitial(Tasks::new);

    private static void tiledBlock(int i0, int rows, int j0, int cols, int k, ASource a, WSource w,
                                   MemorySegment c, long cOff, int ldc, Epilogue ep, boolean accumulate) {
        Scratch s = SCRATCH.get();
        // Remainder rows and columns are computed by the same 4x3 kernel on zero-padded copies
        // (the padding's results are dropped): one kernel, so one arithmetic for every element.
        int paddedRows = (rows + MR - 1) / MR * MR;
        float[] ab = s.a(paddedRows * k);
        float[] wb = s.w(NR * k);
        float[] out = s.x(MR * NR);
        // Results gather in a heap block and go to C a row at a time with vector adds: storing
        // element by element through the segment cost as much as the products themselves.
        float[] cb = s.cb(rows * cols);
        a.copy(i0, rows, k, ab);
        java.util.Arrays.fill(ab, rows * k, paddedRows * k, 0f);
        int kv = k - k % L;
        for (int j = 0; j < cols; j += NR) {
            int nr = Math.min(NR, cols - j);
            w.copy(j0 + j, nr, k, wb);
            java.util.Arrays.fill(wb, nr * k, NR * k, 0f);
            for (int i = 0; i < rows; i += MR) {
                kernel4x4(ab, i * k, wb, k, kv, out, s.lanes);
                int mr = Math.min(MR, rows - i);
                for (int ii = 0; ii < mr; ii++) {
                    for (int jj = 0; jj < nr; jj++) {
                        cb[(i + ii) * cols + j + jj] = out[ii * NR + jj];
                    }
                }
            }
        }
        for (int i = 0; i < rows; i++) {
            writeRow(cb, i * cols, c, cOff + (long) (i0 + i) * ldc + j0, i0 + i, j0, cols, ep, accumulate);
        }
        if (!accumulate) {
            finishRows(c, cOff, ldc, i0, rows, j0, cols, ep);
        }
    }

    /**
     * Writes n results src[srcOff..] to C at element cBase (row i, columns j0..j0+n): step 5's
     * first half, element-wise in vectors: (v + bias[j]) (+ residual[i][j] when there is no
     * activation), or C += v when accumulating.
     */
    private static void writeRow(float[] src, int srcOff, MemorySegment c, long cBase, int i, int j0, int n,
                                 Epilogue ep, boolean accumulate) {
        MemorySegment bias = accumulate ? null : ep.bias();
        MemorySegment res = accumulate || ep.activation() != Activation.NONE ? null : ep.residual();
        long rBase = res == null ? 0 : ep.residualOff() + (long) i * ep.ldr() + j0;
        int p = 0;
        for (; p + L <= n; p += L) {
            FloatVector v = FloatVector.fromArray(F, src, srcOff + p);
            if (accumulate) {
                v = v.add(FloatVector.fromMemorySegment(F, c, 4 * (cBase + p), NATIVE));
            }
            if (bias != null) {
                v = v.add(FloatVector.fromMemorySegment(F, bias, 4L * (j0 + p), NATIVE));
            }
            if (res != null) {
                v = v.add(FloatVector.fromMemorySegment(F, res, 4 * (rBase + p), NATIVE));
            }
            v.intoMemorySegment(c, 4 * (cBase + p), NATIVE);
        }
        for (; p < n; p++) {
            float v = src[srcOff + p];
            if (accumulate) {
                v += c.getAtIndex(FL, cBase + p);
            }
            if (bias != null) {
                v += bias.getAtIndex(FL, j0 + p);
            }
            if (res != null) {
                v += res.getAtIndex(FL, rBase + p);
            }
            c.setAtIndex(FL, cBase + p, v);
        }
    }

    /** Step 5, second half, for rows [i0, i0+rows) and columns [j0, j0+cols) of C: activation, then residual. */
    private static void finishRows(MemorySegment c, long cOff, int ldc, int i0, int rows, int j0, int cols, Epilogue ep) {
        if (ep.activation() == Activation.NONE) {
            return;
        }
        for (int i = i0; i < i0 + rows; i++) {
            long base = cOff + (long) i * ldc + j0;
            VectorOps.activationChunk(ep.activation(), c, base, cols);
            if (ep.residual() != null) {
                long rBase = ep.residualOff() + (long) i * ep.ldr() + j0;
                for (int j = 0; j < cols; j++) {
                    c.setAtIndex(FL, base + j, c.getAtIndex(FL, base + j) + ep.residual().getAtIndex(FL, rBase + j));
                }
            }
        }
    }

    /** Rows of A and of W in the register tile. */
    static final int MR = 4;
    static final int NR = 4;

    /**
     * The summation tree for 16 accumulators at once (L = 16): combining vectors a and b
     * at step h keeps a + rotate(a, h) in the lanes where (lane & h) == 0 and b + rotate(b, -h)
     * in the others, so every accumulator's lanes are added in the same pairs as
     * {@link #sumLanes} (i with i + h), while one vector carries several accumulators. Half the
     * instructions of a rotation tree per accumulator; the tests check the bits against it.
     */
    private static final VectorShuffle<Float> UP8 = VectorShuffle.iota(F, Math.min(8, L / 2) % L, 1, true);
    private static final VectorShuffle<Float> DOWN8 = VectorShuffle.iota(F, (L - Math.min(8, L / 2)) % L, 1, true);
    private static final VectorShuffle<Float> UP4 = VectorShuffle.iota(F, 4 % L, 1, true);
    private static final VectorShuffle<Float> DOWN4 = VectorShuffle.iota(F, (L - 4 % L) % L, 1, true);
    private static final VectorShuffle<Float> UP2 = VectorShuffle.iota(F, 2 % L, 1, true);
    private static final VectorShuffle<Float> DOWN2 = VectorShuffle.iota(F, (L - 2 % L) % L, 1, true);
    private static final VectorShuffle<Float> UP1 = VectorShuffle.iota(F, 1, 1, true);
    private static final VectorShuffle<Float> DOWN1 = VectorShuffle.iota(F, L - 1, 1, true);
    private static final VectorMask<Float> M8 = laneMask(8);
    private static final VectorMask<Float> M4 = laneMask(4);
    private static final VectorMask<Float> M2 = laneMask(2);
    private static final VectorMask<Float> M1 = laneMask(1);
    /** The combined tree is written for 16 lanes (AVX-512); other widths use the rotation tree. */
    static final boolean COMBINED_TREE = L == 16;
    /** TILE_LANE[q] = the accumulator (i * NR + j) whose sum lands in lane q (of the concatenated results). */
    private static final int[] TILE_LANE = COMBINED_TREE ? tileLanes() : null;

    private static VectorMask<Float> laneMask(int h) {
        boolean[] m = new boolean[L];
        for (int i = 0; i < L; i++) {
            m[i] = (i & h) != 0;
        }
        return VectorMask.fromArray(F, m, 0);
    }

    private static FloatVector comb(FloatVector a, FloatVector b, VectorShuffle<Float> up, VectorShuffle<Float> down, VectorMask<Float> m) {
        return a.add(a.rearrange(up)).blend(b.add(b.rearrange(down)), m);
    }

    /** Runs the combined tree on accumulators whose lanes all equal their index, to learn where each sum lands. */
    private static int[] tileLanes() {
        float[] t = new float[16 * L];
        for (int r = 0; r < 16; r++) {
            java.util.Arrays.fill(t, r * L, (r + 1) * L, r);
        }
        float[] res = new float[L];
        combine16(t, res);
        int[] map = new int[16];
        for (int q = 0; q < 16; q++) {
            map[q] = Math.round(res[q] / L);
        }
        return map;
    }

    /** The combined tree (as in {@link #kernel4x4}) over 16 accumulators stored at t[r * L]; sums into res[0..16). */
    private static void combine16(float[] t, float[] res) {
        FloatVector[] x = new FloatVector[8];
        for (int r = 0; r < 8; r++) {
            x[r] = comb(FloatVector.fromArray(F, t, 2 * r * L), FloatVector.fromArray(F, t, (2 * r + 1) * L), UP8, DOWN8, M8);
        }
        FloatVector[] y = new FloatVector[4];
        for (int r = 0; r < 4; r++) {
            y[r] = comb(x[2 * r], x[2 * r + 1], UP4, DOWN4, M4);
        }
        FloatVector z0 = comb(y[0], y[1], UP2, DOWN2, M2);
        FloatVector z1 = comb(y[2], y[3], UP2, DOWN2, M2);
        comb(z0, z1, UP1, DOWN1, M1).intoArray(res, 0);
    }

    /** 4 rows of A (stride k, from a0) x 4 rows of W (stride k, from 0): 16 results into out[i*4+j]. */
    private static void kernel4x4(float[] a, int a0, float[] w, int k, int kv, float[] out, float[] lanes) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        int a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
        int w1 = k, w2 = 2 * k, w3 = 3 * k;
        for (int p = 0; p < kv; p += L) {
            FloatVector w0v = FloatVector.fromArray(F, w, p);
            FloatVector w1v = FloatVector.fromArray(F, w, w1 + p);
            FloatVector w2v = FloatVector.fromArray(F, w, w2 + p);
            FloatVector w3v = FloatVector.fromArray(F, w, w3 + p);
            FloatVector x = FloatVector.fromArray(F, a, a0 + p);
            c00 = x.fma(w0v, c00);
            c01 = x.fma(w1v, c01);
            c02 = x.fma(w2v, c02);
            c03 = x.fma(w3v, c03);
            x = FloatVector.fromArray(F, a, a1 + p);
            c10 = x.fma(w0v, c10);
            c11 = x.fma(w1v, c11);
            c12 = x.fma(w2v, c12);
            c13 = x.fma(w3v, c13);
            x = FloatVector.fromArray(F, a, a2 + p);
            c20 = x.fma(w0v, c20);
            c21 = x.fma(w1v, c21);
            c22 = x.fma(w2v, c22);
            c23 = x.fma(w3v, c23);
            x = FloatVector.fromArray(F, a, a3 + p);
            c30 = x.fma(w0v, c30);
            c31 = x.fma(w1v, c31);
            c32 = x.fma(w2v, c32);
            c33 = x.fma(w3v, c33);
        }
        if (COMBINED_TREE) {
            // Written out rather than called: passing 16 vectors to a method C2 does not inline boxes them (measured 17x slower).
            FloatVector x0 = c00.add(c00.rearrange(UP8)).blend(c01.add(c01.rearrange(DOWN8)), M8);
            FloatVector x1 = c02.add(c02.rearrange(UP8)).blend(c03.add(c03.rearrange(DOWN8)), M8);
            FloatVector x2 = c10.add(c10.rearrange(UP8)).blend(c11.add(c11.rearrange(DOWN8)), M8);
            FloatVector x3 = c12.add(c12.rearrange(UP8)).blend(c13.add(c13.rearrange(DOWN8)), M8);
            FloatVector x4 = c20.add(c20.rearrange(UP8)).blend(c21.add(c21.rearrange(DOWN8)), M8);
            FloatVector x5 = c22.add(c22.rearrange(UP8)).blend(c23.add(c23.rearrange(DOWN8)), M8);
            FloatVector x6 = c30.add(c30.rearrange(UP8)).blend(c31.add(c31.rearrange(DOWN8)), M8);
            FloatVector x7 = c32.add(c32.rearrange(UP8)).blend(c33.add(c33.rearrange(DOWN8)), M8);
            FloatVector y0 = x0.add(x0.rearrange(UP4)).blend(x1.add(x1.rearrange(DOWN4)), M4);
            FloatVector y1 = x2.add(x2.rearrange(UP4)).blend(x3.add(x3.rearrange(DOWN4)), M4);
            FloatVector y2 = x4.add(x4.rearrange(UP4)).blend(x5.add(x5.rearrange(DOWN4)), M4);
            FloatVector y3 = x6.add(x6.rearrange(UP4)).blend(x7.add(x7.rearrange(DOWN4)), M4);
            FloatVector z0 = y0.add(y0.rearrange(UP2)).blend(y1.add(y1.rearrange(DOWN2)), M2);
            FloatVector z1 = y2.add(y2.rearrange(UP2)).blend(y3.add(y3.rearrange(DOWN2)), M2);
            z0.add(z0.rearrange(UP1)).blend(z1.add(z1.rearrange(DOWN1)), M1).intoArray(lanes, 0);
            for (int q = 0; q < 16; q++) {
                out[TILE_LANE[q]] = lanes[q];
            }
        } else {
            // One store per accumulator, written out: an array of vectors would be allocated per call.
            c00.intoArray(lanes, 0);
            c01.intoArray(lanes, L);
            c02.intoArray(lanes, 2 * L);
            c03.intoArray(lanes, 3 * L);
            c10.intoArray(lanes, 4 * L);
            c11.intoArray(lanes, 5 * L);
            c12.intoArray(lanes, 6 * L);
            c13.intoArray(lanes, 7 * L);
            c20.intoArray(lanes, 8 * L);
            c21.intoArray(lanes, 9 * L);
            c22.intoArray(lanes, 10 * L);
            c23.intoArray(lanes, 11 * L);
            c30.intoArray(lanes, 12 * L);
            c31.intoArray(lanes, 13 * L);
            c32.intoArray(lanes, 14 * L);
            c33.intoArray(lanes, 15 * L);
            sumsOfStored(lanes, 16);
            System.arraycopy(lanes, 0, out, 0, 16);
        }
        if (kv < k) {
            for (int r = 0; r < 16; r++) {
                out[r] = tail(out[r], a, a0 + (r / NR) * k, w, (r % NR) * k, kv, k);
            }
        }
    }

    /** Step 4: the products past the last full vector, one by one. */
    private static float tail(float s, float[] a, int ai, float[] w, int wi, int kv, int k) {
        for (int p = kv; p < k; p++) {
            s = Math.fma(a[ai + p], w[wi + p], s);
        }
        return s;
    }

    /** One element by the canonical sequence (edge tiles). */
    static float dot(float[] a, int ai, float[] w, int wi, int k, int kv, float[] lanes) {
        FloatVector acc = FloatVector.zero(F);
        for (int p = 0; p < kv; p += L) {
            acc = FloatVector.fromArray(F, a, ai + p).fma(FloatVector.fromArray(F, w, wi + p), acc);
        }
        acc.intoArray(lanes, 0);
        return tail(sumLanes(lanes, 0), a, ai, w, wi, kv, k);
    }

    // ------------------------------------------------------------------ weight rows as floats

    /**
     * Row j of W as floats into dst[off..off+k): step 1 of the canonical sequence. One small
     * method per dtype, with the Vector API calls written out in each, so that C2 inlines them
     * all (a shared helper per load was left out of line and its vectors boxed).
     */
    static void decodeRow(Weights w, int j, float[] dst, int off) {
        switch (w.dtype()) {
            case F32 -> MemorySegment.copy(w.data(), FL, 4L * j * w.cols(), dst, off, w.cols());
            case BF16 -> decodeBf16(w.data(), j, w.cols(), dst, off);
            case F16 -> decodeF16(w.data(), j, w.cols(), dst, off);
            case Q8 -> decodeQ8(w.data(), w.scales(), j, w.cols(), dst, off);
            case Q4 -> decodeQ4(w.data(), w.scales(), j, w.cols(), dst, off);
        }
    }

    private static void decodeBf16(MemorySegment d, int j, int k, float[] dst, int off) {
        long base = 2L * j * k;
        int p = 0;
        for (; p + L <= k; p += L) {
            IntVector bits = (IntVector) ShortVector.fromMemorySegment(S, d, base + 2L * p, LE).convertShape(VectorOperators.S2I, I, 0);
            bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, off + p);
        }
        for (; p < k; p++) {
            dst[off + p] = QuantCodec.bf16ToFloat(d.get(ValueLayout.JAVA_SHORT_UNALIGNED, base + 2L * p));
        }
    }

    /**
     * IEEE binary16 to float, exactly: exponent and mantissa shifted into place and rescaled by
     * 2^112 (which also normalizes subnormals), infinities and NaNs given the all-ones exponent,
     * the sign copied.
     */
    private static void decodeF16(MemorySegment d, int j, int k, float[] dst, int off) {
        long base = 2L * j * k;
        int p = 0;
        for (; p + L <= k; p += L) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(S, d, base + 2L * p, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector mag = h.and(0x7FFF);
            IntVector shifted = mag.lanewise(VectorOperators.LSHL, 13);
            IntVector bits = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
            bits = bits.blend(shifted.or(0x7F800000), mag.compare(VectorOperators.GE, 0x7C00));
            bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().intoArray(dst, off + p);
        }
        for (; p < k; p++) {
            dst[off + p] = Float.float16ToFloat(d.get(ValueLayout.JAVA_SHORT_UNALIGNED, base + 2L * p));
        }
    }

    private static void decodeQ8(MemorySegment d, MemorySegment sc, int j, int k, float[] dst, int off) {
        long base = (long) j * k;
        long sBase = 4L * j * (k / QuantCodec.BLOCK);
        for (int b = 0; b < k / QuantCodec.BLOCK; b++) {
            FloatVector s = FloatVector.broadcast(F, sc.get(FL, sBase + 4L * b));
            for (int p = b * QuantCodec.BLOCK; p < (b + 1) * QuantCodec.BLOCK; p += L) {
                // Widened to int, then converted: C2 compiles this better than the direct B2F conversion (measured 2x).
                ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, d, base + p, LE).convertShape(VectorOperators.B2I, I, 0))
                        .convert(VectorOperators.I2F, 0)).mul(s).intoArray(dst, off + p);
            }
        }
    }

    /** As the Q4 GEMV kernel: nibble n decodes as fma(n, s, -8s), bit-identical to (n - 8) * s. */
    private static void decodeQ4(MemorySegment d, MemorySegment sc, int j, int k, float[] dst, int off) {
        long base = (long) j * (k / 2);
        long sBase = 4L * j * (k / QuantCodec.BLOCK);
        for (int b = 0; b < k / QuantCodec.BLOCK; b++) {
            float f = sc.get(FL, sBase + 4L * b);
            FloatVector s = FloatVector.broadcast(F, f);
            FloatVector m = FloatVector.broadcast(F, -8f * f);
            ByteVector q = ByteVector.fromMemorySegment(B16, d, base + (long) b * (QuantCodec.BLOCK / 2), LE);
            int o = off + b * QuantCodec.BLOCK;
            for (int h = 0; h < 16 / L; h++) {
                IntVector n = (IntVector) q.convertShape(VectorOperators.B2I, I, h);
                ((FloatVector) n.and(0x0F).convert(VectorOperators.I2F, 0)).fma(s, m).intoArray(dst, o + h * L);
                ((FloatVector) n.lanewise(VectorOperators.LSHR, 4).and(0x0F).convert(VectorOperators.I2F, 0)).fma(s, m).intoArray(dst, o + 16 + h * L);
            }
        }
    }

    // ------------------------------------------------------------------ m = 1: stream W from memory

    /** Row {@code row} of the product (its index matters only for the epilogue's residual). */
    private static void gemv(WorkerPool pool, int row, MemorySegment a, long aOff, Weights w, MemorySegment c, long cOff, Epilogue ep) {
        int n = w.rows();
        int k = w.cols();
        // x is tiny (one row): copy it to the caller's scratch once; every task only reads it.
        float[] x = SCRATCH.get().x(k);
        MemorySegment.copy(a, FL, 4 * aOff, x, 0, k);
        int tasks = (n + GEMV_ROWS_PER_TASK - 1) / GEMV_ROWS_PER_TASK;
        GemvTask t = TASKS.get().gemv;
        t.x = x;
        t.w = w;
        t.row = row;
        t.c = c;
        t.cOff = cOff;
        t.ep = ep;
        PoolTask.run((long) n * k >= GEMV_PARALLEL_MIN ? pool : SERIAL, tasks, t);
    }

    private static void gemvRows(float[] x, Weights w, int j0, int j1, int row, MemorySegment c, long cOff, Epilogue ep) {
        int k = w.cols();
        int kv = k - k % L;
        Scratch s = SCRATCH.get();
        float[] out = s.a(8);
        float[] res = s.cb(j1 - j0);
        int j = j0;
        switch (w.dtype()) {
            case F32 -> {
                float[] panel = s.w(8 * k);
                for (; j + 8 <= j1; j += 8) {
                    MemorySegment.copy(w.data(), FL, 4L * j * k, panel, 0, 8 * k);
                    gemvArray8(x, panel, k, kv, out, s.lanes);
                    System.arraycopy(out, 0, res, j - j0, 8);
                }
            }
            case Q8 -> {
                // Eight rows at a time are first copied to the heap in bulk (so for F32 and Q4): a
                // plain memory copy streams from DRAM at full speed, where the kernel's own loads
                // did not keep enough misses in flight (measured 1.4x on a cold 32000 x 512 layer).
                int bpr = w.blocksPerRow();
                byte[] q = s.q(8 * k);
                float[] sc = s.sc(8 * bpr);
                for (; j + 8 <= j1; j += 8) {
                    MemorySegment.copy(w.data(), ValueLayout.JAVA_BYTE, (long) j * k, q, 0, 8 * k);
                    MemorySegment.copy(w.scales(), FL, 4L * j * bpr, sc, 0, 8 * bpr);
                    gemvQ8x4(x, q, sc, 0, k, out, 0, s.lanes);
                    gemvQ8x4(x, q, sc, 4, k, out, 4, s.lanes);
                    System.arraycopy(out, 0, res, j - j0, 8);
                }
            }
            case Q4 -> {
                int bpr = w.blocksPerRow();
                byte[] q = s.q(4 * k);
                float[] sc = s.sc(8 * bpr);
                for (; j + 8 <= j1; j += 8) {
                    MemorySegment.copy(w.data(), ValueLayout.JAVA_BYTE, (long) j * (k / 2), q, 0, 4 * k);
                    MemorySegment.copy(w.scales(), FL, 4L * j * bpr, sc, 0, 8 * bpr);
                    gemvQ4x4(x, q, sc, 0, k, out, 0, s.lanes);
                    gemvQ4x4(x, q, sc, 4, k, out, 4, s.lanes);
                    System.arraycopy(out, 0, res, j - j0, 8);
                }
            }
            default -> {
                // F16/BF16: decode 8 rows to the heap, then the same 8-row kernel over the copy.
                float[] panel = s.w(8 * k);
                for (; j + 8 <= j1; j += 8) {
                    for (int r = 0; r < 8; r++) {
                        decodeRow(w, j + r, panel, r * k);
                    }
                    gemvArray8(x, panel, k, kv, out, s.lanes);
                    System.arraycopy(out, 0, res, j - j0, 8);
                }
            }
        }
        float[] rowBuf = s.w(k);
        for (; j < j1; j++) {
            decodeRow(w, j, rowBuf, 0);
            res[j - j0] = dot(x, 0, rowBuf, 0, k, kv, s.lanes);
        }
        writeRow(res, 0, c, cOff + j0, row, j0, j1 - j0, ep, false);
        finishRows(c, cOff, 0, row, 1, j0, j1 - j0, ep);
    }

    /** 8 rows of W, decoded or copied into {@code w} (stride k), against x: 8 independent FMA chains. */
    private static void gemvArray8(float[] x, float[] w, int k, int kv, float[] out, float[] lanes) {
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
        FloatVector c4 = FloatVector.zero(F), c5 = FloatVector.zero(F), c6 = FloatVector.zero(F), c7 = FloatVector.zero(F);
        for (int p = 0; p < kv; p += L) {
            FloatVector xv = FloatVector.fromArray(F, x, p);
            c0 = xv.fma(FloatVector.fromArray(F, w, p), c0);
            c1 = xv.fma(FloatVector.fromArray(F, w, k + p), c1);
            c2 = xv.fma(FloatVector.fromArray(F, w, 2 * k + p), c2);
            c3 = xv.fma(FloatVector.fromArray(F, w, 3 * k + p), c3);
            c4 = xv.fma(FloatVector.fromArray(F, w, 4 * k + p), c4);
            c5 = xv.fma(FloatVector.fromArray(F, w, 5 * k + p), c5);
            c6 = xv.fma(FloatVector.fromArray(F, w, 6 * k + p), c6);
            c7 = xv.fma(FloatVector.fromArray(F, w, 7 * k + p), c7);
        }
        c0.intoArray(lanes, 0);
        c1.intoArray(lanes, L);
        c2.intoArray(lanes, 2 * L);
        c3.intoArray(lanes, 3 * L);
        c4.intoArray(lanes, 4 * L);
        c5.intoArray(lanes, 5 * L);
        c6.intoArray(lanes, 6 * L);
        c7.intoArray(lanes, 7 * L);
        sumsOfStored(lanes, 8);
        for (int r = 0; r < 8; r++) {
            out[r] = tail(lanes[r], x, 0, w, r * k, kv, k);
        }
    }

    /**
     * 4 Q8 rows: per block, w = q * scale (exactly as decodeRow), then the F32 sequence. Bytes are
     * widened to int and then converted (twice as fast here as the direct byte-to-float
     * conversion, which C2 leaves less optimized). Four rows,
     * not eight: widening, scaling and FMA make this throughput-bound, so four chains already
     * hide the FMA latency, and a smaller body lets C2 inline every Vector API call (with eight,
     * it hit the inlining node limit and boxed vectors, at a third of the speed).
     */
    private static void gemvQ8x4(float[] x, byte[] q, float[] sc, int row, int k, float[] out, int outOff, float[] lanes) {
        int bpr = k / QuantCodec.BLOCK;
        int r0 = row * k;
        int r1 = r0 + k, r2 = r1 + k, r3 = r2 + k;
        int s0 = row * bpr;
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
        for (int b = 0; b < bpr; b++) {
            FloatVector s0v = FloatVector.broadcast(F, sc[s0 + b]);
            FloatVector s1v = FloatVector.broadcast(F, sc[s0 + bpr + b]);
            FloatVector s2v = FloatVector.broadcast(F, sc[s0 + 2 * bpr + b]);
            FloatVector s3v = FloatVector.broadcast(F, sc[s0 + 3 * bpr + b]);
            for (int p = b * QuantCodec.BLOCK; p < (b + 1) * QuantCodec.BLOCK; p += L) {
                FloatVector xv = FloatVector.fromArray(F, x, p);
                c0 = xv.fma(((FloatVector) ((IntVector) ByteVector.fromArray(B, q, r0 + p).convertShape(VectorOperators.B2I, I, 0)).convert(VectorOperators.I2F, 0)).mul(s0v), c0);
                c1 = xv.fma(((FloatVector) ((IntVector) ByteVector.fromArray(B, q, r1 + p).convertShape(VectorOperators.B2I, I, 0)).convert(VectorOperators.I2F, 0)).mul(s1v), c1);
                c2 = xv.fma(((FloatVector) ((IntVector) ByteVector.fromArray(B, q, r2 + p).convertShape(VectorOperators.B2I, I, 0)).convert(VectorOperators.I2F, 0)).mul(s2v), c2);
                c3 = xv.fma(((FloatVector) ((IntVector) ByteVector.fromArray(B, q, r3 + p).convertShape(VectorOperators.B2I, I, 0)).convert(VectorOperators.I2F, 0)).mul(s3v), c3);
            }
        }
        c0.intoArray(lanes, 0);
        c1.intoArray(lanes, L);
        c2.intoArray(lanes, 2 * L);
        c3.intoArray(lanes, 3 * L);
        sumsOfStored(lanes, 4);
        System.arraycopy(lanes, 0, out, outOff, 4);
    }

    /**
     * 4 Q4 rows, as {@link #gemvQ8x4}. A nibble n decodes as {@code fma(n, s, -8s)}: the exact
     * value {@code (n - 8) * s} rounded once, so bit-identical to the codec's {@code q * s}, in one
     * instruction instead of a subtract and a multiply.
     */
    private static void gemvQ4x4(float[] x, byte[] q, float[] sc, int row, int k, float[] out, int outOff, float[] lanes) {
        int bpr = k / QuantCodec.BLOCK;
        int rb = k / 2;
        int r0 = row * rb;
        int r1 = r0 + rb, r2 = r1 + rb, r3 = r2 + rb;
        int s0 = row * bpr;
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
        for (int b = 0; b < bpr; b++) {
            float f0 = sc[s0 + b], f1 = sc[s0 + bpr + b];
            float f2 = sc[s0 + 2 * bpr + b], f3 = sc[s0 + 3 * bpr + b];
            FloatVector s0v = FloatVector.broadcast(F, f0), m0v = FloatVector.broadcast(F, -8f * f0);
            FloatVector s1v = FloatVector.broadcast(F, f1), m1v = FloatVector.broadcast(F, -8f * f1);
            FloatVector s2v = FloatVector.broadcast(F, f2), m2v = FloatVector.broadcast(F, -8f * f2);
            FloatVector s3v = FloatVector.broadcast(F, f3), m3v = FloatVector.broadcast(F, -8f * f3);
            int blk = b * (QuantCodec.BLOCK / 2);
            int xb = b * QuantCodec.BLOCK;
            // One 16-byte load per row and block; part h of its widening holds bytes [hL, hL+L):
            // low nibbles = values [hL, hL+L), high nibbles = values [16+hL, 16+hL+L). All low
            // parts come first, then all high parts, so values are accumulated in increasing
            // order (the canonical sequence) whatever L is.
            ByteVector q0 = ByteVector.fromArray(B16, q, r0 + blk);
            ByteVector q1 = ByteVector.fromArray(B16, q, r1 + blk);
            ByteVector q2 = ByteVector.fromArray(B16, q, r2 + blk);
            ByteVector q3 = ByteVector.fromArray(B16, q, r3 + blk);
            for (int half = 0; half < 2; half++) {
                int shift = 4 * half;
                for (int h = 0; h < 16 / L; h++) {
                    FloatVector xv = FloatVector.fromArray(F, x, xb + 16 * half + h * L);
                    IntVector n0 = (IntVector) q0.convertShape(VectorOperators.B2I, I, h);
                    IntVector n1 = (IntVector) q1.convertShape(VectorOperators.B2I, I, h);
                    IntVector n2 = (IntVector) q2.convertShape(VectorOperators.B2I, I, h);
                    IntVector n3 = (IntVector) q3.convertShape(VectorOperators.B2I, I, h);
                    c0 = xv.fma(((FloatVector) n0.lanewise(VectorOperators.LSHR, shift).and(0x0F).convert(VectorOperators.I2F, 0)).fma(s0v, m0v), c0);
                    c1 = xv.fma(((FloatVector) n1.lanewise(VectorOperators.LSHR, shift).and(0x0F).convert(VectorOperators.I2F, 0)).fma(s1v, m1v), c1);
                    c2 = xv.fma(((FloatVector) n2.lanewise(VectorOperators.LSHR, shift).and(0x0F).convert(VectorOperators.I2F, 0)).fma(s2v, m2v), c2);
                    c3 = xv.fma(((FloatVector) n3.lanewise(VectorOperators.LSHR, shift).and(0x0F).convert(VectorOperators.I2F, 0)).fma(s3v, m3v), c3);
                }
            }
        }
        c0.intoArray(lanes, 0);
        c1.intoArray(lanes, L);
        c2.intoArray(lanes, 2 * L);
        c3.intoArray(lanes, 3 * L);
        sumsOfStored(lanes, 4);
        System.arraycopy(lanes, 0, out, outOff, 4);
    }
}

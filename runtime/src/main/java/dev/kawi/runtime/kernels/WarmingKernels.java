package dev.kawi.runtime.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Kernels for a fresh JVM: every call goes to the {@link LaneKernels} (fast from the first call)
 * until {@link #promote()}, then to the vector kernels of {@link KernelProvider#get(int)} (fast
 * once the JIT has compiled them). Both compute the same bits, so when the switch happens never
 * changes a result. Whoever owns this instance decides when to promote, typically after running
 * the {@link #target()} kernels on a background thread until they are compiled.
 */
public final class WarmingKernels implements Kernels {
    private final LaneKernels cold;
    private final int threads;
    private volatile Kernels target;
    private volatile Kernels current;

    /** Starts on {@code cold}; the target is {@code KernelProvider.get(threads)}, created when first asked for. */
    public WarmingKernels(LaneKernels cold, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, was " + threads);
        }
        this.cold = cold;
        this.threads = threads;
        this.current = cold;
    }

    /** The kernels calls go to after promotion (created, with their worker threads, on the first call). */
    public Kernels target() {
        Kernels t = target;
        if (t == null) {
            synchronized (this) {
                t = target;
                if (t == null) {
                    t = KernelProvider.get(threads);
                    target = t;
                }
            }
        }
        return t;
    }

    /** The kernels calls go to until promotion. */
    public LaneKernels cold() {
        return cold;
    }

    /** From now on, calls go to {@link #target()}. */
    public void promote() {
        current = target();
    }

    /** True once {@link #promote()} was called. */
    public boolean promoted() {
        return current != cold;
    }

    @Override
    public String name() {
        return promoted() ? current.name() : cold.name() + ", until the vector kernels are warm";
    }

    @Override
    public int threads() {
        return current.threads();
    }

    @Override
    public void gemm(int m, MemorySegment a, long aOff, int lda, Weights w, MemorySegment c, long cOff, int ldc, Epilogue epilogue) {
        current.gemm(m, a, aOff, lda, w, c, cOff, ldc, epilogue);
    }

    @Override
    public void matmul(int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                       MemorySegment c, long cOff, int ldc, boolean accumulate) {
        current.matmul(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    @Override
    public void matmulTransA(int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                             MemorySegment c, long cOff, int ldc, boolean accumulate) {
        current.matmulTransA(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    @Override
    public void softmax(MemorySegment x, long off, int rows, int cols, int ld, int[] valid) {
        current.softmax(x, off, rows, cols, ld, valid);
    }

    @Override
    public void logSoftmax(MemorySegment x, long off, int rows, int cols, int ld, int[] valid) {
        current.logSoftmax(x, off, rows, cols, ld, valid);
    }

    @Override
    public void layerNorm(MemorySegment out, long outOff, int ldo, MemorySegment x, long xOff, int ldx, int rows, int cols,
                          MemorySegment gamma, MemorySegment beta, float eps, MemorySegment meanOut, MemorySegment rstdOut) {
        current.layerNorm(out, outOff, ldo, x, xOff, ldx, rows, cols, gamma, beta, eps, meanOut, rstdOut);
    }

    @Override
    public void rmsNorm(MemorySegment out, long outOff, int ldo, MemorySegment x, long xOff, int ldx, int rows, int cols,
                        MemorySegment gamma, float eps) {
        current.rmsNorm(out, outOff, ldo, x, xOff, ldx, rows, cols, gamma, eps);
    }

    @Override
    public void activation(Activation act, MemorySegment x, long off, long n) {
        current.activation(act, x, off, n);
    }

    @Override
    public void add(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff, long n) {
        current.add(out, outOff, a, aOff, b, bOff, n);
    }

    @Override
    public void scale(MemorySegment x, long off, long n, float s) {
        current.scale(x, off, n, s);
    }

    @Override
    public void embedding(Weights table, int[] ids, int idsOff, int count, float scale, MemorySegment out, long outOff, int ldo) {
        current.embedding(table, ids, idsOff, count, scale, out, outOff, ldo);
    }

    @Override
    public int argmax(MemorySegment x, long off, int n) {
        return current.argmax(x, off, n);
    }

    @Override
    public void topK(MemorySegment x, long off, int n, int k, int[] idx, float[] val) {
        current.topK(x, off, n, k, idx, val);
    }

    @Override
    public void attention(int batch, int heads, int headDim, int qLen, int kvLen, int[] kvValid, boolean causal, float scale,
                          MemorySegment q, long qOff, int ldq, MemorySegment k, long kOff, int ldk, MemorySegment v, long vOff, int ldv,
                          MemorySegment out, long outOff, int ldo, MemorySegment weights, long wOff) {
        current.attention(batch, heads, headDim, qLen, kvLen, kvValid, causal, scale, q, qOff, ldq, k, kOff, ldk, v, vOff, ldv,
                out, outOff, ldo, weights, wOff);
    }

    @Override
    public void attentionStep(int batch, int heads, int headDim, float scale,
                              MemorySegment q, long qOff, int ldq, MemorySegment kCache, MemorySegment vCache, int ldkv,
                              int[] rows, int rowStride, int[] lengths,
                              MemorySegment out, long outOff, int ldo, MemorySegment weights, long wOff, int ldw) {
        current.attentionStep(batch, heads, headDim, scale, q, qOff, ldq, kCache, vCache, ldkv, rows, rowStride, lengths,
                out, outOff, ldo, weights, wOff, ldw);
    }
}

package dev.kawi.runtime.kernels;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Kernels that pass every call on to another implementation: the base for decorators that watch
 * calls (counting, tracing, measuring allocation between decoder steps) without changing results.
 * Subclasses override the calls they watch and call {@code super}.
 */
public abstract class ForwardingKernels implements Kernels {
    private final Kernels delegate;

    /** Kernels that forward to {@code delegate}. */
    protected ForwardingKernels(Kernels delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** The kernels calls are forwarded to (a subclass may switch them, as {@link WarmingKernels} does). */
    protected Kernels delegate() {
        return delegate;
    }

    @Override
    public String name() {
        return delegate().name();
    }

    @Override
    public int threads() {
        return delegate().threads();
    }

    @Override
    public void gemm(int m, MemorySegment a, long aOff, int lda, Weights w, MemorySegment c, long cOff, int ldc, Epilogue epilogue) {
        delegate().gemm(m, a, aOff, lda, w, c, cOff, ldc, epilogue);
    }

    @Override
    public void matmul(int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                       MemorySegment c, long cOff, int ldc, boolean accumulate) {
        delegate().matmul(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    @Override
    public void matmulTransA(int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                             MemorySegment c, long cOff, int ldc, boolean accumulate) {
        delegate().matmulTransA(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    @Override
    public void softmax(MemorySegment x, long off, int rows, int cols, int ld, int[] valid) {
        delegate().softmax(x, off, rows, cols, ld, valid);
    }

    @Override
    public void logSoftmax(MemorySegment x, long off, int rows, int cols, int ld, int[] valid) {
        delegate().logSoftmax(x, off, rows, cols, ld, valid);
    }

    @Override
    public void layerNorm(MemorySegment out, long outOff, int ldo, MemorySegment x, long xOff, int ldx, int rows, int cols,
                          MemorySegment gamma, MemorySegment beta, float eps, MemorySegment meanOut, MemorySegment rstdOut) {
        delegate().layerNorm(out, outOff, ldo, x, xOff, ldx, rows, cols, gamma, beta, eps, meanOut, rstdOut);
    }

    @Override
    public void rmsNorm(MemorySegment out, long outOff, int ldo, MemorySegment x, long xOff, int ldx, int rows, int cols,
                        MemorySegment gamma, float eps) {
        delegate().rmsNorm(out, outOff, ldo, x, xOff, ldx, rows, cols, gamma, eps);
    }

    @Override
    public void activation(Activation act, MemorySegment x, long off, long n) {
        delegate().activation(act, x, off, n);
    }

    @Override
    public void add(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff, long n) {
        delegate().add(out, outOff, a, aOff, b, bOff, n);
    }

    @Override
    public void scale(MemorySegment x, long off, long n, float s) {
        delegate().scale(x, off, n, s);
    }

    @Override
    public void embedding(Weights table, int[] ids, int idsOff, int count, float scale, MemorySegment out, long outOff, int ldo) {
        delegate().embedding(table, ids, idsOff, count, scale, out, outOff, ldo);
    }

    @Override
    public int argmax(MemorySegment x, long off, int n) {
        return delegate().argmax(x, off, n);
    }

    @Override
    public void topK(MemorySegment x, long off, int n, int k, int[] idx, float[] val) {
        delegate().topK(x, off, n, k, idx, val);
    }

    @Override
    public void attention(int batch, int heads, int headDim, int qLen, int kvLen, int[] kvValid, boolean causal, float scale,
                          MemorySegment q, long qOff, int ldq, MemorySegment k, long kOff, int ldk, MemorySegment v, long vOff, int ldv,
                          MemorySegment out, long outOff, int ldo, MemorySegment weights, long wOff) {
        delegate().attention(batch, heads, headDim, qLen, kvLen, kvValid, causal, scale, q, qOff, ldq, k, kOff, ldk, v, vOff, ldv,
                out, outOff, ldo, weights, wOff);
    }

    @Override
    public void attentionStep(int batch, int heads, int headDim, float scale,
                              MemorySegment q, long qOff, int ldq, MemorySegment kCache, MemorySegment vCache, int ldkv,
                              int[] rows, int rowStride, int[] lengths,
                              MemorySegment out, long outOff, int ldo, MemorySegment weights, long wOff, int ldw) {
        delegate().attentionStep(batch, heads, headDim, scale, q, qOff, ldq, kCache, vCache, ldkv, rows, rowStride, lengths,
                out, outOff, ldo, weights, wOff, ldw);
    }
}

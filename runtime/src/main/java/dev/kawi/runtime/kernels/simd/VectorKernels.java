package dev.kawi.runtime.kernels.simd;

import dev.kawi.runtime.kernels.Activation;
import dev.kawi.runtime.kernels.Epilogue;
import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.runtime.kernels.Weights;
import dev.kawi.runtime.kernels.WorkerPool;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * The Vector API kernels. This package is the only code that imports {@code jdk.incubator.vector};
 * the work is in {@link VectorGemm} (matrix products), {@link VectorOps} (row operations) and
 * {@link VectorAttention}. Each call splits its output over the shared {@link WorkerPool}.
 */
public final class VectorKernels implements Kernels {
    private final WorkerPool pool;

    /** Kernels that use {@code threads} threads per call. */
    public VectorKernels(int threads) {
        this.pool = new WorkerPool(threads);
    }

    /** Float lanes of the preferred vector species: the arithmetic {@link dev.kawi.runtime.kernels.LaneKernels} reproduces. */
    public static int lanes() {
        return FloatVector.SPECIES_PREFERRED.length();
    }

    @Override
    public String name() {
        return "vector-" + FloatVector.SPECIES_PREFERRED.vectorBitSize() + " (" + pool.threads() + " thread" + (pool.threads() == 1 ? "" : "s") + ")";
    }

    @Override
    public int threads() {
        return pool.threads();
    }

    @Override
    public void gemm(int m, MemorySegment a, long aOff, int lda, Weights w, MemorySegment c, long cOff, int ldc, Epilogue epilogue) {
        VectorGemm.gemm(pool, m, a, aOff, lda, w, c, cOff, ldc, epilogue);
    }

    @Override
    public void matmul(int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                       MemorySegment c, long cOff, int ldc, boolean accumulate) {
        VectorGemm.matmul(pool, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    @Override
    public void matmulTransA(int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                             MemorySegment c, long cOff, int ldc, boolean accumulate) {
        VectorGemm.matmulTransA(pool, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    @Override
    public void softmax(MemorySegment x, long off, int rows, int cols, int ld, int[] valid) {
        VectorOps.softmax(pool, x, off, rows, cols, ld, valid);
    }

    @Override
    public void logSoftmax(MemorySegment x, long off, int rows, int cols, int ld, int[] valid) {
        VectorOps.logSoftmax(pool, x, off, rows, cols, ld, valid);
    }

    @Override
    public void layerNorm(MemorySegment out, long outOff, int ldo, MemorySegment x, long xOff, int ldx, int rows, int cols,
                          MemorySegment gamma, MemorySegment beta, float eps, MemorySegment meanOut, MemorySegment rstdOut) {
        VectorOps.layerNorm(pool, out, outOff, ldo, x, xOff, ldx, rows, cols, gamma, beta, eps, meanOut, rstdOut);
    }

    @Override
    public void rmsNorm(MemorySegment out, long outOff, int ldo, MemorySegment x, long xOff, int ldx, int rows, int cols,
                        MemorySegment gamma, float eps) {
        VectorOps.rmsNorm(pool, out, outOff, ldo, x, xOff, ldx, rows, cols, gamma, eps);
    }

    @Override
    public void activation(Activation act, MemorySegment x, long off, long n) {
        VectorOps.activation(pool, act, x, off, n);
    }

    @Override
    public void add(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff, long n) {
        VectorOps.add(pool, out, outOff, a, aOff, b, bOff, n);
    }

    @Override
    public void scale(MemorySegment x, long off, long n, float s) {
        VectorOps.scale(pool, x, off, n, s);
    }

    @Override
    public void embedding(Weights table, int[] ids, int idsOff, int count, float scale, MemorySegment out, long outOff, int ldo) {
        VectorOps.embedding(table, ids, idsOff, count, scale, out, outOff, ldo);
    }

    @Override
    public int argmax(MemorySegment x, long off, int n) {
        return VectorOps.argmax(x, off, n);
    }

    @Override
    public void topK(MemorySegment x, long off, int n, int k, int[] idx, float[] val) {
        VectorOps.topK(x, off, n, k, idx, val);
    }

    @Override
    public void attention(int batch, int heads, int headDim, int qLen, int kvLen, int[] kvValid, boolean causal, float scale,
                          MemorySegment q, long qOff, int ldq, MemorySegment k, long kOff, int ldk, MemorySegment v, long vOff, int ldv,
                          MemorySegment out, long outOff, int ldo, MemorySegment weights, long wOff) {
        VectorAttention.attention(pool, batch, heads, headDim, qLen, kvLen, kvValid, causal, scale,
                q, qOff, ldq, k, kOff, ldk, v, vOff, ldv, out, outOff, ldo, weights, wOff);
    }

    @Override
    public void attentionStep(int batch, int heads, int headDim, float scale,
                              MemorySegment q, long qOff, int ldq, MemorySegment kCache, MemorySegment vCache, int ldkv,
                              int[] rows, int rowStride, int[] lengths,
                              MemorySegment out, long outOff, int ldo, MemorySegment weights, long wOff, int ldw) {
        VectorAttention.attentionStep(pool, batch, heads, headDim, scale, q, qOff, ldq, kCache, vCache, ldkv,
                rows, rowStride, lengths, out, outOff, ldo, weights, wOff, ldw);
    }
}

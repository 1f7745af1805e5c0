package dev.kawi.runtime.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The numeric kernels everything else is built on. All activations are F32 in off-heap
 * {@link MemorySegment}s in native byte order; a matrix argument is a segment, the element offset
 * of its first element, and its row stride in elements ({@code ld}, at least its column count).
 * Weights are read in place in their file layout through {@link Weights}.
 *
 * <p>Unless a method says otherwise: outputs are overwritten (not accumulated); an output must not
 * overlap an input; sizes of 0 are allowed and do nothing; results are bit-identical for every
 * thread count (work is split over output rows and columns, never over a reduction). Calls whose
 * segments are confined to the calling thread ({@code Arena.ofConfined()}) run on that thread
 * alone, with the same results; use shared, automatic or global arenas (or a mapped file) to get
 * the pool's threads.
 *
 * <p>Implementations: {@link ScalarKernels} (the oracle and fallback) and the Vector API ones;
 * {@link KernelProvider} picks.
 */
public interface Kernels {

    /** Short name for logs and benchmark reports, e.g. "vector-256 (2 threads)". */
    String name();

    /** Threads this instance uses for one call (1 = the calling thread only). */
    int threads();

    // ------------------------------------------------------------------ matrix products

    /**
     * {@code C[m x n] = epilogue(A[m x k] · Wᵀ)} with W = {@code w} ({@code n = w.rows()},
     * {@code k = w.cols()}) in any dtype. The epilogue's residual may alias C exactly (same
     * offset and stride) when it has no activation: then {@code C += ...}.
     */
    void gemm(int m, MemorySegment a, long aOff, int lda, Weights w, MemorySegment c, long cOff, int ldc, Epilogue epilogue);

    /** {@code C[m x n] (+)= A[m x k] · B[k x n]}, all F32 row-major; accumulates into C when {@code accumulate}. */
    void matmul(int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                MemorySegment c, long cOff, int ldc, boolean accumulate);

    /** {@code C[m x n] (+)= Aᵀ · B} with A stored {@code k x m} and B {@code k x n}: weight gradients. */
    void matmulTransA(int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                      MemorySegment c, long cOff, int ldc, boolean accumulate);

    // ------------------------------------------------------------------ row operations

    /**
     * Softmax of each row, in place, numerically stable (max subtracted). Row r uses its first
     * {@code valid[r]} columns (all when {@code valid} is null); masked columns become 0, and a
     * row with no valid column becomes all 0.
     */
    void softmax(MemorySegment x, long off, int rows, int cols, int ld, int[] valid);

    /** Log-softmax of each row, in place; masked columns (as in {@link #softmax}) become -infinity. */
    void logSoftmax(MemorySegment x, long off, int rows, int cols, int ld, int[] valid);

    /**
     * Layer norm of each row: {@code out = (x - mean) / sqrt(var + eps) * gamma + beta}, with the
     * biased variance. {@code out} may alias {@code x} exactly. When {@code meanOut}/{@code rstdOut}
     * are not null, row r's mean and 1/sqrt(var + eps) are stored at element r (for backward passes).
     */
    void layerNorm(MemorySegment out, long outOff, int ldo, MemorySegment x, long xOff, int ldx, int rows, int cols,
                   MemorySegment gamma, MemorySegment beta, float eps, MemorySegment meanOut, MemorySegment rstdOut);

    /** RMS norm of each row: {@code out = x / sqrt(mean(x²) + eps) * gamma}; {@code out} may alias {@code x}. */
    void rmsNorm(MemorySegment out, long outOff, int ldo, MemorySegment x, long xOff, int ldx, int rows, int cols,
                 MemorySegment gamma, float eps);

    /** Applies {@code act} to {@code n} contiguous elements in place. */
    void activation(Activation act, MemorySegment x, long off, long n);

    /** {@code out[i] = a[i] + b[i]} for n elements; out may alias a or b exactly. */
    void add(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff, long n);

    /** {@code x[i] *= s} for n elements, in place. */
    void scale(MemorySegment x, long off, long n, float s);

    /**
     * Embedding gather: row {@code r} of {@code out} = {@code scale * table[ids[idsOff + r]]},
     * for {@code count} rows, whatever the table's dtype.
     *
     * @throws IndexOutOfBoundsException when an id is outside the table
     */
    void embedding(Weights table, int[] ids, int idsOff, int count, float scale, MemorySegment out, long outOff, int ldo);

    /** Index of the largest of n elements; the lowest index among ties; NaN counts as smallest. */
    int argmax(MemorySegment x, long off, int n);

    /**
     * The k largest of n elements, sorted by value descending (ties: lower index first), into
     * {@code idx[0..k)} and {@code val[0..k)}. Requires {@code k <= n}.
     */
    void topK(MemorySegment x, long off, int n, int k, int[] idx, float[] val);

    // ------------------------------------------------------------------ attention

    /**
     * Scaled dot-product attention over {@code batch x heads}. Token t of item b is row
     * {@code b * qLen + t} of Q and of the output, and row {@code b * kvLen + j} of K and V; head h
     * uses columns {@code [h * headDim, (h + 1) * headDim)} of each (so Q, K and V can be views
     * into one fused projection). For each query, keys {@code j >= kvValid[b]} are masked
     * (padding; all keys when kvValid is null) and, when {@code causal}, keys
     * {@code j > t + kvLen - qLen}. Scores are {@code scale * q·k}. A query with no unmasked key
     * outputs zeros. When {@code weights} is not null the probabilities are stored there as
     * {@code [batch, heads, qLen, kvLen]} (masked entries 0).
     */
    void attention(int batch, int heads, int headDim, int qLen, int kvLen, int[] kvValid, boolean causal, float scale,
                   MemorySegment q, long qOff, int ldq, MemorySegment k, long kOff, int ldk, MemorySegment v, long vOff, int ldv,
                   MemorySegment out, long outOff, int ldo, MemorySegment weights, long wOff);

    /**
     * One decoding step: each of {@code batch} items has one query (row b of Q) and attends to
     * {@code lengths[b]} cached keys. Key j of item b is row {@code rows[b * rowStride + j]} of
     * {@code kCache} and {@code vCache} (stride {@code ldkv}), so beams that share a history share
     * cache rows and reordering beams means rewriting indices, not copying tensors. When
     * {@code weights} is not null, the probabilities of item b, head h are stored at
     * {@code wOff + (b * heads + h) * ldw} ({@code lengths[b]} values).
     */
    void attentionStep(int batch, int heads, int headDim, float scale,
                       MemorySegment q, long qOff, int ldq, MemorySegment kCache, MemorySegment vCache, int ldkv,
                       int[] rows, int rowStride, int[] lengths,
                       MemorySegment out, long outOff, int ldo, MemorySegment weights, long wOff, int ldw);
}

package dev.kawi.runtime.kernels.simd;

import dev.kawi.runtime.kernels.Epilogue;
import dev.kawi.runtime.kernels.ScalarKernels;
import dev.kawi.runtime.kernels.Weights;
import dev.kawi.runtime.kernels.WorkerPool;
import java.lang.foreign.MemorySegment;

/** Matrix products. PLACEHOLDER: delegates to the scalar kernels until the vector versions land. */
final class VectorGemm {
    private static final ScalarKernels S = new ScalarKernels();

    private VectorGemm() {
    }

    static void gemm(WorkerPool pool, int m, MemorySegment a, long aOff, int lda, Weights w, MemorySegment c, long cOff, int ldc, Epilogue ep) {
        S.gemm(m, a, aOff, lda, w, c, cOff, ldc, ep);
    }

    static void matmul(WorkerPool pool, int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                       MemorySegment c, long cOff, int ldc, boolean accumulate) {
        S.matmul(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    static void matmulTransA(WorkerPool pool, int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                             MemorySegment c, long cOff, int ldc, boolean accumulate) {
        S.matmulTransA(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }
}

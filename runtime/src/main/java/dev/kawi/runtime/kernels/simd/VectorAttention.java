package dev.kawi.runtime.kernels.simd;

import dev.kawi.runtime.kernels.ScalarKernels;
import dev.kawi.runtime.kernels.WorkerPool;
import java.lang.foreign.MemorySegment;

/** Attention. PLACEHOLDER: delegates to the scalar kernels until the vector versions land. */
final class VectorAttention {
    private static final ScalarKernels S = new ScalarKernels();

    private VectorAttention() {
    }

    static void attention(WorkerPool pool, int batch, int heads, int headDim, int qLen, int kvLen, int[] kvValid, boolean causal, float scale,
                          MemorySegment q, long qOff, int ldq, MemorySegment k, long kOff, int ldk, MemorySegment v, long vOff, int ldv,
                          MemorySegment out, long outOff, int ldo, MemorySegment weights, long wOff) {
        S.attention(batch, heads, headDim, qLen, kvLen, kvValid, causal, scale, q, qOff, ldq, k, kOff, ldk, v, vOff, ldv,
                out, outOff, ldo, weights, wOff);
    }

    static void attentionStep(WorkerPool pool, int batch, int heads, int headDim, float scale,
                              MemorySegment q, long qOff, int ldq, MemorySegment kCache, MemorySegment vCache, int ldkv,
                              int[] rows, int rowStride, int[] lengths,
                              MemorySegment out, long outOff, int ldo, MemorySegment weights, long wOff, int ldw) {
        S.attentionStep(batch, heads, headDim, scale, q, qOff, ldq, kCache, vCache, ldkv, rows, rowStride, lengths,
                out, outOff, ldo, weights, wOff, ldw);
    }
}

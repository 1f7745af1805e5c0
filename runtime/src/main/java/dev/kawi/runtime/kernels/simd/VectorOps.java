package dev.kawi.runtime.kernels.simd;

import dev.kawi.runtime.kernels.Activation;
import dev.kawi.runtime.kernels.ScalarKernels;
import dev.kawi.runtime.kernels.Weights;
import dev.kawi.runtime.kernels.WorkerPool;
import java.lang.foreign.MemorySegment;

/** Row operations. PLACEHOLDER: delegates to the scalar kernels until the vector versions land. */
final class VectorOps {
    private static final ScalarKernels S = new ScalarKernels();

    private VectorOps() {
    }

    static void softmax(WorkerPool pool, MemorySegment x, long off, int rows, int cols, int ld, int[] valid) {
        S.softmax(x, off, rows, cols, ld, valid);
    }

    static void logSoftmax(WorkerPool pool, MemorySegment x, long off, int rows, int cols, int ld, int[] valid) {
        S.logSoftmax(x, off, rows, cols, ld, valid);
    }

    static void layerNorm(WorkerPool pool, MemorySegment out, long outOff, int ldo, MemorySegment x, long xOff, int ldx, int rows, int cols,
                          MemorySegment gamma, MemorySegment beta, float eps, MemorySegment meanOut, MemorySegment rstdOut) {
        S.layerNorm(out, outOff, ldo, x, xOff, ldx, rows, cols, gamma, beta, eps, meanOut, rstdOut);
    }

    static void rmsNorm(WorkerPool pool, MemorySegment out, long outOff, int ldo, MemorySegment x, long xOff, int ldx, int rows, int cols,
                        MemorySegment gamma, float eps) {
        S.rmsNorm(out, outOff, ldo, x, xOff, ldx, rows, cols, gamma, eps);
    }

    static void activation(WorkerPool pool, Activation act, MemorySegment x, long off, long n) {
        S.activation(act, x, off, n);
    }

    static void add(WorkerPool pool, MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff, long n) {
        S.add(out, outOff, a, aOff, b, bOff, n);
    }

    static void scale(WorkerPool pool, MemorySegment x, long off, long n, float s) {
        S.scale(x, off, n, s);
    }

    static void embedding(Weights table, int[] ids, int idsOff, int count, float scale, MemorySegment out, long outOff, int ldo) {
        S.embedding(table, ids, idsOff, count, scale, out, outOff, ldo);
    }

    static int argmax(MemorySegment x, long off, int n) {
        return S.argmax(x, off, n);
    }

    static void topK(MemorySegment x, long off, int n, int k, int[] idx, float[] val) {
        S.topK(x, off, n, k, idx, val);
    }
}

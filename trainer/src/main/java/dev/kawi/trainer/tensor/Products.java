package dev.kawi.trainer.tensor;

import dev.kawi.runtime.kernels.Epilogue;
import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.runtime.kernels.Weights;

/**
 * The trainer's matrix products. F32 buffers go to the runtime's {@link Kernels}; F64 buffers
 * (gradient checks) use the naive triple loop kept here as the oracle. Offsets and strides are
 * in elements; {@code accumulate} adds into C instead of overwriting it.
 */
public final class Products {
    private final Kernels kernels;
    private F32Buf scratch = new F32Buf(1 << 16);

    /** Products computed by {@code kernels} (which decides the thread count). */
    public Products(Kernels kernels) {
        this.kernels = kernels;
    }

    /** The kernels in use. */
    public Kernels kernels() {
        return kernels;
    }

    /** {@code C[m x n] (+)= A[m x k] · B[n x k]ᵀ}: a linear layer's forward pass. */
    public void abT(int m, int n, int k, Buf a, long aOff, int lda, Buf b, long bOff, int ldb,
                    Buf c, long cOff, int ldc, boolean accumulate) {
        if (m == 0 || n == 0) {
            return;
        }
        if (a instanceof F32Buf fa && b instanceof F32Buf fb && c instanceof F32Buf fc) {
            F32Buf src = fb;
            long off = bOff;
            if (ldb != k) {
                // The kernel reads W with row stride k: gather the rows first (attention heads are strided).
                src = scratch((long) n * k);
                for (int j = 0; j < n; j++) {
                    src.copyFrom((long) j * k, fb, bOff + (long) j * ldb, k);
                }
                off = 0;
            }
            Weights w = Weights.f32(src.segment().asSlice(4 * off, 4L * n * k), n, k);
            Epilogue ep = accumulate ? Epilogue.withResidual(null, fc.segment(), cOff, ldc) : Epilogue.NONE;
            kernels.gemm(m, fa.segment(), aOff, lda, w, fc.segment(), cOff, ldc, ep);
            return;
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += a.get(aOff + (long) i * lda + p) * b.get(bOff + (long) j * ldb + p);
                }
                long ci = cOff + (long) i * ldc + j;
                c.set(ci, accumulate ? c.get(ci) + s : s);
            }
        }
    }

    /** {@code C[m x n] (+)= A[m x k] · B[k x n]}: input gradients. */
    public void ab(int m, int n, int k, Buf a, long aOff, int lda, Buf b, long bOff, int ldb,
                   Buf c, long cOff, int ldc, boolean accumulate) {
        if (m == 0 || n == 0) {
            return;
        }
        if (a instanceof F32Buf fa && b instanceof F32Buf fb && c instanceof F32Buf fc) {
            kernels.matmul(m, n, k, fa.segment(), aOff, lda, fb.segment(), bOff, ldb, fc.segment(), cOff, ldc, accumulate);
            return;
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += a.get(aOff + (long) i * lda + p) * b.get(bOff + (long) p * ldb + j);
                }
                long ci = cOff + (long) i * ldc + j;
                c.set(ci, accumulate ? c.get(ci) + s : s);
            }
        }
    }

    /** {@code C[m x n] (+)= A[k x m]ᵀ · B[k x n]}: weight gradients. */
    public void aTb(int m, int n, int k, Buf a, long aOff, int lda, Buf b, long bOff, int ldb,
                    Buf c, long cOff, int ldc, boolean accumulate) {
        if (m == 0 || n == 0) {
            return;
        }
        if (a instanceof F32Buf fa && b instanceof F32Buf fb && c instanceof F32Buf fc) {
            kernels.matmulTransA(m, n, k, fa.segment(), aOff, lda, fb.segment(), bOff, ldb, fc.segment(), cOff, ldc, accumulate);
            return;
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += a.get(aOff + (long) p * lda + i) * b.get(bOff + (long) p * ldb + j);
                }
                long ci = cOff + (long) i * ldc + j;
                c.set(ci, accumulate ? c.get(ci) + s : s);
            }
        }
    }

    private F32Buf scratch(long n) {
        if (scratch.size() < n) {
            scratch = new F32Buf(Math.max(n, 2 * scratch.size()));
        }
        return scratch;
    }
}

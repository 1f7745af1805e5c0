package dev.kawi.trainer.tensor;

import dev.kawi.runtime.kernels.Kernels;

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
            // A·Bᵀ = A·(Bᵀ): Bᵀ (k x n) is built once, then the kernels' A·B runs on it. Its cost,
            // k·n copies, is small next to the m·n·k product for the row counts training uses.
            F32Buf bt = scratch((long) k * n);
            transpose(fb, bOff, ldb, n, k, bt);
            kernels.matmul(m, n, k, fa.segment(), aOff, lda, bt.segment(), 0, n, fc.segment(), cOff, ldc, accumulate);
            return;
        }
        naive(m, n, k, a, aOff, lda, 1, b, bOff, 1, ldb, c, cOff, ldc, accumulate);
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
        naive(m, n, k, a, aOff, lda, 1, b, bOff, ldb, 1, c, cOff, ldc, accumulate);
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
        naive(m, n, k, a, aOff, 1, lda, b, bOff, ldb, 1, c, cOff, ldc, accumulate);
    }

    /**
     * The oracle for F64 buffers: {@code C (+)= A·B} with A(i, p) at {@code a[aOff + i·aRow + p·aCol]}
     * and B(p, j) at {@code b[bOff + p·bRow + j·bCol]}, summed in double in order of p.
     */
    private static void naive(int m, int n, int k, Buf a, long aOff, int aRow, int aCol, Buf b, long bOff, int bRow, int bCol,
                              Buf c, long cOff, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += a.get(aOff + (long) i * aRow + (long) p * aCol) * b.get(bOff + (long) p * bRow + (long) j * bCol);
                }
                long ci = cOff + (long) i * ldc + j;
                c.set(ci, accumulate ? c.get(ci) + s : s);
            }
        }
    }

    private float[] rows = new float[0];
    private float[] cols = new float[0];

    /** {@code dst (cols x rows) = transpose of src (rows x cols, row stride ld)}, 16 source rows at a time. */
    private void transpose(F32Buf src, long off, int ld, int nRows, int nCols, F32Buf dst) {
        int block = 16;
        if (rows.length < block * nCols) {
            rows = new float[block * nCols];
        }
        if (cols.length < (long) nRows * nCols) {
            cols = new float[Math.toIntExact((long) nRows * nCols)];
        }
        for (int r0 = 0; r0 < nRows; r0 += block) {
            int nr = Math.min(block, nRows - r0);
            for (int r = 0; r < nr; r++) {
                src.read(off + (long) (r0 + r) * ld, rows, r * nCols, nCols);
            }
            for (int j = 0; j < nCols; j++) {
                int o = j * nRows + r0;
                for (int r = 0; r < nr; r++) {
                    cols[o + r] = rows[r * nCols + j];
                }
            }
        }
        dst.write(0, cols, 0, nRows * nCols);
    }

    private F32Buf scratch(long n) {
        if (scratch.size() < n) {
            scratch = new F32Buf(Math.max(n, 2 * scratch.size()));
        }
        return scratch;
    }
}

package dev.kawi.runtime.kernels;

import dev.kawi.weights.QuantCodec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Plain loops, written to be obviously right: the oracle every other implementation is tested
 * against, and the fallback where the Vector API is unavailable. Reductions accumulate in double.
 * Single-threaded.
 */
public final class ScalarKernels implements Kernels {
    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public int threads() {
        return 1;
    }

    static float get(MemorySegment s, long i) {
        return s.getAtIndex(F, i);
    }

    static void set(MemorySegment s, long i, float v) {
        s.setAtIndex(F, i, v);
    }

    /** Row r of W decoded to floats. */
    static void weightRow(Weights w, int r, float[] dst) {
        switch (w.dtype()) {
            case F32 -> MemorySegment.copy(w.data(), F, 4L * r * w.cols(), dst, 0, w.cols());
            case F16 -> {
                for (int i = 0; i < w.cols(); i++) {
                    dst[i] = Float.float16ToFloat(w.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, (long) r * w.cols() + i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < w.cols(); i++) {
                    dst[i] = QuantCodec.bf16ToFloat(w.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, (long) r * w.cols() + i));
                }
            }
            case Q8, Q4 -> {
                int rowBytes = (int) w.dtype().quantRowBytes(w.cols());
                byte[] q = new byte[rowBytes];
                MemorySegment.copy(w.data(), ValueLayout.JAVA_BYTE, (long) r * rowBytes, q, 0, rowBytes);
                float[] s = new float[w.blocksPerRow()];
                MemorySegment.copy(w.scales(), F, 4L * r * s.length, s, 0, s.length);
                if (w.dtype() == dev.kawi.weights.DType.Q8) {
                    QuantCodec.dequantizeRowQ8(q, 0, s, 0, w.cols(), dst, 0);
                } else {
                    QuantCodec.dequantizeRowQ4(q, 0, s, 0, w.cols(), dst, 0);
                }
            }
        }
    }

    @Override
    public void gemm(int m, MemorySegment a, long aOff, int lda, Weights w, MemorySegment c, long cOff, int ldc, Epilogue ep) {
        int n = w.rows();
        int k = w.cols();
        float[] row = new float[k];
        float[] acc = new float[m];
        for (int j = 0; j < n; j++) {
            weightRow(w, j, row);
            for (int i = 0; i < m; i++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    sum += (double) get(a, aOff + (long) i * lda + p) * row[p];
                }
                acc[i] = (float) sum;
            }
            for (int i = 0; i < m; i++) {
                set(c, cOff + (long) i * ldc + j, applyEpilogue(ep, acc[i], i, j));
            }
        }
    }

    /** The epilogue for element (i, j): act(acc + bias[j]) + residual[i][j]. */
    static float applyEpilogue(Epilogue ep, float acc, int i, int j) {
        float v = acc;
        if (ep.bias() != null) {
            v += get(ep.bias(), j);
        }
        v = ScalarMath.apply(ep.activation(), v);
        if (ep.residual() != null) {
            v += get(ep.residual(), ep.residualOff() + (long) i * ep.ldr() + j);
        }
        return v;
    }

    @Override
    public void matmul(int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                       MemorySegment c, long cOff, int ldc, boolean accumulate) {
        product(m, n, k, a, aOff, lda, 1, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    @Override
    public void matmulTransA(int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                             MemorySegment c, long cOff, int ldc, boolean accumulate) {
        product(m, n, k, a, aOff, 1, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    /** C (+)= A·B where A's element (i, p) is at aOff + i * ai + p * ap (so Aᵀ·B is a change of strides). */
    private static void product(int m, int n, int k, MemorySegment a, long aOff, long ai, long ap, MemorySegment b, long bOff, int ldb,
                                MemorySegment c, long cOff, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    sum += (double) get(a, aOff + i * ai + p * ap) * get(b, bOff + (long) p * ldb + j);
                }
                long ci = cOff + (long) i * ldc + j;
                set(c, ci, accumulate ? get(c, ci) + (float) sum : (float) sum);
            }
        }
    }

    @Override
    public void softmax(MemorySegment x, long off, int rows, int cols, int ld, int[] valid) {
        for (int r = 0; r < rows; r++) {
            long base = off + (long) r * ld;
            int len = valid == null ? cols : Math.min(cols, valid[r]);
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < len; j++) {
                max = Math.max(max, get(x, base + j));
            }
            double sum = 0;
            for (int j = 0; j < len; j++) {
                sum += Math.exp(get(x, base + j) - max);
            }
            for (int j = 0; j < cols; j++) {
                set(x, base + j, j < len ? (float) (Math.exp(get(x, base + j) - max) / sum) : 0f);
            }
        }
    }

    @Override
    public void logSoftmax(MemorySegment x, long off, int rows, int cols, int ld, int[] valid) {
        for (int r = 0; r < rows; r++) {
            long base = off + (long) r * ld;
            int len = valid == null ? cols : Math.min(cols, valid[r]);
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < len; j++) {
                max = Math.max(max, get(x, base + j));
            }
            double sum = 0;
            for (int j = 0; j < len; j++) {
                sum += Math.exp(get(x, base + j) - max);
            }
            double logSum = max + Math.log(sum);
            for (int j = 0; j < cols; j++) {
                set(x, base + j, j < len ? (float) (get(x, base + j) - logSum) : Float.NEGATIVE_INFINITY);
            }
        }
    }

    @Override
    public void layerNorm(MemorySegment out, long outOff, int ldo, MemorySegment x, long xOff, int ldx, int rows, int cols,
                          MemorySegment gamma, MemorySegment beta, float eps, MemorySegment meanOut, MemorySegment rstdOut) {
        for (int r = 0; r < rows; r++) {
            long xb = xOff + (long) r * ldx;
            double mean = 0;
            for (int j = 0; j < cols; j++) {
                mean += get(x, xb + j);
            }
            mean /= cols;
            double var = 0;
            for (int j = 0; j < cols; j++) {
                double d = get(x, xb + j) - mean;
                var += d * d;
            }
            var /= cols;
            double rstd = 1.0 / Math.sqrt(var + eps);
            if (meanOut != null) {
                set(meanOut, r, (float) mean);
            }
            if (rstdOut != null) {
                set(rstdOut, r, (float) rstd);
            }
            long ob = outOff + (long) r * ldo;
            for (int j = 0; j < cols; j++) {
                set(out, ob + j, (float) ((get(x, xb + j) - mean) * rstd * get(gamma, j) + get(beta, j)));
            }
        }
    }

    @Override
    public void rmsNorm(MemorySegment out, long outOff, int ldo, MemorySegment x, long xOff, int ldx, int rows, int cols,
                        MemorySegment gamma, float eps) {
        for (int r = 0; r < rows; r++) {
            long xb = xOff + (long) r * ldx;
            double ss = 0;
            for (int j = 0; j < cols; j++) {
                double v = get(x, xb + j);
                ss += v * v;
            }
            double rms = 1.0 / Math.sqrt(ss / cols + eps);
            long ob = outOff + (long) r * ldo;
            for (int j = 0; j < cols; j++) {
                set(out, ob + j, (float) (get(x, xb + j) * rms * get(gamma, j)));
            }
        }
    }

    @Override
    public void activation(Activation act, MemorySegment x, long off, long n) {
        for (long i = 0; i < n; i++) {
            set(x, off + i, ScalarMath.apply(act, get(x, off + i)));
        }
    }

    @Override
    public void add(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff, long n) {
        for (long i = 0; i < n; i++) {
            set(out, outOff + i, get(a, aOff + i) + get(b, bOff + i));
        }
    }

    @Override
    public void scale(MemorySegment x, long off, long n, float s) {
        for (long i = 0; i < n; i++) {
            set(x, off + i, get(x, off + i) * s);
        }
    }

    @Override
    public void embedding(Weights table, int[] ids, int idsOff, int count, float scale, MemorySegment out, long outOff, int ldo) {
        float[] row = new float[table.cols()];
        for (int r = 0; r < count; r++) {
            int id = ids[idsOff + r];
            if (id < 0 || id >= table.rows()) {
                throw new IndexOutOfBoundsException("token id " + id + " outside the embedding table of " + table.rows() + " rows");
            }
            weightRow(table, id, row);
            for (int j = 0; j < row.length; j++) {
                set(out, outOff + (long) r * ldo + j, row[j] * scale);
            }
        }
    }

    @Override
    public int argmax(MemorySegment x, long off, int n) {
        int best = 0;
        float bestVal = Float.NaN;
        for (int i = 0; i < n; i++) {
            float v = get(x, off + i);
            if (!Float.isNaN(v) && (Float.isNaN(bestVal) || v > bestVal)) {
                best = i;
                bestVal = v;
            }
        }
        return best;
    }

    @Override
    public void topK(MemorySegment x, long off, int n, int k, int[] idx, float[] val) {
        if (k > n) {
            throw new IllegalArgumentException("k = " + k + " > n = " + n);
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (p, q) -> {
            float a = get(x, off + p);
            float b = get(x, off + q);
            int c = Float.compare(Float.isNaN(b) ? Float.NEGATIVE_INFINITY : b, Float.isNaN(a) ? Float.NEGATIVE_INFINITY : a);
            return c != 0 ? c : Integer.compare(p, q);
        });
        for (int i = 0; i < k; i++) {
            idx[i] = order[i];
            val[i] = get(x, off + order[i]);
        }
    }

    @Override
    public void attention(int batch, int heads, int headDim, int qLen, int kvLen, int[] kvValid, boolean causal, float scale,
                          MemorySegment q, long qOff, int ldq, MemorySegment k, long kOff, int ldk, MemorySegment v, long vOff, int ldv,
                          MemorySegment out, long outOff, int ldo, MemorySegment weights, long wOff) {
        double[] p = new double[kvLen];
        for (int b = 0; b < batch; b++) {
            int valid = kvValid == null ? kvLen : Math.min(kvLen, kvValid[b]);
            for (int h = 0; h < heads; h++) {
                int col = h * headDim;
                for (int t = 0; t < qLen; t++) {
                    int limit = causal ? Math.min(valid, t + kvLen - qLen + 1) : valid;
                    long qb = qOff + (long) (b * qLen + t) * ldq + col;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < limit; j++) {
                        long kb = kOff + (long) (b * kvLen + j) * ldk + col;
                        double s = 0;
                        for (int d = 0; d < headDim; d++) {
                            s += (double) get(q, qb + d) * get(k, kb + d);
                        }
                        p[j] = s * scale;
                        max = Math.max(max, p[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < limit; j++) {
                        p[j] = Math.exp(p[j] - max);
                        sum += p[j];
                    }
                    for (int j = 0; j < limit; j++) {
                        p[j] /= sum;
                    }
                    long ob = outOff + (long) (b * qLen + t) * ldo + col;
                    for (int d = 0; d < headDim; d++) {
                        double o = 0;
                        for (int j = 0; j < limit; j++) {
                            o += p[j] * get(v, vOff + (long) (b * kvLen + j) * ldv + col + d);
                        }
                        set(out, ob + d, (float) o);
                    }
                    if (weights != null) {
                        long wb = wOff + (((long) b * heads + h) * qLen + t) * kvLen;
                        for (int j = 0; j < kvLen; j++) {
                            set(weights, wb + j, j < limit ? (float) p[j] : 0f);
                        }
                    }
                }
            }
        }
    }

    @Override
    public void attentionStep(int batch, int heads, int headDim, float scale,
                              MemorySegment q, long qOff, int ldq, MemorySegment kCache, MemorySegment vCache, int ldkv,
                              int[] rows, int rowStride, int[] lengths,
                              MemorySegment out, long outOff, int ldo, MemorySegment weights, long wOff, int ldw) {
        for (int b = 0; b < batch; b++) {
            int len = lengths[b];
            double[] p = new double[len];
            for (int h = 0; h < heads; h++) {
                int col = h * headDim;
                long qb = qOff + (long) b * ldq + col;
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < len; j++) {
                    long kb = (long) rows[b * rowStride + j] * ldkv + col;
                    double s = 0;
                    for (int d = 0; d < headDim; d++) {
                        s += (double) get(q, qb + d) * get(kCache, kb + d);
                    }
                    p[j] = s * scale;
                    max = Math.max(max, p[j]);
                }
                double sum = 0;
                for (int j = 0; j < len; j++) {
                    p[j] = Math.exp(p[j] - max);
                    sum += p[j];
                }
                long ob = outOff + (long) b * ldo + col;
                for (int d = 0; d < headDim; d++) {
                    double o = 0;
                    for (int j = 0; j < len; j++) {
                        o += p[j] / sum * get(vCache, (long) rows[b * rowStride + j] * ldkv + col + d);
                    }
                    set(out, ob + d, len == 0 ? 0f : (float) o);
                }
                if (weights != null) {
                    long wb = wOff + ((long) b * heads + h) * ldw;
                    for (int j = 0; j < len; j++) {
                        set(weights, wb + j, (float) (p[j] / sum));
                    }
                }
            }
        }
    }
}

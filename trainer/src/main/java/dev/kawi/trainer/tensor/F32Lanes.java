package dev.kawi.trainer.tensor;

import dev.kawi.runtime.kernels.Kernels;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The element-wise passes of training on F32 buffers, in float SIMD lanes. The layers' generic
 * code computes in double through {@link Scratch} (which the F64 gradient checks need); for F32
 * storage that widening, the staging copies and the scalar loops cost a quarter of a training
 * step, so each layer hands F32 buffers to the loops here instead (or, where the runtime has the
 * same operation, to its {@link Kernels}: softmax, scale, add). Offsets and lengths are in
 * elements. {@code F32PathTest} checks every loop against the double code on the same inputs.
 */
public final class F32Lanes {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT;

    private F32Lanes() {
    }

    private static FloatVector load(MemorySegment s, long i) {
        return FloatVector.fromMemorySegment(F, s, i << 2, NATIVE);
    }

    /**
     * The lanes of v summed left to right. Vector reductions may change their order between the
     * interpreter and compiled code, and a resumed run must repeat an uninterrupted one bit for bit.
     */
    private static float laneSum(FloatVector v) {
        float r = 0;
        for (int i = 0; i < L; i++) {
            r += v.lane(i);
        }
        return r;
    }

    private static float get(MemorySegment s, long i) {
        return s.getAtIndex(FL, i);
    }

    private static void set(MemorySegment s, long i, float v) {
        s.setAtIndex(FL, i, v);
    }

    /** {@code out[i] = max(x[i], 0)} (out may alias x exactly). */
    public static void relu(MemorySegment out, long o, MemorySegment x, long xo, long n) {
        FloatVector zero = FloatVector.zero(F);
        long i = 0;
        for (; i <= n - L; i += L) {
            load(x, xo + i).max(zero).intoMemorySegment(out, (o + i) << 2, NATIVE);
        }
        for (; i < n; i++) {
            set(out, o + i, Math.max(get(x, xo + i), 0f));
        }
    }

    /** {@code d[i] (+)= x[i] > 0 ? g[i] : 0}: adds when {@code accumulate}, else overwrites. */
    public static void reluBackward(MemorySegment d, long dOff, MemorySegment g, long gOff, MemorySegment x, long xOff,
                                    long n, boolean accumulate) {
        FloatVector zero = FloatVector.zero(F);
        long i = 0;
        for (; i <= n - L; i += L) {
            VectorMask<Float> pos = load(x, xOff + i).compare(VectorOperators.GT, 0f);
            FloatVector v = zero.blend(load(g, gOff + i), pos);
            if (accumulate) {
                v = load(d, dOff + i).add(v);
            }
            v.intoMemorySegment(d, (dOff + i) << 2, NATIVE);
        }
        for (; i < n; i++) {
            float v = get(x, xOff + i) > 0 ? get(g, gOff + i) : 0f;
            set(d, dOff + i, accumulate ? get(d, dOff + i) + v : v);
        }
    }

    /** Adds the row vector {@code b[bOff..bOff+cols)} to each of {@code rows} rows of x (stride cols), by the kernels' add. */
    public static void addToRows(Kernels k, MemorySegment x, long off, int rows, int cols, MemorySegment b, long bOff) {
        for (int r = 0; r < rows; r++) {
            long row = off + (long) r * cols;
            k.add(x, row, x, row, b, bOff, cols);
        }
    }

    /** {@code dst[j] += Σ_r x[r, j]} over {@code rows} rows of {@code cols} (stride cols), summed in row order by the kernels' add. */
    public static void addColumnSums(Kernels k, MemorySegment dst, long dOff, MemorySegment x, long off, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            k.add(dst, dOff, dst, dOff, x, off + (long) r * cols, cols);
        }
    }

    /** Sum of x[off .. off+n) in float lanes. */
    public static float sum(MemorySegment x, long off, int n) {
        FloatVector s = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            s = s.add(load(x, off + i));
        }
        float r = laneSum(s);
        for (; i < n; i++) {
            r += get(x, off + i);
        }
        return r;
    }

    /** Σ a[i]·b[i] over n elements in float lanes. */
    public static float dot(MemorySegment a, long ao, MemorySegment b, long bo, int n) {
        FloatVector s = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            s = load(a, ao + i).fma(load(b, bo + i), s);
        }
        float r = laneSum(s);
        for (; i < n; i++) {
            r += get(a, ao + i) * get(b, bo + i);
        }
        return r;
    }

    /**
     * Layer-norm forward over {@code rows} rows of {@code c} (stride c): {@code out = (x - mean) · rstd · gamma + beta},
     * saving each row's mean and rstd. The statistics are summed in float lanes and finished in double.
     */
    public static void layerNorm(MemorySegment out, long outOff, MemorySegment mean, MemorySegment rstd, long statOff,
                                 MemorySegment x, long xOff, MemorySegment gamma, long gOff, MemorySegment beta, long bOff,
                                 int rows, int c, double eps) {
        for (int r = 0; r < rows; r++) {
            long xr = xOff + (long) r * c;
            long or = outOff + (long) r * c;
            float m = (float) ((double) sum(x, xr, c) / c);
            FloatVector mv = FloatVector.broadcast(F, m);
            FloatVector ss = FloatVector.zero(F);
            int i = 0;
            for (; i <= c - L; i += L) {
                FloatVector dx = load(x, xr + i).sub(mv);
                ss = dx.fma(dx, ss);
            }
            double var = laneSum(ss);
            for (; i < c; i++) {
                float dx = get(x, xr + i) - m;
                var += dx * dx;
            }
            float s = (float) (1.0 / Math.sqrt(var / c + eps));
            FloatVector sv = FloatVector.broadcast(F, s);
            i = 0;
            for (; i <= c - L; i += L) {
                load(x, xr + i).sub(mv).mul(sv).fma(load(gamma, gOff + i), load(beta, bOff + i))
                        .intoMemorySegment(out, (or + i) << 2, NATIVE);
            }
            for (; i < c; i++) {
                set(out, or + i, (get(x, xr + i) - m) * s * get(gamma, gOff + i) + get(beta, bOff + i));
            }
            set(mean, statOff + r, m);
            set(rstd, statOff + r, s);
        }
    }

    /**
     * Layer-norm backward, accumulating into dInp, dGamma and dBeta: with {@code xhat = (x - mean) · rstd} and
     * {@code g = dOut · gamma}, {@code dx += rstd · (g - mean(g) - xhat · mean(g · xhat))}. {@code work} holds
     * at least {@code 3·c} floats (xhat and the two parameter-gradient sums).
     */
    public static void layerNormBackward(MemorySegment dInp, long dInpOff, MemorySegment dGamma, long dgOff,
                                         MemorySegment dBeta, long dbOff, MemorySegment dOut, long dOutOff,
                                         MemorySegment x, long xOff, MemorySegment mean, MemorySegment rstd, long statOff,
                                         MemorySegment gamma, long gOff, int rows, int c, float[] work) {
        java.util.Arrays.fill(work, c, 3 * c, 0f);
        int vc = c - c % L;
        for (int r = 0; r < rows; r++) {
            long xr = xOff + (long) r * c;
            long yr = dOutOff + (long) r * c;
            long dr = dInpOff + (long) r * c;
            float m = get(mean, statOff + r);
            float s = get(rstd, statOff + r);
            FloatVector mv = FloatVector.broadcast(F, m);
            FloatVector sv = FloatVector.broadcast(F, s);
            FloatVector gs = FloatVector.zero(F);
            FloatVector gxs = FloatVector.zero(F);
            for (int i = 0; i < vc; i += L) {
                FloatVector xh = load(x, xr + i).sub(mv).mul(sv);
                xh.intoArray(work, i);
                FloatVector g = load(dOut, yr + i).mul(load(gamma, gOff + i));
                gs = gs.add(g);
                gxs = g.fma(xh, gxs);
            }
            float gSum = laneSum(gs);
            float gxSum = laneSum(gxs);
            for (int i = vc; i < c; i++) {
                float xh = (get(x, xr + i) - m) * s;
                work[i] = xh;
                float g = get(dOut, yr + i) * get(gamma, gOff + i);
                gSum += g;
                gxSum += g * xh;
            }
            float gMean = gSum / c;
            float gxMean = gxSum / c;
            FloatVector gm = FloatVector.broadcast(F, gMean);
            FloatVector gxm = FloatVector.broadcast(F, gxMean);
            for (int i = 0; i < vc; i += L) {
                FloatVector xh = FloatVector.fromArray(F, work, i);
                FloatVector dy = load(dOut, yr + i);
                FloatVector g = dy.mul(load(gamma, gOff + i));
                FloatVector.fromArray(F, work, c + i).add(dy).intoArray(work, c + i);
                dy.fma(xh, FloatVector.fromArray(F, work, 2 * c + i)).intoArray(work, 2 * c + i);
                g.sub(gm).sub(xh.mul(gxm)).fma(sv, load(dInp, dr + i)).intoMemorySegment(dInp, (dr + i) << 2, NATIVE);
            }
            for (int i = vc; i < c; i++) {
                float xh = work[i];
                float dy = get(dOut, yr + i);
                float g = dy * get(gamma, gOff + i);
                work[c + i] += dy;
                work[2 * c + i] += dy * xh;
                set(dInp, dr + i, get(dInp, dr + i) + s * (g - gMean - xh * gxMean));
            }
        }
        for (int i = 0; i < c; i++) {
            set(dBeta, dbOff + i, get(dBeta, dbOff + i) + work[c + i]);
            set(dGamma, dgOff + i, get(dGamma, dgOff + i) + work[2 * c + i]);
        }
    }

    /**
     * Softmax backward over {@code rows} rows of {@code cols}: {@code ds = p ⊙ (ds - Σ p ⊙ ds) · scale}, where
     * {@code ds} enters as the gradient of the probabilities and leaves as that of the scaled scores.
     */
    public static void softmaxBackward(MemorySegment p, long pOff, MemorySegment ds, long dsOff, int rows, int cols, float scale) {
        for (int r = 0; r < rows; r++) {
            long pr = pOff + (long) r * cols;
            long dr = dsOff + (long) r * cols;
            float dot = dot(p, pr, ds, dr, cols);
            FloatVector dv = FloatVector.broadcast(F, dot);
            FloatVector sv = FloatVector.broadcast(F, scale);
            int i = 0;
            for (; i <= cols - L; i += L) {
                load(p, pr + i).mul(load(ds, dr + i).sub(dv)).mul(sv).intoMemorySegment(ds, (dr + i) << 2, NATIVE);
            }
            for (; i < cols; i++) {
                set(ds, dr + i, get(p, pr + i) * (get(ds, dr + i) - dot) * scale);
            }
        }
    }

    /**
     * The cross-entropy gradient of one row from its probabilities: {@code x[j] = (p[j] - uniform) · scale},
     * then {@code x[y] -= onehot · scale}.
     */
    public static void crossEntropyGrad(MemorySegment x, long off, int v, int y, float uniform, float scale, float onehot) {
        FloatVector u = FloatVector.broadcast(F, uniform);
        FloatVector sv = FloatVector.broadcast(F, scale);
        int i = 0;
        for (; i <= v - L; i += L) {
            load(x, off + i).sub(u).mul(sv).intoMemorySegment(x, (off + i) << 2, NATIVE);
        }
        for (; i < v; i++) {
            set(x, off + i, (get(x, off + i) - uniform) * scale);
        }
        set(x, off + y, get(x, off + y) - onehot * scale);
    }
}

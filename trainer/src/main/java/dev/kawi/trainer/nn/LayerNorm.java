package dev.kawi.trainer.nn;

import dev.kawi.trainer.tensor.Buf;
import dev.kawi.trainer.tensor.F32Buf;
import dev.kawi.trainer.tensor.F32Lanes;
import dev.kawi.trainer.tensor.Scratch;

/**
 * Layer norm over the last dimension: {@code out = (x - mean) · rstd · gamma + beta} with the
 * biased variance and {@code rstd = 1 / sqrt(var + eps)}, as the runtime computes it.
 */
public final class LayerNorm {
    private LayerNorm() {
    }

    /**
     * Forward over N rows of C. Saves each row's mean and rstd (element r of {@code mean}/{@code rstd})
     * for the backward pass. {@code out} may not alias {@code inp}.
     */
    public static void forward(Buf out, long outOff, Buf mean, Buf rstd, long statOff,
                               Buf inp, long inpOff, Buf gamma, long gOff, Buf beta, long bOff,
                               int n, int c, double eps) {
        if (out instanceof F32Buf o && mean instanceof F32Buf mb && rstd instanceof F32Buf sb && inp instanceof F32Buf x
                && gamma instanceof F32Buf g && beta instanceof F32Buf b) {
            F32Lanes.layerNorm(o.segment(), outOff, mb.segment(), sb.segment(), statOff, x.segment(), inpOff,
                    g.segment(), gOff, b.segment(), bOff, n, c, eps);
            return;
        }
        double[] x = Scratch.get(0, c);
        double[] g = Scratch.get(1, c);
        double[] b = Scratch.get(2, c);
        gamma.read(gOff, g, 0, c);
        beta.read(bOff, b, 0, c);
        for (int r = 0; r < n; r++) {
            inp.read(inpOff + (long) r * c, x, 0, c);
            double m = 0;
            for (int i = 0; i < c; i++) {
                m += x[i];
            }
            m /= c;
            double v = 0;
            for (int i = 0; i < c; i++) {
                double dx = x[i] - m;
                v += dx * dx;
            }
            v /= c;
            double s = 1.0 / Math.sqrt(v + eps);
            for (int i = 0; i < c; i++) {
                x[i] = (x[i] - m) * s * g[i] + b[i];
            }
            out.write(outOff + (long) r * c, x, 0, c);
            mean.set(statOff + r, m);
            rstd.set(statOff + r, s);
        }
    }

    /**
     * Backward: accumulates into {@code dInp}, {@code dGamma} and {@code dBeta}. With
     * {@code xhat = (x - mean) · rstd} and {@code g = dOut · gamma}:
     * {@code dx = rstd · (g - mean(g) - xhat · mean(g · xhat))}.
     */
    public static void backward(Buf dInp, long dInpOff, Buf dGamma, long dgOff, Buf dBeta, long dbOff,
                                Buf dOut, long dOutOff, Buf inp, long inpOff, Buf mean, Buf rstd, long statOff,
                                Buf gamma, long gOff, int n, int c) {
        if (dInp instanceof F32Buf dx && dGamma instanceof F32Buf dg && dBeta instanceof F32Buf db && dOut instanceof F32Buf dy
                && inp instanceof F32Buf x && mean instanceof F32Buf mb && rstd instanceof F32Buf sb && gamma instanceof F32Buf g) {
            F32Lanes.layerNormBackward(dx.segment(), dInpOff, dg.segment(), dgOff, db.segment(), dbOff, dy.segment(), dOutOff,
                    x.segment(), inpOff, mb.segment(), sb.segment(), statOff, g.segment(), gOff, n, c, new float[3 * c]);
            return;
        }
        double[] x = Scratch.get(0, c);
        double[] dy = Scratch.get(1, c);
        double[] dx = Scratch.get(2, c);
        double[] gam = Scratch.get(3, c);
        double[] dg = Scratch.get(4, c);
        double[] db = Scratch.get(5, c);
        gamma.read(gOff, gam, 0, c);
        java.util.Arrays.fill(dg, 0, c, 0.0);
        java.util.Arrays.fill(db, 0, c, 0.0);
        for (int r = 0; r < n; r++) {
            inp.read(inpOff + (long) r * c, x, 0, c);
            dOut.read(dOutOff + (long) r * c, dy, 0, c);
            dInp.read(dInpOff + (long) r * c, dx, 0, c);
            double m = mean.get(statOff + r);
            double s = rstd.get(statOff + r);
            double gMean = 0;
            double gxMean = 0;
            for (int i = 0; i < c; i++) {
                x[i] = (x[i] - m) * s;               // x now holds xhat
                double g = dy[i] * gam[i];
                gMean += g;
                gxMean += g * x[i];
            }
            gMean /= c;
            gxMean /= c;
            for (int i = 0; i < c; i++) {
                double g = dy[i] * gam[i];
                db[i] += dy[i];
                dg[i] += dy[i] * x[i];
                dx[i] += s * (g - gMean - x[i] * gxMean);
            }
            dInp.write(dInpOff + (long) r * c, dx, 0, c);
        }
        // The parameter gradients are summed over rows in double, then added once.
        addRow(dGamma, dgOff, dg, c, x);
        addRow(dBeta, dbOff, db, c, x);
    }

    /** {@code dst[off..off+c) += v[0..c)}, through {@code tmp}. */
    private static void addRow(Buf dst, long off, double[] v, int c, double[] tmp) {
        dst.read(off, tmp, 0, c);
        for (int i = 0; i < c; i++) {
            tmp[i] += v[i];
        }
        dst.write(off, tmp, 0, c);
    }
}

package dev.kawi.trainer.nn;

import dev.kawi.trainer.tensor.Buf;

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
        for (int r = 0; r < n; r++) {
            long x = inpOff + (long) r * c;
            double m = 0;
            for (int i = 0; i < c; i++) {
                m += inp.get(x + i);
            }
            m /= c;
            double v = 0;
            for (int i = 0; i < c; i++) {
                double dx = inp.get(x + i) - m;
                v += dx * dx;
            }
            v /= c;
            double s = 1.0 / Math.sqrt(v + eps);
            long o = outOff + (long) r * c;
            for (int i = 0; i < c; i++) {
                out.set(o + i, (inp.get(x + i) - m) * s * gamma.get(gOff + i) + beta.get(bOff + i));
            }
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
        for (int r = 0; r < n; r++) {
            long x = inpOff + (long) r * c;
            long d = dOutOff + (long) r * c;
            double m = mean.get(statOff + r);
            double s = rstd.get(statOff + r);
            double gMean = 0;
            double gxMean = 0;
            for (int i = 0; i < c; i++) {
                double xhat = (inp.get(x + i) - m) * s;
                double g = dOut.get(d + i) * gamma.get(gOff + i);
                gMean += g;
                gxMean += g * xhat;
            }
            gMean /= c;
            gxMean /= c;
            long dx = dInpOff + (long) r * c;
            for (int i = 0; i < c; i++) {
                double xhat = (inp.get(x + i) - m) * s;
                double dy = dOut.get(d + i);
                double g = dy * gamma.get(gOff + i);
                dBeta.add(dbOff + i, dy);
                dGamma.add(dgOff + i, dy * xhat);
                dInp.add(dx + i, s * (g - gMean - xhat * gxMean));
            }
        }
    }
}

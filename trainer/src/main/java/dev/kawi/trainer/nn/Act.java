package dev.kawi.trainer.nn;

import dev.kawi.trainer.tensor.Buf;
import dev.kawi.trainer.tensor.F32Buf;
import dev.kawi.trainer.tensor.F32Lanes;
import dev.kawi.trainer.tensor.Scratch;
import dev.kawi.weights.ModelConfig;

/** The feed-forward activations and their derivatives (GELU is the exact erf form, as in the runtime). */
public final class Act {
    private static final double SQRT_HALF = Math.sqrt(0.5);
    private static final double INV_SQRT_2PI = 1.0 / Math.sqrt(2 * Math.PI);

    private Act() {
    }

    /** {@code out[i] = act(inp[i])} for n elements; out may alias inp. */
    public static void forward(Buf out, long outOff, Buf inp, long inpOff, long n, ModelConfig.Activation act) {
        if (act == ModelConfig.Activation.RELU && out instanceof F32Buf o && inp instanceof F32Buf x) {
            F32Lanes.relu(o.segment(), outOff, x.segment(), inpOff, n);
            return;
        }
        double[] x = Scratch.get(0, Buf.CHUNK);
        for (long c = 0; c < n; c += Buf.CHUNK) {
            int len = (int) Math.min(Buf.CHUNK, n - c);
            inp.read(inpOff + c, x, 0, len);
            switch (act) {
                case RELU -> {
                    for (int i = 0; i < len; i++) {
                        x[i] = Math.max(x[i], 0);
                    }
                }
                case GELU -> {
                    for (int i = 0; i < len; i++) {
                        x[i] = 0.5 * x[i] * (1 + Erf.erf(x[i] * SQRT_HALF));
                    }
                }
                case SWISH -> {
                    for (int i = 0; i < len; i++) {
                        x[i] = x[i] / (1 + Math.exp(-x[i]));
                    }
                }
            }
            out.write(outOff + c, x, 0, len);
        }
    }

    /** {@code dInp[i] += dOut[i] · act'(inp[i])}. */
    public static void backward(Buf dInp, long dInpOff, Buf dOut, long dOutOff, Buf inp, long inpOff, long n,
                                ModelConfig.Activation act) {
        backward(dInp, dInpOff, dOut, dOutOff, inp, inpOff, n, act, true);
    }

    /** {@code dInp[i] (+)= dOut[i] · act'(inp[i])}: adds when {@code accumulate}, else overwrites (no read of dInp). */
    public static void backward(Buf dInp, long dInpOff, Buf dOut, long dOutOff, Buf inp, long inpOff, long n,
                                ModelConfig.Activation act, boolean accumulate) {
        if (act == ModelConfig.Activation.RELU && dInp instanceof F32Buf d && dOut instanceof F32Buf g && inp instanceof F32Buf x) {
            F32Lanes.reluBackward(d.segment(), dInpOff, g.segment(), dOutOff, x.segment(), inpOff, n, accumulate);
            return;
        }
        double[] x = Scratch.get(0, Buf.CHUNK);
        double[] g = Scratch.get(1, Buf.CHUNK);
        double[] d = Scratch.get(2, Buf.CHUNK);
        for (long c = 0; c < n; c += Buf.CHUNK) {
            int len = (int) Math.min(Buf.CHUNK, n - c);
            inp.read(inpOff + c, x, 0, len);
            dOut.read(dOutOff + c, g, 0, len);
            if (accumulate) {
                dInp.read(dInpOff + c, d, 0, len);
            } else {
                java.util.Arrays.fill(d, 0, len, 0.0);
            }
            switch (act) {
                case RELU -> {
                    for (int i = 0; i < len; i++) {
                        d[i] += x[i] > 0 ? g[i] : 0;
                    }
                }
                case GELU -> {
                    for (int i = 0; i < len; i++) {
                        double v = x[i];
                        d[i] += g[i] * (0.5 * (1 + Erf.erf(v * SQRT_HALF)) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
                    }
                }
                case SWISH -> {
                    for (int i = 0; i < len; i++) {
                        double sg = 1 / (1 + Math.exp(-x[i]));
                        d[i] += g[i] * sg * (1 + x[i] * (1 - sg));
                    }
                }
            }
            dInp.write(dInpOff + c, d, 0, len);
        }
    }
}

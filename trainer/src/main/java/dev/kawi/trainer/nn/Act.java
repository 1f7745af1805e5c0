package dev.kawi.trainer.nn;

import dev.kawi.trainer.tensor.Buf;
import dev.kawi.weights.ModelConfig;

/** The feed-forward activations and their derivatives (GELU is the exact erf form, as in the runtime). */
public final class Act {
    private static final double SQRT_HALF = Math.sqrt(0.5);
    private static final double INV_SQRT_2PI = 1.0 / Math.sqrt(2 * Math.PI);

    private Act() {
    }

    /** {@code out[i] = act(inp[i])} for n elements; out may alias inp. */
    public static void forward(Buf out, long outOff, Buf inp, long inpOff, long n, ModelConfig.Activation act) {
        for (long i = 0; i < n; i++) {
            double x = inp.get(inpOff + i);
            out.set(outOff + i, switch (act) {
                case RELU -> x > 0 ? x : 0;
                case GELU -> 0.5 * x * (1 + Erf.erf(x * SQRT_HALF));
                case SWISH -> x / (1 + Math.exp(-x));
            });
        }
    }

    /** {@code dInp[i] += dOut[i] · act'(inp[i])}. */
    public static void backward(Buf dInp, long dInpOff, Buf dOut, long dOutOff, Buf inp, long inpOff, long n,
                                ModelConfig.Activation act) {
        for (long i = 0; i < n; i++) {
            double x = inp.get(inpOff + i);
            double g = switch (act) {
                case RELU -> x > 0 ? 1 : 0;
                case GELU -> 0.5 * (1 + Erf.erf(x * SQRT_HALF)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
                case SWISH -> {
                    double s = 1 / (1 + Math.exp(-x));
                    yield s * (1 + x * (1 - s));
                }
            };
            dInp.add(dInpOff + i, dOut.get(dOutOff + i) * g);
        }
    }
}

package dev.kawi.trainer.optim;

import dev.kawi.trainer.model.ParamLayout;
import dev.kawi.trainer.tensor.Buf;
import dev.kawi.trainer.tensor.F32Buf;
import dev.kawi.trainer.tensor.Scratch;

/**
 * AdamW (Loshchilov and Hutter): Adam's moment estimates with bias correction and weight decay
 * decoupled from the gradient, {@code p -= lr · (m̂ / (√v̂ + eps) + decay · p)}. Decay applies to
 * weight matrices (2-D tensors) only, not to biases or norms.
 */
public final class AdamW {
    private final ParamLayout layout;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final F32Buf m;
    private final F32Buf v;

    /** Zeroed moments for every parameter of {@code layout}. */
    public AdamW(ParamLayout layout, double beta1, double beta2, double eps, double weightDecay) {
        this.layout = layout;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.m = new F32Buf(layout.total());
        this.v = new F32Buf(layout.total());
    }

    /** First moments (for checkpoints). */
    public F32Buf firstMoments() {
        return m;
    }

    /** Second moments (for checkpoints). */
    public F32Buf secondMoments() {
        return v;
    }

    /**
     * One update of step {@code step} (1-based, for bias correction) at learning rate {@code lr},
     * with the gradient multiplied by {@code gradScale} first (gradient clipping).
     */
    public void update(F32Buf params, F32Buf grad, int step, double lr, double gradScale) {
        double c1 = 1 - Math.pow(beta1, step);
        double c2 = 1 - Math.pow(beta2, step);
        double[] pv = Scratch.get(0, Buf.CHUNK);
        double[] gv = Scratch.get(1, Buf.CHUNK);
        double[] mv = Scratch.get(2, Buf.CHUNK);
        double[] vv = Scratch.get(3, Buf.CHUNK);
        for (ParamLayout.Entry e : layout.entries()) {
            double decay = e.isMatrix() ? weightDecay : 0;
            for (long c = 0; c < e.size(); c += Buf.CHUNK) {
                int len = (int) Math.min(Buf.CHUNK, e.size() - c);
                long at = e.offset() + c;
                params.read(at, pv, 0, len);
                grad.read(at, gv, 0, len);
                m.read(at, mv, 0, len);
                v.read(at, vv, 0, len);
                for (int i = 0; i < len; i++) {
                    double g = gv[i] * gradScale;
                    double mi = beta1 * mv[i] + (1 - beta1) * g;
                    double vi = beta2 * vv[i] + (1 - beta2) * g * g;
                    mv[i] = mi;
                    vv[i] = vi;
                    pv[i] -= lr * ((mi / c1) / (Math.sqrt(vi / c2) + eps) + decay * pv[i]);
                }
                params.write(at, pv, 0, len);
                m.write(at, mv, 0, len);
                v.write(at, vv, 0, len);
            }
        }
    }
}

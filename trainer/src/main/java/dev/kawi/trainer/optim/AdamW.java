package dev.kawi.trainer.optim;

import dev.kawi.trainer.model.ParamLayout;
import dev.kawi.trainer.tensor.F32Buf;

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
        for (ParamLayout.Entry e : layout.entries()) {
            double decay = e.isMatrix() ? weightDecay : 0;
            long end = e.offset() + e.size();
            for (long i = e.offset(); i < end; i++) {
                double g = grad.getFloat(i) * gradScale;
                double mi = beta1 * m.getFloat(i) + (1 - beta1) * g;
                double vi = beta2 * v.getFloat(i) + (1 - beta2) * g * g;
                m.set(i, mi);
                v.set(i, vi);
                double p = params.getFloat(i);
                params.set(i, p - lr * ((mi / c1) / (Math.sqrt(vi / c2) + eps) + decay * p));
            }
        }
    }
}

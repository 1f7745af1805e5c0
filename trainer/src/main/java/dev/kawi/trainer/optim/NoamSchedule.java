package dev.kawi.trainer.optim;

/**
 * The learning rate of "Attention is All You Need" (section 5.3):
 * {@code lr = scale · d_model^-0.5 · min(step^-0.5, step · warmup^-1.5)}: linear warm-up to
 * the peak at {@code warmup} steps, then decay with the inverse square root of the step.
 */
public record NoamSchedule(int dModel, int warmup, double scale) {
    /** Validates the arguments. */
    public NoamSchedule {
        if (dModel < 1 || warmup < 1 || !(scale > 0)) {
            throw new IllegalArgumentException("schedule needs d_model >= 1, warmup >= 1 and scale > 0");
        }
    }

    /** The learning rate at {@code step} (1-based). */
    public double lr(int step) {
        double s = Math.max(step, 1);
        return scale / Math.sqrt(dModel) * Math.min(1 / Math.sqrt(s), s * Math.pow(warmup, -1.5));
    }
}

package dev.kawi.trainer.nn;

import dev.kawi.trainer.tensor.Buf;

/**
 * Label-smoothed cross-entropy over padded rows, fused with its backward pass. With smoothing
 * ε the target distribution is {@code (1-ε)·onehot(y) + ε/V} (PyTorch's {@code label_smoothing}),
 * so a row's loss is {@code -(1-ε)·log p_y - (ε/V)·Σ_j log p_j}. Rows whose target is the padding
 * id contribute nothing.
 */
public final class CrossEntropy {
    private CrossEntropy() {
    }

    /** Sums over the rows of one call: smoothed loss, plain negative log-likelihood, tokens, and correct argmax predictions. */
    public record Sums(double loss, double nll, long tokens, long correct) {
        /** Element-wise sum. */
        public Sums plus(Sums o) {
            return new Sums(loss + o.loss, nll + o.nll, tokens + o.tokens, correct + o.correct);
        }

        /** Nothing yet. */
        public static final Sums ZERO = new Sums(0, 0, 0, 0);
    }

    /**
     * Computes the loss of {@code n} rows of {@code v} logits and, when {@code gradScale} is not 0,
     * replaces the logits by their gradient times {@code gradScale} (the caller's normalizer, e.g.
     * 1 / target tokens of the whole batch). With {@code gradScale} 0 the logits are left as they were.
     */
    public static Sums forwardBackward(Buf logits, long off, int[] targets, int padId, double smoothing,
                                       int n, int v, double gradScale) {
        double loss = 0;
        double nll = 0;
        long tokens = 0;
        long correct = 0;
        for (int r = 0; r < n; r++) {
            long row = off + (long) r * v;
            int y = targets[r];
            if (y == padId) {
                if (gradScale != 0) {
                    logits.zero(row, v);
                }
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            int arg = 0;
            double sumLogits = 0;
            for (int j = 0; j < v; j++) {
                double x = logits.get(row + j);
                if (x > max) {
                    max = x;
                    arg = j;
                }
                sumLogits += x;
            }
            double sum = 0;
            for (int j = 0; j < v; j++) {
                sum += Math.exp(logits.get(row + j) - max);
            }
            double lse = max + Math.log(sum);
            double logPy = logits.get(row + y) - lse;
            double meanLogP = sumLogits / v - lse;
            loss += -(1 - smoothing) * logPy - smoothing * meanLogP;
            nll -= logPy;
            tokens++;
            if (arg == y) {
                correct++;
            }
            if (gradScale != 0) {
                double uniform = smoothing / v;
                for (int j = 0; j < v; j++) {
                    double pj = Math.exp(logits.get(row + j) - lse);
                    double target = uniform + (j == y ? 1 - smoothing : 0);
                    logits.set(row + j, (pj - target) * gradScale);
                }
            }
        }
        return new Sums(loss, nll, tokens, correct);
    }
}

package dev.kawi.trainer.nn;

import dev.kawi.trainer.tensor.Buf;
import dev.kawi.trainer.tensor.Scratch;

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
        double[] x = Scratch.get(0, v);
        double uniform = smoothing / v;
        for (int r = 0; r < n; r++) {
            long row = off + (long) r * v;
            int y = targets[r];
            if (y == padId) {
                if (gradScale != 0) {
                    logits.zero(row, v);
                }
                continue;
            }
            logits.read(row, x, 0, v);
            double max = Double.NEGATIVE_INFINITY;
            int arg = 0;
            double sumLogits = 0;
            for (int j = 0; j < v; j++) {
                if (x[j] > max) {
                    max = x[j];
                    arg = j;
                }
                sumLogits += x[j];
            }
            double xy = x[y];
            // One exponential per logit: x becomes exp(x - max), reused by the gradient.
            double sum = 0;
            for (int j = 0; j < v; j++) {
                x[j] = Math.exp(x[j] - max);
                sum += x[j];
            }
            double lse = max + Math.log(sum);
            double logPy = xy - lse;
            double meanLogP = sumLogits / v - lse;
            loss += -(1 - smoothing) * logPy - smoothing * meanLogP;
            nll -= logPy;
            tokens++;
            if (arg == y) {
                correct++;
            }
            if (gradScale != 0) {
                double inv = 1 / sum;
                for (int j = 0; j < v; j++) {
                    x[j] = (x[j] * inv - uniform) * gradScale;
                }
                x[y] -= (1 - smoothing) * gradScale;
                logits.write(row, x, 0, v);
            }
        }
        return new Sums(loss, nll, tokens, correct);
    }
}

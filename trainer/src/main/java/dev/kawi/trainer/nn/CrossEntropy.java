package dev.kawi.trainer.nn;

import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.trainer.tensor.Buf;
import dev.kawi.trainer.tensor.F32Buf;
import dev.kawi.trainer.tensor.F32Lanes;
import dev.kawi.trainer.tensor.Products;
import dev.kawi.trainer.tensor.Scratch;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

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
    public static Sums forwardBackward(Products p, Buf logits, long off, int[] targets, int padId, double smoothing,
                                       int n, int v, double gradScale) {
        if (gradScale != 0 && logits instanceof F32Buf f) {
            return forwardBackwardF32(p.kernels(), f.segment(), off, targets, padId, smoothing, n, v, (float) gradScale);
        }
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

    /**
     * The F32 pass (with a gradient), on the runtime's softmax. The row's log-sum-exp comes from the
     * probability of its largest logit: {@code p_max = exp(0) / Σ exp(x - max)}, which is at least
     * 1/V, so {@code lse = max - log(p_max)} keeps full precision however small {@code p_y} is.
     */
    private static Sums forwardBackwardF32(Kernels k, MemorySegment x, long off, int[] targets, int padId, double smoothing,
                                           int n, int v, float gradScale) {
        double loss = 0;
        double nll = 0;
        long tokens = 0;
        long correct = 0;
        for (int r = 0; r < n; r++) {
            long row = off + (long) r * v;
            int y = targets[r];
            if (y == padId) {
                x.asSlice(4 * row, 4L * v).fill((byte) 0);
                continue;
            }
            int arg = k.argmax(x, row, v);
            double max = x.getAtIndex(ValueLayout.JAVA_FLOAT, row + arg);
            double xy = x.getAtIndex(ValueLayout.JAVA_FLOAT, row + y);
            double sumLogits = F32Lanes.sum(x, row, v);
            k.softmax(x, row, 1, v, v, null);
            double lse = max - Math.log(x.getAtIndex(ValueLayout.JAVA_FLOAT, row + arg));
            double logPy = xy - lse;
            loss += -(1 - smoothing) * logPy - smoothing * (sumLogits / v - lse);
            nll -= logPy;
            tokens++;
            if (arg == y) {
                correct++;
            }
            F32Lanes.crossEntropyGrad(x, row, v, y, (float) (smoothing / v), gradScale, (float) (1 - smoothing));
        }
        return new Sums(loss, nll, tokens, correct);
    }
}

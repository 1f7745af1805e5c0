package dev.kawi.runtime.search;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * Draws a token from softmax(logits / temperature), restricted to the top-k tokens and then to
 * the smallest set whose probability reaches top-p. Candidates are ordered by logit (ties: lower
 * id first), so a given random stream always gives the same token.
 */
public final class Sampler {
    private final float temperature;
    private final int topK;
    private final float topP;
    private int[] idx = new int[0];
    private float[] val = new float[0];

    /** A sampler with these settings (validated by {@link DecodingOptions}). */
    public Sampler(float temperature, int topK, float topP) {
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
    }

    /** Samples one token id from the {@code vocab} logits at element {@code off}. */
    public int sample(dev.kawi.runtime.kernels.Kernels k, MemorySegment logits, long off, int vocab, SplittableRandom rnd) {
        int n = topK > 0 ? Math.min(topK, vocab) : vocab;
        if (idx.length < n) {
            idx = new int[n];
            val = new float[n];
        }
        k.topK(logits, off, vocab, n, idx, val);
        float max = val[0];
        if (max == Float.NEGATIVE_INFINITY) {
            return idx[0];
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double p = Math.exp((val[i] - max) / temperature);
            val[i] = (float) p;
            sum += p;
        }
        // Nucleus: keep the shortest prefix whose mass reaches topP.
        int keep = n;
        if (topP < 1f) {
            double acc = 0;
            for (int i = 0; i < n; i++) {
                acc += val[i] / sum;
                if (acc >= topP) {
                    keep = i + 1;
                    break;
                }
            }
        }
        double total = 0;
        for (int i = 0; i < keep; i++) {
            total += val[i];
        }
        double r = rnd.nextDouble() * total;
        for (int i = 0; i < keep; i++) {
            r -= val[i];
            if (r < 0) {
                return idx[i];
            }
        }
        return idx[keep - 1];
    }
}

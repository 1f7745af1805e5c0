package dev.kawi.trainer.nn;

import dev.kawi.trainer.tensor.Buf;
import dev.kawi.trainer.tensor.Scratch;

/**
 * Inverted dropout whose mask is a pure function of (seed, element index): nothing is stored,
 * the backward pass recomputes it, and a resumed run draws exactly the masks of an uninterrupted
 * one (the seed is derived from the step).
 */
public final class Dropout {
    private Dropout() {
    }

    // Element i is kept (probability 1 - p, p rounded to a multiple of 2^-16) when its 16-bit
    // draw is at least p · 65536; one 64-bit hash of (seed, i / 4) gives the draws of four
    // neighbouring elements.

    /** SplitMix64's finalizer of (seed, group): a counter-based generator, independent per group. */
    private static long hash(long seed, long group) {
        long z = seed + (group + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static long draw(long hash, long i) {
        return (hash >>> (16 * (i & 3))) & 0xFFFF;
    }

    private static long threshold(double p) {
        return Math.round(p * 65536);
    }

    /** In place: {@code x[i] = keep ? x[i] / (1 - p) : 0} for n elements; nothing when p is 0. */
    public static void forward(Buf x, long off, long n, double p, long seed) {
        if (p <= 0) {
            return;
        }
        double s = 1 / (1 - p);
        double[] v = Scratch.get(0, Buf.CHUNK);
        for (long c = 0; c < n; c += Buf.CHUNK) {
            int len = (int) Math.min(Buf.CHUNK, n - c);
            x.read(off + c, v, 0, len);
            long thr = threshold(p);
            long group = -1;
            long h = 0;
            for (int i = 0; i < len; i++) {
                long idx = c + i;
                if (idx >>> 2 != group) {
                    group = idx >>> 2;
                    h = hash(seed, group);
                }
                v[i] = draw(h, idx) >= thr ? v[i] * s : 0;
            }
            x.write(off + c, v, 0, len);
        }
    }

    /** In place on a gradient: the same mask and scale as the forward pass with this seed. */
    public static void backward(Buf dx, long off, long n, double p, long seed) {
        forward(dx, off, n, p, seed);
    }
}

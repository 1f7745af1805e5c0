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

    /** True when element i is kept (probability 1 - p). */
    static boolean keep(long seed, long i, double p) {
        // SplitMix64 finalizer of (seed, i): a counter-based generator, independent per element.
        long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (z >>> 11) * 0x1.0p-53 >= p;
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
            for (int i = 0; i < len; i++) {
                v[i] = keep(seed, c + i, p) ? v[i] * s : 0;
            }
            x.write(off + c, v, 0, len);
        }
    }

    /** In place on a gradient: the same mask and scale as the forward pass with this seed. */
    public static void backward(Buf dx, long off, long n, double p, long seed) {
        forward(dx, off, n, p, seed);
    }
}

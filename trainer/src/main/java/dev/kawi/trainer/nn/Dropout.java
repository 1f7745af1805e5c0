package dev.kawi.trainer.nn;

import dev.kawi.trainer.tensor.Buf;
import dev.kawi.trainer.tensor.F32Buf;
import dev.kawi.trainer.tensor.Scratch;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

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
        long z = seed + (group + 1) * GOLDEN;
        z = (z ^ (z >>> 30)) * MIX1;
        z = (z ^ (z >>> 27)) * MIX2;
        return z ^ (z >>> 31);
    }

    /** SplitMix64's increment and mixing multipliers (the vector loop computes the same hash). */
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final long MIX1 = 0xBF58476D1CE4E5B9L;
    private static final long MIX2 = 0x94D049BB133111EBL;

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
        if (x instanceof F32Buf f) {
            forwardF32(f.segment(), off, n, (float) (1 / (1 - p)), threshold(p), seed);
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

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Long> G = LongVector.SPECIES_PREFERRED;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    /**
     * The F32 loop, in float: one vector of hashes gives the 16-bit draws of two float vectors
     * (read as shorts, lane 4g + k is bits 16k of hash g, the scalar {@link #draw}).
     */
    private static void forwardF32(MemorySegment x, long off, long n, float s, long thr, long seed) {
        int groups = G.length();
        LongVector iota = LongVector.zero(G).addIndex(1);
        FloatVector zero = FloatVector.zero(F);
        long g = 0;
        for (; 4 * (g + groups) <= n; g += groups) {
            LongVector z = iota.add(g + 1).mul(GOLDEN).add(seed);
            z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 30)).mul(MIX1);
            z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 27)).mul(MIX2);
            z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 31));
            ShortVector draws = z.reinterpretAsShorts();
            for (int part = 0; part < 2; part++) {
                IntVector d = (IntVector) draws.convertShape(VectorOperators.ZERO_EXTEND_S2I, I, part);
                VectorMask<Float> keep = d.compare(VectorOperators.GE, (int) thr).cast(F);
                long e = (off + 4 * g + (long) part * F.length()) << 2;
                zero.blend(FloatVector.fromMemorySegment(F, x, e, NATIVE).mul(s), keep).intoMemorySegment(x, e, NATIVE);
            }
        }
        ValueLayout.OfFloat fl = ValueLayout.JAVA_FLOAT;
        for (; 4 * g < n; g++) {
            long h = hash(seed, g);
            long base = off + 4 * g;
            int m = (int) Math.min(4, n - 4 * g);
            for (int k = 0; k < m; k++) {
                float v = x.getAtIndex(fl, base + k);
                x.setAtIndex(fl, base + k, draw(h, k) >= thr ? v * s : 0f);
            }
        }
    }

    /** In place on a gradient: the same mask and scale as the forward pass with this seed. */
    public static void backward(Buf dx, long off, long n, double p, long seed) {
        forward(dx, off, n, p, seed);
    }
}

package dev.kawi.runtime.kernels.simd;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector math shared by the SIMD kernels: exp, GELU, swish and a fixed-order horizontal sum. Every
 * vector function has a scalar twin doing the very same float operations in the same order, so a
 * value computed in a scalar tail is bit-identical to the same value computed in a vector lane.
 * That is what makes results independent of where a row or chunk boundary falls.
 *
 * <p>Why not {@code lanewise(VectorOperators.EXP)}: measured on JDK 25 (AVX-512 EPYC) it is no
 * faster than the polynomial at 512 bits (0.15 ns/element both) and only slightly faster at 256
 * bits, and its result depends on whether the code runs interpreted (per-lane Math.exp) or
 * C2-compiled (SVML stub): about 1% of lanes differed in the last bit, so a kernel's output would
 * change once the JIT kicks in. The polynomial gives the same bits in both, and in scalar code.
 */
final class VectorMath {
    /** The preferred species: the widest the CPU has (256 bits on AVX2, 512 on AVX-512). */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Lanes per float vector. */
    static final int L = F.length();
    /** Byte order of activations (native, as Kernels says). */
    static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    /** Scalar float access to activations. */
    static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED;

    // exp: x = n ln2 + r with |r| <= ln2/2, e^x = 2^n e^r. Below EXP_LO (ln of the smallest normal
    // float) the result is flushed to 0 (absolute error < 1.2e-38); above EXP_HI (where n would
    // reach 128 and 2^n overflow) it is +inf, a little early: e^88.7 is still finite.
    private static final float EXP_LO = -87.33654f;
    private static final float EXP_HI = 88.37626f;
    private static final float LOG2E = 1.44269504088896341f;
    // Adding 1.5 * 2^23 rounds to an integer and leaves that integer in the low mantissa bits.
    private static final float ROUND_MAGIC = 12582912f;
    // ln 2 split in two: n * LN2_HI is exact for |n| <= 128 (LN2_HI has 9 significant bits).
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    // Minimax coefficients of (e^r - 1 - r) / r^2 on [-ln2/2, ln2/2] (Cephes expf); measured max
    // relative error of the whole exp is 8.4e-8 (under one float ulp).
    private static final float E5 = 1.9875691500e-4f;
    private static final float E4 = 1.3981999507e-3f;
    private static final float E3 = 8.3334519073e-3f;
    private static final float E2 = 4.1665795894e-2f;
    private static final float E1 = 1.6666665459e-1f;
    private static final float E0 = 5.0000001201e-1f;

    // erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z/2): the Chebyshev fit of Numerical Recipes
    // (2nd ed. 6.2), the same formula ScalarMath.erf uses in double; fractional error 1.2e-7.
    private static final float SQRT_HALF = 0.70710677f;
    private static final float P9 = 0.17087277f;
    private static final float P8 = -0.82215223f;
    private static final float P7 = 1.48851587f;
    private static final float P6 = -1.13520398f;
    private static final float P5 = 0.27886807f;
    private static final float P4 = -0.18628806f;
    private static final float P3 = 0.09678418f;
    private static final float P2 = 0.37409196f;
    private static final float P1 = 1.00002368f;
    private static final float P0 = -1.26551223f;
    // Above this GELU(x) = x exactly in float: x/2 erfc(x/sqrt2) < 1e-23 x, far below half an ulp.
    // Returning x there also avoids inf * 0 for x = +inf.
    private static final float GELU_IDENTITY = 10f;

    // Butterfly shuffles for the horizontal sum: lane i takes lane i ^ s.
    private static final VectorShuffle<Float> X1 = VectorShuffle.fromOp(F, i -> i ^ 1);
    private static final VectorShuffle<Float> X2 = VectorShuffle.fromOp(F, i -> i ^ (2 % L));
    private static final VectorShuffle<Float> X4 = VectorShuffle.fromOp(F, i -> i ^ (4 % L));
    private static final VectorShuffle<Float> X8 = VectorShuffle.fromOp(F, i -> i ^ (8 % L));

    // A thread that is never started: a segment it may access is not confined to one thread.
    private static final Thread PROBE = Thread.ofPlatform().unstarted(() -> { });

    private VectorMath() {
    }

    /**
     * True when worker threads may access every given segment (null entries are skipped). A
     * segment of a confined arena can only be used by its owner thread, so a kernel given one must
     * run all its tasks on the caller; the fixed task split keeps the results the same.
     */
    static boolean shareable(MemorySegment... segments) {
        for (MemorySegment s : segments) {
            if (s != null && !s.isAccessibleBy(PROBE)) {
                return false;
            }
        }
        return true;
    }

    static FloatVector load(MemorySegment s, long elem) {
        return FloatVector.fromMemorySegment(F, s, elem << 2, NATIVE);
    }

    static void store(FloatVector v, MemorySegment s, long elem) {
        v.intoMemorySegment(s, elem << 2, NATIVE);
    }

    static float get(MemorySegment s, long elem) {
        return s.getAtIndex(FL, elem);
    }

    static void set(MemorySegment s, long elem, float v) {
        s.setAtIndex(FL, elem, v);
    }

    /** Sets n floats from element {@code elem} to v. */
    static void fill(MemorySegment s, long elem, long n, float v) {
        FloatVector fv = FloatVector.broadcast(F, v);
        long i = 0;
        for (; i <= n - L; i += L) {
            store(fv, s, elem + i);
        }
        for (; i < n; i++) {
            set(s, elem + i, v);
        }
    }

    /**
     * Sum of the lanes in a fixed order (a butterfly). {@code reduceLanes(ADD)} leaves the order
     * unspecified, so it could differ between the interpreter and C2, or between JDK versions.
     */
    static float sum(FloatVector v) {
        if (L >= 16) {
            v = v.add(v.rearrange(X8));
        }
        if (L >= 8) {
            v = v.add(v.rearrange(X4));
        }
        if (L >= 4) {
            v = v.add(v.rearrange(X2));
        }
        if (L >= 2) {
            v = v.add(v.rearrange(X1));
        }
        return v.lane(0);
    }

    /** e^x per lane; relative error below 1e-7, 0 below -87.34, +inf above 88.38. */
    static FloatVector exp(FloatVector x) {
        VectorMask<Float> tiny = x.compare(VectorOperators.LT, EXP_LO);
        VectorMask<Float> huge = x.compare(VectorOperators.GT, EXP_HI);
        // Clamp with blends: lanewise MIN/MAX cost extra instructions for Java's NaN and -0.0
        // rules; a NaN passes both compares untouched and comes out NaN.
        FloatVector xc = x.blend(EXP_LO, tiny).blend(EXP_HI, huge);
        FloatVector t = xc.fma(LOG2E, ROUND_MAGIC);
        FloatVector n = t.sub(ROUND_MAGIC);
        FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector y = r.fma(E5, E4);
        y = y.fma(r, FloatVector.broadcast(F, E3));
        y = y.fma(r, FloatVector.broadcast(F, E2));
        y = y.fma(r, FloatVector.broadcast(F, E1));
        y = y.fma(r, FloatVector.broadcast(F, E0));
        y = y.fma(r.mul(r), r).add(1f);
        // 2^n: t's bits are those of ROUND_MAGIC plus n; adding the bias 127 and shifting the sum
        // into the exponent field pushes the magic's own bits out of the word.
        FloatVector pow2n = t.reinterpretAsInts().add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(pow2n).blend(0f, tiny).blend(Float.POSITIVE_INFINITY, huge);
    }

    /** The scalar twin of {@link #exp(FloatVector)}: bit-identical results. */
    static float exp(float x) {
        boolean tiny = x < EXP_LO;
        boolean huge = x > EXP_HI;
        float xc = tiny ? EXP_LO : huge ? EXP_HI : x;
        float t = Math.fma(xc, LOG2E, ROUND_MAGIC);
        float n = t - ROUND_MAGIC;
        float r = Math.fma(n, -LN2_HI, xc);
        r = Math.fma(n, -LN2_LO, r);
        float y = Math.fma(r, E5, E4);
        y = Math.fma(y, r, E3);
        y = Math.fma(y, r, E2);
        y = Math.fma(y, r, E1);
        y = Math.fma(y, r, E0);
        y = Math.fma(y, r * r, r) + 1f;
        float pow2n = Float.intBitsToFloat((Float.floatToRawIntBits(t) + 127) << 23);
        float e = y * pow2n;
        return tiny ? 0f : huge ? Float.POSITIVE_INFINITY : e;
    }

    /**
     * Exact-form GELU, x/2 (1 + erf(x/sqrt2)), written as x - x/2 erfc(|x|/sqrt2) for x >= 0 and
     * x/2 erfc(|x|/sqrt2) for x < 0, so negative inputs keep their relative precision instead of
     * cancelling in 1 + erf.
     */
    static FloatVector gelu(FloatVector x) {
        FloatVector z = x.abs().mul(SQRT_HALF);
        FloatVector t = FloatVector.broadcast(F, 1f).div(z.fma(0.5f, 1f));
        FloatVector p = t.fma(P9, P8);
        p = p.fma(t, FloatVector.broadcast(F, P7));
        p = p.fma(t, FloatVector.broadcast(F, P6));
        p = p.fma(t, FloatVector.broadcast(F, P5));
        p = p.fma(t, FloatVector.broadcast(F, P4));
        p = p.fma(t, FloatVector.broadcast(F, P3));
        p = p.fma(t, FloatVector.broadcast(F, P2));
        p = p.fma(t, FloatVector.broadcast(F, P1));
        p = p.fma(t, FloatVector.broadcast(F, P0));
        // -z^2 = (-x/2) x, exact inside the FMA; squaring the rounded z would cost z^2 * 1e-7.
        FloatVector erfc = t.mul(exp(x.mul(-0.5f).fma(x, p)));
        FloatVector g = x.mul(0.5f).mul(erfc);
        FloatVector y = x.sub(g).blend(g, x.compare(VectorOperators.LT, 0f));
        return y.blend(x, x.compare(VectorOperators.GT, GELU_IDENTITY));
    }

    /** The scalar twin of {@link #gelu(FloatVector)}. */
    static float gelu(float x) {
        float z = Math.abs(x) * SQRT_HALF;
        float t = 1f / Math.fma(z, 0.5f, 1f);
        float p = Math.fma(t, P9, P8);
        p = Math.fma(p, t, P7);
        p = Math.fma(p, t, P6);
        p = Math.fma(p, t, P5);
        p = Math.fma(p, t, P4);
        p = Math.fma(p, t, P3);
        p = Math.fma(p, t, P2);
        p = Math.fma(p, t, P1);
        p = Math.fma(p, t, P0);
        float erfc = t * exp(Math.fma(x * -0.5f, x, p));
        float g = x * 0.5f * erfc;
        float y = x < 0f ? g : x - g;
        return x > GELU_IDENTITY ? x : y;
    }

    /** SiLU, x / (1 + e^-x): +-inf and NaN behave as in double arithmetic. */
    static FloatVector swish(FloatVector x) {
        return x.div(exp(x.neg()).add(1f));
    }

    /** The scalar twin of {@link #swish(FloatVector)}. */
    static float swish(float x) {
        return x / (exp(-x) + 1f);
    }
}

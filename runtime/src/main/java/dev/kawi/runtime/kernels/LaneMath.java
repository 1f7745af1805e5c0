package dev.kawi.runtime.kernels;

/**
 * The scalar definitions of the Vector API kernels' math: exp, GELU and swish, each computing in
 * plain float arithmetic exactly what one vector lane computes, and the fixed-order sum of lanes.
 * The vector code ({@code kernels.simd.VectorMath}) builds its vector constants from the ones here
 * and uses these functions for its scalar tails, so there is one definition of each; the
 * {@link LaneKernels} use them for every element.
 */
public final class LaneMath {
    // exp: x = n ln2 + r with |r| <= ln2/2, e^x = 2^n e^r. Below EXP_LO (ln of the smallest normal
    // float) the result is flushed to 0 (absolute error < 1.2e-38); above EXP_HI (where n would
    // reach 128 and 2^n overflow) it is +inf, a little early: e^88.7 is still finite.
    /** exp flushes to 0 below this. */
    public static final float EXP_LO = -87.33654f;
    /** exp is +inf above this. */
    public static final float EXP_HI = 88.37626f;
    /** log2(e). */
    public static final float LOG2E = 1.44269504088896341f;
    /** 1.5 * 2^23: adding it rounds to an integer and leaves that integer in the low mantissa bits. */
    public static final float ROUND_MAGIC = 12582912f;
    /** ln 2, high part: n * LN2_HI is exact for |n| <= 128 (9 significant bits). */
    public static final float LN2_HI = 0.693359375f;
    /** ln 2, low part. */
    public static final float LN2_LO = -2.12194440e-4f;
    // Minimax coefficients of (e^r - 1 - r) / r^2 on [-ln2/2, ln2/2] (Cephes expf); measured max
    // relative error of the whole exp is 8.4e-8 (under one float ulp).
    /** exp polynomial, degree 5. */
    public static final float E5 = 1.9875691500e-4f;
    /** exp polynomial, degree 4. */
    public static final float E4 = 1.3981999507e-3f;
    /** exp polynomial, degree 3. */
    public static final float E3 = 8.3334519073e-3f;
    /** exp polynomial, degree 2. */
    public static final float E2 = 4.1665795894e-2f;
    /** exp polynomial, degree 1. */
    public static final float E1 = 1.6666665459e-1f;
    /** exp polynomial, degree 0. */
    public static final float E0 = 5.0000001201e-1f;

    // erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z/2): the Chebyshev fit of Numerical Recipes
    // (2nd ed. 6.2), the same formula ScalarMath.erf uses in double; fractional error 1.2e-7.
    /** sqrt(1/2). */
    public static final float SQRT_HALF = 0.70710677f;
    /** erfc polynomial, degree 9. */
    public static final float P9 = 0.17087277f;
    /** erfc polynomial, degree 8. */
    public static final float P8 = -0.82215223f;
    /** erfc polynomial, degree 7. */
    public static final float P7 = 1.48851587f;
    /** erfc polynomial, degree 6. */
    public static final float P6 = -1.13520398f;
    /** erfc polynomial, degree 5. */
    public static final float P5 = 0.27886807f;
    /** erfc polynomial, degree 4. */
    public static final float P4 = -0.18628806f;
    /** erfc polynomial, degree 3. */
    public static final float P3 = 0.09678418f;
    /** erfc polynomial, degree 2. */
    public static final float P2 = 0.37409196f;
    /** erfc polynomial, degree 1. */
    public static final float P1 = 1.00002368f;
    /** erfc polynomial, degree 0. */
    public static final float P0 = -1.26551223f;
    /**
     * Above this GELU(x) = x exactly in float: x/2 erfc(x/sqrt2) < 1e-23 x, far below half an ulp.
     * Returning x there also avoids inf * 0 for x = +inf.
     */
    public static final float GELU_IDENTITY = 10f;

    private LaneMath() {
    }

    /** e^x; relative error below 1e-7, 0 below -87.34, +inf above 88.38: one lane of the vector exp. */
    public static float exp(float x) {
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
        // 2^n: t's bits are those of ROUND_MAGIC plus n; adding the bias 127 and shifting the sum
        // into the exponent field pushes the magic's own bits out of the word.
        float pow2n = Float.intBitsToFloat((Float.floatToRawIntBits(t) + 127) << 23);
        float e = y * pow2n;
        return tiny ? 0f : huge ? Float.POSITIVE_INFINITY : e;
    }

    /**
     * Exact-form GELU, x/2 (1 + erf(x/sqrt2)), written as x - x/2 erfc(|x|/sqrt2) for x >= 0 and
     * x/2 erfc(|x|/sqrt2) for x < 0, so negative inputs keep their relative precision.
     */
    public static float gelu(float x) {
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
        // -z^2 = (-x/2) x, exact inside the FMA; squaring the rounded z would cost z^2 * 1e-7.
        float erfc = t * exp(Math.fma(x * -0.5f, x, p));
        float g = x * 0.5f * erfc;
        float y = x < 0f ? g : x - g;
        return x > GELU_IDENTITY ? x : y;
    }

    /** SiLU, x / (1 + e^-x). */
    public static float swish(float x) {
        return x / (exp(-x) + 1f);
    }

    /** ReLU with Java semantics: relu(-0.0) = 0.0 and relu(NaN) = NaN, as Math.max. */
    public static float relu(float x) {
        return Math.max(0f, x);
    }

    /** The activation of one value, as the vector kernels compute it. */
    public static float apply(Activation act, float x) {
        return switch (act) {
            case NONE -> x;
            case RELU -> relu(x);
            case GELU -> gelu(x);
            case SWISH -> swish(x);
        };
    }

    /**
     * The fixed summation tree over the {@code lanes} values at t[off ..]: t[i] += t[i + h] for
     * h = lanes/2, lanes/4, ..., 1 (lanes a power of two); returns t[off]. Lane 0 of every
     * horizontal sum of the vector kernels adds exactly these pairs.
     */
    public static float sumLanes(float[] t, int off, int lanes) {
        for (int h = lanes / 2; h >= 1; h /= 2) {
            for (int i = 0; i < h; i++) {
                t[off + i] += t[off + i + h];
            }
        }
        return t[off];
    }
}

package dev.kawi.runtime.kernels;

/** Scalar definitions of the activations, shared by every kernel implementation's tail code. */
public final class ScalarMath {
    private static final double SQRT_HALF = Math.sqrt(0.5);

    private ScalarMath() {
    }

    /**
     * The error function, |error| below 1.2e-7 everywhere (Chebyshev fit of erfc, Numerical Recipes
     * 2nd ed. section 6.2): far below float resolution of GELU's output.
     */
    public static double erf(double x) {
        double z = Math.abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1.0 - r : r - 1.0;
    }

    /** Exact GELU: x/2 (1 + erf(x / sqrt 2)). */
    public static float gelu(float x) {
        return (float) (0.5 * x * (1.0 + erf(x * SQRT_HALF)));
    }

    /** SiLU: x * sigmoid(x). */
    public static float swish(float x) {
        return (float) (x / (1.0 + Math.exp(-x)));
    }

    /** Applies an activation to one value. */
    public static float apply(Activation act, float x) {
        return switch (act) {
            case NONE -> x;
            case RELU -> Math.max(0f, x);
            case GELU -> gelu(x);
            case SWISH -> swish(x);
        };
    }
}

package dev.kawi.runtime.kernels;

import dev.kawi.weights.ModelConfig;

/** Element-wise activations a GEMM epilogue or {@link Kernels#activation} applies. */
public enum Activation {
    /** Identity. */
    NONE,
    /** max(0, x). */
    RELU,
    /** Exact GELU: x/2 (1 + erf(x / sqrt 2)). */
    GELU,
    /** SiLU: x * sigmoid(x). */
    SWISH;

    /** The activation a model config names. */
    public static Activation of(ModelConfig.Activation a) {
        return switch (a) {
            case RELU -> RELU;
            case GELU -> GELU;
            case SWISH -> SWISH;
        };
    }
}

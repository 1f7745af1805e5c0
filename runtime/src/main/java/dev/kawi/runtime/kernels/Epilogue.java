package dev.kawi.runtime.kernels;

import java.lang.foreign.MemorySegment;

/**
 * What a GEMM does to each result before storing it: {@code c = act(acc + bias[j]) + residual[i][j]}.
 * Instances are immutable; a layer builds its epilogues once, over its preallocated buffers.
 *
 * @param bias        F32 [n] added per output column, or null
 * @param activation  applied after the bias
 * @param residual    F32 matrix added last (may be the output itself: c += ...), or null
 * @param residualOff element offset of residual[0][0]
 * @param ldr         row stride of residual, in elements
 */
public record Epilogue(MemorySegment bias, Activation activation, MemorySegment residual, long residualOff, int ldr) {
    /** Nothing: C = A·Wᵀ. */
    public static final Epilogue NONE = new Epilogue(null, Activation.NONE, null, 0, 0);

    /** Bias, then activation. */
    public static Epilogue of(MemorySegment bias, Activation activation) {
        return new Epilogue(bias, activation == null ? Activation.NONE : activation, null, 0, 0);
    }

    /** Bias, then a residual matrix added. */
    public static Epilogue withResidual(MemorySegment bias, MemorySegment residual, long residualOff, int ldr) {
        return new Epilogue(bias, Activation.NONE, residual, residualOff, ldr);
    }

    /** True when the epilogue does nothing. */
    public boolean isIdentity() {
        return bias == null && activation == Activation.NONE && residual == null;
    }
}

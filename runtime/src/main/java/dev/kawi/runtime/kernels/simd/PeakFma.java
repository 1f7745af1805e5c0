package dev.kawi.runtime.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A probe of the machine's peak F32 FMA throughput through the Vector API, with the species the
 * vector kernels use ({@link FloatVector#SPECIES_PREFERRED}): the roof that GEMM benchmarks quote
 * their results against. Not a kernel; it lives here because only this package may import
 * {@code jdk.incubator.vector}.
 */
public final class PeakFma {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /**
     * Independent accumulator chains. An FMA unit only reaches its throughput when
     * {@code pipes x latency} independent FMAs are in flight: 2 x 4 = 8 on Zen 3 (and on Zen 4/5
     * and Intel since Skylake). 12 leaves slack for the loop's own instructions, and 12
     * accumulators plus the two operands still fit in the 16 registers of AVX2 without spilling.
     */
    public static final int CHAINS = 12;

    private PeakFma() {
    }

    /** Floats per vector of the species measured (8 for 256-bit AVX2, 16 for AVX-512). */
    public static int lanes() {
        return S.length();
    }

    /** Vector width in bits of the species measured. */
    public static int vectorBits() {
        return S.vectorBitSize();
    }

    /** Floating-point operations of one iteration of {@link #run}: CHAINS FMAs of {@code lanes()} lanes, 2 flops each. */
    public static long flopsPerIteration() {
        return 2L * CHAINS * S.length();
    }

    /**
     * Runs {@code iterations} rounds of {@link #CHAINS} independent vector FMAs
     * ({@code acc = acc * m + c}) and returns a value that depends on every one of them, so the
     * JIT cannot remove the loop. {@code m} is just below 1, so each chain converges to
     * {@code c / (1 - m)} and never overflows nor goes subnormal (which would slow the FMAs down).
     */
    public static float run(long iterations) {
        FloatVector m = FloatVector.broadcast(S, 0.999_999f);
        FloatVector c = FloatVector.broadcast(S, 1e-6f);
        // Distinct starting values, so no two chains are provably equal and none can be merged.
        FloatVector a0 = FloatVector.broadcast(S, 0.01f);
        FloatVector a1 = FloatVector.broadcast(S, 0.02f);
        FloatVector a2 = FloatVector.broadcast(S, 0.03f);
        FloatVector a3 = FloatVector.broadcast(S, 0.04f);
        FloatVector a4 = FloatVector.broadcast(S, 0.05f);
        FloatVector a5 = FloatVector.broadcast(S, 0.06f);
        FloatVector a6 = FloatVector.broadcast(S, 0.07f);
        FloatVector a7 = FloatVector.broadcast(S, 0.08f);
        FloatVector a8 = FloatVector.broadcast(S, 0.09f);
        FloatVector a9 = FloatVector.broadcast(S, 0.10f);
        FloatVector a10 = FloatVector.broadcast(S, 0.11f);
        FloatVector a11 = FloatVector.broadcast(S, 0.12f);
        for (long i = 0; i < iterations; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
        }
        FloatVector sum = a0.add(a1).add(a2).add(a3).add(a4).add(a5)
                .add(a6).add(a7).add(a8).add(a9).add(a10).add(a11);
        return sum.reduceLanes(VectorOperators.ADD);
    }
}

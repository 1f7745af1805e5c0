package dev.kawi.bench;

import dev.kawi.runtime.kernels.simd.PeakFma;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Peak F32 FMA throughput of this machine through the Vector API ({@link PeakFma}, the species
 * the vector kernels use), on 1 thread and on 2 threads at once: the roof GEMM results are
 * quoted against. One operation is one floating-point operation and the unit is ops/ns, so the
 * score is GFLOP/s; with 2 threads JMH sums the threads' throughput, so the score is the
 * aggregate. Run: {@code java -jar bench/target/benchmarks.jar PeakFma}
 *
 * <p>The vector width follows the JVM: AVX-512 machines use 512-bit vectors unless the fork gets
 * {@code -jvmArgsAppend -XX:MaxVectorSize=32} (then 256, as on AVX2-only machines).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class PeakFmaBenchmark {
    /**
     * Flops per call: 3 * 2^24, a multiple of {@link PeakFma#flopsPerIteration()} for vectors of
     * 2 to 16 floats (12 chains * 2 flops * 16 lanes = 3 * 2^7). About 0.5 ms at 100 GFLOP/s, so
     * the call overhead is negligible and iterations hold thousands of calls.
     */
    static final int FLOPS_PER_CALL = 3 << 24;

    private static final long ITERATIONS = iterations();

    private static long iterations() {
        long perIteration = PeakFma.flopsPerIteration();
        if (FLOPS_PER_CALL % perIteration != 0) {
            throw new IllegalStateException(FLOPS_PER_CALL + " flops is not a whole number of FMA rounds of " + perIteration);
        }
        return FLOPS_PER_CALL / perIteration;
    }

    /** One thread running the FMA chains. */
    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(FLOPS_PER_CALL)
    public float threads1() {
        return PeakFma.run(ITERATIONS);
    }

    /** Two threads running the FMA chains at once; the score is their sum. */
    @Benchmark
    @Threads(2)
    @OperationsPerInvocation(FLOPS_PER_CALL)
    public float threads2() {
        return PeakFma.run(ITERATIONS);
    }
}

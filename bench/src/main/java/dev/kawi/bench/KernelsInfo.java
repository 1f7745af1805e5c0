package dev.kawi.bench;

import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.runtime.kernels.simd.PeakFma;

/**
 * Prints, as one JSON line, what the kernel benchmarks run on: the kernels' name, the vector width
 * {@link PeakFma} measures, the JDK and the processor count. {@code bench/run-kernels.sh} runs it
 * with the benchmarks' JVM flags and puts it in the report. Run:
 * {@code java --add-modules=jdk.incubator.vector -cp bench/target/benchmarks.jar dev.kawi.bench.KernelsInfo}
 */
public final class KernelsInfo {
    private KernelsInfo() {
    }

    /** Prints the JSON line. */
    public static void main(String[] args) {
        Kernels k = BenchData.kernels(1);
        System.out.println("{\"kind\": \"kawi_info\""
                + ", \"kernels\": \"" + k.name() + "\""
                + ", \"vector_bits\": " + PeakFma.vectorBits()
                + ", \"lanes\": " + PeakFma.lanes()
                + ", \"fma_chains\": " + PeakFma.CHAINS
                + ", \"java\": \"" + Runtime.version() + "\""
                + ", \"vm\": \"" + System.getProperty("java.vm.name") + "\""
                + ", \"cpus\": " + Runtime.getRuntime().availableProcessors()
                + ", \"os_arch\": \"" + System.getProperty("os.arch") + "\"}");
    }
}

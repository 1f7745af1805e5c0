package dev.kawi.runtime;

import dev.kawi.runtime.kernels.KernelProvider;

/**
 * How a {@link Translator} runs.
 *
 * @param threads      intra-op threads of the kernels (default: available processors)
 * @param maxBatchSize sentences decoded together (sorted by length, padded and masked)
 * @param warmup       which kernels serve the first calls (default {@link Warmup#NONE})
 */
public record TranslatorOptions(int threads, int maxBatchSize, Warmup warmup) {
    /**
     * Which kernels a fresh JVM translates with. The Vector API kernels are the fast ones, but only
     * once the JIT has compiled them (about a second of compiling on two cores; until then the
     * interpreter runs them a thousand times slower). The lane kernels compute the same bits in
     * plain scalar loops that are fast from the first call. Results never depend on the choice.
     */
    public enum Warmup {
        /** The vector kernels from the first call: for benchmarks and long runs that warm up anyway. */
        NONE,
        /** The lane kernels until the vector kernels, warmed up at once on a background thread, are ready: servers. */
        BACKGROUND,
        /**
         * The lane kernels; the background warm-up starts only once the first call is a second old, so
         * a process that translates one sentence and exits never pays for it: command lines and
         * serverless functions.
         */
        DEFERRED
    }

    /** Validates. */
    public TranslatorOptions {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, was " + threads);
        }
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("max batch size must be >= 1, was " + maxBatchSize);
        }
        if (warmup == null) {
            throw new IllegalArgumentException("warmup must not be null");
        }
    }

    /** Options with the vector kernels from the first call ({@link Warmup#NONE}). */
    public TranslatorOptions(int threads, int maxBatchSize) {
        this(threads, maxBatchSize, Warmup.NONE);
    }

    /** All cores, batches of up to 32 sentences, the vector kernels from the first call. */
    public static TranslatorOptions defaults() {
        return new TranslatorOptions(KernelProvider.defaultThreads(), 32);
    }

    /** These options with another warm-up policy. */
    public TranslatorOptions withWarmup(Warmup w) {
        return new TranslatorOptions(threads, maxBatchSize, w);
    }
}

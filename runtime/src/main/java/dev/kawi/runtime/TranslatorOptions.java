package dev.kawi.runtime;

import dev.kawi.runtime.kernels.KernelProvider;

/**
 * How a {@link Translator} runs.
 *
 * @param threads      intra-op threads of the kernels (default: available processors)
 * @param maxBatchSize sentences decoded together (sorted by length, padded and masked)
 */
public record TranslatorOptions(int threads, int maxBatchSize) {
    /** Validates. */
    public TranslatorOptions {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, was " + threads);
        }
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("max batch size must be >= 1, was " + maxBatchSize);
        }
    }

    /** All cores, batches of up to 32 sentences. */
    public static TranslatorOptions defaults() {
        return new TranslatorOptions(KernelProvider.defaultThreads(), 32);
    }
}

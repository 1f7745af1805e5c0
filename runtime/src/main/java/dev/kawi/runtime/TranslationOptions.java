package dev.kawi.runtime;

import dev.kawi.runtime.search.DecodingOptions;

/**
 * Per-call options of {@link Translator}.
 *
 * @param decoding       search settings (beam, lengths, penalties, sampling, ...)
 * @param maxInputLength the most source tokens accepted (the end token not counted)
 * @param truncateInput  longer input is truncated to maxInputLength tokens when true, refused with an error when false
 */
public record TranslationOptions(DecodingOptions decoding, int maxInputLength, boolean truncateInput) {
    /** Validates. */
    public TranslationOptions {
        if (decoding == null) {
            throw new IllegalArgumentException("decoding options are required");
        }
        if (maxInputLength < 1) {
            throw new IllegalArgumentException("max input length must be >= 1, was " + maxInputLength);
        }
    }

    /** Greedy decoding, up to 256 target tokens; inputs over 1024 tokens are refused. */
    public static TranslationOptions defaults() {
        return new TranslationOptions(DecodingOptions.defaults(), 1024, false);
    }

    /** This with other decoding options. */
    public TranslationOptions with(DecodingOptions d) {
        return new TranslationOptions(d, maxInputLength, truncateInput);
    }

    /** This with beam search of the given size. */
    public TranslationOptions withBeamSize(int beam) {
        return with(decoding.withBeamSize(beam));
    }
}

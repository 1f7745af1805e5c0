package dev.kawi.tools.serve;

import dev.kawi.runtime.TranslationOptions;
import dev.kawi.runtime.search.DecodingOptions;

/**
 * The decoding options of one {@code /translate} request, as plain values. Two requests whose
 * options are equal are translated in the same {@code translate(List)} call (a record's equality
 * compares every field; {@link DecodingOptions} itself holds an array and cannot be a key).
 * Sampling follows CTranslate2: it is on when {@code samplingTopK} is 0 (the whole vocabulary)
 * or more than 1; 1 is greedy or beam search.
 *
 * @param beamSize            beam size (1: greedy or sampling)
 * @param nBest               hypotheses returned per text
 * @param maxLength           most target tokens
 * @param minLength           fewest target tokens
 * @param lengthPenalty       GNMT length penalty alpha
 * @param coveragePenalty     GNMT coverage penalty beta
 * @param repetitionPenalty   repetition penalty (1: off)
 * @param noRepeatNgramSize   no n-gram of this size repeats (0: off)
 * @param samplingTopK        1: no sampling; 0: sample from all tokens; k: from the k most likely
 * @param samplingTopP        nucleus mass for sampling
 * @param samplingTemperature logits are divided by it when sampling
 * @param seed                random seed for sampling
 * @param returnScores        return log-probabilities
 * @param returnAlignments    return the attention of each target token over the source tokens
 * @param alignmentLayer      decoder layer of the alignments (negative: from the end)
 * @param maxInputLength      most source tokens
 * @param truncateInput       cut longer input to maxInputLength instead of refusing it
 */
record RequestOptions(int beamSize, int nBest, int maxLength, int minLength, float lengthPenalty, float coveragePenalty,
                      float repetitionPenalty, int noRepeatNgramSize, int samplingTopK, float samplingTopP, float samplingTemperature,
                      long seed, boolean returnScores, boolean returnAlignments, int alignmentLayer, int maxInputLength,
                      boolean truncateInput) {

    /** The server's defaults: the runtime's defaults (greedy, 256 target tokens, 1024 source tokens refused beyond). */
    static RequestOptions defaults() {
        DecodingOptions d = DecodingOptions.defaults();
        TranslationOptions t = TranslationOptions.defaults();
        return new RequestOptions(d.beamSize(), d.nBest(), d.maxLength(), d.minLength(), d.lengthPenalty(), d.coveragePenalty(),
                d.repetitionPenalty(), d.noRepeatNgramSize(), 1, d.topP(), d.temperature(), d.seed(), d.returnScores(), d.returnAlignments(),
                d.alignmentLayer(), t.maxInputLength(), t.truncateInput());
    }

    /** Whether tokens are sampled. */
    boolean sampling() {
        return samplingTopK != 1;
    }

    /** The runtime's options; throws IllegalArgumentException naming an invalid combination. */
    TranslationOptions toTranslationOptions() {
        DecodingOptions.Builder b = DecodingOptions.builder()
                .beamSize(beamSize)
                .nBest(nBest)
                .maxLength(maxLength)
                .minLength(minLength)
                .lengthPenalty(lengthPenalty)
                .coveragePenalty(coveragePenalty)
                .repetitionPenalty(repetitionPenalty)
                .noRepeatNgramSize(noRepeatNgramSize)
                .returnScores(returnScores)
                .alignments(returnAlignments, alignmentLayer);
        if (sampling()) {
            b.sampling(samplingTemperature, samplingTopK, samplingTopP, seed);
        }
        return new TranslationOptions(b.build(), maxInputLength, truncateInput);
    }
}

package dev.kawi.runtime.search;

/**
 * A decoded target sequence.
 *
 * @param tokens          generated token ids, without the decoder start and without the end token
 * @param score           sum of the log-probabilities of the generated tokens (the end token included when it was generated)
 * @param normalizedScore the score divided by the length penalty, plus the coverage penalty (equal to score without them)
 * @param attention       per generated token, the averaged cross-attention over the source tokens; null unless recorded
 */
public record Hypothesis(int[] tokens, float score, float normalizedScore, float[][] attention) {
    /** A hypothesis without attention. */
    public Hypothesis(int[] tokens, float score, float normalizedScore) {
        this(tokens, score, normalizedScore, null);
    }
}

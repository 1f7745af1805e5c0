package dev.kawi.runtime.search;

/**
 * A decoded target sequence.
 *
 * @param tokens          generated token ids, without the decoder start and without the end token
 * @param score           sum of the log-probabilities of the generated tokens (the end token included when it was generated)
 * @param normalizedScore the score divided by the length penalty, plus the coverage penalty (equal to score without them)
 * @param attention       per generated token, the averaged cross-attention over the source tokens; null unless recorded
 * @param tokenScores     the log-probability of each generated token (the end token's is score minus their sum); null unless scored
 */
public record Hypothesis(int[] tokens, float score, float normalizedScore, float[][] attention, float[] tokenScores) {
    /** A hypothesis without attention or per-token scores. */
    public Hypothesis(int[] tokens, float score, float normalizedScore) {
        this(tokens, score, normalizedScore, null, null);
    }
}

package dev.kawi.runtime;

import java.util.List;

/**
 * The result of translating one text.
 *
 * @param text         the best translation
 * @param tokens       its target pieces
 * @param score        its log-probability (NaN unless scores were asked for or beam search ran)
 * @param alternatives the n-best list, best first (the first equals this translation)
 * @param sourceTokens the source pieces the model read (with the end token)
 * @param alignments   null unless asked for: per target token, the attention over {@code sourceTokens}
 *                     (cross-attention of the chosen decoder layer, averaged over heads)
 * @param tokenScores  null unless scored (scores asked for, or beam search): each target token's log-probability
 */
public record Translation(String text, List<String> tokens, float score, List<Alternative> alternatives,
                          List<String> sourceTokens, float[][] alignments, float[] tokenScores) {
    /** One hypothesis of an n-best list. */
    public record Alternative(String text, List<String> tokens, float score, float normalizedScore) {
    }
}

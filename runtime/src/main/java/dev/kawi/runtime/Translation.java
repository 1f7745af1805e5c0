package dev.kawi.runtime;

import java.util.List;

/**
 * The result of translating one text.
 *
 * @param text         the best translation
 * @param tokens       its target pieces
 * @param score        its log-probability (NaN unless scores were asked for or beam search ran)
 * @param alternatives the n-best list, best first (the first equals this translation)
 */
public record Translation(String text, List<String> tokens, float score, List<Alternative> alternatives) {
    /** One hypothesis of an n-best list. */
    public record Alternative(String text, List<String> tokens, float score, float normalizedScore) {
    }
}

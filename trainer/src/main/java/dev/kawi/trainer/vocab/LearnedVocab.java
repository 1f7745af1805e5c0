package dev.kawi.trainer.vocab;

import dev.kawi.weights.TokenizerSpec;

/**
 * A learned vocabulary and how it came about.
 *
 * @param spec                 the tokenizer, ready for {@code Tokenizer.create} or a model file
 * @param requestedSize        the vocabulary size asked for
 * @param specials             special pieces (ids {@code [0, specials)})
 * @param characters           single-character pieces
 * @param droppedCharacters    distinct characters seen but left to byte fallback (coverage or room)
 * @param merges               merges learned, each adding one piece
 * @param words                word occurrences learned from
 * @param distinctWords        distinct words learned from
 * @param stopReason           why learning stopped before reaching the requested size, or null
 */
public record LearnedVocab(TokenizerSpec spec, int requestedSize, int specials, int characters, int droppedCharacters,
                           int merges, long words, int distinctWords, String stopReason) {
    /** Number of pieces learned (the spec's size). */
    public int size() {
        return spec.size();
    }
}

package dev.kawi.runtime.tokenizer;

/** Splits one word into piece ids: the algorithm-specific part of encoding. Stateless, thread-safe. */
sealed interface Segmenter permits BpeSegmenter, UnigramSegmenter {
    /**
     * Appends the ids of {@code word} to out. The word is normalized text without spaces,
     * starting with the boundary marker ▁ unless it is the first word and the tokenizer adds no
     * dummy prefix.
     */
    void segment(String word, IntList out);
}

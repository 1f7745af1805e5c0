package dev.kawi.trainer.vocab;

import dev.kawi.weights.TokenizerSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The word-frequency table BPE learns from. Text is normalized as the runtime tokenizer does it
 * (NFC, whitespace collapsed) and split at spaces; every word gets the boundary marker ▁ in front,
 * as the runtime's encoder does with {@code add_dummy_prefix}. Not thread-safe.
 */
public final class WordCounts {
    private final Map<String, long[]> counts = new HashMap<>();
    private long total;

    /** Adds the words of one text (a sentence). */
    public void addText(String text) {
        String s = TextNormalization.nfc(text);
        int n = s.length();
        StringBuilder word = new StringBuilder(32);
        for (int start = 0; start < n; ) {
            int end = s.indexOf(' ', start);
            if (end < 0) {
                end = n;
            }
            word.setLength(0);
            word.append(TokenizerSpec.WORD_BOUNDARY).append(s, start, end);
            put(word.toString(), 1);
            start = end + 1;
        }
    }

    /**
     * Adds count occurrences of one word, which must already be a word as {@link #addText} makes
     * them: ▁ followed by normalized text without whitespace (so without a space or a second ▁).
     *
     * @throws IllegalArgumentException if word is not of that form or count is not positive
     */
    public void addWord(String word, long count) {
        if (count <= 0) {
            throw new IllegalArgumentException("count must be positive, was " + count);
        }
        if (word.length() < 2 || !word.startsWith(TokenizerSpec.WORD_BOUNDARY)
                || word.indexOf(' ') >= 0 || !TextNormalization.nfc(word.substring(1)).equals(word.substring(1))) {
            throw new IllegalArgumentException("not a normalized word with a leading \u2581: \"" + word + "\"");
        }
        put(word, count);
    }

    private void put(String word, long count) {
        counts.computeIfAbsent(word, w -> new long[1])[0] += count;
        total += count;
    }

    /** Number of distinct words. */
    public int distinct() {
        return counts.size();
    }

    /** Number of word occurrences. */
    public long total() {
        return total;
    }

    /** The count of word (with its leading ▁), 0 if unseen. */
    public long count(String word) {
        long[] c = counts.get(word);
        return c == null ? 0 : c[0];
    }

    /** The words with their counts, most frequent first, ties in {@code String} order: a fixed order for any insertion history. */
    public List<Map.Entry<String, Long>> sorted() {
        List<Map.Entry<String, Long>> list = new ArrayList<>(counts.size());
        for (Map.Entry<String, long[]> e : counts.entrySet()) {
            list.add(Map.entry(e.getKey(), e.getValue()[0]));
        }
        list.sort((a, b) -> {
            int c = Long.compare(b.getValue(), a.getValue());
            return c != 0 ? c : a.getKey().compareTo(b.getKey());
        });
        return list;
    }
}

package dev.kawi.runtime.tokenizer;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Remembers the ids of recently segmented words, because running text repeats a small set of
 * words most of the time. Thread-safe; bounded by clearing itself when full (a crude policy, but
 * it needs no lock and no bookkeeping per hit, and a cleared cache refills with the words that
 * are frequent now). A cache hit returns exactly what segmenting would, so the cache never
 * changes results, only speed. Cached arrays are shared: callers copy, never modify them.
 */
final class WordCache {
    /** Longer words are not cached: they are rare and would hold memory for nothing. */
    static final int MAX_WORD_CHARS = 64;

    private final int capacity;
    private final ConcurrentHashMap<String, int[]> map;

    /** A cache of at most {@code capacity} words; 0 disables it. */
    WordCache(int capacity) {
        this.capacity = capacity;
        this.map = capacity == 0 ? null : new ConcurrentHashMap<>(Math.min(capacity, 1 << 12));
    }

    /** The cached ids of word, or null. */
    int[] get(String word) {
        return map == null ? null : map.get(word);
    }

    /** Caches the ids of word (which the caller no longer modifies). */
    void put(String word, int[] ids) {
        if (map == null || word.length() > MAX_WORD_CHARS) {
            return;
        }
        if (map.size() >= capacity) {
            map.clear();
        }
        map.put(word, ids);
    }
}

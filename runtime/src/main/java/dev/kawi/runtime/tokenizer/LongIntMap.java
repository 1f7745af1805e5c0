package dev.kawi.runtime.tokenizer;

import java.util.Arrays;

/**
 * A fixed-capacity open-addressing hash map from {@code long} keys to non-negative {@code int}
 * values, without boxing. Filled once while a tokenizer is built, then only read, so sharing it
 * between threads needs no locking (it is published through final fields).
 */
final class LongIntMap {
    private final long[] keys;
    private final int[] values; // -1 marks an empty slot
    private final int shift;
    private int size;

    /** A map for up to {@code expected} entries (the table is kept at most half full). */
    LongIntMap(int expected) {
        int bits = 2;
        while ((1 << bits) < 2L * Math.max(1, expected)) {
            bits++;
        }
        keys = new long[1 << bits];
        values = new int[1 << bits];
        Arrays.fill(values, -1);
        shift = 64 - bits;
    }

    /** Fibonacci hashing: the top bits of key * 2^64/phi spread consecutive and packed keys well. */
    private int slot(long key) {
        return (int) ((key * 0x9E3779B97F4A7C15L) >>> shift);
    }

    /** The value for key, or -1. */
    int get(long key) {
        int mask = keys.length - 1;
        for (int i = slot(key); ; i = (i + 1) & mask) {
            int v = values[i];
            if (v < 0 || keys[i] == key) {
                return v;
            }
        }
    }

    /** Sets key to value (value >= 0), replacing an existing value. */
    void put(long key, int value) {
        if (value < 0) {
            throw new IllegalArgumentException("negative value " + value);
        }
        int mask = keys.length - 1;
        for (int i = slot(key); ; i = (i + 1) & mask) {
            if (values[i] < 0) {
                if (2 * (size + 1) > keys.length) {
                    throw new IllegalStateException("LongIntMap over capacity " + keys.length / 2);
                }
                keys[i] = key;
                values[i] = value;
                size++;
                return;
            }
            if (keys[i] == key) {
                values[i] = value;
                return;
            }
        }
    }

    /** Number of entries. */
    int size() {
        return size;
    }
}

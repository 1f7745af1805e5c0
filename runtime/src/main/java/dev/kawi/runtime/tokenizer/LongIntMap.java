package dev.kawi.runtime.tokenizer;

import java.util.Arrays;

/**
 * An open-addressing hash map from {@code long} keys to non-negative {@code int} values, without
 * boxing, growing as needed (the table is kept at most half full). The tokenizer fills one once
 * and then only reads it, so sharing it between threads needs no locking (it is published through
 * final fields); the vocabulary learner uses one as its pair index.
 */
public final class LongIntMap {
    private long[] keys;
    private int[] values; // -1 marks an empty slot
    private int shift;
    private int size;

    /** A map sized for {@code expected} entries. */
    public LongIntMap(int expected) {
        int bits = 2;
        while ((1 << bits) < 2L * Math.max(1, expected)) {
            bits++;
        }
        allocate(bits);
    }

    private void allocate(int bits) {
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
    public int get(long key) {
        int mask = keys.length - 1;
        for (int i = slot(key); ; i = (i + 1) & mask) {
            int v = values[i];
            if (v < 0 || keys[i] == key) {
                return v;
            }
        }
    }

    /** Sets key to value (value >= 0), replacing an existing value. */
    public void put(long key, int value) {
        if (value < 0) {
            throw new IllegalArgumentException("negative value " + value);
        }
        int mask = keys.length - 1;
        for (int i = slot(key); ; i = (i + 1) & mask) {
            if (values[i] < 0) {
                if (2 * (size + 1) > keys.length) {
                    grow();
                    put(key, value);
                    return;
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

    private void grow() {
        long[] oldKeys = keys;
        int[] oldValues = values;
        allocate(64 - shift + 1);
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldValues[i] >= 0) {
                put(oldKeys[i], oldValues[i]);
            }
        }
    }

    /** Number of entries. */
    public int size() {
        return size;
    }
}

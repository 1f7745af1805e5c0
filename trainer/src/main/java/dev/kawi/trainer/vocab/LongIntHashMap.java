package dev.kawi.trainer.vocab;

import java.util.Arrays;

/**
 * A growable open-addressing hash map from {@code long} keys to non-negative {@code int} values,
 * without boxing: the learner's pair-to-index table, which holds hundreds of thousands of pairs.
 */
final class LongIntHashMap {
    private long[] keys;
    private int[] values; // -1 marks an empty slot
    private int shift;
    private int size;

    LongIntHashMap(int expected) {
        int bits = 4;
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

    /** Fibonacci hashing: the top bits of key * 2^64/phi spread packed (left << 32 | right) keys well. */
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

    /** Sets key to value (value >= 0); the key must not be present yet. */
    void putNew(long key, int value) {
        if (2 * (size + 1) > keys.length) {
            grow();
        }
        int mask = keys.length - 1;
        int i = slot(key);
        while (values[i] >= 0) {
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = value;
        size++;
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldValues = values;
        allocate(64 - shift + 1);
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldValues[i] >= 0) {
                putNew(oldKeys[i], oldValues[i]);
            }
        }
    }

    /** Number of entries. */
    int size() {
        return size;
    }
}

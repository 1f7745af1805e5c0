package dev.kawi.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LongIntMapTest {
    @Test
    void growsPastItsInitialSizeAndAgreesWithAHashMap() {
        long seed = 17;
        SplittableRandom rnd = new SplittableRandom(seed);
        LongIntMap m = new LongIntMap(1);
        Map<Long, Integer> ref = new HashMap<>();
        for (int i = 0; i < 50_000; i++) {
            // Packed pairs (left << 32 | right) of a small range collide in the low bits, as the learner's do.
            long key = ((long) rnd.nextInt(300) << 32) | rnd.nextInt(300);
            int value = rnd.nextInt(1 << 20);
            m.put(key, value);
            ref.put(key, value);
        }
        assertEquals(ref.size(), m.size(), "seed " + seed);
        for (Map.Entry<Long, Integer> e : ref.entrySet()) {
            assertEquals(e.getValue().intValue(), m.get(e.getKey()), "key " + e.getKey() + " seed " + seed);
        }
        assertEquals(-1, m.get(-5L));
        assertThrows(IllegalArgumentException.class, () -> m.put(1, -1));
    }
}

package dev.kawi.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kawi.weights.TokenizerSpec.Normalization;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** One tokenizer shared by many threads gives the single-threaded results. */
class ConcurrencyTest {
    @Test
    void sharedTokenizerMatchesSingleThreadedResults() throws Exception {
        long seed = 42L;
        SplittableRandom rnd = new SplittableRandom(seed);
        TestSpecs.Builder v = TestSpecs.randomBpe(rnd, 400);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            texts.add(TestSpecs.randomText(rnd, 20));
        }
        for (Tokenizer shared : new Tokenizer[] {
            // A tiny cache: threads keep clearing it under each other.
            Tokenizer.create(v.bpe(Normalization.NFC, true, true), new Tokenizer.Options(16)),
            Tokenizer.create(TestSpecs.randomUnigram(rnd, 300).unigram(Normalization.NFC, true, true), new Tokenizer.Options(16))}) {
            List<int[]> expected = new ArrayList<>();
            List<String> decoded = new ArrayList<>();
            for (String t : texts) {
                int[] ids = shared.encode(t);
                expected.add(ids);
                decoded.add(shared.decode(ids));
            }
            int threads = 8;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int th = 0; th < threads; th++) {
                    long threadSeed = seed + th;
                    futures.add(pool.submit(() -> {
                        SplittableRandom r = new SplittableRandom(threadSeed);
                        for (int k = 0; k < 5000; k++) {
                            // Half the threads walk the texts in order (the same strings at once), half at random.
                            int i = threadSeed % 2 == 0 ? k % texts.size() : r.nextInt(texts.size());
                            int[] ids = shared.encode(texts.get(i));
                            assertArrayEquals(expected.get(i), ids, "seed " + seed + ", text " + i);
                            assertEquals(decoded.get(i), shared.decode(ids), "seed " + seed + ", text " + i);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    f.get(); // rethrows an assertion failure of any thread
                }
            } finally {
                pool.shutdownNow();
                pool.awaitTermination(10, TimeUnit.SECONDS);
            }
        }
    }
}

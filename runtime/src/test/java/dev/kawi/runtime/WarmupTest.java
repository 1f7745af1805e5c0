package dev.kawi.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.runtime.search.DecodingOptions;
import dev.kawi.weights.DType;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.RandomModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The warm-up policies: a translator that starts on the lane kernels gives the same tokens and the
 * same score bits as one on the vector kernels, before and after it switches; closing it during a
 * warm-up is safe.
 */
class WarmupTest {
    @TempDir
    static Path dir;
    static Path model;
    static final List<String> TEXTS = List.of("Guten Morgen.", "Das ist ein Test mit etwas mehr Text.", "Wie geht's?", "x");

    @BeforeAll
    static void write() throws Exception {
        model = dir.resolve("w.kawi");
        // Wide enough that the vector kernels are clearly faster than the lane kernels once
        // compiled: the warm-up switches only then.
        ModelConfig c = new ModelConfig(2, 2, 256, 4, 512, 2000, 128, ModelConfig.NormPlacement.PRE, true, true, 1e-5f,
                ModelConfig.Activation.GELU, ModelConfig.EmbeddingScale.SQRT_D_MODEL, ModelConfig.Positions.SINUSOIDAL,
                true, true, true, true, 0, 1, 2, 3, 1);
        RandomModels.write(model, c, DType.Q4, 9);
    }

    private static List<TranslationOptions> optionSets() {
        return List.of(
                TranslationOptions.defaults().with(DecodingOptions.builder().maxLength(10).returnScores(true).build()),
                TranslationOptions.defaults().with(DecodingOptions.builder().maxLength(10).beamSize(4).nBest(2).build()),
                TranslationOptions.defaults().with(DecodingOptions.builder().maxLength(10).alignments(true, -1).build()));
    }

    private static void assertSameResults(Translator expected, Translator actual, String when) {
        for (TranslationOptions o : optionSets()) {
            List<Translation> a = expected.translate(TEXTS, o);
            List<Translation> b = actual.translate(TEXTS, o);
            for (int i = 0; i < TEXTS.size(); i++) {
                String what = when + ", text " + i + ", " + o.decoding();
                assertEquals(a.get(i).tokens(), b.get(i).tokens(), what);
                assertEquals(Float.floatToIntBits(a.get(i).score()), Float.floatToIntBits(b.get(i).score()), what);
                for (int j = 0; j < a.get(i).alternatives().size(); j++) {
                    assertEquals(Float.floatToIntBits(a.get(i).alternatives().get(j).score()),
                            Float.floatToIntBits(b.get(i).alternatives().get(j).score()), what + " alternative " + j);
                }
                if (a.get(i).alignments() != null) {
                    for (int t = 0; t < a.get(i).alignments().length; t++) {
                        assertArrayEquals(a.get(i).alignments()[t], b.get(i).alignments()[t], what + " alignment row " + t);
                    }
                }
            }
        }
        Translator.Score sa = expected.score("Guten Morgen.", "Good morning.");
        Translator.Score sb = actual.score("Guten Morgen.", "Good morning.");
        assertArrayEquals(sa.perToken(), sb.perToken(), when + ": score()");
    }

    /** Waits (bounded) until the translator's warm-up promoted the vector kernels. */
    private static void awaitWarm(Translator t) throws InterruptedException {
        for (int i = 0; i < 1200 && !t.warm(); i++) {
            Thread.sleep(100);
        }
        assertTrue(t.warm(), "the warm-up did not finish within 120 s: " + t.kernelsName());
    }

    @Test
    void backgroundWarmupGivesTheSameBitsBeforeAndAfter() throws Exception {
        try (Translator vector = Translator.open(model, new TranslatorOptions(2, 4));
             Translator warming = Translator.open(model, new TranslatorOptions(2, 4, TranslatorOptions.Warmup.BACKGROUND))) {
            assertTrue(vector.warm());
            assertTrue(vector.kernelsName().startsWith("vector-"), vector.kernelsName());
            if (!warming.warm()) {
                assertTrue(warming.kernelsName().startsWith("lanes-"), warming.kernelsName());
            }
            assertSameResults(vector, warming, "while warming up");
            awaitWarm(warming);
            assertEquals(vector.kernelsName(), warming.kernelsName());
            assertSameResults(vector, warming, "after the switch");
        }
    }

    @Test
    void deferredWarmupStartsOnlyAfterTheFirstCall() throws Exception {
        try (Translator vector = Translator.open(model, new TranslatorOptions(1, 4));
             Translator lazy = Translator.open(model, new TranslatorOptions(1, 4, TranslatorOptions.Warmup.DEFERRED))) {
            Thread.sleep(600);
            assertFalse(lazy.warm(), "no call yet, so no warm-up: " + lazy.kernelsName());
            assertSameResults(vector, lazy, "on the lane kernels");
            awaitWarm(lazy);
            assertSameResults(vector, lazy, "after the switch");
        }
    }

    @Test
    void closingDuringTheWarmupIsSafe() throws Exception {
        Translator t = Translator.open(model, new TranslatorOptions(2, 4, TranslatorOptions.Warmup.BACKGROUND));
        Translation before = t.translate("Guten Morgen.");
        t.close();
        t.close(); // idempotent
        try (Translator again = Translator.open(model)) {
            assertEquals(again.translate("Guten Morgen.").tokens(), before.tokens());
        }
    }

    @Test
    void optionsRejectANullPolicy() {
        assertThrows(IllegalArgumentException.class, () -> new TranslatorOptions(1, 1, null));
        assertEquals(TranslatorOptions.Warmup.NONE, TranslatorOptions.defaults().warmup());
        assertEquals(TranslatorOptions.Warmup.DEFERRED, TranslatorOptions.defaults().withWarmup(TranslatorOptions.Warmup.DEFERRED).warmup());
    }
}

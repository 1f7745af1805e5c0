package dev.kawi.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.runtime.search.DecodingOptions;
import dev.kawi.weights.DType;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.RandomModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TranslatorTest {
    @TempDir
    static Path dir;
    static Translator translator;
    static final List<String> TEXTS = List.of("Guten Morgen.", "Das ist ein Test mit etwas mehr Text.", "Ä", "Wie geht's?",
            "Ein längerer Satz, der mehrere Wörter hat und ein Komma.", "x");

    @BeforeAll
    static void open() throws Exception {
        Path p = dir.resolve("t.kawi");
        ModelConfig c = new ModelConfig(2, 2, 64, 4, 128, 400, 128, ModelConfig.NormPlacement.PRE, true, true, 1e-5f,
                ModelConfig.Activation.RELU, ModelConfig.EmbeddingScale.SQRT_D_MODEL, ModelConfig.Positions.SINUSOIDAL,
                true, true, false, true, 0, 1, 2, 3, 1);
        RandomModels.write(p, c, DType.Q8, 5);
        translator = Translator.open(p, new TranslatorOptions(2, 4));
    }

    @AfterAll
    static void close() {
        translator.close();
    }

    private static TranslationOptions greedy(int maxLen) {
        return TranslationOptions.defaults().with(new DecodingOptions(1, 1f, 0f, 1, 0, maxLen, false, 1f, 0, 1f, 0L, 1f, 0, null, null, true));
    }

    @Test
    void batchOfManyEqualsEachAlone() {
        TranslationOptions o = greedy(12);
        List<Translation> all = translator.translate(TEXTS, o);
        assertEquals(TEXTS.size(), all.size());
        for (int i = 0; i < TEXTS.size(); i++) {
            Translation one = translator.translate(TEXTS.get(i), o);
            assertEquals(one.tokens(), all.get(i).tokens(), "text " + i);
            assertEquals(one.score(), all.get(i).score(), "text " + i);
            assertTrue(all.get(i).tokens().size() <= 12);
        }
    }

    @Test
    void asyncAndConcurrentCallsGiveTheSameResults() throws Exception {
        TranslationOptions o = greedy(10);
        List<Translation> expected = translator.translate(TEXTS, o);
        List<CompletableFuture<Translation>> futures = new ArrayList<>();
        for (int r = 0; r < 3; r++) {
            for (String t : TEXTS) {
                futures.add(translator.translateAsync(t, o));
            }
        }
        for (int i = 0; i < futures.size(); i++) {
            assertEquals(expected.get(i % TEXTS.size()).tokens(), futures.get(i).get().tokens(), "future " + i);
        }
    }

    @Test
    void streamingDeliversTheTextPieceByPiece() {
        TranslationOptions o = greedy(15);
        StringBuilder sb = new StringBuilder();
        List<String> parts = new ArrayList<>();
        Translation t = translator.translateStreaming("Guten Morgen.", o, s -> {
            parts.add(s);
            sb.append(s);
        });
        assertEquals(t.text(), sb.toString());
        assertEquals(translator.translate("Guten Morgen.", o).text(), t.text());
        assertTrue(parts.size() >= 1);
    }

    @Test
    void scoreOfTheGreedyOutputIsItsScore() {
        TranslationOptions o = greedy(8);
        Translation t = translator.translate("Das ist ein Test.", o);
        Translator.Score s = translator.score("Das ist ein Test.", t.text());
        // The greedy output may end by length rather than with the end token; compare the shared part.
        float prefix = 0;
        for (int i = 0; i < t.tokens().size(); i++) {
            prefix += s.perToken()[i];
        }
        if (s.tokens().equals(t.tokens())) {
            assertEquals(t.score(), t.tokens().size() < 8 ? s.total() : prefix, 1e-3f);
        }
        assertEquals(s.perToken().length, s.tokens().size() + 1);
    }

    @Test
    void beamSearchReturnsSortedNBest() {
        TranslationOptions o = TranslationOptions.defaults().with(new DecodingOptions(4, 1f, 0f, 3, 0, 10, false, 1f, 0, 1f, 0L, 1f, 0, null, null, false));
        Translation t = translator.translate("Guten Abend, wie geht es?", o);
        assertTrue(t.alternatives().size() >= 1 && t.alternatives().size() <= 3);
        for (int i = 1; i < t.alternatives().size(); i++) {
            assertTrue(t.alternatives().get(i - 1).normalizedScore() >= t.alternatives().get(i).normalizedScore());
        }
        assertEquals(t.text(), t.alternatives().get(0).text());
    }

    @Test
    void longInputIsRefusedOrTruncatedByOption() {
        String longText = "wort ".repeat(300);
        TranslationOptions refuse = new TranslationOptions(DecodingOptions.defaults(), 50, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> translator.translate(longText, refuse));
        assertTrue(e.getMessage().contains("more than the limit of 50"), e.getMessage());
        TranslationOptions truncate = new TranslationOptions(greedy(5).decoding(), 50, true);
        assertTrue(translator.translate(longText, truncate).tokens().size() <= 5);
    }

    @Test
    void emptyInputGivesEmptyOutput() {
        assertEquals("", translator.translate("   ").text());
        assertEquals("", translator.translate("").text());
    }

    @Test
    void suppressedTokensAndSeededSamplingAreHonoured() {
        TranslationOptions base = greedy(10);
        Translation plain = translator.translate("Hallo Welt", base);
        if (!plain.tokens().isEmpty()) {
            int first = translator.tokenizer().id(plain.tokens().get(0));
            DecodingOptions sup = new DecodingOptions(1, 1f, 0f, 1, 0, 10, false, 1f, 0, 1f, 0L, 1f, 0, Set.of(first), null, true);
            Translation t = translator.translate("Hallo Welt", base.with(sup));
            assertTrue(!t.tokens().contains(plain.tokens().get(0)), "suppressed token appeared");
        }
        DecodingOptions sample = new DecodingOptions(1, 1f, 0f, 1, 0, 10, true, 1.5f, 50, 0.95f, 1234L, 1f, 0, null, null, true);
        Translation a = translator.translate("Hallo Welt", base.with(sample));
        Translation b = translator.translate(List.of("Noch ein Satz", "Hallo Welt"), base.with(sample)).get(1);
        assertEquals(a.tokens(), b.tokens(), "same seed, same sample, alone or in a batch");
    }
}

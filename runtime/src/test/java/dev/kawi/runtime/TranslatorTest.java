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
        return TranslationOptions.defaults().with(DecodingOptions.builder().maxLength(maxLen).returnScores(true).build());
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
        // Per-token scores of the translation are the model's log-probabilities of those tokens.
        assertEquals(t.tokens().size(), t.tokenScores().length);
        if (s.tokens().equals(t.tokens())) {
            for (int i = 0; i < t.tokenScores().length; i++) {
                assertEquals(s.perToken()[i], t.tokenScores()[i], 1e-4f, "token " + i);
            }
        }
        Translation beam = translator.translate("Das ist ein Test.", TranslationOptions.defaults().withBeamSize(3));
        double sum = 0;
        for (float v : beam.tokenScores()) {
            assertTrue(v <= 0f);
            sum += v;
        }
        assertTrue(sum >= beam.score() - 1e-3, "token scores add up to at most the total (which may add the end token)");
    }

    @Test
    void beamSearchReturnsSortedNBest() {
        TranslationOptions o = TranslationOptions.defaults().with(DecodingOptions.builder().beamSize(4).nBest(3).maxLength(10).build());
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
        List<Translation> mixed = translator.translate(List.of("", "Guten Tag", " ", "Hallo"), greedy(5));
        assertEquals("", mixed.get(0).text());
        assertEquals("", mixed.get(2).text());
        assertEquals(translator.translate("Guten Tag", greedy(5)).text(), mixed.get(1).text());
        assertEquals(translator.translate("Hallo", greedy(5)).text(), mixed.get(3).text());
    }

    @Test
    void suppressedTokensAndSeededSamplingAreHonoured() {
        TranslationOptions base = greedy(10);
        Translation plain = translator.translate("Hallo Welt", base);
        if (!plain.tokens().isEmpty()) {
            int first = translator.tokenizer().id(plain.tokens().get(0));
            DecodingOptions sup = DecodingOptions.builder().maxLength(10).suppressedTokens(Set.of(first)).returnScores(true).build();
            Translation t = translator.translate("Hallo Welt", base.with(sup));
            assertTrue(!t.tokens().contains(plain.tokens().get(0)), "suppressed token appeared");
        }
        DecodingOptions sample = DecodingOptions.builder().maxLength(10).sampling(1.5f, 50, 0.95f, 1234L).returnScores(true).build();
        Translation a = translator.translate("Hallo Welt", base.with(sample));
        Translation b = translator.translate(List.of("Noch ein Satz", "Hallo Welt"), base.with(sample)).get(1);
        assertEquals(a.tokens(), b.tokens(), "same seed, same sample, alone or in a batch");
    }

    @Test
    void alignmentsHaveOneDistributionPerTargetToken() {
        for (int beam : new int[] {1, 3}) {
            DecodingOptions d = DecodingOptions.builder().beamSize(beam).maxLength(8).alignments(true, -1).build();
            Translation t = translator.translate("Guten Morgen, Welt.", TranslationOptions.defaults().with(d));
            assertEquals(t.tokens().size(), t.alignments().length, "beam " + beam);
            for (float[] row : t.alignments()) {
                assertEquals(t.sourceTokens().size(), row.length);
                double sum = 0;
                for (float v : row) {
                    assertTrue(v >= 0 && v <= 1);
                    sum += v;
                }
                assertEquals(1.0, sum, 1e-4, "attention row sums to 1 (beam " + beam + ")");
            }
            Translation inBatch = translator.translate(List.of("Noch etwas", "Guten Morgen, Welt."), TranslationOptions.defaults().with(d)).get(1);
            assertTrue(java.util.Arrays.deepEquals(t.alignments(), inBatch.alignments()), "alignments alone vs in batch");
        }
    }

    @Test
    void coveragePenaltyIsAddedToTheNormalizedScore() {
        DecodingOptions plain = DecodingOptions.builder().beamSize(3).maxLength(8).alignments(true, -1).build();
        DecodingOptions cov = plain.toBuilder().coveragePenalty(0.4f).build();
        Translation a = translator.translate("Hallo zusammen", TranslationOptions.defaults().with(cov));
        float[][] att = a.alignments();
        double cp = 0;
        for (int j = 0; j < att[0].length; j++) {
            double sum = 0;
            for (float[] row : att) {
                sum += row[j];
            }
            cp += Math.log(Math.max(Math.min(sum, 1.0), 1e-20));
        }
        Translation.Alternative best = a.alternatives().get(0);
        float lp = (float) Math.pow((5.0 + best.tokens().size() + (best.tokens().size() < 8 ? 1 : 0)) / 6.0, 1.0);
        assertEquals(best.score() / lp + 0.4 * cp, best.normalizedScore(), 1e-3);
        assertTrue(cp < 0, "some source token got less than full attention");
    }

    @Test
    void prefixNgramBlockingAndRepetitionPenalty() {
        int[] prefix = {translator.tokenizer().id("<0x41>"), translator.tokenizer().id("<0x42>")};
        DecodingOptions forced = DecodingOptions.builder().maxLength(6).prefix(prefix).build();
        for (int beam : new int[] {1, 2}) {
            Translation t = translator.translate("Hallo", TranslationOptions.defaults().with(forced.withBeamSize(beam)));
            assertEquals(List.of("<0x41>", "<0x42>"), t.tokens().subList(0, 2), "beam " + beam);
        }
        DecodingOptions noRepeat = DecodingOptions.builder().maxLength(30).noRepeatNgramSize(2).build();
        List<String> toks = translator.translate("Das Haus ist klein", TranslationOptions.defaults().with(noRepeat)).tokens();
        java.util.Set<String> bigrams = new java.util.HashSet<>();
        for (int i = 0; i + 1 < toks.size(); i++) {
            assertTrue(bigrams.add(toks.get(i) + " " + toks.get(i + 1)), "bigram repeated: " + toks);
        }
        DecodingOptions base = DecodingOptions.builder().maxLength(20).build();
        DecodingOptions penal = base.toBuilder().repetitionPenalty(1e6f).build();
        List<String> plain = translator.translate("Guten Morgen.", TranslationOptions.defaults().with(base)).tokens();
        List<String> pen = translator.translate("Guten Morgen.", TranslationOptions.defaults().with(penal)).tokens();
        long repeatsPlain = plain.size() - plain.stream().distinct().count();
        long repeatsPen = pen.size() - pen.stream().distinct().count();
        assertTrue(repeatsPen < repeatsPlain || repeatsPlain == 0, "penalty did not reduce repeats: " + plain + " vs " + pen);
    }
}

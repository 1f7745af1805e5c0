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
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Translator#crossAttention}: every head of a layer, greedy or forced, against the averaged alignments. */
class CrossAttentionTest {
    @TempDir
    static Path dir;
    static Translator translator;

    @BeforeAll
    static void open() throws Exception {
        Path p = dir.resolve("a.kawi");
        ModelConfig c = new ModelConfig(2, 3, 64, 4, 128, 400, 64, ModelConfig.NormPlacement.PRE, true, true, 1e-5f,
                ModelConfig.Activation.RELU, ModelConfig.EmbeddingScale.SQRT_D_MODEL, ModelConfig.Positions.SINUSOIDAL,
                true, true, false, true, 0, 1, 2, 3, 1);
        RandomModels.write(p, c, DType.F32, 11);
        translator = Translator.open(p, new TranslatorOptions(1, 4));
    }

    @AfterAll
    static void close() {
        translator.close();
    }

    @Test
    void greedyHeadsAverageToTheAlignmentsOfTranslate() {
        for (int layer : new int[] {0, 1, -1}) {
            CrossAttention a = translator.crossAttention("Guten Morgen, Welt.", null, layer, 9);
            DecodingOptions d = DecodingOptions.builder().maxLength(9).alignments(true, layer).build();
            Translation t = translator.translate("Guten Morgen, Welt.", TranslationOptions.defaults().with(d));
            assertEquals(layer < 0 ? 3 + layer : layer, a.layer());
            assertEquals(4, a.heads());
            assertEquals(t.sourceTokens(), a.sourceTokens());
            // The same tokens as greedy translate, plus the end token's row when it was generated.
            int n = t.tokens().size();
            assertEquals(t.tokens(), a.targetTokens().subList(0, n), "layer " + layer);
            assertTrue(a.targetTokens().size() == n || a.targetTokens().size() == n + 1 && a.targetTokens().get(n).equals("</s>"));
            float[][] avg = a.average();
            for (int i = 0; i < n; i++) {
                assertArrayEquals(t.alignments()[i], avg[i], "layer " + layer + " row " + i + ": bit-identical average");
            }
            // Heads differ from one another, and each row of each head is a distribution.
            assertFalse(Arrays.deepEquals(a.head(0), a.head(1)));
            for (int h = 0; h < a.heads(); h++) {
                for (float[] row : a.head(h)) {
                    double sum = 0;
                    for (float v : row) {
                        assertTrue(v >= 0 && v <= 1);
                        sum += v;
                    }
                    assertEquals(1.0, sum, 1e-5);
                }
            }
        }
    }

    @Test
    void forcedTargetHasOneRowPerTokenAndTheEndToken() {
        String target = translator.translate("Hallo Welt").text();
        CrossAttention greedy = translator.crossAttention("Hallo Welt", null, -1, 256);
        CrossAttention forced = translator.crossAttention("Hallo Welt", "ok, fine", -1, 256);
        int[] ids = translator.tokenizer().encode("ok, fine");
        assertEquals(ids.length + 1, forced.targetTokens().size());
        assertEquals("</s>", forced.targetTokens().get(ids.length));
        for (int i = 0; i < ids.length; i++) {
            assertEquals(translator.tokenizer().piece(ids[i]), forced.targetTokens().get(i));
        }
        // Forcing a target's first token gives the same first row as predicting it greedily: same step, same state.
        assertArrayEquals(greedy.head(2)[0], forced.head(2)[0]);
        assertFalse(target.isEmpty());
        CrossAttention empty = translator.crossAttention("Hallo Welt", "", 0, 256);
        assertEquals(List.of("</s>"), empty.targetTokens());
    }

    @Test
    void badArgumentsNameTheRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> translator.crossAttention("x", null, 3, 5));
        assertEquals("layer 3 outside the decoder's 3 layers", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> translator.crossAttention("x", null, -4, 5));
        assertThrows(IllegalArgumentException.class, () -> translator.crossAttention("x", "y".repeat(100), 0, 5));
        CrossAttention a = translator.crossAttention("x", null, 0, 5);
        IllegalArgumentException h = assertThrows(IllegalArgumentException.class, () -> a.head(4));
        assertEquals("head 4 outside the layer's 4 heads", h.getMessage());
    }
}

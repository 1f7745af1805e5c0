package dev.kawi.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.runtime.Translation;
import dev.kawi.runtime.Translator;
import dev.kawi.weights.DType;
import dev.kawi.weights.Json;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.RandomModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The serverless-style handler against a small random model: what it returns is what the Translator says. */
class TranslateHandlerTest {
    @TempDir
    static Path dir;
    static Path model;
    static Translator direct;

    @BeforeAll
    static void setUp() throws Exception {
        model = dir.resolve("m.kawi");
        ModelConfig c = new ModelConfig(2, 1, 64, 2, 128, 400, 64, ModelConfig.NormPlacement.PRE, true, true, 1e-5f,
                ModelConfig.Activation.RELU, ModelConfig.EmbeddingScale.SQRT_D_MODEL, ModelConfig.Positions.SINUSOIDAL,
                true, true, false, true, 0, 1, 2, 3, 1);
        RandomModels.write(model, c, DType.Q8, 11);
        direct = Translator.open(model);
    }

    @AfterAll
    static void tearDown() {
        direct.close();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> json(String s) throws Exception {
        return (Map<String, Object>) Json.parse(s);
    }

    @Test
    void translatesTextAndJsonRequests() throws Exception {
        TranslateHandler h = new TranslateHandler(direct);
        String expected = direct.translate("Guten Morgen.").text();
        Map<String, Object> plain = json(h.apply("Guten Morgen."));
        assertEquals(expected, plain.get("translation"));
        assertTrue(plain.get("millis") instanceof Number, plain.toString());
        assertEquals(expected, json(h.apply("{\"text\": \"Guten Morgen.\"}")).get("translation"));
        List<Translation> both = direct.translate(List.of("Hallo", "Danke schön."));
        Map<String, Object> many = json(h.apply("{\"texts\": [\"Hallo\", \"Danke schön.\"]}"));
        assertEquals(List.of(both.get(0).text(), both.get(1).text()), many.get("translations"));
    }

    @Test
    void badRequestsGetAnErrorObject() throws Exception {
        TranslateHandler h = new TranslateHandler(direct);
        assertEquals("the request is not valid JSON: expected ':' at character 7", json(h.apply("{\"text\"")).get("error"));
        assertEquals("unknown field \"txt\" (expected \"text\" or \"texts\")", json(h.apply("{\"txt\": \"x\"}")).get("error"));
        assertEquals("give exactly one of \"text\" and \"texts\"", json(h.apply("{}")).get("error"));
        assertEquals("field \"text\" must be a string", json(h.apply("{\"text\": 3}")).get("error"));
        assertEquals("texts[1] must be a string", json(h.apply("{\"texts\": [\"a\", null]}")).get("error"));
        assertEquals("the request is null", json(h.apply(null)).get("error"));
        assertThrows(IllegalArgumentException.class, () -> new TranslateHandler(null));
    }

    @Test
    void quotesEveryCharacterJsonNeedsQuoted() throws Exception {
        String s = "a\"b\\c\nd\te\u0001f–ü";
        String quoted = TranslateHandler.quote(new StringBuilder(), s).toString();
        assertEquals(s, Json.parse(quoted));
        assertEquals("\"a\\\"b\\\\c\\nd\\te\\u0001f–ü\"", quoted);
    }

    @Test
    void thePlatformHandlerOpensTheModelNamedByThePropertyOnce() throws Exception {
        String old = System.getProperty(TranslateHandler.PROPERTY);
        try {
            System.setProperty(TranslateHandler.PROPERTY, dir.resolve("missing.kawi").toString());
            IllegalStateException e = assertThrows(IllegalStateException.class, TranslateHandler::locate);
            assertEquals("no model at " + dir.resolve("missing.kawi") + " (named by -Dkawi.model)", e.getMessage());
            System.setProperty(TranslateHandler.PROPERTY, model.toString());
            assertEquals(model, TranslateHandler.locate());
            String expected = direct.translate("Wie geht's?").text();
            assertEquals(expected, json(new TranslateHandler().apply("Wie geht's?")).get("translation"));
            assertEquals(expected, json(new TranslateHandler().apply("Wie geht's?")).get("translation"));
            assertTrue(TranslateHandler.shared() == TranslateHandler.shared(), "one translator per process");
        } finally {
            if (old == null) {
                System.clearProperty(TranslateHandler.PROPERTY);
            } else {
                System.setProperty(TranslateHandler.PROPERTY, old);
            }
        }
    }
}

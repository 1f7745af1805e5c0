package dev.kawi.trainer.vocab;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.runtime.tokenizer.Tokenizer;
import dev.kawi.weights.Json;
import dev.kawi.weights.TokenizerSpec;
import dev.kawi.weights.WeightFileException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VocabFilesTest {
    @TempDir
    Path dir;

    private static TokenizerSpec learned() {
        return BpeLearner.learn(TestCorpus.count(TestCorpus.sentences(7, 1000, 800)), VocabOptions.DEFAULTS.withVocabSize(600)).spec();
    }

    @Test
    void writtenFileReadsBackAsTheSameSpecAndTokenizer() throws Exception {
        TokenizerSpec spec = learned();
        Path f = dir.resolve("vocab.json");
        VocabFiles.write(spec, f);
        TokenizerSpec back = VocabFiles.read(f);
        assertEquals(spec, back);
        String text = "der the Gr\u00fc\u00dfe \ud83d\ude00 \u4e2d";
        assertArrayEquals(Tokenizer.create(spec).encode(text), Tokenizer.create(back).encode(text));
        // The same bytes every time, and no temporary file left behind.
        byte[] first = Files.readAllBytes(f);
        VocabFiles.write(back, f);
        assertArrayEquals(first, Files.readAllBytes(f));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(f), s.toList());
        }
    }

    @Test
    void fileHasTheShapeOfTheKawiTokenizerObject() throws Exception {
        TokenizerSpec spec = learned();
        Path f = dir.resolve("vocab.json");
        VocabFiles.write(spec, f);
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) Json.parse(Files.readString(f));
        assertEquals(List.of("type", "normalization", "byte_fallback", "add_dummy_prefix", "pieces", "merges"), List.copyOf(m.keySet()));
        assertEquals("bpe", m.get("type"));
        assertEquals("nfc", m.get("normalization"));
        assertEquals(Boolean.TRUE, m.get("byte_fallback"));
        assertEquals(600, ((List<?>) m.get("pieces")).size());
        assertEquals(spec.mergeCount(), ((List<?>) m.get("merges")).size());
        assertEquals(spec, TokenizerSpec.fromJson(m));
    }

    @Test
    void badFilesAreReportedWithTheFileAndTheProblem() throws Exception {
        Path notJson = dir.resolve("a.json");
        Files.writeString(notJson, "{\"type\": \"bpe\",");
        WeightFileException e = assertThrows(WeightFileException.class, () -> VocabFiles.read(notJson));
        assertTrue(e.getMessage().startsWith(notJson + ": not a vocabulary file: "), e.getMessage());

        Path array = dir.resolve("b.json");
        Files.writeString(array, "[1, 2]");
        assertTrue(assertThrows(WeightFileException.class, () -> VocabFiles.read(array)).getMessage().contains("expected a JSON object"));

        Path badMerge = dir.resolve("c.json");
        Files.writeString(badMerge, "{\"type\": \"bpe\", \"normalization\": \"nfc\", \"byte_fallback\": false, \"add_dummy_prefix\": true,"
                + " \"pieces\": [\"a\", \"b\"], \"merges\": [[0, 1]]}");
        e = assertThrows(WeightFileException.class, () -> VocabFiles.read(badMerge));
        assertEquals(badMerge + ": invalid vocabulary: tokenizer.merges[0]: merged piece \"ab\" is not in the vocabulary", e.getMessage());

        Path latin1 = dir.resolve("d.json");
        Files.write(latin1, "{\"x\": \"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1));
        assertTrue(assertThrows(WeightFileException.class, () -> VocabFiles.read(latin1)).getMessage().contains("not UTF-8"));
    }
}

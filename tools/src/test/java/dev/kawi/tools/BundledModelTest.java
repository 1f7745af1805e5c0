package dev.kawi.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped German→English model ({@code models/de-en.kawi}, see models/README.md): the file
 * passes {@code kawi inspect --verify}, and fixed sentences translate, greedily, to exactly the
 * tokens below, so that an unintended change to the runtime, the tokenizer or the model shows
 * up here. A missing model fails the test rather than skipping it.
 */
class BundledModelTest {
    @TempDir
    Path dir;

    /** The checkout's models/de-en.kawi, found from the module's working directory upwards. */
    static Path bundledModel() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("models/train-de-en.sh"))) {
                Path m = d.resolve(ModelLocator.BUNDLED);
                assertTrue(Files.isRegularFile(m), "the bundled model is missing: " + m);
                return m;
            }
        }
        throw new AssertionError("no checkout with models/ above " + Path.of("").toAbsolutePath());
    }

    @Test
    void passesInspectVerify() {
        CliTest.Run r = CliTest.kawi("inspect", "--verify", bundledModel().toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("6 encoder + 2 decoder layers, d_model 256, 4 heads of 64, ffn 1024, vocab 8,000"), r.out());
        assertTrue(r.out().contains("checksums   verified"), r.out());
    }

    /** A German sentence and the exact greedy output: the pieces and the detokenized text. */
    private record Case(String source, String text, List<String> tokens) {
    }

    private static final List<Case> CASES = List.of(
            // Greedy translations of the shipped model, wrong ones included (models/README.md, weaknesses).
            new Case("Guten Morgen.", "God morning.",
                    List.of("▁G", "od", "▁mor", "ning", ".")),
            new Case("Die Datei konnte nicht geöffnet werden.", "The file could not be opened.",
                    List.of("▁The", "▁file", "▁could", "▁not", "▁be", "▁opened", ".")),
            new Case("Das Haus ist sehr groß.", "The house is very large.",
                    List.of("▁The", "▁house", "▁is", "▁very", "▁large", ".")),
            new Case("Wählen Sie im Menü Format den Befehl Zeichen.", "In the Format menu, select the Character command.",
                    List.of("▁In", "▁the", "▁Format", "▁menu", ",", "▁select", "▁the", "▁Char", "acter", "▁command", ".")),
            new Case("Dieses Paket enthält die Dokumentation für Python 3.", "This package contains the documentation for Python 3.",
                    List.of("▁This", "▁package", "▁contains", "▁the", "▁documentation", "▁for", "▁Python", "▁3", ".")),
            new Case("Er hat sich das Bein gebrochen.", "He has bared his leg.",
                    List.of("▁He", "▁has", "▁b", "ared", "▁his", "▁leg", ".")),
            new Case("Klicken Sie auf „OK“, um die Änderungen zu übernehmen.", "Click OK to accept the changes.",
                    List.of("▁Click", "▁OK", "▁to", "▁accept", "▁the", "▁changes", "."))
    );

    @Test
    void fixedSentencesTranslateToExactTokens() throws Exception {
        Path in = dir.resolve("in.de");
        Files.write(in, CASES.stream().map(Case::source).toList());
        CliTest.Run r = CliTest.kawi("translate", "-m", bundledModel().toString(), "--json", "--beam", "1", "-i", in.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(CASES.size(), lines.size(), r.out());
        ObjectMapper json = new ObjectMapper();
        for (int i = 0; i < CASES.size(); i++) {
            JsonNode n = json.readTree(lines.get(i));
            List<String> tokens = new ArrayList<>();
            n.get("tokens").forEach(t -> tokens.add(t.asText()));
            assertEquals(CASES.get(i).tokens(), tokens, "tokens of \"" + CASES.get(i).source() + "\"");
            assertEquals(CASES.get(i).text(), n.get("text").asText(), "text of \"" + CASES.get(i).source() + "\"");
        }
    }
}

package dev.kawi.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.runtime.tokenizer.Tokenizer;
import dev.kawi.trainer.vocab.VocabFiles;
import dev.kawi.trainer.vocab.VocabOptions;
import dev.kawi.weights.TokenizerSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LearnVocabCommandTest {
    private static final long SEED = 99L;

    @TempDir
    Path dir;
    Path train;

    /** Seeded German-English-looking pairs over a small lexicon, "der" and "the" the most frequent words. */
    @BeforeEach
    void corpus() throws Exception {
        String[] de = {"der", "die", "das", "Haus", "ist", "gro\u00df", "klein", "und", "nicht", "Datei", "\u00f6ffnen", "Fenster", "schlie\u00dfen"};
        String[] en = {"the", "house", "is", "big", "small", "and", "not", "file", "open", "window", "close", "a", "of"};
        SplittableRandom rnd = new SplittableRandom(SEED);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            lines.add(sentence(rnd, de) + "\t" + sentence(rnd, en));
        }
        train = dir.resolve("train.tsv");
        Files.write(train, lines);
    }

    private static String sentence(SplittableRandom rnd, String[] words) {
        StringBuilder sb = new StringBuilder();
        for (int k = 0, n = 2 + rnd.nextInt(8); k < n; k++) {
            sb.append(k > 0 ? " " : "").append(words[rnd.nextInt(1 + rnd.nextInt(words.length))]); // skewed: early words frequent
        }
        return sb.append('.').toString();
    }

    @Test
    void learnsAVocabularyOfTheRequestedSizeThatTheRuntimeReads() throws Exception {
        Path out = dir.resolve("vocab.json");
        CliTest.Run r = CliTest.kawi("learn-vocab", train.toString(), "--size", "360", "-o", out.toString(), "--eval", train.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("read " + train + ": 400 pairs"), r.out());
        assertTrue(r.out().contains("learned 360 pieces (4 special, 256 byte, "), r.out());
        assertTrue(r.out().contains("wrote " + out), r.out());
        assertTrue(r.out().matches("(?s).*" + java.util.regex.Pattern.quote(train.toString()) + ": 400 pairs, tokens per sentence: source \\d+\\.\\d\\d, target \\d+\\.\\d\\d.*"), r.out());
        TokenizerSpec spec = VocabFiles.read(out);
        assertEquals(360, spec.size());
        assertEquals(List.of("<pad>", "<s>", "</s>", "<unk>", "<0x00>"), spec.pieces().subList(0, 5));
        Tokenizer t = Tokenizer.create(spec);
        String text = "Das Haus ist gro\u00df. \ud83d\ude00 \u4e2d\u6587 caf\u00e9";
        assertEquals(text, t.decode(t.encode(text)));
        assertEquals(1, t.encode("the").length, "a frequent word is one piece");
        // The same command again writes the same bytes.
        byte[] first = Files.readAllBytes(out);
        assertEquals(0, CliTest.kawi("learn-vocab", train.toString(), "--size", "360", "-o", out.toString()).code());
        assertArrayEquals(first, Files.readAllBytes(out));
    }

    @Test
    void badLinesFailWithFileAndLineOrAreSkippedAndCounted() throws Exception {
        List<String> lines = new ArrayList<>(Files.readAllLines(train));
        lines.set(2, "kein tab");
        lines.set(6, "zu\tviele\ttabs");
        Files.write(train, lines);
        Path out = dir.resolve("vocab.json");
        CliTest.Run r = CliTest.kawi("learn-vocab", train.toString(), "-o", out.toString(), "--size", "300");
        assertEquals(Main.BAD_INPUT, r.code());
        assertEquals("kawi learn-vocab: error: " + train + ":3: no tab (expected SOURCE<TAB>TARGET) (--bad-lines skip skips such lines)",
                r.err().strip());
        assertFalse(Files.exists(out));

        r = CliTest.kawi("learn-vocab", train.toString(), "-o", out.toString(), "--size", "300", "--bad-lines", "skip");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("read " + train + ": 398 pairs, skipped 2 malformed lines"), r.out());
        assertTrue(r.out().contains("skipped " + train + ":7: 2 tabs"), r.out());
        assertEquals(300, VocabFiles.read(out).size());
    }

    @Test
    void badOptionsAreOneLineErrors() {
        Path out = dir.resolve("v.json");
        CliTest.Run r = CliTest.kawi("learn-vocab", train.toString(), "-o", out.toString(), "--size", "100");
        assertEquals(Main.BAD_INPUT, r.code());
        assertTrue(r.err().startsWith("kawi learn-vocab: error: --size: must be in [260, "), r.err());
        r = CliTest.kawi("learn-vocab", train.toString(), "-o", out.toString(), "--character-coverage", "0");
        assertEquals(Main.BAD_INPUT, r.code());
        assertTrue(r.err().contains("--character-coverage"), r.err());
        r = CliTest.kawi("learn-vocab", train.toString(), "-o", out.toString(), "--bad-lines", "ignore");
        assertEquals(Main.BAD_INPUT, r.code());
        assertTrue(r.err().contains("--bad-lines: unknown value \"ignore\""), r.err());
        r = CliTest.kawi("learn-vocab", dir.resolve("missing.tsv").toString(), "-o", out.toString());
        assertEquals(Main.BAD_INPUT, r.code());
        assertEquals("kawi learn-vocab: error: " + dir.resolve("missing.tsv") + ": no such file", r.err().strip());
        assertFalse(Files.exists(out));
    }

    @Test
    void scriptSplittingCanBeTurnedOff() throws Exception {
        Files.write(train, java.util.Collections.nCopies(50, "Men\u00fc.\tmenu."));
        Path out = dir.resolve("v.json");
        assertEquals(0, CliTest.kawi("learn-vocab", train.toString(), "-o", out.toString(), "--size", "300").code());
        assertEquals(2, Tokenizer.create(VocabFiles.read(out)).encode("menu.").length, "\u2581menu + .");
        assertEquals(0, CliTest.kawi("learn-vocab", train.toString(), "-o", out.toString(), "--size", "300", "--no-split-by-script").code());
        assertEquals(1, Tokenizer.create(VocabFiles.read(out)).encode("menu.").length, "\u2581menu.");
    }

    @Test
    void stoppingShortIsReported() {
        Path out = dir.resolve("v.json");
        CliTest.Run r = CliTest.kawi("learn-vocab", train.toString(), "-o", out.toString(), "--size", "50000");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("note: stopped at "), r.out());
    }

    @Test
    void helpListsTheCommandAndDefaultsMatchTheLibrary() {
        assertTrue(CliTest.kawi("--help").out().contains("learn-vocab"));
        CliTest.Run r = CliTest.kawi("learn-vocab", "--help");
        assertEquals(0, r.code());
        VocabOptions d = VocabOptions.DEFAULTS;
        String help = r.out().replaceAll("\\s+", " ");
        assertTrue(help.contains("--size=N Total pieces, counting the 4 special and 256 byte pieces. Default: " + d.vocabSize() + "."), help);
        assertTrue(help.contains("Default: " + d.minFrequency() + "."), help);
        assertTrue(help.contains("Longest piece, in characters. Default: " + d.maxPieceLength() + "."), help);
        assertTrue(help.contains("Default: " + d.characterCoverage() + "."), help);
        assertTrue(d.splitByScript() && help.contains("--no-split-by-script"), help);
    }
}

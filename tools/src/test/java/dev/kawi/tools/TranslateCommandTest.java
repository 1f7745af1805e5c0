package dev.kawi.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kawi.runtime.Translation;
import dev.kawi.runtime.TranslationOptions;
import dev.kawi.runtime.Translator;
import dev.kawi.runtime.TranslatorOptions;
import dev.kawi.runtime.search.DecodingOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kawi translate}: arguments, files and stdin, streaming order, options, JSON Lines, errors. */
class TranslateCommandTest {
    static final List<String> LINES = List.of("Guten Morgen.", "Das ist ein Test.", "", "Wie geht es dir?", "x", "Ein Satz mit mehr Wörtern, bitte.",
            "Ä ö ü ß", "Hallo", "Danke schön.", "Bis morgen!");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path model;
    static Path input;
    /** The library's greedy translations of LINES, max length 6: what every streamed run must print. */
    static List<String> expected;

    @BeforeAll
    static void setUp() throws Exception {
        model = TestModels.small(dir);
        input = Files.writeString(dir.resolve("in.txt"), String.join("\n", LINES) + "\n", StandardCharsets.UTF_8);
        try (Translator t = Translator.open(model, new TranslatorOptions(1, 64))) {
            TranslationOptions o = TranslationOptions.defaults().with(DecodingOptions.builder().maxLength(6).build());
            expected = t.translate(LINES, o).stream().map(Translation::text).toList();
        }
        assertTrue(expected.stream().filter(s -> !s.isEmpty()).count() >= 8, "the model says something: " + expected);
    }

    private static List<String> lines(String s) {
        return s.lines().toList();
    }

    @Test
    void argumentsAreJoinedAndTranslated() {
        CliTest.Run r = CliTest.kawi("translate", "-m", model.toString(), "--max-length", "6", "Guten", "Morgen.");
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of(expected.get(0)), lines(r.out()));
        assertEquals("", r.err(), "no progress line for arguments");
    }

    @Test
    void fileInputStreamsInInputOrderAtAnyBatchSizeAndParallelism() throws Exception {
        for (String[] flags : new String[][] {{"--batch-size", "32"}, {"--batch-size", "1", "--parallel", "3"},
                {"--batch-size", "3", "--parallel", "2", "--threads", "1"}}) {
            List<String> args = new ArrayList<>(List.of("translate", "-m", model.toString(), "--max-length", "6", "--input", input.toString()));
            args.addAll(List.of(flags));
            CliTest.Run r = CliTest.kawi(args.toArray(String[]::new));
            assertEquals(0, r.code(), r.err());
            assertEquals(expected, lines(r.out()), String.join(" ", flags));
            // The test JVM's standard error is a pipe, not a terminal: no progress line.
            assertEquals("", r.err(), String.join(" ", flags));
        }
    }

    @Test
    void stdinIsReadLineByLine() {
        CliTest.Run r = TestModels.withStdin(String.join("\n", LINES), "translate", "-m", model.toString(), "--max-length", "6",
                "--batch-size", "4");
        assertEquals(0, r.code(), r.err());
        assertEquals(expected, lines(r.out()));
        assertEquals("", r.err());
        CliTest.Run empty = TestModels.withStdin("", "translate", "-m", model.toString());
        assertEquals(0, empty.code(), empty.err());
        assertEquals("", empty.out());
    }

    @Test
    void outputFileIsWrittenAtomicallyAndKeptOnFailure() throws Exception {
        Path out = dir.resolve("out.txt");
        CliTest.Run r = CliTest.kawi("translate", "-m", model.toString(), "--max-length", "6", "-i", input.toString(), "-o", out.toString(),
                "--batch-size", "2");
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.out());
        assertEquals(expected, Files.readAllLines(out, StandardCharsets.UTF_8));
        // A bad line after some good batches: exit 2, the old output stays, no temporary file is left.
        Path bad = Files.write(dir.resolve("bad.txt"), concat("fine\nalso fine\n".getBytes(StandardCharsets.UTF_8), new byte[] {'o', (byte) 0xFF, '\n'}));
        String before = Files.readString(out);
        CliTest.Run f = CliTest.kawi("translate", "-m", model.toString(), "-i", bad.toString(), "-o", out.toString(), "--batch-size", "1");
        assertEquals(2, f.code());
        assertEquals("kawi translate: error: " + bad + ": line 3: invalid UTF-8 at byte offset 16 of the file", f.err().strip());
        assertEquals(before, Files.readString(out));
        try (Stream<Path> files = Files.list(dir)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temporary file removed");
        }
        CliTest.Run same = CliTest.kawi("translate", "-m", model.toString(), "-i", input.toString(), "-o", input.toString());
        assertEquals(2, same.code());
        assertTrue(same.err().contains("--output must differ from --input"), same.err());
        CliTest.Run noDir = CliTest.kawi("translate", "-m", model.toString(), "-o", dir.resolve("none/out.txt").toString(), "x");
        assertEquals(2, noDir.code());
        assertTrue(noDir.err().contains("no such folder"), noDir.err());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = new byte[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void jsonLinesParseBackWithEveryField() throws Exception {
        CliTest.Run r = CliTest.kawi("translate", "-m", model.toString(), "--max-length", "5", "-i", input.toString(), "--json",
                "--beam", "3", "--nbest", "2", "--alignments");
        assertEquals(0, r.code(), r.err());
        List<String> out = lines(r.out());
        assertEquals(LINES.size(), out.size(), "one JSON object per input line");
        try (Translator t = Translator.open(model, new TranslatorOptions(1, 64))) {
            TranslationOptions o = TranslationOptions.defaults().with(DecodingOptions.builder().beamSize(3).nBest(2).maxLength(5)
                    .returnScores(true).alignments(true, -1).build());
            for (int i = 0; i < out.size(); i++) {
                JsonNode n = JSON.readTree(out.get(i));
                Translation want = t.translate(LINES.get(i), o);
                assertEquals(want.text(), n.get("text").asText(), "line " + i);
                List<String> tokens = new ArrayList<>();
                n.get("tokens").forEach(x -> tokens.add(x.asText()));
                assertEquals(want.tokens(), tokens);
                assertEquals(want.score(), n.get("score").floatValue(), 0f);
                if (LINES.get(i).isEmpty()) {
                    continue; // blank input: one empty alternative, nothing to align
                }
                assertEquals(2, n.get("alternatives").size());
                assertEquals(want.alternatives().get(1).text(), n.get("alternatives").get(1).get("text").asText());
                assertTrue(n.get("alternatives").get(0).has("normalized_score"));
                assertEquals(tokens.size(), n.get("token_scores").size());
                assertEquals(want.sourceTokens().size(), n.get("source_tokens").size());
                assertEquals(tokens.size(), n.get("alignments").size(), "one alignment row per target token");
                for (JsonNode row : n.get("alignments")) {
                    assertEquals(want.sourceTokens().size(), row.size());
                    double sum = 0;
                    for (JsonNode v : row) {
                        sum += v.asDouble();
                    }
                    assertEquals(1.0, sum, 1e-4);
                }
            }
        }
        // Greedy JSON is scored too: score equals the sum of token scores (no end token at max length).
        CliTest.Run g = CliTest.kawi("translate", "-m", model.toString(), "--max-length", "4", "--json", "Hallo Welt");
        JsonNode n = JSON.readTree(g.out());
        assertFalse(n.has("alternatives"));
        assertFalse(n.has("alignments"));
        assertEquals(4, n.get("token_scores").size());
        double sum = 0;
        for (JsonNode v : n.get("token_scores")) {
            sum += v.asDouble();
        }
        assertEquals(n.get("score").asDouble(), sum, 1e-4);
    }

    @Test
    void textAlignmentsAreIndexPairs() {
        CliTest.Run r = CliTest.kawi("translate", "-m", model.toString(), "--max-length", "4", "--alignments", "Guten Morgen.");
        assertEquals(0, r.code(), r.err());
        String[] parts = r.out().strip().split("\t");
        assertEquals(expected.get(0).substring(0, parts[0].length()), parts[0]);
        assertTrue(parts[1].matches("\\d+-0 \\d+-1 \\d+-2 \\d+-3"), parts[1]);
        assertEquals("0-0 2-1 1-2", TranslateCommand.pairs(new float[][] {{0.5f, 0.2f, 0.3f}, {0.1f, 0.2f, 0.7f}, {0.4f, 0.6f, 0f}}));
    }

    @Test
    void decodingFlagsReachTheTranslator() throws Exception {
        String m = model.toString();
        CliTest.Run s1 = CliTest.kawi("translate", "-m", m, "--max-length", "8", "--sampling-topk", "0", "--sampling-temperature", "2",
                "--seed", "7", "-i", input.toString());
        CliTest.Run s2 = CliTest.kawi("translate", "-m", m, "--max-length", "8", "--sampling-topk", "0", "--sampling-temperature", "2",
                "--seed", "7", "-i", input.toString(), "--batch-size", "1");
        CliTest.Run s3 = CliTest.kawi("translate", "-m", m, "--max-length", "8", "--sampling-topk", "0", "--sampling-temperature", "2",
                "--seed", "8", "-i", input.toString());
        assertEquals(0, s1.code(), s1.err());
        assertEquals(s1.out(), s2.out(), "same seed, same samples, whatever the batching");
        assertNotEquals(s1.out(), s3.out(), "another seed samples otherwise");
        assertNotEquals(String.join("\n", expected) + "\n", s1.out().replace("\r\n", "\n"), "sampling differs from greedy");
        try (Translator t = Translator.open(model, new TranslatorOptions(1, 8))) {
            DecodingOptions d = DecodingOptions.builder().maxLength(8).repetitionPenalty(1.5f).noRepeatNgramSize(2).minLength(3).build();
            String want = t.translate("Guten Morgen.", TranslationOptions.defaults().with(d)).text();
            CliTest.Run r = CliTest.kawi("translate", "-m", m, "--max-length", "8", "--repetition-penalty", "1.5", "--no-repeat-ngram", "2",
                    "--min-length", "3", "Guten Morgen.");
            assertEquals(want, r.out().strip());
            DecodingOptions beam = DecodingOptions.builder().beamSize(4).lengthPenalty(0.2f).maxLength(8).build();
            CliTest.Run b = CliTest.kawi("translate", "-m", m, "--max-length", "8", "--beam", "4", "--length-penalty", "0.2", "Guten Morgen.");
            assertEquals(t.translate("Guten Morgen.", TranslationOptions.defaults().with(beam)).text(), b.out().strip());
        }
    }

    @Test
    void longInputIsAnErrorNamingTheLineUnlessTruncated() throws Exception {
        Path in = Files.writeString(dir.resolve("long.txt"), "kurz\n" + "lang ".repeat(8) + "\nkurz\n");
        CliTest.Run r = CliTest.kawi("translate", "-m", model.toString(), "-i", in.toString(), "--max-input-length", "10");
        assertEquals(2, r.code());
        assertEquals("kawi translate: error: " + in + ": line 2: 56 tokens, too long (--max-input-length is 10); pass --truncate to cut it",
                r.err().strip());
        CliTest.Run t = CliTest.kawi("translate", "-m", model.toString(), "-i", in.toString(), "--max-input-length", "10", "--truncate",
                "--max-length", "3");
        assertEquals(0, t.code(), t.err());
        assertEquals(3, lines(t.out()).size());
        // The model's 64 positions bound the input too.
        CliTest.Run p = CliTest.kawi("translate", "-m", model.toString(), "x".repeat(70));
        assertEquals(2, p.code());
        assertTrue(p.err().contains("TEXT: 73 tokens, too long (the model's 64 positions allow 63)"), p.err());
    }

    @Test
    void badUsageAndBadInputExitTwo() {
        String m = model.toString();
        // Errors found by the command itself: exactly one line.
        for (String[] args : new String[][] {
                {"translate", "-m", m, "--beam", "2", "--nbest", "3", "x"},
                {"translate", "-m", m, "--sampling-topp", "0.9", "x"},
                {"translate", "-m", m, "--sampling-topk", "5", "--beam", "2", "x"},
                {"translate", "-m", m, "-i", input.toString(), "x"},
                {"translate", "-m", m, "--batch-size", "0", "x"},
                {"translate", "-m", m, "--alignments", "--beam", "2", "--nbest", "2", "x"},
                {"translate", "-m", m, "--alignments", "--alignment-layer", "5", "x"},
                {"translate", "-m", dir.resolve("missing.kawi").toString(), "x"},
                {"translate", "-m", m, "-i", dir.resolve("missing.txt").toString()}}) {
            CliTest.Run r = CliTest.kawi(args);
            assertEquals(2, r.code(), String.join(" ", args) + "\n" + r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("kawi translate: error: "), r.err());
            assertEquals("", r.out());
        }
        assertTrue(CliTest.kawi("translate", "-m", m, "--sampling-topp", "0.9", "x").err().contains("need sampling: --sampling-topk 0"));
        assertTrue(CliTest.kawi("translate", "-m", dir.resolve("missing.kawi").toString(), "x").err().contains("missing.kawi"));
        assertEquals("kawi translate: error: --alignment-layer 5 is out of range: the model has 2 decoder layers, 0..1 (or -2..-1 from the end)",
                CliTest.kawi("translate", "-m", m, "--alignments", "--alignment-layer", "5", "-i", input.toString()).err().strip());
        // Errors picocli finds while parsing: exit 2, the problem on the first line (picocli adds the usage after it).
        CliTest.Run unknown = CliTest.kawi("translate", "-m", m, "--nope", "x");
        assertEquals(2, unknown.code());
        assertEquals("Unknown option: '--nope'", unknown.err().lines().findFirst().orElseThrow());
        CliTest.Run notANumber = CliTest.kawi("translate", "-m", m, "--beam", "two", "x");
        assertEquals(2, notANumber.code());
        assertTrue(notANumber.err().lines().findFirst().orElseThrow().contains("'two' is not an int"), notANumber.err());
        // No -m: the bundled model of the checkout (a default named by -Dkawi.model: aModelNamedByTheSystemPropertyMustExist).
        CliTest.Run bundled = CliTest.kawi("translate", "Die", "Datei");
        assertEquals(0, bundled.code(), bundled.err());
        assertEquals(CliTest.kawi("translate", "-m", BundledModelTest.bundledModel().toString(), "Die Datei").out(), bundled.out());
        CliTest.Run help = CliTest.kawi("translate", "--help");
        assertEquals(0, help.code());
        for (String flag : List.of("--input", "--output", "--json", "--alignments", "--sampling-topk", "--max-input-length", "--truncate",
                "--no-progress", "--parallel", "--threads", "--batch-size", "--no-repeat-ngram", "--repetition-penalty")) {
            assertTrue(help.out().contains(flag), flag);
        }
    }

    @Test
    void progressLineWhenAskedForAndNeverWithNoProgress() {
        CliTest.Run on = CliTest.kawi("translate", "-m", model.toString(), "--max-length", "3", "-i", input.toString(), "--progress",
                "--batch-size", "4");
        assertEquals(0, on.code(), on.err());
        assertEquals(LINES.size(), lines(on.out()).size(), "results unchanged");
        String last = on.err().substring(on.err().lastIndexOf('\r') + 1).strip();
        assertTrue(last.matches("\\[#{20}] 10/10 lines \\(100%\\)  \\d+\\.\\d lines/s  \\d+:\\d\\d"), last);
        assertTrue(on.err().startsWith("\r[....................] 0/10 lines (0%)"), on.err());
        CliTest.Run stdin = TestModels.withStdin("a\nb\nc\n", "translate", "-m", model.toString(), "--max-length", "3", "--progress");
        String s = stdin.err().substring(stdin.err().lastIndexOf('\r') + 1).strip();
        assertTrue(s.matches("3 lines  \\d+\\.\\d lines/s  \\d+:\\d\\d"), "unknown total: no bar, no ETA: " + s);
        CliTest.Run off = CliTest.kawi("translate", "-m", model.toString(), "--max-length", "3", "-i", input.toString(), "--no-progress");
        assertEquals("", off.err());
    }

    @Test
    void oneSentenceRunsWithoutPicocliAndPrintsWhatPicocliWould() {
        // Without options beyond -m it takes the fast path; an explicit default option takes picocli's.
        CliTest.Run fast = CliTest.kawi("translate", "-m", model.toString(), "Guten", "Morgen.");
        CliTest.Run full = CliTest.kawi("translate", "-m", model.toString(), "--beam", "1", "Guten", "Morgen.");
        assertEquals(0, fast.code(), fast.err());
        assertEquals(0, full.code(), full.err());
        assertEquals(full.out(), fast.out());
        assertEquals(full.err(), fast.err());
        assertTrue(!fast.out().isBlank());
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        Integer code = TranslateCommand.runFast(new String[] {"translate", "--model", model.toString(), "Guten", "Morgen."},
                new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        assertEquals(full.out(), out.toString());
    }

    @Test
    void theFastPathLeavesEverythingElseToPicocli() {
        java.io.PrintWriter sink = new java.io.PrintWriter(new java.io.StringWriter());
        for (String[] args : new String[][] {{"translate"}, {"translate", "-m", "x.kawi"}, {"translate", "--json", "Hallo"},
                {"translate", "@args.txt"}, {"translate", "-m", "--json", "Hallo"}, {"translate", "-m", "a.kawi", "-m", "b.kawi", "Hallo"},
                {"translate", "Hallo", "-i", "in.txt"}, {"translate", ""}, {"inspect", "Hallo"}, {"--verbose", "translate", "Hallo"},
                {"translate", "--help"}, {"translate", "-m"}}) {
            assertEquals(null, TranslateCommand.runFast(args, sink, sink), String.join(" ", args));
        }
    }

    @Test
    void fieldDefaultsArePicocliDefaults() throws Exception {
        // The fast path runs a plain new TranslateCommand(): its fields must be what picocli sets.
        TranslateCommand parsed = new TranslateCommand();
        new picocli.CommandLine(parsed).parseArgs("-m", "m.kawi", "Hallo");
        TranslateCommand plain = new TranslateCommand();
        int checked = 0;
        for (java.lang.reflect.Field f : TranslateCommand.class.getDeclaredFields()) {
            if (f.isAnnotationPresent(picocli.CommandLine.Option.class) && !f.getName().equals("model")) {
                f.setAccessible(true);
                assertEquals(f.get(parsed), f.get(plain), f.getName());
                checked++;
            }
        }
        assertTrue(checked >= 20, "checked " + checked + " options");
    }

    @Test
    void aModelNamedByTheSystemPropertyMustExist() {
        String old = System.getProperty(ModelLocator.PROPERTY);
        System.setProperty(ModelLocator.PROPERTY, dir.resolve("missing.kawi").toString());
        try {
            CliTest.Run r = CliTest.kawi("translate", "Hallo");
            assertEquals(Main.BAD_INPUT, r.code());
            assertEquals("kawi translate: error: no model at " + dir.resolve("missing.kawi") + " (named by -Dkawi.model)", r.err().strip());
            System.setProperty(ModelLocator.PROPERTY, model.toString());
            r = CliTest.kawi("translate", "Guten", "Morgen.");
            assertEquals(0, r.code(), r.err());
            CliTest.Run explicit = CliTest.kawi("translate", "-m", model.toString(), "Guten", "Morgen.");
            assertEquals(explicit.out(), r.out());
        } finally {
            if (old == null) {
                System.clearProperty(ModelLocator.PROPERTY);
            } else {
                System.setProperty(ModelLocator.PROPERTY, old);
            }
        }
    }
}

package dev.kawi.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.weights.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kawi score}; expected numbers are sacreBLEU 2.6.0's {@code corpus_bleu} / {@code corpus_chrf} on the same lines. */
class ScoreCommandTest {
    private static final List<String> REFS = List.of("The cat sat on the mat.", "Click where you want to cast the shadow.",
            "It makes me sick.", "Width of numbering", "„Zitat“ 😀 – 1,000.5 &amp; more");
    private static final List<String> HYPS = List.of("The cat sat on a mat.", "Click where you want the shadow.",
            "It makes me sick!", "", "„Zitat“ 😀 - 1,000.5 & more");
    private static final String BLEU_LINE = "BLEU = 41.85 88.0/71.4/47.1/23.1 (BP = 0.819 ratio = 0.833 hyp_len = 25 ref_len = 30)";
    private static final String CHRF_LINE = "chrF2 = 63.52";

    @TempDir
    Path dir;
    Path ref;
    Path hyp;

    @BeforeEach
    void files() throws Exception {
        ref = write("ref.txt", String.join("\n", REFS) + "\n");
        hyp = write("hyp.txt", String.join("\n", HYPS) + "\n");
    }

    private Path write(String name, String text) throws Exception {
        return Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
    }

    private static CliTest.Run kawi(String... args) {
        return CliTest.kawi(args);
    }

    @Test
    void printsSacrebleuShortFormPerMetric() {
        CliTest.Run r = kawi("score", ref.toString(), hyp.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(BLEU_LINE + "\n" + CHRF_LINE + "\n", r.out().replace("\r\n", "\n"));
        CliTest.Run chrfFirst = kawi("score", ref.toString(), hyp.toString(), "--metric", "CHRF,bleu");
        assertEquals(CHRF_LINE + "\n" + BLEU_LINE + "\n", chrfFirst.out().replace("\r\n", "\n"));
        CliTest.Run onlyBleu = kawi("score", "--metric", "bleu", ref.toString(), hyp.toString());
        assertEquals(BLEU_LINE + "\n", onlyBleu.out().replace("\r\n", "\n"));
    }

    @Test
    void jsonHasTheUnroundedNumbers() throws Exception {
        CliTest.Run r = kawi("score", ref.toString(), hyp.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        Map<?, ?> doc = (Map<?, ?>) Json.parse(r.out());
        assertEquals(5L, doc.get("segments"));
        List<?> scores = (List<?>) doc.get("scores");
        Map<?, ?> bleu = (Map<?, ?>) scores.get(0);
        assertEquals("BLEU", bleu.get("name"));
        assertEquals(41.84894410548646, (Double) bleu.get("score"), 1e-12);
        assertEquals(BLEU_LINE, bleu.get("formatted"));
        assertEquals("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp", bleu.get("signature"));
        assertEquals(List.of(22L, 15L, 8L, 3L), bleu.get("counts"));
        assertEquals(List.of(25L, 21L, 17L, 13L), bleu.get("totals"));
        assertEquals(25L, bleu.get("hyp_len"));
        Map<?, ?> chrf = (Map<?, ?>) scores.get(1);
        assertEquals("chrF2", chrf.get("name"));
        assertEquals(63.518230849825606, (Double) chrf.get("score"), 1e-12);
    }

    @Test
    void crlfAndAMissingFinalNewlineChangeNothing() throws Exception {
        Path crlfRef = write("ref-crlf.txt", String.join("\r\n", REFS) + "\r\n");
        Path noFinalNewline = write("hyp-nonl.txt", String.join("\n", HYPS));
        CliTest.Run r = kawi("score", crlfRef.toString(), noFinalNewline.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(BLEU_LINE + "\n" + CHRF_LINE + "\n", r.out().replace("\r\n", "\n"));
    }

    @Test
    void emptyFilesScoreZero() throws Exception {
        Path empty = write("empty.txt", "");
        CliTest.Run r = kawi("score", empty.toString(), empty.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("BLEU = 0.00 0.0/0.0/0.0/0.0 (BP = 1.000 ratio = 0.000 hyp_len = 0 ref_len = 0)\nchrF2 = 0.00\n",
                r.out().replace("\r\n", "\n"));
    }

    @Test
    void mismatchedLineCountsAreOneLineExitTwo() throws Exception {
        Path shorter = write("short.txt", "a\nb\n");
        CliTest.Run r = kawi("score", ref.toString(), shorter.toString());
        assertEquals(2, r.code());
        assertEquals("kawi score: error: REF and HYP differ in length: " + ref + " has 5 lines, " + shorter + " has 2",
                r.err().strip());
        assertEquals("", r.out());
        // A blank last line is a line: "x\n\n" has two.
        CliTest.Run blankLast = kawi("score", write("two.txt", "x\n\n").toString(), write("one.txt", "x\n").toString());
        assertEquals(2, blankLast.code());
        assertTrue(blankLast.err().contains("has 2 lines"), blankLast.err());
    }

    @Test
    void invalidUtf8NamesTheFileAndLine() throws Exception {
        Path bad = dir.resolve("bad.txt");
        byte[] ok = "first line\nsecond ".getBytes(StandardCharsets.UTF_8);
        byte[] bytes = new byte[ok.length + 9];
        System.arraycopy(ok, 0, bytes, 0, ok.length);
        bytes[ok.length] = (byte) 0xC3; // a lead byte followed by a non-continuation byte
        bytes[ok.length + 1] = 'x';
        System.arraycopy("\nlast\n\n".getBytes(StandardCharsets.UTF_8), 0, bytes, ok.length + 2, 7);
        Files.write(bad, bytes);
        Path four = write("four.txt", "a\nb\nc\nd\n");
        CliTest.Run r = kawi("score", four.toString(), bad.toString());
        assertEquals(2, r.code());
        assertEquals("kawi score: error: " + bad + ": line 2: invalid UTF-8 at byte offset " + ok.length + " of the file",
                r.err().strip());
        // A truncated sequence at the very end of the file is invalid too.
        Path truncated = dir.resolve("trunc.txt");
        Files.write(truncated, new byte[] {'a', '\n', (byte) 0xE2, (byte) 0x82});
        CliTest.Run t = kawi("score", truncated.toString(), truncated.toString());
        assertEquals(2, t.code());
        assertTrue(t.err().contains(truncated + ": line 2: invalid UTF-8"), t.err());
        assertEquals(1, t.err().lines().count(), t.err());
    }

    @Test
    void unreadableFilesAndBadUsageExitTwo() {
        CliTest.Run missing = kawi("score", dir.resolve("nope.txt").toString(), hyp.toString());
        assertEquals(2, missing.code());
        assertEquals("kawi score: error: " + dir.resolve("nope.txt") + ": no such file", missing.err().strip());
        CliTest.Run directory = kawi("score", ref.toString(), dir.toString());
        assertEquals(2, directory.code());
        assertEquals("kawi score: error: " + dir + ": is a directory, not a text file", directory.err().strip());
        CliTest.Run metric = kawi("score", ref.toString(), hyp.toString(), "--metric", "bleu,ter");
        assertEquals(2, metric.code());
        assertTrue(metric.err().contains("unknown metric \"ter\" (expected bleu or chrf)"), metric.err());
        assertEquals(2, kawi("score", ref.toString()).code());
        assertEquals(2, kawi("score").code());
        assertEquals(2, kawi("score", ref.toString(), hyp.toString(), "--nope").code());
        assertEquals(2, kawi("score", ref.toString(), hyp.toString(), ref.toString()).code());
        CliTest.Run help = kawi("score", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("--metric"), help.out());
    }
}

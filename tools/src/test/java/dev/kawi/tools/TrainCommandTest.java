package dev.kawi.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.weights.DType;
import dev.kawi.weights.KawiFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kawi train} end to end on a small corpus: vocabulary, steps, validation, checkpoints, resume, exports, errors. */
class TrainCommandTest {
    @TempDir
    Path dir;
    Path train;
    Path dev;

    @BeforeEach
    void corpus() throws Exception {
        String[] de = {"das", "Haus", "ist", "gro\u00df", "klein", "und", "nicht", "Datei", "\u00f6ffnen"};
        String[] en = {"the", "house", "is", "big", "small", "and", "not", "file", "open"};
        SplittableRandom rnd = new SplittableRandom(3);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            StringBuilder s = new StringBuilder();
            StringBuilder t = new StringBuilder();
            for (int k = 0, n = 2 + rnd.nextInt(5); k < n; k++) {
                int w = rnd.nextInt(de.length);
                s.append(k > 0 ? " " : "").append(de[w]);
                t.append(k > 0 ? " " : "").append(en[w]);
            }
            lines.add(s + "\t" + t);
        }
        train = dir.resolve("train.tsv");
        dev = dir.resolve("dev.tsv");
        Files.write(train, lines.subList(0, 100));
        Files.write(dev, lines.subList(100, 120));
    }

    private String[] args(Path out, int steps, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--train", train.toString(), "--dev", dev.toString(), "-o", out.toString(),
                "--vocab-size", "300", "--steps", String.valueOf(steps), "--warmup", "2", "--max-tokens", "128", "--threads", "2",
                "--validate-every", "2", "--checkpoint-every", "1", "--bleu-sentences", "5", "--log-every", "1", "--export", "q8"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void trainsValidatesExportsAndResumes() throws Exception {
        Path out = dir.resolve("run");
        CliTest.Run r = CliTest.kawi(args(out, 3));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("learned a vocabulary of 300 pieces"), r.out());
        assertTrue(r.out().contains("train: 100 pairs from 100 lines"), r.out());
        assertTrue(r.out().contains("step 3  epoch"), r.out());
        assertTrue(r.out().matches("(?s).*validation step 2  dev loss \\d+\\.\\d{4}  ppl [\\d.]+  acc [\\d.]+  BLEU \\d+\\.\\d\\d.*"), r.out());
        for (String f : List.of("vocab.json", "last.ckpt", "best.ckpt", "model.kawi", "model-q8.kawi")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f + " missing: " + r.out());
        }
        try (KawiFile f = KawiFile.open(out.resolve("model-q8.kawi"))) {
            f.verifyChecksums();
            assertEquals(DType.Q8, f.tensor("encoder.layers.0.ffn.fc1.weight").dtype());
            assertEquals(300, f.config().vocabSize());
            assertEquals("kawi train", f.provenance().get("generator"));
        }
        CliTest.Run t = CliTest.kawi("translate", "-m", out.resolve("model.kawi").toString(), "--max-length", "5", "das Haus");
        assertEquals(0, t.code(), t.err());

        // Resuming continues from the last checkpoint to the new step count.
        CliTest.Run again = CliTest.kawi(args(out, 5, "--resume"));
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("resumed from " + out.resolve("last.ckpt") + " at step 3"), again.out());
        assertTrue(again.out().contains("step 5  epoch"), again.out());
        assertFalse(again.out().contains("step 3  epoch"), again.out());
    }

    @Test
    void exportsComeFromTheQuantizationAwarePhase() {
        // Validations at steps 2 (before QAT) and 4 (after): step 4 becomes the best checkpoint
        // whatever the scores, and the exports are its weights.
        Path out = dir.resolve("qat");
        CliTest.Run r = CliTest.kawi(args(out, 4, "--qat", "q8", "--qat-start", "3"));
        assertEquals(0, r.code(), r.err());
        String v4 = r.out().lines().filter(l -> l.startsWith("validation step 4 ")).findFirst().orElseThrow();
        assertTrue(v4.endsWith("(best)"), r.out());
        assertTrue(r.out().contains("(Q8, step 4)"), r.out());
        assertTrue(r.out().contains("(F32, step 4)"), r.out());
    }

    @Test
    void malformedLinesAreNamedOrSkipped() throws Exception {
        List<String> lines = new ArrayList<>(Files.readAllLines(train));
        lines.add(2, "no tab on this line");
        Files.write(train, lines);
        CliTest.Run r = CliTest.kawi(args(dir.resolve("bad"), 1));
        assertEquals(Main.BAD_INPUT, r.code(), r.out());
        assertTrue(r.err().contains(train + ":3:"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());

        CliTest.Run skip = CliTest.kawi(args(dir.resolve("skip"), 1, "--skip-bad-lines"));
        assertEquals(0, skip.code(), skip.err());
        assertTrue(skip.out().contains("1 malformed skipped"), skip.out());
    }

    @Test
    void badUsageIsOneLineWithExitCode2() throws Exception {
        CliTest.Run missing = CliTest.kawi("train", "--train", dir.resolve("nope.tsv").toString(), "-o", dir.resolve("x").toString());
        assertEquals(Main.BAD_INPUT, missing.code());
        assertTrue(missing.err().contains("nope.tsv: no such file"), missing.err());

        CliTest.Run qat = CliTest.kawi(args(dir.resolve("y"), 1, "--qat", "q3"));
        assertEquals(Main.BAD_INPUT, qat.code());
        assertTrue(qat.err().contains("--qat: unknown type \"q3\""), qat.err());

        CliTest.Run zero = CliTest.kawi(args(dir.resolve("z"), 0));
        assertEquals(Main.BAD_INPUT, zero.code());
        assertTrue(zero.err().contains("--steps"), zero.err());
    }
}

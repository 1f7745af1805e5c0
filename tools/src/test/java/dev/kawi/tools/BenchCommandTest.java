package dev.kawi.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kawi bench}: the report's shape and counts (not its speed: timing is not asserted). */
class BenchCommandTest {
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void setUp() throws Exception {
        model = TestModels.small(dir);
    }

    @Test
    void jsonReportHasLatencyAndThroughput() throws Exception {
        CliTest.Run r = CliTest.kawi("bench", "-m", model.toString(), "--json", "--runs", "2", "--warmup", "0", "--batch", "5",
                "--max-length", "3", "--sentences", "3", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        JsonNode n = new ObjectMapper().readTree(r.out());
        assertEquals(1, n.get("threads").asInt());
        assertEquals(2, n.get("config").get("decoder_layers").asInt());
        assertEquals("F32", n.get("weights").asText());
        JsonNode lat = n.get("latency");
        assertEquals(3, lat.get("sentences").asInt());
        assertEquals(2, lat.get("runs").asInt());
        // The random model never says the end token first: every sentence decodes max-length tokens.
        assertEquals(3.0, lat.get("target_tokens_mean").asDouble());
        JsonNode ms = lat.get("ms_per_sentence");
        assertTrue(ms.get("min").asDouble() > 0 && ms.get("min").asDouble() <= ms.get("median").asDouble()
                && ms.get("median").asDouble() <= ms.get("max").asDouble(), ms.toString());
        assertEquals(ms.get("median").asDouble() / 3, lat.get("ms_per_token").get("median").asDouble(), 1e-9);
        JsonNode thr = n.get("throughput");
        assertEquals(5, thr.get("batch").asInt());
        assertEquals(3, thr.get("runs").asInt(), "at least 3 throughput runs");
        assertEquals(thr.get("sentences_per_s").get("median").asDouble() * 3, thr.get("tokens_per_s").get("median").asDouble(), 1e-6);
        assertTrue(n.get("kernels").asText().contains("1 thread") || n.get("kernels").asText().equals("scalar"), n.get("kernels").asText());
    }

    @Test
    void textReportAndInputFile() throws Exception {
        Path in = Files.writeString(dir.resolve("s.txt"), "Eins.\n\nZwei drei.\n");
        CliTest.Run r = CliTest.kawi("bench", "-m", model.toString(), "--runs", "1", "--warmup", "1", "--batch", "4", "--max-length", "2",
                "-i", in.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(5, lines.size(), r.out());
        assertTrue(lines.get(0).startsWith("model       " + model + ": 1+2 layers, d_model 64, 4 heads"), lines.get(0));
        assertTrue(lines.get(2).startsWith("input       2 sample sentences"), "blank lines skipped: " + lines.get(2));
        assertTrue(lines.get(3).matches("batch 1     \\d+\\.\\d\\d ms/sentence, \\d+\\.\\d{3} ms/token \\(median of 1 runs.*"), lines.get(3));
        assertTrue(lines.get(4).matches("batch 4     \\d+\\.\\d sentences/s, \\d+ tokens/s \\(median of 3 runs.*"), lines.get(4));
    }

    @Test
    void badInputExitsTwo() throws Exception {
        Path empty = Files.writeString(dir.resolve("empty.txt"), "\n  \n");
        CliTest.Run r = CliTest.kawi("bench", "-m", model.toString(), "-i", empty.toString());
        assertEquals(2, r.code());
        assertEquals("kawi bench: error: " + empty + ": no non-blank lines to translate", r.err().strip());
        CliTest.Run runs = CliTest.kawi("bench", "-m", model.toString(), "--runs", "0");
        assertEquals(2, runs.code());
        assertEquals(1, runs.err().lines().count(), runs.err());
        CliTest.Run missing = CliTest.kawi("bench", "-m", dir.resolve("none.kawi").toString());
        assertEquals(2, missing.code());
        assertEquals(1, missing.err().lines().count(), missing.err());
        assertEquals(0, CliTest.kawi("bench", "--help").code());
    }
}

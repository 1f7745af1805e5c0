package dev.kawi.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.weights.DType;
import dev.kawi.weights.Json;
import dev.kawi.weights.KawiFile;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.RandomModels;
import dev.kawi.weights.TensorInfo;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
    @TempDir
    Path dir;
    Path model;

    /** Result of one in-process run of the CLI. */
    record Run(int code, String out, String err) {
    }

    static Run kawi(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    @BeforeEach
    void smallModel() throws Exception {
        model = dir.resolve("m.kawi");
        ModelConfig c = new ModelConfig(1, 1, 64, 2, 128, 300, 32, ModelConfig.NormPlacement.POST, false, false, 1e-5f,
                ModelConfig.Activation.RELU, ModelConfig.EmbeddingScale.SQRT_D_MODEL, ModelConfig.Positions.SINUSOIDAL,
                true, false, true, true, 0, 1, 2, 3, 1);
        RandomModels.write(model, c, DType.F32, 3);
    }

    @Test
    void helpListsTheCommands() {
        Run r = kawi("--help");
        assertEquals(0, r.code);
        for (String c : List.of("translate", "inspect", "quantize", "random-model", "score", "attention", "bench")) {
            assertTrue(r.out.contains(c), r.out);
        }
        assertEquals(0, kawi("quantize", "--help").code);
    }

    @Test
    void inspectShowsConfigTokenizerAndTensors() {
        Run r = kawi("inspect", "--verify", model.toString());
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("1 encoder + 1 decoder layers, d_model 64, 2 heads of 32, ffn 128, vocab 300"), r.out);
        assertTrue(r.out.contains("bpe, 300 pieces"), r.out);
        assertTrue(r.out.contains("output.weight"), r.out);
        assertTrue(r.out.contains("checksums   verified"), r.out);
    }

    @Test
    void inspectJsonIsParseableAndComplete() throws Exception {
        Run r = kawi("inspect", "--json", model.toString());
        assertEquals(0, r.code, r.err);
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) Json.parse(r.out);
        assertEquals(64L, ((Map<?, ?>) m.get("config")).get("d_model"));
        try (KawiFile f = KawiFile.open(model)) {
            assertEquals((long) f.tensors().size(), ((List<?>) m.get("tensors")).size());
            long params = f.tensors().stream().mapToLong(TensorInfo::elementCount).sum();
            assertEquals(params, ((Map<?, ?>) m.get("totals")).get("parameters"));
        }
    }

    @Test
    void corruptFileIsOneLineAndExitTwo() throws Exception {
        byte[] b = Files.readAllBytes(model);
        b[b.length / 3] ^= 0x55; // inside tensor data: found only by --verify
        Path bad = dir.resolve("bad.kawi");
        Files.write(bad, b);
        assertEquals(0, kawi("inspect", bad.toString()).code);
        Run r = kawi("inspect", "--verify", bad.toString());
        assertEquals(2, r.code);
        assertTrue(r.err.startsWith("kawi inspect: error: " + bad + ": checksum mismatch in tensor"), r.err);
        assertEquals(1, r.err.lines().count(), r.err);
        Run v = kawi("inspect", "--verify", "--verbose", bad.toString());
        assertTrue(v.err.contains("at dev.kawi.weights.KawiFile.verifyChecksums"), "--verbose shows the stack trace");
    }

    @Test
    void badUsageExitsTwo() {
        assertEquals(2, kawi("inspect").code);
        assertEquals(2, kawi("inspect", "--nope", model.toString()).code);
        assertEquals(2, kawi("frobnicate").code);
        Run r = kawi("quantize", model.toString(), dir.resolve("o.kawi").toString(), "--dtype", "q3");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("unknown type \"q3\""), r.err);
        assertEquals(2, kawi("inspect", dir.resolve("missing.kawi").toString()).code);
    }

    @Test
    void quantizeReportsErrorsAndSizesAndKeepsNormsAndBiases() throws Exception {
        Path out = dir.resolve("q8.kawi");
        Run r = kawi("quantize", model.toString(), out.toString(), "--dtype", "q8");
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("encoder.layers.0.ffn.fc1.weight"), r.out);
        assertTrue(r.out.contains("F32 -> Q8"), r.out);
        assertTrue(r.out.matches("(?s).*size: .* -> .*\\(\\d+\\.\\d%\\).*"), r.out);
        try (KawiFile f = KawiFile.open(out)) {
            f.verifyChecksums();
            assertEquals(DType.Q8, f.tensor("encoder.layers.0.ffn.fc1.weight").dtype());
            assertEquals(DType.F32, f.tensor("encoder.layers.0.ffn.fc1.bias").dtype());
            assertEquals(DType.F32, f.tensor("encoder.layers.0.ffn_norm.weight").dtype());
            assertTrue(Files.size(out) < Files.size(model) * 0.4);
            // The reported max error of a Q8 matrix is at most half its largest block scale.
            String line = r.out.lines().filter(l -> l.startsWith("encoder.layers.0.ffn.fc1.weight")).findFirst().orElseThrow();
            double maxErr = Double.parseDouble(line.trim().split("\\s+")[4]);
            assertTrue(maxErr > 0 && maxErr < 0.2 / 127, line);
        }
        Path keepAll = dir.resolve("keep.kawi");
        assertEquals(0, kawi("quantize", model.toString(), keepAll.toString(), "--dtype", "q4", "--keep", "*").code);
        try (KawiFile a = KawiFile.open(model); KawiFile b = KawiFile.open(keepAll)) {
            for (TensorInfo t : a.tensors()) {
                TensorInfo u = b.tensor(t.name()).info();
                assertEquals(t.dtype(), u.dtype(), t.name());
                assertEquals(t.crc32c(), u.crc32c(), t.name());
            }
        }
    }

    @Test
    void quantizeRefusesToOverwriteItsInput() {
        Run r = kawi("quantize", model.toString(), model.toString(), "--dtype", "q8");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("OUT must differ from IN"), r.err);
    }

    @Test
    void translateArgumentsAndRefusesBadOptions() {
        Run r = kawi("translate", "-m", model.toString(), "--max-length", "6", "Guten", "Morgen.");
        assertEquals(0, r.code, r.err);
        assertEquals(1, r.out.lines().count(), r.out);
        Run beam = kawi("translate", "-m", model.toString(), "--beam", "3", "--nbest", "2", "--max-length", "6", "Hallo");
        assertEquals(0, beam.code, beam.err);
        assertEquals(2, beam.out.lines().count(), beam.out);
        assertTrue(beam.out.lines().allMatch(l -> l.matches("-?\\d+\\.\\d{4}\t.*")), beam.out);
        Run bad = kawi("translate", "-m", model.toString(), "--beam", "2", "--nbest", "3", "x");
        assertEquals(2, bad.code);
        assertTrue(bad.err.contains("n-best must be in [1, beam size 2]"), bad.err);
        assertEquals(2, kawi("translate", "-m", dir.resolve("none.kawi").toString(), "x").code);
    }

    @Test
    void randomModelWritesAValidFile() throws Exception {
        Path out = dir.resolve("r.kawi");
        Run r = kawi("random-model", "--preset", "tiny", "--vocab", "512", "--dtype", "q4", out.toString());
        assertEquals(0, r.code, r.err);
        try (KawiFile f = KawiFile.open(out)) {
            f.verifyChecksums();
            assertEquals(ModelConfig.tiny(512), f.config());
        }
        assertEquals(2, kawi("random-model", "--preset", "huge", out.toString()).code);
        assertFalse(kawi("random-model", "--vocab", "10", out.toString()).code == 0);
    }
}

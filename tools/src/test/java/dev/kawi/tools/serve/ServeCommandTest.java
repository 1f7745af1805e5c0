package dev.kawi.tools.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.tools.Main;
import dev.kawi.weights.DType;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.RandomModels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServeCommandTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static Run kawi(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    Path model() throws Exception {
        Path m = dir.resolve("m.kawi");
        ModelConfig c = new ModelConfig(1, 1, 64, 2, 128, 300, 32, ModelConfig.NormPlacement.POST, false, false, 1e-5f,
                ModelConfig.Activation.RELU, ModelConfig.EmbeddingScale.SQRT_D_MODEL, ModelConfig.Positions.SINUSOIDAL,
                true, false, true, true, 0, 1, 2, 3, 1);
        RandomModels.write(m, c, DType.F32, 3);
        return m;
    }

    @Test
    void helpListsServeAndItsOptions() {
        assertTrue(kawi("--help").out.contains("serve"));
        Run r = kawi("serve", "--help");
        assertEquals(0, r.code, r.err);
        for (String o : new String[] {"--model", "--host", "--port", "--threads", "--max-batch", "--batch-wait-ms", "--queue-size",
                "--max-body-bytes", "--max-input-chars", "--max-texts", "--timeout-ms"}) {
            assertTrue(r.out.contains(o), o + " in " + r.out);
        }
    }

    @Test
    void badOptionsAndAMissingModelExitTwoWithOneLine() throws Exception {
        Path m = model();
        Run q = kawi("serve", "-m", m.toString(), "--queue-size", "0");
        assertEquals(2, q.code);
        assertEquals("kawi serve: error: --queue-size must be >= 1, was 0", q.err.strip());
        Run p = kawi("serve", "-m", m.toString(), "--port", "70000");
        assertEquals(2, p.code);
        assertTrue(p.err.contains("--port must be in [0, 65535], was 70000"), p.err);
        Run missing = kawi("serve", "-m", dir.resolve("none.kawi").toString());
        assertEquals(2, missing.code);
        assertEquals(1, missing.err.lines().count(), missing.err);
    }

    @Test
    void aPortInUseExitsTwo() throws Exception {
        Path m = model();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            Run r = kawi("serve", "-m", m.toString(), "--port", Integer.toString(taken.getLocalPort()));
            assertEquals(2, r.code, r.err);
            assertTrue(r.err.startsWith("kawi serve: error: cannot listen on 127.0.0.1:" + taken.getLocalPort()), r.err);
        }
    }
}

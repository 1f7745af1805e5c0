package dev.kawi.tools;

import dev.kawi.weights.DType;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.RandomModels;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Small seeded random models and in-process runs of the CLI with a given standard input. */
final class TestModels {
    private TestModels() {
    }

    /** 1 encoder and 2 decoder layers, d_model 64 in 4 heads, a byte tokenizer of 300 pieces, 64 positions. */
    static Path small(Path dir) throws Exception {
        Path p = dir.resolve("small.kawi");
        ModelConfig c = new ModelConfig(1, 2, 64, 4, 128, 300, 64, ModelConfig.NormPlacement.PRE, true, true, 1e-5f,
                ModelConfig.Activation.RELU, ModelConfig.EmbeddingScale.SQRT_D_MODEL, ModelConfig.Positions.SINUSOIDAL,
                true, true, false, true, 0, 1, 2, 3, 1);
        RandomModels.write(p, c, DType.F32, 21);
        return p;
    }

    /** Runs the CLI with {@code stdin} as standard input. */
    static CliTest.Run withStdin(String stdin, String... args) {
        return withStdin(stdin.getBytes(StandardCharsets.UTF_8), args);
    }

    /** Runs the CLI with {@code stdin} bytes as standard input. */
    static synchronized CliTest.Run withStdin(byte[] stdin, String... args) {
        InputStream old = System.in;
        System.setIn(new ByteArrayInputStream(stdin));
        try {
            return CliTest.kawi(args);
        } finally {
            System.setIn(old);
        }
    }
}

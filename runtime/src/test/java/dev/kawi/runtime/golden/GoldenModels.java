package dev.kawi.runtime.golden;

import dev.kawi.weights.DType;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.ModelConfig.Activation;
import dev.kawi.weights.ModelConfig.EmbeddingScale;
import dev.kawi.weights.ModelConfig.NormPlacement;
import dev.kawi.weights.ModelConfig.Positions;
import dev.kawi.weights.RandomModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the three small F32 models the golden fixtures are computed from (by the independent
 * PyTorch reference, {@code runtime/src/test/golden/make_golden.py}). Deterministic: same files,
 * byte for byte, on every run.
 *
 * <p>Run from the repository root:
 * <pre>
 * ./mvn25 -q -pl runtime -am test-compile
 * java -cp runtime/target/test-classes:runtime/target/classes:weights-format/target/classes \
 *     dev.kawi.runtime.golden.GoldenModels [output-dir]
 * </pre>
 * The default output directory is {@code runtime/src/test/resources/golden}.
 */
public final class GoldenModels {
    static final int VOCAB = 260;
    static final int D_MODEL = 64;
    static final int HEADS = 4;
    static final int FFN = 128;
    static final int ENCODER_LAYERS = 2;
    static final int DECODER_LAYERS = 2;
    static final int MAX_POSITIONS = 64;

    private GoldenModels() {
    }

    /** (a) The paper: post-norm, relu, sqrt(d) scale, sinusoidal, shared and tied embeddings. */
    static ModelConfig postTied() {
        return config(NormPlacement.POST, false, false, 1e-5f, Activation.RELU, EmbeddingScale.SQRT_D_MODEL,
                Positions.SINUSOIDAL, true, true, false, true);
    }

    /** (b) Pre-norm with final norms, gelu, learned positions, separate embeddings, untied output with bias. */
    static ModelConfig preUntied() {
        return config(NormPlacement.PRE, true, true, 1e-6f, Activation.GELU, EmbeddingScale.SQRT_D_MODEL,
                Positions.LEARNED, false, false, true, true);
    }

    /** (c) Pre-norm with final norms, swish, scale one, sinusoidal, shared and tied, no linear biases. */
    static ModelConfig preSwishNoBias() {
        return config(NormPlacement.PRE, true, true, 1e-5f, Activation.SWISH, EmbeddingScale.ONE,
                Positions.SINUSOIDAL, true, true, false, false);
    }

    private static ModelConfig config(NormPlacement norm, boolean encFinal, boolean decFinal, float eps,
            Activation act, EmbeddingScale scale, Positions pos, boolean shared, boolean tied,
            boolean outputBias, boolean linearBias) {
        return new ModelConfig(ENCODER_LAYERS, DECODER_LAYERS, D_MODEL, HEADS, FFN, VOCAB, MAX_POSITIONS,
                norm, encFinal, decFinal, eps, act, scale, pos, shared, tied, outputBias, linearBias,
                0, 1, 2, 3, 1);
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "runtime/src/test/resources/golden");
        Files.createDirectories(dir);
        write(dir.resolve("post_tied.kawi"), postTied(), 1001L);
        write(dir.resolve("pre_untied.kawi"), preUntied(), 1002L);
        write(dir.resolve("pre_swish_nobias.kawi"), preSwishNoBias(), 1003L);
    }

    private static void write(Path path, ModelConfig config, long seed) throws IOException {
        RandomModels.write(path, config, DType.F32, seed);
        System.out.println("wrote " + path + " (" + Files.size(path) + " bytes, seed " + seed + ")");
    }
}

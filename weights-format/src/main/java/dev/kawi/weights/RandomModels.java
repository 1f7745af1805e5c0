package dev.kawi.weights;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes models with seeded random weights: for benchmarks, golden tests and the quick start.
 * Same seed, same file, byte for byte.
 */
public final class RandomModels {
    private RandomModels() {
    }

    /**
     * A byte-level tokenizer of exactly {@code vocabSize} pieces: {@code <pad> <s> </s> <unk>}, the
     * 256 byte pieces, then filler pieces {@code ▁w0, ▁w1, ...} (each with its BPE merge chain
     * omitted: fillers are never produced by encoding, only by decoding).
     */
    public static TokenizerSpec byteTokenizer(int vocabSize) {
        if (vocabSize < 260) {
            throw new IllegalArgumentException("a byte tokenizer needs at least 260 pieces, got " + vocabSize);
        }
        List<String> pieces = new ArrayList<>(vocabSize);
        pieces.add("<pad>");
        pieces.add("<s>");
        pieces.add("</s>");
        pieces.add("<unk>");
        for (int b = 0; b < 256; b++) {
            pieces.add(TokenizerSpec.bytePiece(b));
        }
        for (int i = 0; pieces.size() < vocabSize; i++) {
            pieces.add(TokenizerSpec.WORD_BOUNDARY + "w" + i);
        }
        return new TokenizerSpec(TokenizerSpec.Type.BPE, TokenizerSpec.Normalization.NFC, true, true, pieces, null, new int[0]);
    }

    /**
     * Writes a model for {@code config} with random weights. Matrices are uniform in
     * ±sqrt(6 / (in + out)) (Glorot) and stored in {@code matrixType}; 1-D tensors (biases, norms)
     * stay F32, with norm gains near 1 and biases near 0, random so that tests see their effect.
     */
    public static void write(Path out, ModelConfig config, DType matrixType, long seed) throws IOException {
        write(out, config, matrixType, seed, byteTokenizer(config.vocabSize()), Map.of());
    }

    /**
     * {@link #write(Path, ModelConfig, DType, long)} with a given tokenizer (its size must be the
     * vocabulary size) and some 1-D tensors given instead of random ones ({@code vectors}: name to
     * values), e.g. an output bias that makes a random model stop early.
     */
    public static void write(Path out, ModelConfig config, DType matrixType, long seed, TokenizerSpec tokenizer,
                             Map<String, float[]> vectors) throws IOException {
        if (tokenizer.size() != config.vocabSize()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.size() + " pieces, the config's vocabulary " + config.vocabSize());
        }
        Map<String, long[]> tensors = config.expectedTensors();
        for (Map.Entry<String, float[]> e : vectors.entrySet()) {
            long[] shape = tensors.get(e.getKey());
            if (shape == null || shape.length != 1 || shape[0] != e.getValue().length) {
                throw new IllegalArgumentException(e.getKey() + ": not a 1-D tensor of " + e.getValue().length + " values in this config");
            }
        }
        try (KawiWriter w = KawiWriter.create(out)) {
            for (Map.Entry<String, long[]> e : tensors.entrySet()) {
                String name = e.getKey();
                long[] shape = e.getValue();
                // One stream per tensor, derived from its name, so adding a tensor does not shift the others.
                SplittableRandom rnd = new SplittableRandom(seed ^ (name.hashCode() * 0x9E3779B97F4A7C15L));
                if (vectors.containsKey(name)) {
                    w.writeFloats(name, DType.F32, shape, vectors.get(name));
                } else if (shape.length == 1) {
                    float[] v = new float[(int) shape[0]];
                    boolean gain = name.endsWith("norm.weight");
                    for (int i = 0; i < v.length; i++) {
                        float u = (float) rnd.nextDouble(-0.1, 0.1);
                        v[i] = gain ? 1f + u : u;
                    }
                    w.writeFloats(name, DType.F32, shape, v);
                } else {
                    double a = Math.sqrt(6.0 / (shape[0] + shape[1]));
                    w.writeFloats(name, matrixType, shape, (row, dst) -> {
                        for (int i = 0; i < dst.length; i++) {
                            dst[i] = (float) rnd.nextDouble(-a, a);
                        }
                    });
                }
            }
            Map<String, Object> provenance = new LinkedHashMap<>();
            provenance.put("generator", "RandomModels");
            provenance.put("seed", seed);
            provenance.put("matrix_dtype", matrixType.name());
            w.finish(config, tokenizer, provenance);
        }
    }
}

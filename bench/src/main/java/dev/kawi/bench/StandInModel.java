package dev.kawi.bench;

import dev.kawi.runtime.Translation;
import dev.kawi.runtime.Translator;
import dev.kawi.runtime.TranslatorOptions;
import dev.kawi.runtime.kernels.KernelProvider;
import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.runtime.model.DecoderState;
import dev.kawi.runtime.model.Encoder;
import dev.kawi.runtime.model.EncoderOutput;
import dev.kawi.runtime.model.TransformerModel;
import dev.kawi.runtime.tokenizer.Tokenizer;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import dev.kawi.weights.DType;
import dev.kawi.weights.Json;
import dev.kawi.weights.KawiFile;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.RandomModels;
import dev.kawi.weights.TokenizerSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/**
 * Writes a stand-in for the bundled model, for start-up measurements before a trained model
 * exists: the tiny preset in Q8 with seeded random weights, a real vocabulary (a JSON file as
 * {@code kawi learn-vocab} writes it, so the tokenizer costs what the real one costs), and an
 * output bias on {@code </s>} that ends a sentence's greedy translation after a handful of
 * tokens, as a trained model's would (the seed is searched for one where a bias can do that). A random model without it never stops before --max-length (256 steps),
 * which is not what a user's first translation does.
 *
 * <p>Usage: {@code StandInModel VOCAB.json OUT.kawi [TOKENS] [SENTENCE]} (default 5 tokens,
 * "Guten Morgen.").
 */
public final class StandInModel {
    private StandInModel() {
    }

    /** Entry point. */
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: StandInModel VOCAB.json OUT.kawi [TOKENS] [SENTENCE]");
            System.exit(2);
        }
        Path vocab = Path.of(args[0]);
        Path out = Path.of(args[1]);
        int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        String sentence = args.length > 3 ? args[3] : "Guten Morgen.";
        @SuppressWarnings("unchecked")
        Map<String, Object> json = (Map<String, Object>) Json.parse(Files.readString(vocab, StandardCharsets.UTF_8));
        TokenizerSpec spec = TokenizerSpec.fromJson(json);
        ModelConfig t = ModelConfig.tiny(spec.size());
        ModelConfig c = new ModelConfig(t.encoderLayers(), t.decoderLayers(), t.dModel(), t.numHeads(), t.ffnDim(), t.vocabSize(),
                t.maxPositions(), t.norm(), t.encoderFinalNorm(), t.decoderFinalNorm(), t.layerNormEps(), t.activation(),
                t.embeddingScale(), t.positions(), t.sharedEmbeddings(), t.tiedOutput(), true, t.linearBias(),
                t.padId(), t.bosId(), t.eosId(), t.unkId(), t.decoderStartId());
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        // Adding a bias to </s> changes no other logit, so the greedy path is the bias-free one until
        // </s> wins: at the first step t where bias > margin(t) = (best other logit) - (</s> logit).
        // A seed whose margin at step tokens+1 is below every earlier margin gives exactly `tokens`.
        for (long seed = 1; seed <= 200; seed++) {
            float[] zero = new float[c.vocabSize()];
            RandomModels.write(tmp, c, DType.Q8, seed, spec, Map.of("output.bias", zero));
            float[] margins = margins(tmp, sentence, tokens + 1);
            float earlier = Float.POSITIVE_INFINITY;
            for (int step = 0; step < tokens; step++) {
                earlier = Math.min(earlier, margins[step]);
            }
            if (margins[tokens] < earlier) {
                float bias = (margins[tokens] + earlier) / 2;
                float[] b = new float[c.vocabSize()];
                b[c.eosId()] = bias;
                RandomModels.write(tmp, c, DType.Q8, seed, spec, Map.of("output.bias", b));
                int n = length(tmp, sentence);
                if (n == tokens) {
                    Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                    System.out.printf("wrote %s: tiny preset, Q8, %d pieces, seed %d, bias on </s> %.4f: \"%s\" -> %d tokens%n",
                            out, spec.size(), seed, bias, sentence, n);
                    return;
                }
            }
        }
        Files.deleteIfExists(tmp);
        System.err.println("no seed in 1..200 gives " + tokens + " tokens");
        System.exit(1);
    }

    /** The margins (best other logit minus the </s> logit) of the first `steps` greedy steps without any bias. */
    private static float[] margins(Path file, String sentence, int steps) throws Exception {
        float[] out = new float[steps];
        try (KawiFile f = KawiFile.open(file); Arena arena = Arena.ofShared()) {
            TransformerModel m = new TransformerModel(f, arena);
            ModelConfig c = m.config();
            Kernels k = KernelProvider.get(1);
            int[] ids = Tokenizer.create(f.tokenizer()).encode(sentence);
            int[] src = java.util.Arrays.copyOf(ids, ids.length + 1);
            src[ids.length] = c.eosId();
            EncoderOutput enc = Encoder.encode(m, k, arena, new int[][] {src});
            DecoderState st = new DecoderState(m, k, arena, enc, 1, steps);
            int[] input = {c.decoderStartId()};
            for (int t = 0; t < steps; t++) {
                st.step(input);
                float eos = st.logits().getAtIndex(ValueLayout.JAVA_FLOAT, c.eosId());
                st.logits().setAtIndex(ValueLayout.JAVA_FLOAT, c.eosId(), Float.NEGATIVE_INFINITY);
                int next = k.argmax(st.logits(), 0, c.vocabSize());
                out[t] = st.logits().getAtIndex(ValueLayout.JAVA_FLOAT, next) - eos;
                input[0] = next;
            }
        }
        return out;
    }

    /** The greedy output length of the sentence. */
    private static int length(Path file, String sentence) throws Exception {
        try (KawiFile f = KawiFile.open(file)) {
            f.verifyChecksums();
        }
        try (Translator tr = Translator.open(file, new TranslatorOptions(1, 1))) {
            Translation r = tr.translate(sentence);
            return r.tokens().size();
        }
    }
}

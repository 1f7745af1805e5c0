package dev.kawi.trainer;

import dev.kawi.trainer.data.Batch;
import dev.kawi.trainer.model.ParamLayout;
import dev.kawi.trainer.tensor.Buf;
import dev.kawi.weights.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Small configurations, random parameters and batches for the trainer's tests. */
public final class TestModels {
    private TestModels() {
    }

    /** A tiny config with every option chosen by the arguments. */
    public static ModelConfig config(int enc, int dec, int d, int heads, int ffn, int vocab, ModelConfig.NormPlacement norm,
                                     boolean finalNorms, ModelConfig.Activation act, ModelConfig.Positions pos,
                                     boolean shared, boolean tied, boolean outputBias, boolean linearBias) {
        return new ModelConfig(enc, dec, d, heads, ffn, vocab, 16, norm, finalNorms, finalNorms, 1e-5f, act,
                ModelConfig.EmbeddingScale.SQRT_D_MODEL, pos, shared, tied, outputBias, linearBias, 0, 1, 2, 3, 1);
    }

    /** The post-norm, tied, sinusoidal variant (the paper's choices). */
    public static ModelConfig paper(int vocab) {
        return config(2, 2, 8, 2, 12, vocab, ModelConfig.NormPlacement.POST, false, ModelConfig.Activation.RELU,
                ModelConfig.Positions.SINUSOIDAL, true, true, false, true);
    }

    /** The pre-norm, untied, learned-position variant with final norms, GELU and an output bias. */
    public static ModelConfig preNorm(int vocab) {
        return config(2, 2, 8, 2, 12, vocab, ModelConfig.NormPlacement.PRE, true, ModelConfig.Activation.GELU,
                ModelConfig.Positions.LEARNED, false, false, true, true);
    }

    /** Fills {@code params} with seeded values: matrices uniform in ±scale, norm gains near 1, biases near 0. */
    public static void randomize(ParamLayout layout, Buf params, long seed, double scale) {
        SplittableRandom rnd = new SplittableRandom(seed);
        for (ParamLayout.Entry e : layout.entries()) {
            boolean gain = e.name().endsWith("norm.weight");
            for (long i = 0; i < e.size(); i++) {
                double u = rnd.nextDouble(-1, 1);
                params.set(e.offset() + i, gain ? 1 + 0.2 * u : (e.isMatrix() ? scale : 0.2) * u);
            }
        }
    }

    /** A batch of sentences of different lengths (3 to 6 source, 2 to 5 target tokens) over ids [4, vocab). */
    public static Batch batch(ModelConfig c, int sentences, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Batch.Pair> pairs = new ArrayList<>();
        for (int b = 0; b < sentences; b++) {
            int[] src = new int[2 + rnd.nextInt(4)];
            int[] tgt = new int[1 + rnd.nextInt(4)];
            for (int i = 0; i < src.length; i++) {
                src[i] = 4 + rnd.nextInt(c.vocabSize() - 4);
            }
            for (int i = 0; i < tgt.length; i++) {
                tgt[i] = 4 + rnd.nextInt(c.vocabSize() - 4);
            }
            pairs.add(new Batch.Pair(src, tgt));
        }
        return Batch.of(pairs, c.padId(), c.eosId(), c.decoderStartId());
    }
}

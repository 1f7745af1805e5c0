package dev.kawi.runtime.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.runtime.kernels.KernelProvider;
import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.runtime.search.BeamSearch;
import dev.kawi.runtime.search.DecodingOptions;
import dev.kawi.runtime.search.GreedySearch;
import dev.kawi.runtime.search.Hypothesis;
import dev.kawi.weights.DType;
import dev.kawi.weights.KawiFile;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.RandomModels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Batch equals single, thread count does not matter, beam 1 equals greedy: bit for bit. */
class ModelInvarianceTest {
    private static final long SEED = 77;

    @TempDir
    Path dir;

    static ModelConfig config(ModelConfig.NormPlacement norm) {
        return new ModelConfig(2, 2, 64, 4, 128, 300, 64, norm, norm == ModelConfig.NormPlacement.PRE, norm == ModelConfig.NormPlacement.PRE,
                1e-5f, ModelConfig.Activation.GELU, ModelConfig.EmbeddingScale.SQRT_D_MODEL, ModelConfig.Positions.SINUSOIDAL,
                true, true, false, true, 0, 1, 2, 3, 1);
    }

    static int[][] sources(int count) {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int[][] s = new int[count][];
        for (int i = 0; i < count; i++) {
            s[i] = new int[1 + rnd.nextInt(13)];
            for (int j = 0; j < s[i].length - 1; j++) {
                s[i][j] = 4 + rnd.nextInt(296);
            }
            s[i][s[i].length - 1] = 2;
        }
        return s;
    }

    private static float[] rows(EncoderOutput e, int b, int d) {
        float[] out = new float[e.lengths()[b] * d];
        MemorySegment.copy(e.memory(), ValueLayout.JAVA_FLOAT, 4L * b * e.srcLen() * d, out, 0, out.length);
        return out;
    }

    private Hypothesis[] greedy(TransformerModel m, Kernels k, int[][] src, int maxLen) {
        try (Arena arena = Arena.ofShared()) {
            EncoderOutput e = Encoder.encode(m, k, arena, src);
            DecoderState st = new DecoderState(m, k, arena, e, 1, maxLen);
            int[] max = new int[src.length];
            Arrays.fill(max, maxLen);
            return GreedySearch.run(st, k, m.config(), scores(1), max, null);
        }
    }

    static DecodingOptions scores(int beam) {
        return DecodingOptions.builder().beamSize(beam).lengthPenalty(0f).returnScores(true).build();
    }

    static DecodingOptions beam(int beam, float alpha, int nBest) {
        return DecodingOptions.builder().beamSize(beam).lengthPenalty(alpha).nBest(nBest).returnScores(true).build();
    }

    @Test
    void batchEqualsSingleAtEveryThreadCount() throws Exception {
        for (ModelConfig.NormPlacement norm : ModelConfig.NormPlacement.values()) {
            Path p = dir.resolve(norm + ".kawi");
            RandomModels.write(p, config(norm), DType.Q8, SEED);
            try (KawiFile f = KawiFile.open(p); Arena arena = Arena.ofShared()) {
                TransformerModel m = new TransformerModel(f, arena);
                int[][] src = sources(5);
                Kernels k1 = KernelProvider.get(1);
                Kernels k2 = KernelProvider.get(2);
                EncoderOutput all = Encoder.encode(m, k2, arena, src);
                Hypothesis[] batch = greedy(m, k2, src, 20);
                for (int b = 0; b < src.length; b++) {
                    EncoderOutput one = Encoder.encode(m, k1, arena, new int[][] {src[b]});
                    assertArrayEquals(rows(one, 0, 64), rows(all, b, 64), norm + " encoder output of sentence " + b + " alone vs in batch (seed " + SEED + ")");
                    Hypothesis[] single = greedy(m, k1, new int[][] {src[b]}, 20);
                    assertArrayEquals(single[0].tokens(), batch[b].tokens(), norm + " greedy tokens of sentence " + b);
                    assertEquals(single[0].score(), batch[b].score(), norm + " greedy score of sentence " + b);
                }
            }
        }
    }

    @Test
    void beamOfOneEqualsGreedyAndNBestIsSorted() throws Exception {
        Path p = dir.resolve("m.kawi");
        RandomModels.write(p, config(ModelConfig.NormPlacement.POST), DType.F32, SEED + 1);
        try (KawiFile f = KawiFile.open(p); Arena arena = Arena.ofShared()) {
            TransformerModel m = new TransformerModel(f, arena);
            Kernels k = KernelProvider.get(2);
            int[][] src = sources(4);
            Hypothesis[] g = greedy(m, k, src, 16);
            int[] max = new int[src.length];
            Arrays.fill(max, 16);
            EncoderOutput e = Encoder.encode(m, k, arena, src);
            List<List<Hypothesis>> b1 = BeamSearch.run(new DecoderState(m, k, arena, e, 1, 16), k, m.config(), beam(1, 0f, 1), max);
            for (int i = 0; i < src.length; i++) {
                assertArrayEquals(g[i].tokens(), b1.get(i).get(0).tokens(), "beam 1 vs greedy, sentence " + i);
                assertEquals(g[i].score(), b1.get(i).get(0).score(), 1e-4f, "beam 1 vs greedy score, sentence " + i);
            }
            List<List<Hypothesis>> b4 = BeamSearch.run(new DecoderState(m, k, arena, e, 4, 16), k, m.config(), beam(4, 1f, 4), max);
            for (int i = 0; i < src.length; i++) {
                List<Hypothesis> nbest = b4.get(i);
                assertTrue(!nbest.isEmpty());
                for (int j = 1; j < nbest.size(); j++) {
                    assertTrue(nbest.get(j - 1).normalizedScore() >= nbest.get(j).normalizedScore(), "n-best order, sentence " + i);
                }
                // The best beam hypothesis scores at least as well as greedy under the same normalization.
                float greedyNorm = dev.kawi.runtime.search.BeamSearch.normalize(g[i].score(), g[i].tokens().length + 1, 1f);
                assertTrue(nbest.get(0).normalizedScore() >= greedyNorm - 1e-4f || g[i].tokens().length >= 16,
                        "beam 4 best " + nbest.get(0).normalizedScore() + " < greedy " + greedyNorm);
            }
            // Beam search of a batch equals beam search of each sentence alone.
            for (int i = 0; i < src.length; i++) {
                EncoderOutput one = Encoder.encode(m, k, arena, new int[][] {src[i]});
                List<List<Hypothesis>> alone = BeamSearch.run(new DecoderState(m, k, arena, one, 4, 16), k, m.config(), beam(4, 1f, 4), new int[] {16});
                assertEquals(alone.get(0).size(), b4.get(i).size());
                for (int j = 0; j < alone.get(0).size(); j++) {
                    assertArrayEquals(alone.get(0).get(j).tokens(), b4.get(i).get(j).tokens(), "beam alone vs batch, sentence " + i + " rank " + j);
                    assertEquals(alone.get(0).get(j).score(), b4.get(i).get(j).score());
                }
            }
        }
    }
}

package dev.kawi.runtime.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.runtime.kernels.KernelProvider;
import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.runtime.kernels.ScalarKernels;
import dev.kawi.runtime.model.DecoderState;
import dev.kawi.runtime.model.Encoder;
import dev.kawi.runtime.model.EncoderOutput;
import dev.kawi.runtime.model.TransformerModel;
import dev.kawi.runtime.search.BeamSearch;
import dev.kawi.runtime.search.DecodingOptions;
import dev.kawi.runtime.search.GreedySearch;
import dev.kawi.runtime.search.Hypothesis;
import dev.kawi.weights.Json;
import dev.kawi.weights.KawiFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Kawi against the independent PyTorch implementation in src/test/golden/make_golden.py:
 * encoder outputs and decoder logits within 1e-4, greedy and beam tokens exactly, for post-norm
 * and pre-norm, tied and untied, with the vector kernels (1 and 2 threads) and the scalar ones.
 */
class GoldenTest {
    private static final Path DIR = Path.of("src/test/resources/golden");
    private static final double TOL = 1e-4;

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (String model : List.of("post_tied", "pre_untied", "pre_swish_nobias")) {
            b.add(Arguments.of(model, "vector-1"));
            b.add(Arguments.of(model, "vector-2"));
            b.add(Arguments.of(model, "scalar"));
        }
        return b.build();
    }

    private static Kernels kernels(String name) {
        return switch (name) {
            case "vector-1" -> KernelProvider.get(1);
            case "vector-2" -> KernelProvider.get(2);
            default -> new ScalarKernels();
        };
    }

    @SuppressWarnings("unchecked")
    private static <T> T cast(Object o) {
        return (T) o;
    }

    private static int[] ints(Object list) {
        List<Object> l = cast(list);
        return l.stream().mapToInt(x -> ((Long) x).intValue()).toArray();
    }

    private static float f(Object o) {
        return o instanceof Long l ? l : ((Double) o).floatValue();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void matchesPyTorch(String model, String kernelName) throws Exception {
        Map<String, Object> fx = cast(Json.parse(Files.readString(DIR.resolve(model + ".json"))));
        Kernels k = kernels(kernelName);
        try (KawiFile file = KawiFile.open(DIR.resolve(model + ".kawi")); Arena arena = Arena.ofShared()) {
            TransformerModel m = new TransformerModel(file, arena);
            int d = m.config().dModel();
            int vocab = m.config().vocabSize();
            List<Object> sources = cast(fx.get("sources"));
            int[][] src = new int[sources.size()][];
            for (int i = 0; i < src.length; i++) {
                src[i] = ints(sources.get(i));
            }
            // Encoder outputs, each source encoded inside the whole (padded) batch.
            EncoderOutput enc = Encoder.encode(m, k, arena, src);
            List<Object> encExpected = cast(fx.get("encoder_output"));
            double worst = 0;
            for (int b = 0; b < src.length; b++) {
                List<Object> rows = cast(encExpected.get(b));
                for (int j = 0; j < rows.size(); j++) {
                    List<Object> row = cast(rows.get(j));
                    for (int c = 0; c < d; c++) {
                        float actual = enc.memory().getAtIndex(ValueLayout.JAVA_FLOAT, ((long) b * enc.srcLen() + j) * d + c);
                        worst = Math.max(worst, Math.abs(actual - f(row.get(c))));
                    }
                }
            }
            assertTrue(worst <= TOL, model + " " + kernelName + ": encoder output differs by " + worst);

            // Teacher-forced logits.
            for (Object o : (List<Object>) cast(fx.get("teacher_forcing"))) {
                Map<String, Object> tf = cast(o);
                int s = ((Long) tf.get("source")).intValue();
                int[] target = ints(tf.get("target"));
                List<Object> logits = cast(tf.get("logits"));
                EncoderOutput one = Encoder.encode(m, k, arena, new int[][] {src[s]});
                DecoderState st = new DecoderState(m, k, arena, one, 1, target.length);
                double w = 0;
                for (int t = 0; t < target.length; t++) {
                    st.step(new int[] {target[t]});
                    List<Object> row = cast(logits.get(t));
                    MemorySegment lg = st.logits();
                    for (int v = 0; v < vocab; v++) {
                        w = Math.max(w, Math.abs(lg.getAtIndex(ValueLayout.JAVA_FLOAT, v) - f(row.get(v))));
                    }
                }
                assertTrue(w <= TOL, model + " " + kernelName + ": teacher-forced logits of source " + s + " differ by " + w);
            }

            // Greedy, all sources in one batch.
            List<Object> greedy = cast(fx.get("greedy"));
            int[] maxLen = new int[src.length];
            for (Object o : greedy) {
                Map<String, Object> g = cast(o);
                maxLen[((Long) g.get("source")).intValue()] = ((Long) g.get("max_length")).intValue();
            }
            int steps = java.util.Arrays.stream(maxLen).max().orElse(1) + 1;
            Hypothesis[] out = GreedySearch.run(new DecoderState(m, k, arena, enc, 1, steps), k, m.config(), DecodingOptions.defaults(), maxLen, null);
            for (Object o : greedy) {
                Map<String, Object> g = cast(o);
                int s = ((Long) g.get("source")).intValue();
                assertArrayEquals(ints(g.get("tokens")), out[s].tokens(), model + " " + kernelName + ": greedy tokens of source " + s);
            }

            // Beam search, all sources in one batch.
            List<Object> beams = cast(fx.get("beam"));
            Map<String, Object> first = cast(beams.get(0));
            int beam = ((Long) first.get("beam_size")).intValue();
            float alpha = f(first.get("alpha"));
            DecodingOptions opts = DecodingOptions.builder().beamSize(beam).lengthPenalty(alpha).nBest(beam).returnScores(true).build();
            List<List<Hypothesis>> nbest = BeamSearch.run(new DecoderState(m, k, arena, enc, beam, steps), k, m.config(), opts, maxLen);
            for (Object o : beams) {
                Map<String, Object> bm = cast(o);
                int s = ((Long) bm.get("source")).intValue();
                List<Object> expected = cast(bm.get("nbest"));
                List<Hypothesis> actual = nbest.get(s);
                assertEquals(Math.min(beam, expected.size()), actual.size(), model + " " + kernelName + ": n-best size of source " + s);
                for (int r = 0; r < actual.size(); r++) {
                    Map<String, Object> e = cast(expected.get(r));
                    assertArrayEquals(ints(e.get("tokens")), actual.get(r).tokens(), model + " " + kernelName + ": beam rank " + r + " of source " + s);
                    assertEquals(f(e.get("score")), actual.get(r).score(), 1e-3, "beam score rank " + r + " source " + s);
                    assertEquals(f(e.get("normalized_score")), actual.get(r).normalizedScore(), 1e-3, "normalized score rank " + r);
                }
            }
        }
    }
}

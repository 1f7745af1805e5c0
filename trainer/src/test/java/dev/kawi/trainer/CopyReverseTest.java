package dev.kawi.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kawi.runtime.kernels.KernelProvider;
import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.runtime.model.DecoderState;
import dev.kawi.runtime.model.Encoder;
import dev.kawi.runtime.model.EncoderOutput;
import dev.kawi.runtime.model.TransformerModel;
import dev.kawi.trainer.data.Batch;
import dev.kawi.trainer.data.Batcher;
import dev.kawi.weights.DType;
import dev.kawi.weights.KawiFile;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.RandomModels;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A tiny model learns to copy and to reverse random sequences: within a bounded number of steps
 * (checked every few hundred) the exported model, run by the runtime with greedy decoding, gets
 * every one of 200 held-out sequences right.
 */
class CopyReverseTest {
    private static final int SYMBOLS = 20;
    private static final int FIRST = 4;

    @TempDir
    Path dir;

    static List<Batch.Pair> task(boolean reverse, int count, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Batch.Pair> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int[] x = new int[2 + rnd.nextInt(5)];
            for (int j = 0; j < x.length; j++) {
                x[j] = FIRST + rnd.nextInt(SYMBOLS);
            }
            int[] y = x.clone();
            if (reverse) {
                for (int j = 0; j < y.length; j++) {
                    y[j] = x[x.length - 1 - j];
                }
            }
            out.add(new Batch.Pair(x, y));
        }
        return out;
    }

    @ParameterizedTest(name = "reverse={0}")
    @ValueSource(booleans = {false, true})
    void learnsTheTaskToFullAccuracyWithinABoundedNumberOfSteps(boolean reverse) throws Exception {
        ModelConfig c = TestModels.config(2, 2, 64, 4, 128, 260, ModelConfig.NormPlacement.PRE, true,
                ModelConfig.Activation.RELU, ModelConfig.Positions.SINUSOIDAL, true, true, false, true);
        long seed = 5;
        int bound = 3000;
        int every = 300;
        TrainOptions o = TrainOptions.defaults().withSchedule(bound, 100, 0.5).withRegularization(0, 0, 0, 1.0)
                .withBatching(512, 1, 2).withSeed(seed, 32);
        Batcher data = new Batcher(task(reverse, 20_000, seed), o.maxTokens(), seed, c.padId(), c.eosId(), c.decoderStartId());
        List<Batch.Pair> heldOut = task(reverse, 200, seed + 1000);
        String name = reverse ? "reverse" : "copy";
        Path file = dir.resolve(name + ".kawi");
        int right = 0;
        int steps = 0;
        try (Trainer t = new Trainer(c, o, data)) {
            while (steps < bound && right < heldOut.size()) {
                for (int i = 0; i < every; i++) {
                    t.trainStep();
                }
                steps += every;
                t.export(file, DType.F32, RandomModels.byteTokenizer(c.vocabSize()), Map.of("task", name));
                right = greedyCorrect(c, file, heldOut);
            }
        }
        System.out.printf("%s: %d/%d held-out sequences right after %d steps%n", name, right, heldOut.size(), steps);
        assertEquals(heldOut.size(), right, name + ": held-out sequences right after " + steps + " steps (seed " + seed + ")");
    }

    /** Held-out pairs whose greedy translation by the runtime, from the exported file, is exactly the target. */
    private static int greedyCorrect(ModelConfig c, Path file, List<Batch.Pair> heldOut) throws Exception {
        int right = 0;
        Kernels k = KernelProvider.get(1);
        try (KawiFile f = KawiFile.open(file); Arena arena = Arena.ofConfined()) {
            TransformerModel m = new TransformerModel(f, arena);
            for (Batch.Pair p : heldOut) {
                int[] src = Arrays.copyOf(p.source(), p.source().length + 1);
                src[src.length - 1] = c.eosId();
                EncoderOutput enc = Encoder.encode(m, k, arena, new int[][] {src});
                DecoderState st = new DecoderState(m, k, arena, enc, 1, 12);
                int[] out = new int[12];
                int n = 0;
                int next = c.decoderStartId();
                while (n < 11) {
                    st.step(new int[] {next});
                    next = k.argmax(st.logits(), 0, c.vocabSize());
                    if (next == c.eosId()) {
                        break;
                    }
                    out[n++] = next;
                }
                if (Arrays.equals(Arrays.copyOf(out, n), p.target())) {
                    right++;
                }
            }
        }
        return right;
    }
}

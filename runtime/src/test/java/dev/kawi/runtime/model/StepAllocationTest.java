package dev.kawi.runtime.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.runtime.kernels.ForwardingKernels;
import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.runtime.kernels.Weights;
import dev.kawi.runtime.kernels.simd.VectorKernels;
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
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Steady-state decoding allocates nothing on the heap: the bytes allocated (ThreadMXBean, exact
 * to the byte, the calling thread plus the kernel pools' workers) between the start of decoder
 * step {@link #FIRST} and the start of step {@link #LAST} are 0, for greedy decoding (batch 1 and
 * a batch of 4, which takes the tiled GEMM path) and beam search (beam 4), on 1 and 2 threads.
 *
 * <p>An allocation count, not a timing. The JIT is the only allowed disturbance: until C2 has
 * compiled a path, the interpreter and C1 box Vector API values (hundreds of KB per step), and a
 * recompilation or deoptimization can hit any window. So each case decodes again and again, each
 * run measured, until one window allocates 0 bytes (at most {@link #MAX_RUNS} runs; the first
 * case needs about 80, the later ones share its compiled code). Code that allocates per step
 * allocates in every window and fails.
 */
class StepAllocationTest {
    private static final long SEED = 2024;
    private static final int STEPS = 64;
    private static final int FIRST = 10;
    private static final int LAST = 60;
    private static final int MAX_RUNS = 300;
    private static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @TempDir
    Path dir;

    /**
     * 1 + 2 layers, d_model 128, vocabulary 8192: the output projection (8192 x 128 = 2^20
     * weights) is large enough that a 1-row product goes to the pool's second thread.
     */
    static ModelConfig config() {
        return new ModelConfig(1, 2, 128, 4, 512, 8192, 96, ModelConfig.NormPlacement.PRE, true, true,
                1e-5f, ModelConfig.Activation.RELU, ModelConfig.EmbeddingScale.SQRT_D_MODEL, ModelConfig.Positions.SINUSOIDAL,
                true, true, false, true, 0, 1, 2, 3, 1);
    }

    /** Counts decoder steps (one embedding gather each) and reads the allocation counters at two of them. */
    static final class StepProbe extends ForwardingKernels {
        private final long[] workers;
        private int steps;
        private long start;
        private long end;

        StepProbe(Kernels k) {
            super(k);
            workers = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("kawi-kernel-")).mapToLong(Thread::threadId).toArray();
        }

        @Override
        public void embedding(Weights table, int[] ids, int idsOff, int count, float scale, MemorySegment out, long outOff, int ldo) {
            if (steps == FIRST) {
                // Workers first: reading them allocates a result array here, before this thread's counter is read.
                long w = workerBytes();
                start = w + THREADS.getCurrentThreadAllocatedBytes();
            } else if (steps == LAST) {
                long self = THREADS.getCurrentThreadAllocatedBytes();
                end = self + workerBytes();
            }
            steps++;
            super.embedding(table, ids, idsOff, count, scale, out, outOff, ldo);
        }

        private long workerBytes() {
            if (workers.length == 0) {
                return 0;
            }
            long sum = 0;
            for (long b : THREADS.getThreadAllocatedBytes(workers)) {
                sum += b;
            }
            return sum;
        }

        double bytesPerStep() {
            assertTrue(steps > LAST, "decoding stopped after " + steps + " steps, before step " + LAST);
            return (end - start) / (double) (LAST - FIRST);
        }
    }

    private interface Case {
        /** Decodes once through {@code probe} (all steps forced) and returns the generated lengths. */
        int[] run(Kernels probe);
    }

    private static double measure(String name, Kernels k, Case c) {
        double best = Double.MAX_VALUE;
        int runs = 0;
        StringBuilder last = new StringBuilder();
        while (runs < MAX_RUNS && best > 0) {
            StepProbe p = new StepProbe(k);
            int[] lengths = c.run(p);
            runs++;
            for (int len : lengths) {
                assertEquals(STEPS, len, name + ": every sentence decodes exactly " + STEPS + " tokens");
            }
            double b = p.bytesPerStep();
            best = Math.min(best, b);
            if (runs > MAX_RUNS - 5 || b == 0) {
                last.append(last.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%.1f", b));
            }
        }
        System.out.printf(Locale.ROOT, "StepAllocationTest %s (%s): bytes per step over %d steps, run %d: %s%n",
                name, k.name(), LAST - FIRST, runs, last);
        return best;
    }

    private static int[][] sources(int n) {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int[][] s = new int[n][];
        for (int i = 0; i < n; i++) {
            s[i] = new int[6 + rnd.nextInt(10)];
            for (int j = 0; j < s[i].length - 1; j++) {
                s[i][j] = 4 + rnd.nextInt(8188);
            }
            s[i][s[i].length - 1] = 2;
        }
        return s;
    }

    private static int[] greedy(TransformerModel m, Kernels k, Kernels probe, int[][] src) {
        DecodingOptions o = DecodingOptions.builder().minLength(STEPS).maxLength(STEPS).build();
        try (Arena arena = Arena.ofShared()) {
            EncoderOutput e = Encoder.encode(m, k, arena, src);
            DecoderState st = new DecoderState(m, probe, arena, e, 1, STEPS);
            int[] max = new int[src.length];
            Arrays.fill(max, STEPS);
            Hypothesis[] h = GreedySearch.run(st, probe, m.config(), o, max, null);
            return Arrays.stream(h).mapToInt(x -> x.tokens().length).toArray();
        }
    }

    private static int[] beam(TransformerModel m, Kernels k, Kernels probe, int[][] src) {
        DecodingOptions o = DecodingOptions.builder().beamSize(4).minLength(STEPS).maxLength(STEPS).build();
        try (Arena arena = Arena.ofShared()) {
            EncoderOutput e = Encoder.encode(m, k, arena, src);
            DecoderState st = new DecoderState(m, probe, arena, e, 4, STEPS);
            int[] max = new int[src.length];
            Arrays.fill(max, STEPS);
            List<List<Hypothesis>> h = BeamSearch.run(st, probe, m.config(), o, max);
            return h.stream().mapToInt(x -> x.get(0).tokens().length).toArray();
        }
    }

    @Test
    void steadyStateDecodingStepsAllocateNothing() throws Exception {
        for (DType dtype : new DType[] {DType.Q8, DType.F32}) {
            Path p = dir.resolve(dtype + ".kawi");
            RandomModels.write(p, config(), dtype, SEED);
            try (KawiFile f = KawiFile.open(p); Arena arena = Arena.ofShared()) {
                TransformerModel m = new TransformerModel(f, arena);
                int[][] one = sources(1);
                int[][] four = sources(4);
                for (int threads = 1; threads <= 2; threads++) {
                    Kernels k = new VectorKernels(threads);
                    String t = dtype + " " + threads + "t";
                    double g1 = measure("greedy batch 1 " + t, k, probe -> greedy(m, k, probe, one));
                    double g4 = measure("greedy batch 4 " + t, k, probe -> greedy(m, k, probe, four));
                    double b4 = measure("beam 4 " + t, k, probe -> beam(m, k, probe, one));
                    assertEquals(0.0, g1, "greedy batch 1, " + t + ": bytes allocated per steady-state step (seed " + SEED + ")");
                    assertEquals(0.0, g4, "greedy batch 4, " + t + ": bytes allocated per steady-state step (seed " + SEED + ")");
                    assertEquals(0.0, b4, "beam 4, " + t + ": bytes allocated per steady-state step (seed " + SEED + ")");
                }
            }
        }
    }
}

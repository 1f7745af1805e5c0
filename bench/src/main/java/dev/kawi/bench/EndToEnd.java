package dev.kawi.bench;

import dev.kawi.runtime.kernels.ForwardingKernels;
import dev.kawi.runtime.kernels.KernelProvider;
import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.runtime.kernels.Weights;
import dev.kawi.runtime.model.DecoderState;
import dev.kawi.runtime.model.Encoder;
import dev.kawi.runtime.model.EncoderOutput;
import dev.kawi.runtime.model.TransformerModel;
import dev.kawi.runtime.search.BeamSearch;
import dev.kawi.runtime.search.DecodingOptions;
import dev.kawi.runtime.search.GreedySearch;
import dev.kawi.runtime.search.Hypothesis;
import dev.kawi.weights.KawiFile;
import dev.kawi.weights.ModelConfig;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * End-to-end timing of one model in one process (so that its peak RSS is its own), at one thread
 * count. Prints one JSON line per metric with the median and all repetitions. Parts (all by
 * default, or a comma-separated selection as the fourth argument):
 * <ul>
 *   <li>{@code greedy}: batch-1 latency of a 20-token source with exactly 20 greedy steps
 *       ({@code latency_ms}, {@code ms_per_token});
 *   <li>{@code encoder}: the encoder alone on that source ({@code encoder_ms});
 *   <li>{@code batch32}: 32 such sources decoded together ({@code batch32_sentences_per_s});
 *   <li>{@code beam}: batch-1 latency with beam search, beam 4, exactly 20 steps
 *       ({@code beam4_latency_ms}, {@code beam4_ms_per_token});
 *   <li>{@code alloc}: heap bytes allocated per steady-state decoder step, greedy and beam 4
 *       ({@code greedy_bytes_per_step}, {@code beam4_bytes_per_step}), counted exactly with
 *       ThreadMXBean on the calling thread and the kernel workers, over steps 4..19 of a run.
 * </ul>
 *
 * <pre>
 * java --add-modules=jdk.incubator.vector -cp bench/target/benchmarks.jar dev.kawi.bench.EndToEnd MODEL THREADS [REPEATS] [PARTS]
 * </pre>
 * The end token is suppressed (min length = max length = 20), so every run does the same work:
 * greedy decoding never stops early, and beam search keeps 4 live hypotheses to the last step,
 * where they finish.
 */
public final class EndToEnd {
    private static final int SRC_LEN = 20;
    private static final int STEPS = 20;
    private static final int BATCH = 32;
    private static final int BEAM = 4;
    /** Allocation is counted from the start of this step to the start of the last one. */
    private static final int ALLOC_FIRST_STEP = 4;
    private static final int ALLOC_RUNS = 7;

    /** The parts of the benchmark. */
    private enum Part { GREEDY, ENCODER, BATCH32, BEAM, ALLOC }

    private EndToEnd() {
    }

    /** Entry point: MODEL THREADS [REPEATS] [PARTS]. */
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: EndToEnd MODEL.kawi THREADS [REPEATS] [greedy,encoder,batch32,beam,alloc]");
            System.exit(2);
        }
        Path path = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 15;
        Set<Part> parts = args.length > 3 ? parts(args[3]) : EnumSet.allOf(Part.class);
        Kernels k = KernelProvider.get(threads);
        try (KawiFile file = KawiFile.open(path); Arena modelArena = Arena.ofShared()) {
            TransformerModel m = new TransformerModel(file, modelArena);
            ModelConfig c = m.config();
            int[][] one = sources(1, c);
            int[][] batch = sources(BATCH, c);
            DecodingOptions greedy = DecodingOptions.builder().minLength(STEPS).maxLength(STEPS).build();
            DecodingOptions beam = DecodingOptions.builder().beamSize(BEAM).minLength(STEPS).maxLength(STEPS).build();
            String label = path.getFileName().toString().replace(".kawi", "");
            String rss = null;
            // Warm-up: enough iterations for C2 to compile the hot paths.
            boolean oneNeeded = parts.contains(Part.GREEDY) || parts.contains(Part.ENCODER) || parts.contains(Part.ALLOC);
            for (int i = 0; i < 30 && oneNeeded; i++) {
                greedy(m, k, k, one, greedy);
            }
            for (int i = 0; i < 3 && parts.contains(Part.BATCH32); i++) {
                greedy(m, k, k, batch, greedy);
            }
            for (int i = 0; i < 15 && (parts.contains(Part.BEAM) || parts.contains(Part.ALLOC)); i++) {
                beam(m, k, k, one, beam);
            }
            if (parts.contains(Part.GREEDY) || parts.contains(Part.ENCODER)) {
                double[] lat = new double[repeats];
                double[] enc = new double[repeats];
                for (int r = 0; r < repeats; r++) {
                    long t0 = System.nanoTime();
                    greedy(m, k, k, one, greedy);
                    lat[r] = (System.nanoTime() - t0) / 1e6;
                    t0 = System.nanoTime();
                    try (Arena a = Arena.ofShared()) {
                        Encoder.encode(m, k, a, one);
                    }
                    enc[r] = (System.nanoTime() - t0) / 1e6;
                }
                rss = peakRss();
                if (parts.contains(Part.GREEDY)) {
                    emit(label, threads, "latency_ms", lat, k.name(), rss);
                    emit(label, threads, "ms_per_token", Arrays.stream(lat).map(x -> x / STEPS).toArray(), k.name(), rss);
                }
                if (parts.contains(Part.ENCODER)) {
                    emit(label, threads, "encoder_ms", enc, k.name(), rss);
                }
            }
            if (parts.contains(Part.BATCH32)) {
                int tRepeats = Math.max(3, repeats / 3);
                double[] thr = new double[tRepeats];
                for (int r = 0; r < tRepeats; r++) {
                    long t0 = System.nanoTime();
                    greedy(m, k, k, batch, greedy);
                    thr[r] = BATCH / ((System.nanoTime() - t0) / 1e9);
                }
                rss = peakRss();
                emit(label, threads, "batch32_sentences_per_s", thr, k.name(), rss);
            }
            if (parts.contains(Part.BEAM)) {
                double[] lat = new double[repeats];
                for (int r = 0; r < repeats; r++) {
                    long t0 = System.nanoTime();
                    beam(m, k, k, one, beam);
                    lat[r] = (System.nanoTime() - t0) / 1e6;
                }
                rss = peakRss();
                emit(label, threads, "beam4_latency_ms", lat, k.name(), rss);
                emit(label, threads, "beam4_ms_per_token", Arrays.stream(lat).map(x -> x / STEPS).toArray(), k.name(), rss);
            }
            if (parts.contains(Part.ALLOC)) {
                double[] g = new double[ALLOC_RUNS];
                double[] b = new double[ALLOC_RUNS];
                for (int r = 0; r < ALLOC_RUNS; r++) {
                    StepAllocation probe = new StepAllocation(k);
                    greedy(m, k, probe, one, greedy);
                    g[r] = probe.bytesPerStep();
                    probe = new StepAllocation(k);
                    beam(m, k, probe, one, beam);
                    b[r] = probe.bytesPerStep();
                }
                rss = peakRss();
                emit(label, threads, "greedy_bytes_per_step", g, k.name(), rss);
                emit(label, threads, "beam4_bytes_per_step", b, k.name(), rss);
            }
        }
    }

    private static Set<Part> parts(String list) {
        Set<Part> s = EnumSet.noneOf(Part.class);
        for (String p : list.split(",")) {
            try {
                s.add(Part.valueOf(p.trim().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                System.err.println("unknown part '" + p + "': use greedy, encoder, batch32, beam, alloc");
                System.exit(2);
            }
        }
        return s;
    }

    /** Encoder + exactly STEPS greedy steps; {@code steps} are the kernels of the decoder steps. */
    private static void greedy(TransformerModel m, Kernels k, Kernels steps, int[][] src, DecodingOptions o) {
        try (Arena a = Arena.ofShared()) {
            EncoderOutput enc = Encoder.encode(m, k, a, src);
            DecoderState st = new DecoderState(m, steps, a, enc, 1, STEPS);
            Hypothesis[] h = GreedySearch.run(st, steps, m.config(), o, maxLengths(src.length), null);
            if (h[0].tokens().length != STEPS) {
                throw new IllegalStateException("expected exactly " + STEPS + " tokens, got " + h[0].tokens().length);
            }
        }
    }

    /** Encoder + exactly STEPS steps of beam search. */
    private static void beam(TransformerModel m, Kernels k, Kernels steps, int[][] src, DecodingOptions o) {
        try (Arena a = Arena.ofShared()) {
            EncoderOutput enc = Encoder.encode(m, k, a, src);
            DecoderState st = new DecoderState(m, steps, a, enc, o.beamSize(), STEPS);
            List<List<Hypothesis>> h = BeamSearch.run(st, steps, m.config(), o, maxLengths(src.length));
            if (st.step() != STEPS || h.get(0).get(0).tokens().length != STEPS) {
                throw new IllegalStateException("expected exactly " + STEPS + " beam steps, got " + st.step());
            }
        }
    }

    private static int[] maxLengths(int n) {
        int[] max = new int[n];
        Arrays.fill(max, STEPS);
        return max;
    }

    /**
     * Kernels that count decoder steps (one embedding gather each) and read the heap bytes
     * allocated by this thread and the kernel workers at the start of step
     * {@link #ALLOC_FIRST_STEP} and at the start of the last step.
     */
    private static final class StepAllocation extends ForwardingKernels {
        private static final com.sun.management.ThreadMXBean MX = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        private final long[] workers;
        private int steps;
        private long start;
        private long end;

        StepAllocation(Kernels k) {
            super(k);
            workers = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("kawi-kernel-")).mapToLong(Thread::threadId).toArray();
        }

        @Override
        public void embedding(Weights table, int[] ids, int idsOff, int count, float scale, MemorySegment out, long outOff, int ldo) {
            if (steps == ALLOC_FIRST_STEP) {
                long w = workerBytes();   // allocates its result array here, before this thread's counter is read
                start = w + MX.getCurrentThreadAllocatedBytes();
            } else if (steps == STEPS - 1) {
                long self = MX.getCurrentThreadAllocatedBytes();
                end = self + workerBytes();
            }
            steps++;
            super.embedding(table, ids, idsOff, count, scale, out, outOff, ldo);
        }

        private long workerBytes() {
            long sum = 0;
            if (workers.length > 0) {
                for (long b : MX.getThreadAllocatedBytes(workers)) {
                    sum += b;
                }
            }
            return sum;
        }

        double bytesPerStep() {
            return (end - start) / (double) (STEPS - 1 - ALLOC_FIRST_STEP);
        }
    }

    /** Sources of SRC_LEN tokens: 19 seeded random ids >= 4 and the end token. */
    private static int[][] sources(int n, ModelConfig c) {
        SplittableRandom rnd = new SplittableRandom(42);
        int[][] s = new int[n][SRC_LEN];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < SRC_LEN - 1; j++) {
                s[i][j] = 4 + rnd.nextInt(c.vocabSize() - 4);
            }
            s[i][SRC_LEN - 1] = c.eosId();
        }
        return s;
    }

    private static void emit(String model, int threads, String metric, double[] values, String kernels, String rss) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double median = sorted[sorted.length / 2];
        StringBuilder all = new StringBuilder();
        for (double v : values) {
            all.append(all.isEmpty() ? "" : ",").append(String.format(Locale.ROOT, "%.3f", v));
        }
        System.out.printf(Locale.ROOT, "{\"model\":\"%s\",\"threads\":%d,\"metric\":\"%s\",\"median\":%.3f,\"values\":[%s],\"kernels\":\"%s\",\"peak_rss_mb\":%s}%n",
                model, threads, metric, median, all, kernels, rss);
    }

    /** VmHWM of this process in MB (Linux), or null. */
    private static String peakRss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    return String.format(Locale.ROOT, "%.1f", kb / 1024.0);
                }
            }
        } catch (Exception ignored) {
            // not Linux
        }
        return "null";
    }
}

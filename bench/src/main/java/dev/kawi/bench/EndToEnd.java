package dev.kawi.bench;

import dev.kawi.runtime.kernels.KernelProvider;
import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.runtime.model.DecoderState;
import dev.kawi.runtime.model.Encoder;
import dev.kawi.runtime.model.TransformerModel;
import dev.kawi.runtime.search.DecodingOptions;
import dev.kawi.runtime.search.GreedySearch;
import dev.kawi.runtime.search.Hypothesis;
import dev.kawi.weights.KawiFile;
import dev.kawi.weights.ModelConfig;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * End-to-end timing of one model in one process (so that its peak RSS is its own): batch-1
 * latency of a 20-token source with exactly 20 greedy steps, the encoder alone, and batch-32
 * throughput. Prints one JSON line per metric with the median and all repetitions.
 *
 * <pre>
 * java --add-modules=jdk.incubator.vector -cp bench/target/benchmarks.jar dev.kawi.bench.EndToEnd MODEL THREADS [REPEATS]
 * </pre>
 * The end token is suppressed (min length = max length = 20), so every run does the same work.
 */
public final class EndToEnd {
    private static final int SRC_LEN = 20;
    private static final int STEPS = 20;
    private static final int BATCH = 32;

    private EndToEnd() {
    }

    /** Entry point: MODEL THREADS [REPEATS]. */
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: EndToEnd MODEL.kawi THREADS [REPEATS]");
            System.exit(2);
        }
        Path path = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 15;
        Kernels k = KernelProvider.get(threads);
        try (KawiFile file = KawiFile.open(path); Arena modelArena = Arena.ofShared()) {
            TransformerModel m = new TransformerModel(file, modelArena);
            ModelConfig c = m.config();
            int[][] one = sources(1, c);
            int[][] batch = sources(BATCH, c);
            DecodingOptions exact = DecodingOptions.builder().minLength(STEPS).maxLength(STEPS).build();
            String label = path.getFileName().toString().replace(".kawi", "");
            // Warm-up: enough iterations for C2 to compile the hot paths.
            for (int i = 0; i < 30; i++) {
                translate(m, k, one, exact);
            }
            for (int i = 0; i < 3; i++) {
                translate(m, k, batch, exact);
            }
            double[] lat = new double[repeats];
            double[] enc = new double[repeats];
            for (int r = 0; r < repeats; r++) {
                long t0 = System.nanoTime();
                translate(m, k, one, exact);
                lat[r] = (System.nanoTime() - t0) / 1e6;
                t0 = System.nanoTime();
                try (Arena a = Arena.ofShared()) {
                    Encoder.encode(m, k, a, one);
                }
                enc[r] = (System.nanoTime() - t0) / 1e6;
            }
            int tRepeats = Math.max(3, repeats / 3);
            double[] thr = new double[tRepeats];
            for (int r = 0; r < tRepeats; r++) {
                long t0 = System.nanoTime();
                translate(m, k, batch, exact);
                thr[r] = BATCH / ((System.nanoTime() - t0) / 1e9);
            }
            String rss = peakRss();
            emit(label, threads, "latency_ms", lat, k.name(), rss);
            emit(label, threads, "ms_per_token", Arrays.stream(lat).map(x -> x / STEPS).toArray(), k.name(), rss);
            emit(label, threads, "encoder_ms", enc, k.name(), rss);
            emit(label, threads, "batch32_sentences_per_s", thr, k.name(), rss);
        }
    }

    private static void translate(TransformerModel m, Kernels k, int[][] src, DecodingOptions o) {
        try (Arena a = Arena.ofShared()) {
            var enc = Encoder.encode(m, k, a, src);
            DecoderState st = new DecoderState(m, k, a, enc, 1, STEPS);
            int[] max = new int[src.length];
            Arrays.fill(max, STEPS);
            Hypothesis[] h = GreedySearch.run(st, k, m.config(), o, max, null);
            if (h[0].tokens().length != STEPS) {
                throw new IllegalStateException("expected exactly " + STEPS + " tokens, got " + h[0].tokens().length);
            }
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

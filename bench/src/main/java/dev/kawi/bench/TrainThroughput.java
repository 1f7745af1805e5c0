package dev.kawi.bench;

import dev.kawi.trainer.Trainer;
import dev.kawi.trainer.TrainOptions;
import dev.kawi.trainer.data.Batch;
import dev.kawi.trainer.data.Batcher;
import dev.kawi.weights.Json;
import dev.kawi.weights.ModelConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Training throughput of the tiny preset ({@link ModelConfig#tiny}, vocabulary 8000) through
 * {@link Trainer}, on batches that the PyTorch peer ({@code bench/torch_train.py}) reads from the
 * same file. Two commands:
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.kawi.bench.TrainThroughput write-batches FILE [SEED] [SENTENCES]
 * java --add-modules=jdk.incubator.vector -cp bench/target/benchmarks.jar dev.kawi.bench.TrainThroughput run FILE THREADS [WARMUP] [STEPS]
 * </pre>
 *
 * {@code write-batches} draws a synthetic corpus (seeded random ids; source lengths log-normal
 * around 20 tokens, clipped to [10, 40]; target lengths the source length times a factor in
 * [0.8, 1.25], clipped likewise), cuts it with Kawi's {@link Batcher} (4096 padded tokens per
 * side) and writes the corpus with the batches of epoch 0 in the order training consumes them.
 * {@code run} rebuilds the {@link Batcher} from the file's corpus, checks that it yields exactly
 * the file's batches, trains WARMUP + STEPS optimizer steps (Adam, label smoothing 0.1, dropout
 * 0.1, gradient clipping 1.0, one batch per step) and prints one JSON line per step and a summary
 * line with the median target tokens per second of the measured steps.
 */
public final class TrainThroughput {
    static final int VOCAB = 8000;
    static final int MAX_TOKENS = 4096;
    static final int MIN_LEN = 10;
    static final int MAX_LEN = 40;
    static final long DEFAULT_SEED = 20261127L;
    static final int DEFAULT_SENTENCES = 2400;

    private TrainThroughput() {
    }

    /** The model trained: Kawi's tiny preset with an 8000-word vocabulary. */
    static ModelConfig config() {
        return ModelConfig.tiny(VOCAB);
    }

    /** Entry point: {@code write-batches FILE [SEED] [SENTENCES]} or {@code run FILE THREADS [WARMUP] [STEPS]}. */
    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("write-batches")) {
            long seed = args.length > 2 ? Long.parseLong(args[2]) : DEFAULT_SEED;
            int sentences = args.length > 3 ? Integer.parseInt(args[3]) : DEFAULT_SENTENCES;
            writeBatches(Path.of(args[1]), seed, sentences);
        } else if (args.length >= 3 && args[0].equals("run")) {
            int threads = Integer.parseInt(args[2]);
            int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 2;
            int steps = args.length > 4 ? Integer.parseInt(args[4]) : 6;
            run(Path.of(args[1]), threads, warmup, steps);
        } else {
            System.err.println("usage: TrainThroughput write-batches FILE [SEED] [SENTENCES]\n"
                    + "       TrainThroughput run FILE THREADS [WARMUP] [STEPS]");
            System.exit(2);
        }
    }

    /** A synthetic corpus of sentence pairs with a sentence-like length distribution. */
    static List<Batch.Pair> corpus(long seed, int sentences, ModelConfig c) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Batch.Pair> pairs = new ArrayList<>(sentences);
        for (int i = 0; i < sentences; i++) {
            // Log-normal around 20 tokens (sigma 0.35): most sentences 10-35 tokens, a tail to 40.
            int src = clamp((int) Math.round(20 * Math.exp(0.35 * rnd.nextGaussian())));
            int tgt = clamp((int) Math.round(src * rnd.nextDouble(0.8, 1.25)));
            pairs.add(new Batch.Pair(ids(rnd, src, c), ids(rnd, tgt, c)));
        }
        return pairs;
    }

    private static int clamp(int n) {
        return Math.max(MIN_LEN, Math.min(MAX_LEN, n));
    }

    private static int[] ids(SplittableRandom rnd, int n, ModelConfig c) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = 4 + rnd.nextInt(c.vocabSize() - 4);
        }
        return a;
    }

    private static Batcher batcher(List<Batch.Pair> pairs, long seed, ModelConfig c) {
        return new Batcher(pairs, MAX_TOKENS, seed, c.padId(), c.eosId(), c.decoderStartId());
    }

    /** Epoch 0's batches in training order, as indices into {@code pairs}. */
    private static List<int[]> batchIndices(Batcher b, List<Batch.Pair> pairs) {
        Map<Batch.Pair, Integer> index = new IdentityHashMap<>();
        for (int i = 0; i < pairs.size(); i++) {
            index.put(pairs.get(i), i);
        }
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < b.size(); i++) {
            out.add(b.pairs(0, i).stream().mapToInt(index::get).toArray());
        }
        return out;
    }

    static void writeBatches(Path file, long seed, int sentences) throws IOException {
        ModelConfig c = config();
        List<Batch.Pair> pairs = corpus(seed, sentences, c);
        List<int[]> batches = batchIndices(batcher(pairs, seed, c), pairs);
        StringBuilder sb = new StringBuilder();
        sb.append("{\n\"description\": \"Kawi training-throughput batches: pairs are (source, target) ids without eos / decoder start;")
                .append(" batches are epoch 0 of Kawi's Batcher in training order, as indices into pairs\",\n");
        sb.append(String.format(Locale.ROOT, "\"seed\": %d,\n\"max_tokens\": %d,\n\"vocab_size\": %d,\n\"pad_id\": %d,\n"
                + "\"eos_id\": %d,\n\"decoder_start_id\": %d,\n", seed, MAX_TOKENS, c.vocabSize(), c.padId(), c.eosId(),
                c.decoderStartId()));
        sb.append("\"pairs\": [\n");
        for (int i = 0; i < pairs.size(); i++) {
            Batch.Pair p = pairs.get(i);
            sb.append('[').append(list(p.source())).append(',').append(list(p.target())).append(']')
                    .append(i + 1 < pairs.size() ? ",\n" : "\n");
        }
        sb.append("],\n\"batches\": [\n");
        for (int i = 0; i < batches.size(); i++) {
            sb.append(list(batches.get(i))).append(i + 1 < batches.size() ? ",\n" : "\n");
        }
        sb.append("]\n}\n");
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        Files.writeString(tmp, sb, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.printf(Locale.ROOT, "wrote %s: %d pairs, %d batches of at most %d padded tokens (seed %d)%n",
                file, pairs.size(), batches.size(), MAX_TOKENS, seed);
    }

    private static String list(int[] a) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < a.length; i++) {
            sb.append(i > 0 ? "," : "").append(a[i]);
        }
        return sb.append(']').toString();
    }

    /** The corpus and batches of a file written by {@link #writeBatches}. */
    record BatchFile(long seed, List<Batch.Pair> pairs, List<int[]> batches) {
    }

    static BatchFile readBatches(Path file, ModelConfig c) throws IOException {
        Map<?, ?> m;
        try {
            m = (Map<?, ?>) Json.parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (Json.ParseException e) {
            throw new IOException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        for (String key : List.of("seed", "max_tokens", "vocab_size", "pairs", "batches")) {
            if (!m.containsKey(key)) {
                throw new IOException(file + ": missing field \"" + key + "\"");
            }
        }
        if (((Number) m.get("max_tokens")).intValue() != MAX_TOKENS || ((Number) m.get("vocab_size")).intValue() != c.vocabSize()) {
            throw new IOException(file + ": max_tokens " + m.get("max_tokens") + " and vocab_size " + m.get("vocab_size")
                    + " differ from this harness's " + MAX_TOKENS + " and " + c.vocabSize());
        }
        List<Batch.Pair> pairs = new ArrayList<>();
        for (Object o : (List<?>) m.get("pairs")) {
            List<?> p = (List<?>) o;
            pairs.add(new Batch.Pair(ints(p.get(0)), ints(p.get(1))));
        }
        List<int[]> batches = new ArrayList<>();
        for (Object o : (List<?>) m.get("batches")) {
            batches.add(ints(o));
        }
        return new BatchFile(((Number) m.get("seed")).longValue(), pairs, batches);
    }

    private static int[] ints(Object o) {
        List<?> l = (List<?>) o;
        int[] a = new int[l.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = ((Number) l.get(i)).intValue();
        }
        return a;
    }

    static void run(Path file, int threads, int warmup, int steps) throws IOException {
        ModelConfig c = config();
        BatchFile bf = readBatches(file, c);
        Batcher batcher = batcher(bf.pairs(), bf.seed(), c);
        List<int[]> mine = batchIndices(batcher, bf.pairs());
        if (mine.size() != bf.batches().size()) {
            throw new IllegalStateException(file + ": the Batcher makes " + mine.size() + " batches, the file lists "
                    + bf.batches().size());
        }
        for (int i = 0; i < mine.size(); i++) {
            if (!Arrays.equals(mine.get(i), bf.batches().get(i))) {
                throw new IllegalStateException(file + ": batch " + i + " differs from the Batcher's");
            }
        }
        if (warmup + steps > mine.size()) {
            throw new IllegalArgumentException(file + " has " + mine.size() + " batches, fewer than " + (warmup + steps)
                    + " steps; write it with more sentences");
        }
        TrainOptions o = TrainOptions.defaults()
                .withRegularization(0.1, 0.1, 0.0, 1.0)
                .withBatching(MAX_TOKENS, 1, threads)
                .withSeed(bf.seed(), 2 * MAX_LEN);
        double[] rates = new double[steps];
        long tokensSum = 0;
        long nanosSum = 0;
        double firstLoss = Double.NaN;
        try (Trainer t = new Trainer(c, o, batcher)) {
            for (int i = 0; i < warmup + steps; i++) {
                Trainer.StepStats s = t.trainStep();
                double rate = s.tokens() / (s.nanos() / 1e9);
                boolean measured = i >= warmup;
                if (i == 0) {
                    firstLoss = s.lossPerToken();
                }
                System.out.printf(Locale.ROOT, "{\"side\":\"kawi\",\"threads\":%d,\"step\":%d,\"measured\":%b,\"batch\":%d,"
                        + "\"sentences\":%d,\"tokens\":%d,\"seconds\":%.4f,\"tokens_per_s\":%.1f,\"loss\":%.4f}%n",
                        threads, s.step(), measured, i, bf.batches().get(i).length, s.tokens(), s.nanos() / 1e9, rate,
                        s.lossPerToken());
                if (measured) {
                    rates[i - warmup] = rate;
                    tokensSum += s.tokens();
                    nanosSum += s.nanos();
                }
            }
        }
        double[] sorted = rates.clone();
        Arrays.sort(sorted);
        double median = steps % 2 == 1 ? sorted[steps / 2] : (sorted[steps / 2 - 1] + sorted[steps / 2]) / 2;
        System.out.printf(Locale.ROOT, "{\"side\":\"kawi\",\"summary\":true,\"threads\":%d,\"warmup\":%d,\"steps\":%d,"
                        + "\"median_tokens_per_s\":%.1f,\"aggregate_tokens_per_s\":%.1f,\"first_loss\":%.4f,\"java\":\"%s\","
                        + "\"peak_rss_mb\":%s}%n", threads, warmup, steps, median, tokensSum / (nanosSum / 1e9), firstLoss,
                Runtime.version(), peakRss());
    }

    /** VmHWM of this process in MB (Linux), or null. */
    private static String peakRss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return String.format(Locale.ROOT, "%.1f", Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return "null";
        }
        return "null";
    }
}

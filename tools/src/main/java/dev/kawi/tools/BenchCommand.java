package dev.kawi.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kawi.runtime.Translation;
import dev.kawi.runtime.TranslationOptions;
import dev.kawi.runtime.Translator;
import dev.kawi.runtime.TranslatorOptions;
import dev.kawi.runtime.kernels.KernelProvider;
import dev.kawi.runtime.search.DecodingOptions;
import dev.kawi.weights.KawiFile;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.TensorInfo;
import dev.kawi.weights.WeightFileException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code kawi bench}: how fast a model translates on this machine, end to end through
 * {@link Translator} (tokenize, encode, greedy decode, detokenize): batch-1 latency over a few
 * sentences and batch throughput, as medians of repeated runs. For people choosing a model and
 * thread count; the kernel-level benchmarks are the JMH ones in {@code bench/}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measure a model end to end on this machine: batch-1 latency (each sample sentence alone, "
                + "ms per sentence and per target token) and batch throughput (sentences/s, target tokens/s), "
                + "greedy decoding, medians of repeated runs after a warm-up.",
                "Uses built-in German sample sentences, or the lines of --input, with the model's own tokenizer."})
final class BenchCommand implements Callable<Integer> {
    /** Built-in samples: everyday German sentences of 3 to 20 words. */
    static final List<String> SAMPLES = List.of(
            "Guten Morgen.",
            "Wie spät ist es?",
            "Das Wetter ist heute schön, aber morgen soll es regnen.",
            "Ich habe das Buch gelesen, das du mir empfohlen hast.",
            "Die Sitzung wurde auf nächsten Dienstag verschoben.",
            "Können Sie mir bitte sagen, wo der Bahnhof ist?",
            "Der Bericht beschreibt die wichtigsten Ergebnisse der Studie und schlägt weitere Schritte für das kommende Jahr vor.",
            "Vielen Dank für Ihre Hilfe.");

    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "The .kawi model. Default: -Dkawi.model, else $KAWI_MODEL, else the bundled models/de-en.kawi.")
    Path model;

    @Option(names = {"-i", "--input"}, paramLabel = "FILE", description = "Sample sentences, one per line (UTF-8; blank lines skipped). Default: built-in.")
    Path input;

    @Option(names = "--sentences", defaultValue = "8", paramLabel = "N", description = "Sentences timed at batch 1 (the first N samples). Default: ${DEFAULT-VALUE}.")
    int sentences;

    @Option(names = "--threads", paramLabel = "N", description = "Kernel threads. Default: all cores.")
    Integer threads;

    @Option(names = "--batch", defaultValue = "32", paramLabel = "N", description = "Batch size of the throughput runs (samples repeated to fill it). Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--runs", defaultValue = "10", paramLabel = "N", description = "Timed runs of the latency set (throughput: a third as many, at least 3). Default: ${DEFAULT-VALUE}.")
    int runs;

    @Option(names = "--warmup", defaultValue = "5", paramLabel = "N", description = "Untimed runs first, so the JIT compiles the hot paths. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--max-length", defaultValue = "128", paramLabel = "N", description = "Most target tokens per sentence. Default: ${DEFAULT-VALUE}.")
    int maxLength;

    @Option(names = "--json", description = "Print one JSON object with every number.")
    boolean json;

    @Spec
    CommandSpec spec;

    /** Median, smallest and largest of a series of measurements. */
    record Stats(double median, double min, double max) {
        static Stats of(double[] v) {
            double[] s = v.clone();
            Arrays.sort(s);
            int n = s.length;
            double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
            return new Stats(median, s[0], s[n - 1]);
        }

        ObjectNode toJson(ObjectMapper m) {
            ObjectNode o = m.createObjectNode();
            o.put("median", median);
            o.put("min", min);
            o.put("max", max);
            return o;
        }
    }

    @Override
    public Integer call() throws Exception {
        model = ModelLocator.ofProcess().resolve(model);
        if (sentences < 1 || batch < 1 || runs < 1 || warmup < 0 || maxLength < 1 || threads != null && threads < 1) {
            throw new BadInputException("--sentences, --batch, --runs, --max-length and --threads must be >= 1, --warmup >= 0");
        }
        List<String> samples = samples();
        List<String> latencySet = samples.subList(0, Math.min(sentences, samples.size()));
        List<String> batchSet = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            batchSet.add(samples.get(i % samples.size()));
        }
        int t = threads == null ? KernelProvider.defaultThreads() : threads;
        String dtype = mainDtype();
        // Over-long sample lines are cut to the model's limit rather than refused: a benchmark, not a translation.
        TranslationOptions opts = new TranslationOptions(DecodingOptions.builder().maxLength(maxLength).build(),
                TranslationOptions.defaults().maxInputLength(), true);
        try (Translator tr = Translator.open(model, new TranslatorOptions(t, batch))) {
            long sourceTokens = 0;
            for (String s : latencySet) {
                sourceTokens += tr.tokenizer().encode(s).length + 1;
            }
            for (int w = 0; w < warmup; w++) {
                for (String s : latencySet) {
                    tr.translate(s, opts);
                }
                if (w < 2) {
                    tr.translate(batchSet, opts);
                }
            }
            double[] msPerSentence = new double[runs];
            double[] msPerToken = new double[runs];
            long latencyTokens = 0;
            for (int r = 0; r < runs; r++) {
                long tokens = 0;
                long t0 = System.nanoTime();
                for (String s : latencySet) {
                    tokens += tr.translate(s, opts).tokens().size();
                }
                double ms = (System.nanoTime() - t0) / 1e6;
                msPerSentence[r] = ms / latencySet.size();
                msPerToken[r] = tokens == 0 ? Double.NaN : ms / tokens;
                latencyTokens = tokens;
            }
            int batchRuns = Math.max(3, runs / 3);
            double[] sentencesPerS = new double[batchRuns];
            double[] tokensPerS = new double[batchRuns];
            long batchTokens = 0;
            for (int r = 0; r < batchRuns; r++) {
                long t0 = System.nanoTime();
                List<Translation> out = tr.translate(batchSet, opts);
                double s = (System.nanoTime() - t0) / 1e9;
                long tokens = out.stream().mapToLong(x -> x.tokens().size()).sum();
                sentencesPerS[r] = batch / s;
                tokensPerS[r] = tokens / s;
                batchTokens = tokens;
            }
            Report rep = new Report(tr.config(), dtype, t, latencySet.size(), (double) sourceTokens / latencySet.size(),
                    (double) latencyTokens / latencySet.size(), runs, Stats.of(msPerSentence), Stats.of(msPerToken), batchRuns,
                    (double) batchTokens / batch, Stats.of(sentencesPerS), Stats.of(tokensPerS));
            print(rep);
        }
        return Main.OK;
    }

    /** What was measured. */
    private record Report(ModelConfig config, String dtype, int threads, int sentences, double sourceTokens, double targetTokens,
                          int runs, Stats msPerSentence, Stats msPerToken, int batchRuns, double batchTargetTokens,
                          Stats sentencesPerS, Stats tokensPerS) {
    }

    private void print(Report r) throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        ModelConfig c = r.config();
        String kernels = KernelProvider.get(r.threads()).name();
        int cores = Runtime.getRuntime().availableProcessors();
        if (json) {
            ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ObjectNode root = m.createObjectNode();
            root.put("model", model.toString());
            ObjectNode mc = root.putObject("config");
            mc.put("encoder_layers", c.encoderLayers());
            mc.put("decoder_layers", c.decoderLayers());
            mc.put("d_model", c.dModel());
            mc.put("heads", c.numHeads());
            mc.put("ffn_dim", c.ffnDim());
            mc.put("vocab_size", c.vocabSize());
            root.put("weights", r.dtype());
            root.put("kernels", kernels);
            root.put("cores", cores);
            root.put("threads", r.threads());
            root.put("max_length", maxLength);
            root.put("input", input == null ? "built-in" : input.toString());
            ObjectNode lat = root.putObject("latency");
            lat.put("batch", 1);
            lat.put("sentences", r.sentences());
            lat.put("source_tokens_mean", r.sourceTokens());
            lat.put("target_tokens_mean", r.targetTokens());
            lat.put("runs", r.runs());
            lat.set("ms_per_sentence", r.msPerSentence().toJson(m));
            lat.set("ms_per_token", r.msPerToken().toJson(m));
            ObjectNode thr = root.putObject("throughput");
            thr.put("batch", batch);
            thr.put("target_tokens_mean", r.batchTargetTokens());
            thr.put("runs", r.batchRuns());
            thr.set("sentences_per_s", r.sentencesPerS().toJson(m));
            thr.set("tokens_per_s", r.tokensPerS().toJson(m));
            out.println(m.writeValueAsString(root));
            return;
        }
        out.printf(Locale.ROOT, "model       %s: %d+%d layers, d_model %d, %d heads, ffn %d, vocab %s, %s weights%n", model,
                c.encoderLayers(), c.decoderLayers(), c.dModel(), c.numHeads(), c.ffnDim(), Format.count(c.vocabSize()), r.dtype());
        out.printf(Locale.ROOT, "machine     %d cores, kernels %s%n", cores, kernels);
        out.printf(Locale.ROOT, "input       %d %s sentences, %.1f source tokens and %.1f target tokens each on average (greedy, max length %d)%n",
                r.sentences(), input == null ? "built-in" : "sample", r.sourceTokens(), r.targetTokens(), maxLength);
        out.printf(Locale.ROOT, "batch 1     %.2f ms/sentence, %s ms/token (median of %d runs; ms/sentence min %.2f, max %.2f)%n",
                r.msPerSentence().median(), Double.isNaN(r.msPerToken().median()) ? "n/a" : String.format(Locale.ROOT, "%.3f", r.msPerToken().median()),
                r.runs(), r.msPerSentence().min(), r.msPerSentence().max());
        out.printf(Locale.ROOT, "batch %-5d %.1f sentences/s, %.0f tokens/s (median of %d runs; sentences/s min %.1f, max %.1f)%n",
                batch, r.sentencesPerS().median(), r.tokensPerS().median(), r.batchRuns(), r.sentencesPerS().min(), r.sentencesPerS().max());
    }

    /** The samples: --input's non-blank lines, or the built-in ones. */
    private List<String> samples() {
        if (input == null) {
            return SAMPLES;
        }
        List<String> lines = new ArrayList<>();
        try (Utf8Lines in = Utf8Lines.open(input)) {
            for (String s; (s = in.next()) != null; ) {
                if (!s.isBlank()) {
                    lines.add(s);
                }
            }
        } catch (IOException e) {
            throw new BadInputException(input + ": cannot read: " + e.getMessage());
        }
        if (lines.isEmpty()) {
            throw new BadInputException(input + ": no non-blank lines to translate");
        }
        return lines;
    }

    /** The storage type of the model's largest tensor (its weight type), e.g. "Q8". */
    private String mainDtype() throws WeightFileException {
        try (KawiFile f = KawiFile.open(model)) {
            return f.tensors().stream().max(Comparator.comparingLong(TensorInfo::size)).map(x -> x.dtype().name()).orElse("none");
        }
    }
}

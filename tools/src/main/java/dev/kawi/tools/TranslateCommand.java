package dev.kawi.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kawi.runtime.Translation;
import dev.kawi.runtime.TranslationOptions;
import dev.kawi.runtime.Translator;
import dev.kawi.runtime.TranslatorOptions;
import dev.kawi.runtime.kernels.KernelProvider;
import dev.kawi.runtime.search.DecodingOptions;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code kawi translate}: text from the arguments, or one sentence per line from a file or standard
 * input, streamed: lines are read in batches, translated (several batches at once with
 * {@code --parallel}) and each batch printed, in input order, as soon as it and the batches before
 * it are done.
 */
@Command(name = "translate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Translate text given as arguments, or each line of a file (--input) or of standard input.",
                "Output is in input order, one line per input line (--nbest: one 'score<TAB>text' line per hypothesis; "
                        + "--json: one JSON object per input line), written as soon as each batch is done.",
                "A progress line (lines, lines/s, ETA) goes to standard error when it is a terminal and the input is a file or a pipe."})
final class TranslateCommand implements Callable<Integer> {
    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "Text to translate; several arguments are joined by spaces. None: read --input or stdin.")
    List<String> text;

    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "The .kawi model. Default: -Dkawi.model, else $KAWI_MODEL, else the bundled models/de-en.kawi.")
    Path model;

    @Option(names = {"-i", "--input"}, paramLabel = "FILE", description = "Read sentences from FILE (UTF-8, one per line) instead of stdin.")
    Path input;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write to FILE (replaced atomically when all is done) instead of stdout.")
    Path output;

    @Option(names = "--beam", paramLabel = "N", description = "Beam size (1 = greedy). Default: ${DEFAULT-VALUE}.")
    int beam = 1;

    @Option(names = "--nbest", paramLabel = "N", description = "Hypotheses to print per input (<= beam). Default: ${DEFAULT-VALUE}.")
    int nBest = 1;

    @Option(names = "--max-length", paramLabel = "N", description = "Most target tokens. Default: ${DEFAULT-VALUE}.")
    int maxLength = 256;

    @Option(names = "--min-length", paramLabel = "N", description = "Fewest target tokens. Default: ${DEFAULT-VALUE}.")
    int minLength = 0;

    @Option(names = "--length-penalty", paramLabel = "A", description = "Beam length penalty alpha. Default: ${DEFAULT-VALUE}.")
    float lengthPenalty = 1.0f;

    @Option(names = "--coverage-penalty", paramLabel = "B", description = "Beam coverage penalty beta (0 = off). Default: ${DEFAULT-VALUE}.")
    float coveragePenalty = 0.0f;

    @Option(names = "--repetition-penalty", paramLabel = "P",
            description = "Penalty on tokens already generated (1 = off). Default: ${DEFAULT-VALUE}.")
    float repetitionPenalty = 1.0f;

    @Option(names = "--no-repeat-ngram", paramLabel = "N", description = "No n-gram of this size repeats (0 = off). Default: ${DEFAULT-VALUE}.")
    int noRepeatNgram = 0;

    @Option(names = "--sampling-topk", paramLabel = "K",
            description = "1: no sampling; 0: sample from the whole vocabulary; K: from the K most likely tokens. Default: ${DEFAULT-VALUE}.")
    int samplingTopK = 1;

    @Option(names = "--sampling-topp", paramLabel = "P", description = "When sampling: from the fewest tokens whose probability reaches P (default 1: all).")
    Float samplingTopP;

    @Option(names = "--sampling-temperature", paramLabel = "T", description = "When sampling: logits are divided by T (default 1).")
    Float samplingTemperature;

    @Option(names = "--seed", paramLabel = "N", description = "Random seed for sampling (same seed, same output). Default: ${DEFAULT-VALUE}.")
    long seed = 0;

    @Option(names = "--max-input-length", paramLabel = "N",
            description = "Most source tokens; a longer line is an error naming it unless --truncate. Default: ${DEFAULT-VALUE}.")
    int maxInputLength = 1024;

    @Option(names = "--truncate", description = "Cut lines longer than --max-input-length (or the model's positions) instead of failing.")
    boolean truncate;

    @Option(names = "--json", description = "Print one JSON object per input line (JSON Lines): text, tokens, score, token_scores, "
            + "alternatives (--nbest > 1), source_tokens and alignments (--alignments).")
    boolean json;

    @Option(names = "--alignments", description = "Add each target token's attention over the source tokens (JSON), or the most "
            + "attended source token per target token as 'src-tgt' index pairs after a tab (text).")
    boolean alignments;

    @Option(names = "--alignment-layer", paramLabel = "N",
            description = "Decoder layer of the alignments; negative counts from the end. Default: ${DEFAULT-VALUE} (the last).")
    int alignmentLayer = -1;

    @Option(names = "--batch-size", paramLabel = "N", description = "Sentences per batch. Default: ${DEFAULT-VALUE}.")
    int batchSize = 32;

    @Option(names = "--threads", paramLabel = "N", description = "Kernel threads per batch. Default: all cores divided by --parallel.")
    Integer threads;

    @Option(names = "--parallel", paramLabel = "N", description = "Batches translated at the same time. Default: ${DEFAULT-VALUE}.")
    int parallel = 1;

    @Option(names = "--progress", negatable = true,
            description = "Show (or with --no-progress, never show) the progress line. Default: only when stderr is a terminal.")
    Boolean progress;

    @Spec
    CommandSpec spec;

    /** The streams when run without picocli ({@link #runFast}); null under picocli, which owns them. */
    private PrintWriter fastOut;
    private PrintWriter fastErr;

    /** Jackson, created on first use: an ObjectMapper costs a quarter of a second of a cold start, and only --json needs one. */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    @Override
    public Integer call() throws Exception {
        model = ModelLocator.ofProcess().resolve(model);
        TranslationOptions opts = options();
        boolean fromArgs = text != null && !text.isEmpty();
        if (fromArgs && input != null) {
            throw new BadInputException("give TEXT or --input, not both");
        }
        if (batchSize < 1 || parallel < 1 || threads != null && threads < 1) {
            throw new BadInputException("--batch-size, --parallel and --threads must be >= 1");
        }
        if (output != null && input != null && Files.exists(output) && Files.isSameFile(output, input)) {
            throw new BadInputException("--output must differ from --input (" + input + ")");
        }
        int t = threads != null ? threads : Math.max(1, KernelProvider.defaultThreads() / parallel);
        PrintWriter err = fastErr != null ? fastErr : spec.commandLine().getErr();
        try (Utf8Lines lines = fromArgs ? null : input != null ? Utf8Lines.open(input) : Utf8Lines.of(System.in, "<stdin>");
             Translator tr = Translator.open(model, new TranslatorOptions(t, batchSize, TranslatorOptions.Warmup.DEFERRED));
             AtomicFile file = output != null ? AtomicFile.create(output) : null) {
            int layers = tr.config().decoderLayers();
            if (alignments && (alignmentLayer < -layers || alignmentLayer >= layers)) {
                throw new BadInputException("--alignment-layer " + alignmentLayer + " is out of range: the model has " + layers
                        + " decoder layers, 0.." + (layers - 1) + " (or -" + layers + "..-1 from the end)");
            }
            PrintWriter out = file != null
                    ? new PrintWriter(new BufferedWriter(new OutputStreamWriter(file.stream(), StandardCharsets.UTF_8), 1 << 16))
                    : fastOut != null ? fastOut : spec.commandLine().getOut();
            ProgressBar bar = null;
            if (!fromArgs && (input != null || !Boolean.TRUE.equals(ProgressBar.fdIsTty(0)) || progress != null)
                    && ProgressBar.shouldShow(progress)) {
                bar = new ProgressBar(err, input != null ? countLines(input) : -1, "lines", System::nanoTime);
            }
            Sink sink = new Sink(out, bar, file == null);
            if (fromArgs) {
                List<String> one = List.of(String.join(" ", text));
                checkLength(tr, opts, one, "TEXT", 0);
                sink.write(tr.translate(one, opts));
            } else {
                run(lines, input != null ? input.toString() : "<stdin>", tr, opts, sink);
            }
            out.flush();
            if (out.checkError()) {
                throw new IOException("cannot write " + (output != null ? output : "standard output"));
            }
            if (file != null) {
                file.commit();
            }
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
        return Main.OK;
    }

    /**
     * The common case without picocli: {@code translate [-m FILE] TEXT...}, with nothing else on
     * the line. Returns the exit code, or null when the arguments need the full parser (any other
     * option, an {@code @file}, no TEXT). Building picocli's model of the command (reflection over
     * every option, its converters, its old-bytecode classes loaded and verified) is a third of a
     * cold start; this runs the same {@link #call()} with the fields' defaults, which are
     * picocli's defaults too (they are the fields' initial values).
     */
    static Integer runFast(String[] args, PrintWriter out, PrintWriter err) {
        if (args.length < 2 || !args[0].equals("translate")) {
            return null;
        }
        TranslateCommand c = new TranslateCommand();
        List<String> words = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-m") || a.equals("--model")) {
                if (c.model != null || i + 1 >= args.length || !plain(args[i + 1])) {
                    return null;
                }
                try {
                    c.model = Path.of(args[++i]);
                } catch (java.nio.file.InvalidPathException e) {
                    return null;
                }
            } else if (plain(a)) {
                words.add(a);
            } else {
                return null;
            }
        }
        if (words.isEmpty()) {
            return null;
        }
        c.text = words;
        c.fastOut = out;
        c.fastErr = err;
        try {
            return c.call();
        } catch (Exception e) {
            return Main.report(err, "translate", e, false);
        }
    }

    /** A word picocli would take as it is: not an option, not an @argument-file, not empty. */
    private static boolean plain(String a) {
        return !a.isEmpty() && a.charAt(0) != '-' && a.charAt(0) != '@';
    }

    /** The translation options from the flags; an invalid value is a one-line error naming it. */
    TranslationOptions options() {
        boolean sampling = samplingTopK != 1;
        if (!sampling && (samplingTopP != null || samplingTemperature != null)) {
            throw new BadInputException("--sampling-topp and --sampling-temperature need sampling: --sampling-topk 0 (all tokens) or K > 1");
        }
        if (sampling && beam != 1) {
            throw new BadInputException("sampling (--sampling-topk " + samplingTopK + ") needs --beam 1, was " + beam);
        }
        if (alignments && !json && nBest > 1) {
            throw new BadInputException("--alignments with --nbest > 1 needs --json");
        }
        try {
            DecodingOptions.Builder b = DecodingOptions.builder().beamSize(beam).nBest(nBest).lengthPenalty(lengthPenalty)
                    .coveragePenalty(coveragePenalty).minLength(minLength).maxLength(maxLength).repetitionPenalty(repetitionPenalty)
                    .noRepeatNgramSize(noRepeatNgram).returnScores(json || nBest > 1).alignments(alignments, alignmentLayer);
            if (sampling) {
                b.sampling(samplingTemperature == null ? 1f : samplingTemperature, samplingTopK, samplingTopP == null ? 1f : samplingTopP, seed);
            }
            return new TranslationOptions(b.build(), maxInputLength, truncate);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
    }

    /**
     * Reads batches and translates up to {@code parallel} of them at once; each batch is written
     * after the one before it, by whichever thread finishes last, so output keeps the input order.
     */
    private void run(Utf8Lines lines, String name, Translator tr, TranslationOptions opts, Sink sink) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(parallel, Thread.ofPlatform().daemon().name("kawi-batch-", 0).factory());
        Semaphore slots = new Semaphore(parallel);
        CompletableFuture<Void> written = CompletableFuture.completedFuture(null);
        try {
            while (!written.isCompletedExceptionally()) {
                long first = lines.lineNumber();
                List<String> batch = readBatch(lines);
                if (batch.isEmpty()) {
                    break;
                }
                checkLength(tr, opts, batch, name, first);
                slots.acquire();
                CompletableFuture<List<Translation>> done = CompletableFuture.supplyAsync(() -> tr.translate(batch, opts), pool);
                written = written.thenCombine(done, (v, res) -> {
                    sink.write(res);
                    return null;
                });
                written.whenComplete((v, e) -> slots.release());
            }
        } finally {
            try {
                written.join();
            } catch (CompletionException e) {
                // Reported below, unless reading failed first (that error is rethrown instead).
            }
            pool.shutdownNow();
            sink.finish();
        }
        try {
            written.join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof UncheckedIOException io) {
                throw io.getCause();
            }
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    /** The next lines: at least one (none at the end), more while they can be read without waiting, at most --batch-size. */
    private List<String> readBatch(Utf8Lines lines) {
        List<String> batch = new ArrayList<>();
        String line = lines.next();
        if (line == null) {
            return batch;
        }
        batch.add(line);
        // Waiting only for the first line keeps an interactive session (one line at a time) responsive.
        while (batch.size() < batchSize && lines.ready() && (line = lines.next()) != null) {
            batch.add(line);
        }
        return batch;
    }

    /** Refuses a line longer than the input limit (without --truncate) with an error naming its line. */
    private static void checkLength(Translator tr, TranslationOptions opts, List<String> batch, String name, long firstLine) {
        if (opts.truncateInput()) {
            return;
        }
        int limit = Math.min(opts.maxInputLength(), tr.config().maxPositions() - 1);
        for (int i = 0; i < batch.size(); i++) {
            String s = batch.get(i);
            if (s.isBlank()) {
                continue;
            }
            int n = tr.tokenizer().encode(s).length;
            if (n > limit) {
                String why = limit < opts.maxInputLength() ? "the model's " + tr.config().maxPositions() + " positions allow " + limit
                        : "--max-input-length is " + limit;
                throw new BadInputException(name + (name.equals("TEXT") ? "" : ": line " + (firstLine + i + 1)) + ": " + n
                        + " tokens, too long (" + why + "); pass --truncate to cut it");
            }
        }
    }

    /** Lines of a file as {@link Utf8Lines} counts them: '\n' bytes, plus one for a last line without it. */
    static long countLines(Path file) throws IOException {
        long count = 0;
        int last = '\n';
        try (var in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                for (int i = 0; i < n; i++) {
                    if (buf[i] == '\n') {
                        count++;
                    }
                }
                last = buf[n - 1];
            }
        }
        return last == '\n' ? count : count + 1;
    }

    /** Writes results in the chosen format and keeps the progress line up to date. */
    private final class Sink {
        private final PrintWriter out;
        private final ProgressBar bar;
        private final boolean toStdout;
        private long done;

        Sink(PrintWriter out, ProgressBar bar, boolean toStdout) {
            this.out = out;
            this.bar = bar;
            this.toStdout = toStdout;
            if (bar != null) {
                bar.update(0);
            }
        }

        void write(List<Translation> results) {
            if (bar != null && toStdout) {
                bar.clear(); // the same terminal may show both streams
            }
            for (Translation r : results) {
                if (json) {
                    out.print(TranslationJson.toJson(Json.MAPPER, r, new TranslationJson.Parts(true, nBest > 1, alignments)));
                    out.print('\n');
                } else if (nBest > 1) {
                    for (Translation.Alternative alt : r.alternatives()) {
                        out.printf("%.4f\t%s%n", alt.normalizedScore(), alt.text());
                    }
                } else if (alignments) {
                    out.println(r.text() + "\t" + pairs(r.alignments()));
                } else {
                    out.println(r.text());
                }
            }
            out.flush();
            done += results.size();
            if (bar != null) {
                bar.update(done);
            }
        }

        void finish() {
            if (bar != null) {
                bar.finish(done);
            }
        }
    }

    /** Hard alignments "i-j": for each target token j, the source token i it attends to most (the first of equals). */
    static String pairs(float[][] attention) {
        StringBuilder b = new StringBuilder();
        for (int j = 0; attention != null && j < attention.length; j++) {
            int best = 0;
            for (int i = 1; i < attention[j].length; i++) {
                if (attention[j][i] > attention[j][best]) {
                    best = i;
                }
            }
            b.append(b.isEmpty() ? "" : " ").append(best).append('-').append(j);
        }
        return b.toString();
    }
}

package dev.kawi.tools;

import dev.kawi.trainer.TrainOptions;
import dev.kawi.trainer.Trainer;
import dev.kawi.trainer.TrainingRun;
import dev.kawi.trainer.eval.BleuScore;
import dev.kawi.trainer.vocab.BadLines;
import dev.kawi.trainer.vocab.BpeLearner;
import dev.kawi.trainer.vocab.LearnedVocab;
import dev.kawi.trainer.vocab.TsvFormatException;
import dev.kawi.trainer.vocab.TsvReader;
import dev.kawi.trainer.vocab.VocabFiles;
import dev.kawi.trainer.vocab.VocabOptions;
import dev.kawi.trainer.vocab.WordCounts;
import dev.kawi.weights.DType;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.TokenizerSpec;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code kawi train}: trains a model on TSV pairs and exports it. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train an encoder-decoder on source<TAB>target pairs, validating on dev (loss and greedy BLEU),",
                "keeping the best and last checkpoints in --out, and exporting the best model (F32 and the --export types).",
                "Run it again with --resume to continue an interrupted run exactly where it stopped."})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--train", required = true, paramLabel = "TSV", description = "Training pairs, one source<TAB>target per line (UTF-8).")
    Path train;

    @Option(names = "--dev", paramLabel = "TSV", description = "Validation pairs (same format).")
    Path dev;

    @Option(names = "--vocab", paramLabel = "JSON",
            description = "Tokenizer spec as JSON (from `kawi learn-vocab`). Default: --out/vocab.json, learned from --train when missing.")
    Path vocab;

    @Option(names = "--vocab-size", defaultValue = "8000", paramLabel = "N",
            description = "Pieces of the vocabulary learned when there is none. Default: ${DEFAULT-VALUE}.")
    int vocabSize;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Folder for checkpoints and exported models.")
    Path out;

    @Option(names = "--preset", defaultValue = "tiny", paramLabel = "NAME",
            description = "Architecture: tiny (6+2 layers, d_model 256, 4 heads, FFN 1024, pre-norm) or base (the paper's). Default: ${DEFAULT-VALUE}.")
    String preset;

    @Option(names = "--steps", defaultValue = "20000", paramLabel = "N", description = "Optimizer steps. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--warmup", defaultValue = "4000", paramLabel = "N", description = "Warm-up steps. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--lr-scale", defaultValue = "1.0", paramLabel = "X",
            description = "Factor on the paper's schedule d^-0.5 * min(step^-0.5, step * warmup^-1.5). Default: ${DEFAULT-VALUE}.")
    double lrScale;

    @Option(names = "--max-tokens", defaultValue = "4096", paramLabel = "N", description = "Padded tokens per batch side. Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @Option(names = "--accumulate", defaultValue = "1", paramLabel = "N", description = "Batches per optimizer step. Default: ${DEFAULT-VALUE}.")
    int accumulate;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads. Default: all cores.")
    Integer threads;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "N", description = "Random seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--dropout", defaultValue = "0.1", paramLabel = "P", description = "Dropout. Default: ${DEFAULT-VALUE}.")
    double dropout;

    @Option(names = "--label-smoothing", defaultValue = "0.1", paramLabel = "E", description = "Label smoothing. Default: ${DEFAULT-VALUE}.")
    double labelSmoothing;

    @Option(names = "--weight-decay", defaultValue = "0.0", paramLabel = "X", description = "AdamW weight decay. Default: ${DEFAULT-VALUE}.")
    double weightDecay;

    @Option(names = "--clip-norm", defaultValue = "1.0", paramLabel = "X", description = "Gradient norm limit, 0 = off. Default: ${DEFAULT-VALUE}.")
    double clipNorm;

    @Option(names = "--max-length", defaultValue = "128", paramLabel = "N", description = "Longest kept sequence in tokens. Default: ${DEFAULT-VALUE}.")
    int maxLength;

    @Option(names = "--qat", defaultValue = "none", paramLabel = "TYPE", description = "Quantization-aware training: none, q8 or q4. Default: ${DEFAULT-VALUE}.")
    String qat;

    @Option(names = "--qat-start", paramLabel = "STEP", description = "First QAT step. Default: the last 10% of --steps.")
    Integer qatStart;

    @Option(names = "--export", split = ",", paramLabel = "TYPES", description = "Extra export types besides F32 (q8, q4, f16). Default: q8,q4.")
    List<String> export;

    @Option(names = "--validate-every", defaultValue = "1000", paramLabel = "N", description = "Steps between validations. Default: ${DEFAULT-VALUE}.")
    int validateEvery;

    @Option(names = "--checkpoint-every", defaultValue = "500", paramLabel = "N", description = "Steps between checkpoints. Default: ${DEFAULT-VALUE}.")
    int checkpointEvery;

    @Option(names = "--bleu-sentences", defaultValue = "500", paramLabel = "N",
            description = "Dev pairs translated for BLEU at each validation, 0 = loss only. Default: ${DEFAULT-VALUE}.")
    int bleuSentences;

    @Option(names = "--time-limit", paramLabel = "MINUTES", description = "Stop (with a checkpoint) after this many minutes.")
    Double timeLimit;

    @Option(names = "--resume", description = "Continue from --out/last.ckpt when it exists.")
    boolean resume;

    @Option(names = "--skip-bad-lines", description = "Skip malformed TSV lines (reported with line numbers) instead of failing.")
    boolean skipBad;

    @Option(names = "--no-progress", description = "No progress bar (it is shown only when stderr is a terminal).")
    boolean noProgress;

    @Option(names = "--log-every", defaultValue = "100", paramLabel = "N", description = "Steps between log lines on stdout. Default: ${DEFAULT-VALUE}.")
    int logEvery;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter pw = spec.commandLine().getOut();
        if (steps < 1 || warmup < 1 || maxTokens < 1 || accumulate < 1 || validateEvery < 1 || checkpointEvery < 1 || logEvery < 1) {
            throw new BadInputException("--steps, --warmup, --max-tokens, --accumulate, --validate-every, --checkpoint-every and --log-every must be >= 1");
        }
        for (Path p : dev == null ? List.of(train) : List.of(train, dev)) {
            if (!Files.isRegularFile(p)) {
                throw new BadInputException(p + ": no such file");
            }
        }
        TokenizerSpec tokenizer;
        try {
            tokenizer = vocab != null ? readVocab(vocab) : vocabInOut(pw);
        } catch (TsvFormatException e) {
            throw new BadInputException(e.getMessage());
        }
        ModelConfig config = switch (preset) {
            case "tiny" -> ModelConfig.tiny(tokenizer.size());
            case "base" -> ModelConfig.base(tokenizer.size());
            default -> throw new BadInputException("--preset: unknown preset \"" + preset + "\" (use tiny or base)");
        };
        DType qatType = switch (qat.toLowerCase(Locale.ROOT)) {
            case "none" -> null;
            case "q8" -> DType.Q8;
            case "q4" -> DType.Q4;
            default -> throw new BadInputException("--qat: unknown type \"" + qat + "\" (use none, q8 or q4)");
        };
        List<DType> exports = new ArrayList<>(List.of(DType.F32));
        for (String e : export == null ? List.of("q8", "q4") : export) {
            DType d = DType.fromName(e.trim().toUpperCase(Locale.ROOT));
            if (d == null) {
                throw new BadInputException("--export: unknown type \"" + e + "\" (use q8, q4, f16 or bf16)");
            }
            if (!exports.contains(d)) {
                exports.add(d);
            }
        }
        int th = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        TrainOptions o;
        try {
            o = new TrainOptions(steps, warmup, lrScale, 0.9, 0.98, 1e-9, weightDecay, clipNorm, labelSmoothing, dropout,
                    maxTokens, accumulate, th, seed, maxLength, qatType, qatStart != null ? qatStart : steps - steps / 10 + 1);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
        TrainingRun.Setup setup = new TrainingRun.Setup(train, dev, out, config, o, tokenizer, validateEvery, checkpointEvery,
                bleuSentences, timeLimit == null ? null : Duration.ofMillis((long) (timeLimit * 60_000)),
                skipBad ? BadLines.SKIP : BadLines.FAIL, resume, exports);
        Progress progress = new Progress(System.err, ProgressBar.shouldShow(noProgress ? Boolean.FALSE : null), steps);
        TrainingRun.Summary sum;
        try {
            sum = train(setup, pw, progress);
        } catch (TsvFormatException e) {
            throw new BadInputException(e.getMessage());
        }
        progress.clear();
        pw.printf(Locale.ROOT, "trained %d steps in %s (%d target tokens); best step %d%s%n", sum.steps(), Format.duration(sum.time()),
                sum.targetTokens(), sum.bestStep(), Double.isFinite(sum.bestBleu()) ? String.format(Locale.ROOT, ", dev BLEU %.2f", sum.bestBleu()) : "");
        return Main.OK;
    }

    private TrainingRun.Summary train(TrainingRun.Setup setup, PrintWriter pw, Progress progress) throws IOException {
        return new TrainingRun(setup).run(new TrainingRun.Listener() {
            long tokens;
            long nanos;
            double loss;
            long lossTokens;

            @Override
            public void message(String text) {
                progress.clear();
                pw.println(text);
                pw.flush();
            }

            @Override
            public void step(Trainer.StepStats s, Trainer t) {
                tokens += s.tokens();
                nanos += s.nanos();
                loss += s.loss();
                lossTokens += s.tokens();
                progress.update(s, tokens / (nanos / 1e9));
                if (s.step() % logEvery == 0) {
                    progress.clear();
                    pw.printf(Locale.ROOT, "step %d  epoch %d  loss %.4f  lr %.3g  |g| %.3g  %.0f tok/s%s%n", s.step(), s.epoch(),
                            loss / Math.max(1, lossTokens), s.lr(), s.gradNorm(), tokens / (nanos / 1e9),
                            t.qatActive() ? "  qat " + t.options().qat() : "");
                    pw.flush();
                    tokens = 0;
                    nanos = 0;
                    loss = 0;
                    lossTokens = 0;
                }
            }

            @Override
            public void validation(int step, Trainer.Evaluation d, BleuScore bleu, boolean best) {
                progress.clear();
                pw.printf(Locale.ROOT, "validation step %d  dev loss %.4f  ppl %.2f  acc %.3f%s%s%n", step, d.loss(), d.perplexity(),
                        d.accuracy(), bleu == null ? "" : String.format(Locale.ROOT, "  BLEU %.2f", bleu.score()), best ? "  (best)" : "");
                pw.flush();
            }
        });
    }

    private static TokenizerSpec readVocab(Path p) throws IOException {
        if (!Files.isRegularFile(p)) {
            throw new BadInputException(p + ": no such file");
        }
        try {
            return VocabFiles.read(p);
        } catch (RuntimeException e) {
            throw new BadInputException(e.getMessage());
        }
    }

    /** The vocabulary of --out (a resumed run's), or one learned from --train and saved there. */
    private TokenizerSpec vocabInOut(PrintWriter pw) throws IOException {
        Path p = out.resolve("vocab.json");
        if (Files.isRegularFile(p)) {
            pw.println("vocabulary: " + p);
            return readVocab(p);
        }
        WordCounts words = new WordCounts();
        TsvReader.read(train, skipBad ? BadLines.SKIP : BadLines.FAIL, (s, t, line) -> {
            words.addText(s);
            words.addText(t);
        });
        LearnedVocab v = BpeLearner.learn(words, VocabOptions.DEFAULTS.withVocabSize(vocabSize));
        Files.createDirectories(out);
        VocabFiles.write(v.spec(), p);
        pw.printf("learned a vocabulary of %d pieces from %s: %s%n", v.size(), train, p);
        return v.spec();
    }

    /** A one-line progress bar on a terminal: step, loss, tokens/s, learning rate, ETA. */
    static final class Progress {
        private final PrintStream err;
        private final boolean on;
        private final int total;
        private long last;
        private boolean shown;

        Progress(PrintStream err, boolean on, int total) {
            this.err = err;
            this.on = on;
            this.total = total;
        }

        void update(Trainer.StepStats s, double tokPerSec) {
            long now = System.nanoTime();
            if (!on || now - last < 200_000_000L) {
                return;
            }
            last = now;
            double stepSec = s.nanos() / 1e9;
            long eta = (long) ((total - s.step()) * stepSec);
            int width = 30;
            int done = (int) ((long) width * s.step() / total);
            err.printf(Locale.ROOT, "\r[%s%s] step %d/%d  loss %.3f  %.0f tok/s  lr %.2e  ETA %s ", "#".repeat(done),
                    " ".repeat(width - done), s.step(), total, s.lossPerToken(), tokPerSec, s.lr(), Format.duration(Duration.ofSeconds(eta)));
            err.flush();
            shown = true;
        }

        void clear() {
            if (shown) {
                err.print("\r\033[K");
                err.flush();
                shown = false;
            }
        }
    }
}

package dev.kawi.trainer;

import dev.kawi.runtime.Translation;
import dev.kawi.runtime.Translator;
import dev.kawi.runtime.TranslatorOptions;
import dev.kawi.runtime.tokenizer.Tokenizer;
import dev.kawi.trainer.data.Batch;
import dev.kawi.trainer.data.Batcher;
import dev.kawi.trainer.data.TsvCorpus;
import dev.kawi.trainer.eval.Bleu;
import dev.kawi.trainer.eval.BleuScore;
import dev.kawi.trainer.vocab.BadLines;
import dev.kawi.weights.DType;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.TokenizerSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A complete training run over TSV files: tokenization, batching, the optimizer loop with
 * periodic validation on dev (loss, and BLEU of greedy translations by the runtime), the best
 * and the last checkpoint in the output folder, an optional wall-clock limit, and exports of
 * the best model in the requested dtypes. A run started again with {@code resume} continues from
 * the last checkpoint exactly as if it had not stopped.
 *
 * <p>Files in {@code outDir}: {@code last.ckpt}, {@code best.ckpt}, {@code model.kawi} (F32) and
 * {@code model-q8.kawi} / {@code model-q4.kawi} per requested dtype.
 */
public final class TrainingRun {

    /** How the run is set up. */
    public record Setup(Path train, Path dev, Path outDir, ModelConfig model, TrainOptions options, TokenizerSpec tokenizer,
                        int validateEvery, int checkpointEvery, int bleuSentences, Duration timeLimit,
                        BadLines onBadLine, boolean resume, List<DType> exports) {
    }

    /** What the run reports as it goes. */
    public interface Listener {
        /** A line of information (data statistics, resumes, exports). */
        void message(String text);

        /** After every optimizer step. */
        void step(Trainer.StepStats stats, Trainer trainer);

        /** After every validation. */
        void validation(int step, Trainer.Evaluation dev, BleuScore bleu, boolean best);
    }

    /** The outcome of a run. */
    public record Summary(int steps, Trainer.Evaluation bestDev, double bestBleu, int bestStep, Duration time, long targetTokens,
                          List<Path> exports) {
    }

    private final Setup s;

    /** A run with setup {@code s}. */
    public TrainingRun(Setup s) {
        this.s = s;
    }

    /** Runs to the step limit or the time limit; returns what it did. */
    public Summary run(Listener out) throws IOException {
        Instant start = Instant.now();
        Tokenizer tok = Tokenizer.create(s.tokenizer());
        ModelConfig c = s.model();
        int maxLen = Math.min(s.options().maxLength(), c.maxPositions());
        TsvCorpus.Result train = TsvCorpus.read(s.train(), tok::encode, maxLen, s.onBadLine());
        out.message(String.format("train: %d pairs from %d lines (%d malformed skipped, %d longer than %d tokens left out)",
                train.pairs().size(), train.lines(), train.malformed(), train.tooLong(), maxLen));
        for (String p : train.firstProblems()) {
            out.message("  skipped " + p);
        }
        List<String[]> devText = s.dev() == null ? List.of() : TsvCorpus.readText(s.dev(), s.onBadLine());
        List<Batch.Pair> devPairs = new ArrayList<>();
        for (String[] p : devText) {
            devPairs.add(new Batch.Pair(clip(tok.encode(p[0]), maxLen), clip(tok.encode(p[1]), maxLen)));
        }
        Batcher data = new Batcher(train.pairs(), s.options().maxTokens(), s.options().seed(), c.padId(), c.eosId(), c.decoderStartId());
        List<List<Batch.Pair>> devBatches = new Batcher(devPairs, s.options().maxTokens(), 0, c.padId(), c.eosId(),
                c.decoderStartId()).sortedPairs();
        long targetTokens = 0;
        for (Batch.Pair p : train.pairs()) {
            targetTokens += p.target().length + 1;
        }
        out.message(String.format("%d batches of <= %d tokens per epoch, %d target tokens; dev: %d pairs",
                data.size(), s.options().maxTokens(), targetTokens, devPairs.size()));

        Files.createDirectories(s.outDir());
        Path last = s.outDir().resolve("last.ckpt");
        Path best = s.outDir().resolve("best.ckpt");
        double bestBleu = Double.NEGATIVE_INFINITY;
        double bestLoss = Double.POSITIVE_INFINITY;
        int bestStep = 0;
        Trainer.Evaluation bestDev = null;
        Trainer trainer;
        if (s.resume() && Files.exists(last)) {
            trainer = Checkpoint.resume(last, data, s.options().maxSteps());
            Checkpoint.Meta meta = Checkpoint.readMeta(last);
            Map<String, Object> extra = meta.extra();
            if (extra != null && extra.get("best_bleu") instanceof Number n) {
                bestBleu = n.doubleValue();
            }
            if (extra != null && extra.get("best_loss") instanceof Number n) {
                bestLoss = n.doubleValue();
            }
            if (extra != null && extra.get("best_step") instanceof Number n) {
                bestStep = n.intValue();
            }
            out.message("resumed from " + last + " at step " + trainer.completedSteps() + " (epoch " + trainer.epoch() + ")");
        } else {
            trainer = new Trainer(c, s.options(), data);
        }
        int steps0 = trainer.completedSteps();
        long tokens = 0;
        List<Path> exports = new ArrayList<>();
        try (trainer) {
            while (trainer.completedSteps() < s.options().maxSteps()) {
                if (s.timeLimit() != null && Duration.between(start, Instant.now()).compareTo(s.timeLimit()) >= 0) {
                    out.message("time limit reached at step " + trainer.completedSteps());
                    break;
                }
                Trainer.StepStats st = trainer.trainStep();
                tokens += st.tokens();
                out.step(st, trainer);
                int step = trainer.completedSteps();
                boolean end = step == s.options().maxSteps();
                if (!devBatches.isEmpty() && (step % s.validateEvery() == 0 || end)) {
                    Trainer.Evaluation dev = trainer.evaluate(devBatches);
                    BleuScore bleu = s.bleuSentences() > 0 ? bleu(trainer, devText, s.bleuSentences()) : null;
                    // Once quantization-aware training has run, only its checkpoints compete: the
                    // exports must be the weights the QAT phase adapted to the quantized grid.
                    int qatStart = s.options().qatStart();
                    boolean qatTakesOver = s.options().qat() != null && step >= qatStart && bestStep < qatStart;
                    boolean better = qatTakesOver || (bleu != null ? bleu.score() > bestBleu : dev.loss() < bestLoss);
                    if (better) {
                        bestBleu = bleu != null ? bleu.score() : bestBleu;
                        bestLoss = dev.loss();
                        bestStep = step;
                        bestDev = dev;
                    }
                    out.validation(step, dev, bleu, better);
                    if (better) {
                        Checkpoint.save(best, trainer, s.tokenizer(), extra(bestBleu, bestLoss, bestStep));
                    }
                }
                if (step % s.checkpointEvery() == 0 || end) {
                    Checkpoint.save(last, trainer, s.tokenizer(), extra(bestBleu, bestLoss, bestStep));
                }
            }
            Checkpoint.save(last, trainer, s.tokenizer(), extra(bestBleu, bestLoss, bestStep));
        }
        Path from = Files.exists(best) ? best : last;
        if (trainer.completedSteps() >= s.options().maxSteps() && !s.exports().isEmpty()) {
            try (Trainer chosen = Checkpoint.resume(from, data)) {
                Map<String, Object> prov = provenance(chosen, start);
                for (DType d : s.exports()) {
                    Path p = s.outDir().resolve(d == DType.F32 ? "model.kawi" : "model-" + d.name().toLowerCase() + ".kawi");
                    chosen.export(p, d, s.tokenizer(), prov);
                    exports.add(p);
                    out.message("exported " + p + " (" + d + ", step " + chosen.completedSteps() + ")");
                }
            }
        }
        return new Summary(trainer.completedSteps() - steps0, bestDev, bestBleu, bestStep, Duration.between(start, Instant.now()),
                tokens, exports);
    }

    private static int[] clip(int[] ids, int maxLen) {
        return ids.length + 1 > maxLen ? java.util.Arrays.copyOf(ids, maxLen - 1) : ids;
    }

    private static Map<String, Object> extra(double bleu, double loss, int step) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (Double.isFinite(bleu)) {
            m.put("best_bleu", bleu);
        }
        if (Double.isFinite(loss)) {
            m.put("best_loss", loss);
        }
        m.put("best_step", step);
        return m;
    }

    private Map<String, Object> provenance(Trainer t, Instant start) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("generator", "kawi train");
        m.put("train_data", s.train().getFileName().toString());
        m.put("steps", t.completedSteps());
        m.put("epoch", t.epoch());
        m.put("options", Checkpoint.optionsJson(t.options()));
        m.put("exported", Instant.now().toString());
        return m;
    }

    /**
     * Corpus BLEU of greedy translations of the first {@code n} dev pairs: the current weights are
     * exported (in the QAT dtype when QAT is on, so the score is the quantized model's) to a
     * temporary file and translated by the runtime.
     */
    private BleuScore bleu(Trainer t, List<String[]> dev, int n) throws IOException {
        Path tmp = Files.createTempFile(s.outDir(), ".validate.", ".kawi");
        try {
            t.export(tmp, t.qatActive() ? t.options().qat() : DType.F32, s.tokenizer(), Map.of("generator", "kawi train (validation)"));
            List<String> src = new ArrayList<>();
            List<String> ref = new ArrayList<>();
            for (int i = 0; i < Math.min(n, dev.size()); i++) {
                src.add(dev.get(i)[0]);
                ref.add(dev.get(i)[1]);
            }
            List<String> hyp = new ArrayList<>();
            try (Translator tr = Translator.open(tmp, new TranslatorOptions(t.options().threads(), 64))) {
                for (Translation x : tr.translate(src)) {
                    hyp.add(x.text());
                }
            }
            return new Bleu().corpusScore(hyp, ref);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}

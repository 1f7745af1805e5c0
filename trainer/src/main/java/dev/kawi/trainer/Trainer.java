package dev.kawi.trainer;

import dev.kawi.runtime.kernels.KernelProvider;
import dev.kawi.trainer.data.Batch;
import dev.kawi.trainer.data.Batcher;
import dev.kawi.trainer.export.Exporter;
import dev.kawi.trainer.export.FakeQuant;
import dev.kawi.trainer.model.ParamLayout;
import dev.kawi.trainer.model.Seq2Seq;
import dev.kawi.trainer.model.Workspace;
import dev.kawi.trainer.nn.CrossEntropy;
import dev.kawi.trainer.optim.AdamW;
import dev.kawi.trainer.optim.NoamSchedule;
import dev.kawi.trainer.tensor.F32Buf;
import dev.kawi.trainer.tensor.Ops;
import dev.kawi.trainer.tensor.Precision;
import dev.kawi.trainer.tensor.Products;
import dev.kawi.weights.DType;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.QuantPolicy;
import dev.kawi.weights.TokenizerSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A training run: parameters, AdamW state, the schedule and the position in the data. Each
 * optimizer step takes {@code accumulation} batches; each batch is split into one shard per
 * thread (contiguous sentences, balanced by target tokens), every shard runs forward and backward
 * into its own gradient buffer, and the buffers are summed in shard order. Given the same options
 * (thread count included) a run is deterministic, and a run resumed from a checkpoint repeats an
 * uninterrupted one bit for bit.
 */
public final class Trainer implements AutoCloseable {
    /** What one optimizer step did. */
    public record StepStats(int step, double loss, double nll, long tokens, long correct, double lr, double gradNorm,
                            long nanos, int epoch) {
        /** Smoothed loss per target token. */
        public double lossPerToken() {
            return loss / Math.max(1, tokens);
        }
    }

    /** Loss of a held-out set, per target token, and the fraction of argmax-correct tokens. */
    public record Evaluation(double loss, double nll, long tokens, double accuracy) {
        /** Perplexity exp(nll). */
        public double perplexity() {
            return Math.exp(nll);
        }
    }

    private final ModelConfig config;
    private final ParamLayout layout;
    private final Seq2Seq model;
    private final TrainOptions options;
    private final Batcher data;
    private final F32Buf params;
    private final AdamW adam;
    private final NoamSchedule schedule;
    private final Workspace[] workspaces;
    private final F32Buf[] grads;
    private final ExecutorService pool;
    private final FakeQuant fakeQuant;
    private final F32Buf quantized;
    private int step;
    private int epoch;
    private int position;

    /** A new run with freshly initialized parameters. */
    public Trainer(ModelConfig config, TrainOptions options, Batcher data) {
        this(config, options, data, null);
    }

    Trainer(ModelConfig config, TrainOptions options, Batcher data, F32Buf initial) {
        this.config = config;
        this.options = options;
        this.data = data;
        this.layout = new ParamLayout(config);
        this.model = new Seq2Seq(layout);
        this.params = new F32Buf(layout.total());
        if (initial != null) {
            params.copyFrom(0, initial, 0, layout.total());
        } else {
            initialize(layout, params, options.seed());
        }
        this.adam = new AdamW(layout, options.beta1(), options.beta2(), options.adamEps(), options.weightDecay());
        this.schedule = new NoamSchedule(config.dModel(), options.warmup(), options.lrScale());
        int n = options.threads();
        this.workspaces = new Workspace[n];
        this.grads = new F32Buf[n];
        for (int i = 0; i < n; i++) {
            workspaces[i] = new Workspace(config, Precision.F32, new Products(KernelProvider.get(1)));
            // A batch holds at most maxTokens padded positions per side (the batcher's budget),
            // or one sentence of at most maxLength when a single pair exceeds the budget.
            int len = Math.min(options.maxLength(), config.maxPositions());
            workspaces[i].reserve(Math.max(options.maxTokens(), len), len);
            grads[i] = new F32Buf(layout.total());
        }
        this.pool = n > 1 ? Executors.newFixedThreadPool(n - 1, r -> {
            Thread t = new Thread(r, "kawi-train");
            t.setDaemon(true);
            return t;
        }) : null;
        if (options.qat() != null) {
            fakeQuant = new FakeQuant(layout, options.qat(), QuantPolicy.defaults());
            quantized = new F32Buf(layout.total());
        } else {
            fakeQuant = null;
            quantized = null;
        }
    }

    /**
     * Initial parameters: linear layers Glorot-uniform, token embeddings normal with standard
     * deviation d^-0.5 (so that embeddings times √d have unit variance), learned positions normal
     * with deviation 0.02, norm gains 1, biases 0. Each tensor draws from its own seeded stream.
     */
    public static void initialize(ParamLayout layout, F32Buf params, long seed) {
        int d = layout.config().dModel();
        for (ParamLayout.Entry e : layout.entries()) {
            SplittableRandom rnd = new SplittableRandom(seed ^ (e.name().hashCode() * 0x9E3779B97F4A7C15L));
            long off = e.offset();
            String name = e.name();
            if (name.endsWith("norm.weight")) {
                for (long i = 0; i < e.size(); i++) {
                    params.set(off + i, 1);
                }
            } else if (!e.isMatrix()) {
                params.zero(off, e.size());
            } else if (name.endsWith("embed.weight")) {
                gaussian(params, off, e.size(), Math.pow(d, -0.5), rnd);
            } else if (name.endsWith("positions")) {
                gaussian(params, off, e.size(), 0.02, rnd);
            } else {
                double a = Math.sqrt(6.0 / (e.rows() + e.cols()));
                for (long i = 0; i < e.size(); i++) {
                    params.set(off + i, rnd.nextDouble(-a, a));
                }
            }
        }
    }

    private static void gaussian(F32Buf p, long off, long n, double std, SplittableRandom rnd) {
        for (long i = 0; i < n; i += 2) {
            // Box-Muller: two normals from two uniforms.
            double u1 = 1 - rnd.nextDouble();
            double u2 = rnd.nextDouble();
            double r = Math.sqrt(-2 * Math.log(u1));
            p.set(off + i, std * r * Math.cos(2 * Math.PI * u2));
            if (i + 1 < n) {
                p.set(off + i + 1, std * r * Math.sin(2 * Math.PI * u2));
            }
        }
    }

    /** The architecture. */
    public ModelConfig config() {
        return config;
    }

    /** The parameter layout. */
    public ParamLayout layout() {
        return layout;
    }

    /** The master parameters. */
    public F32Buf parameters() {
        return params;
    }

    /** The options of this run. */
    public TrainOptions options() {
        return options;
    }

    /** Optimizer steps completed. */
    public int completedSteps() {
        return step;
    }

    /** Current epoch (0-based). */
    public int epoch() {
        return epoch;
    }

    /** Index of the next batch within the current epoch. */
    public int position() {
        return position;
    }

    AdamW optimizer() {
        return adam;
    }

    void restore(int step, int epoch, int position) {
        this.step = step;
        this.epoch = epoch;
        this.position = position;
    }

    /** The learning rate of the next step. */
    public double nextLearningRate() {
        return schedule.lr(step + 1);
    }

    /** True when quantization-aware training is active for the next step. */
    public boolean qatActive() {
        return fakeQuant != null && step + 1 >= options.qatStart();
    }

    /** The weights the passes compute with: the fake-quantized copy under QAT. */
    private F32Buf weights() {
        if (qatActive()) {
            fakeQuant.apply(params, quantized);
            return quantized;
        }
        return params;
    }

    /** Runs one optimizer step. */
    public StepStats trainStep() {
        long t0 = System.nanoTime();
        int next = step + 1;
        List<List<Batch.Pair>> batches = new ArrayList<>();
        long tokens = 0;
        for (int a = 0; a < options.accumulation(); a++) {
            List<Batch.Pair> b = data.pairs(epoch, position);
            batches.add(b);
            for (Batch.Pair p : b) {
                tokens += p.target().length + 1;
            }
            if (++position == data.size()) {
                position = 0;
                epoch++;
            }
        }
        F32Buf w = weights();
        for (F32Buf g : grads) {
            g.zero();
        }
        double scale = 1.0 / tokens;
        CrossEntropy.Sums sums = CrossEntropy.Sums.ZERO;
        for (int a = 0; a < batches.size(); a++) {
            long seed = mix(options.seed(), next, a);
            sums = sums.plus(runShards(batches.get(a), (shard, b) -> model.step(workspaces[shard], w, grads[shard], b,
                    new Seq2Seq.PassOptions(options.dropout(), options.labelSmoothing(), mix(seed, shard, 0)), scale)));
        }
        if (!Double.isFinite(sums.loss())) {
            throw new TrainingException("step " + next + ": the loss is " + sums.loss() + " (learning rate "
                    + schedule.lr(next) + "); lower --lr-scale or raise --warmup");
        }
        F32Buf g = grads[0];
        for (int i = 1; i < grads.length; i++) {
            addInto(g, grads[i]);
        }
        double norm = gradNorm(g, next);
        double clip = options.clipNorm() > 0 && norm > options.clipNorm() ? options.clipNorm() / norm : 1;
        double lr = schedule.lr(next);
        adam.update(params, g, next, lr, clip);
        step = next;
        return new StepStats(next, sums.loss(), sums.nll(), sums.tokens(), sums.correct(), lr, norm, System.nanoTime() - t0, epoch);
    }

    private static long mix(long a, long b, long c) {
        long z = a * 0x9E3779B97F4A7C15L + b * 0xBF58476D1CE4E5B9L + c * 0x94D049BB133111EBL;
        return z ^ (z >>> 29);
    }

    /** One shard's pass. */
    private interface ShardPass {
        CrossEntropy.Sums run(int shard, Batch b);
    }

    /** Splits {@code pairs} into one contiguous shard per workspace (balanced by target tokens) and runs them in parallel. */
    private CrossEntropy.Sums runShards(List<Batch.Pair> pairs, ShardPass pass) {
        int n = Math.min(workspaces.length, pairs.size());
        long total = 0;
        for (Batch.Pair p : pairs) {
            total += p.target().length + 1;
        }
        List<Batch> shards = new ArrayList<>(n);
        int from = 0;
        long acc = 0;
        for (int s = 0; s < n; s++) {
            int to = from;
            long goal = total * (s + 1) / n;
            while (to < pairs.size() && (to == from || acc + pairs.get(to).target().length + 1 <= goal || s == n - 1)
                    && pairs.size() - to > n - s - 1) {
                acc += pairs.get(to).target().length + 1;
                to++;
            }
            shards.add(Batch.of(pairs.subList(from, to), config.padId(), config.eosId(), config.decoderStartId()));
            from = to;
        }
        List<Future<CrossEntropy.Sums>> futures = new ArrayList<>();
        for (int s = 1; s < n; s++) {
            int shard = s;
            futures.add(pool.submit(() -> pass.run(shard, shards.get(shard))));
        }
        CrossEntropy.Sums sums = pass.run(0, shards.get(0));
        for (Future<CrossEntropy.Sums> f : futures) {
            try {
                sums = sums.plus(f.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TrainingException("interrupted");
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException re) {
                    throw re;
                }
                throw new TrainingException("a training worker failed: " + e.getCause());
            }
        }
        return sums;
    }

    private void addInto(F32Buf dst, F32Buf src) {
        Ops.addInto(workspaces[0].products(), dst, 0, src, 0, dst.size());
    }

    /** The global gradient norm; a NaN or infinity stops training naming the tensor. */
    private double gradNorm(F32Buf g, int at) {
        double sum = 0;
        for (ParamLayout.Entry e : layout.entries()) {
            double s = Ops.sumSquares(g, e.offset(), e.size());
            if (!Double.isFinite(s)) {
                throw new TrainingException("step " + at + ": the gradient of " + e.name() + " contains NaN or infinity"
                        + " (learning rate " + schedule.lr(at) + "); lower --lr-scale or raise --warmup");
            }
            sum += s;
        }
        return Math.sqrt(sum);
    }

    /** Loss and accuracy of {@code batches} without dropout or smoothing, with the current (fake-quantized under QAT) weights. */
    public Evaluation evaluate(List<List<Batch.Pair>> batches) {
        F32Buf w = weights();
        CrossEntropy.Sums sums = CrossEntropy.Sums.ZERO;
        for (List<Batch.Pair> b : batches) {
            sums = sums.plus(runShards(b, (shard, x) -> model.step(workspaces[shard], w, null, x, Seq2Seq.PassOptions.EVAL, 0)));
        }
        long n = Math.max(1, sums.tokens());
        return new Evaluation(sums.loss() / n, sums.nll() / n, sums.tokens(), (double) sums.correct() / n);
    }

    /**
     * Writes the model as {@code .kawi} in {@code dtype}. Under QAT, exporting to the QAT dtype
     * quantizes the master weights, which gives exactly the fake-quantized weights training used.
     */
    public void export(Path out, DType dtype, TokenizerSpec tokenizer, Map<String, Object> provenance) throws IOException {
        Exporter.write(out, layout, params, dtype, tokenizer, provenance);
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}

package dev.kawi.runtime;

import dev.kawi.runtime.kernels.KernelProvider;
import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.runtime.kernels.WarmingKernels;
import dev.kawi.runtime.model.DecoderState;
import dev.kawi.runtime.model.Encoder;
import dev.kawi.runtime.model.EncoderOutput;
import dev.kawi.runtime.model.TransformerModel;
import dev.kawi.runtime.search.BeamSearch;
import dev.kawi.runtime.search.DecodingOptions;
import dev.kawi.runtime.search.GreedySearch;
import dev.kawi.runtime.search.Hypothesis;
import dev.kawi.runtime.tokenizer.Tokenizer;
import dev.kawi.weights.KawiFile;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.WeightFileException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * Translates text with a {@code .kawi} model. Thread-safe: share one instance; each call works
 * in its own off-heap arena, freed when the call returns. Close it to unmap the model.
 *
 * <pre>{@code
 * try (Translator t = Translator.open(Path.of("model.kawi"))) {
 *     System.out.println(t.translate("Guten Morgen.").text());
 * }
 * }</pre>
 */
public final class Translator implements AutoCloseable {
    private final KawiFile file;
    private final Arena modelArena;
    private final TransformerModel model;
    private final Tokenizer tokenizer;
    private final Kernels kernels;
    private final TranslatorOptions options;
    /** The threads of translateAsync, created on its first use (most callers never need them). */
    private ExecutorService async;
    /** Guards {@link #closed}, {@link #warming} and {@link #warmupStarted}. */
    private final Object lifecycle = new Object();
    private volatile boolean closed;
    private boolean warming;
    private boolean warmupStarted;

    /** The logger, created on first use (see KernelProvider). */
    private static final class Log {
        static final System.Logger LOG = System.getLogger(Translator.class.getName());
    }
    /** How long after the first call a {@link TranslatorOptions.Warmup#DEFERRED} warm-up starts. */
    private static final long DEFERRED_WARMUP_MILLIS = 1000;
    /** A warm-up gives up after this long (promoting the vector kernels only if they were faster). */
    private static final long WARMUP_LIMIT_NANOS = 30_000_000_000L;

    private Translator(KawiFile file, TranslatorOptions options) {
        this.file = file;
        this.options = options;
        this.modelArena = Arena.ofShared();
        this.model = new TransformerModel(file, modelArena);
        this.tokenizer = Tokenizer.create(file.tokenizer());
        this.kernels = options.warmup() == TranslatorOptions.Warmup.NONE ? KernelProvider.get(options.threads())
                : KernelProvider.warming(options.threads());
        if (options.warmup() == TranslatorOptions.Warmup.BACKGROUND) {
            startWarmup(0);
        }
    }

    /** Opens a model with default options. */
    public static Translator open(Path model) throws WeightFileException {
        return open(model, TranslatorOptions.defaults());
    }

    /** Opens a model: maps and validates the file (tensor bytes are read lazily, by the kernels). */
    public static Translator open(Path model, TranslatorOptions options) throws WeightFileException {
        if (options.warmup() != TranslatorOptions.Warmup.NONE) {
            KernelProvider.prefetchVectorLanes(); // overlaps with reading the file
        }
        KawiFile f = KawiFile.open(model);
        try {
            return new Translator(f, options);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** The model's architecture. */
    public ModelConfig config() {
        return model.config();
    }

    /** The model's tokenizer. */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The options this translator was opened with. */
    public TranslatorOptions options() {
        return options;
    }

    /** Translates one text with default options. */
    public Translation translate(String text) {
        return translate(List.of(text), TranslationOptions.defaults()).get(0);
    }

    /** Translates one text. */
    public Translation translate(String text, TranslationOptions opts) {
        return translate(List.of(text), opts).get(0);
    }

    /** Translates texts with default options; results in input order. */
    public List<Translation> translate(List<String> texts) {
        return translate(texts, TranslationOptions.defaults());
    }

    /**
     * Translates texts in batches of sentences of similar length (sorted, padded and masked);
     * results in input order and identical to translating each text alone.
     */
    public List<Translation> translate(List<String> texts, TranslationOptions opts) {
        int n = texts.size();
        int[][] src = new int[n][];
        for (int i = 0; i < n; i++) {
            src[i] = sourceIds(texts.get(i), opts, i);
        }
        // Longest first (blank inputs, which need no model, count as empty); ties keep input order.
        // Sorted as primitive keys (length descending, then index): no comparator lambdas to link at start-up.
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            long len = src[i] == null ? 0 : src[i].length;
            keys[i] = ((long) Integer.MAX_VALUE - len) << 32 | i;
        }
        Arrays.sort(keys);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = (int) keys[i];
        }
        Translation[] out = new Translation[n];
        for (int start = 0; start < n; start += options.maxBatchSize()) {
            int end = Math.min(n, start + options.maxBatchSize());
            List<Integer> batch = new ArrayList<>();
            for (int i = start; i < end; i++) {
                int idx = order[i];
                if (src[idx] == null) {
                    out[idx] = empty();
                } else {
                    batch.add(idx);
                }
            }
            if (!batch.isEmpty()) {
                int[][] ids = new int[batch.size()][];
                for (int b = 0; b < ids.length; b++) {
                    ids[b] = src[batch.get(b)];
                }
                List<List<Hypothesis>> res = decode(ids, opts, null);
                for (int b = 0; b < batch.size(); b++) {
                    out[batch.get(b)] = toTranslation(res.get(b), opts.decoding(), src[batch.get(b)]);
                }
            }
        }
        return List.of(out);
    }

    /** {@link #translate(String, TranslationOptions)} on a worker thread. */
    public CompletableFuture<Translation> translateAsync(String text, TranslationOptions opts) {
        return CompletableFuture.supplyAsync(() -> translate(text, opts), async());
    }

    /** {@link #translate(List, TranslationOptions)} on a worker thread. */
    public CompletableFuture<List<Translation>> translateAsync(List<String> texts, TranslationOptions opts) {
        List<String> copy = List.copyOf(texts);
        return CompletableFuture.supplyAsync(() -> translate(copy, opts), async());
    }

    /**
     * Greedy translation that hands each new piece of output text to {@code onText} as soon as
     * its token is decided (bytes of an incomplete UTF-8 character are held back until complete).
     * Returns the whole translation at the end.
     */
    public Translation translateStreaming(String text, TranslationOptions opts, Consumer<String> onText) {
        if (opts.decoding().beamSize() != 1) {
            throw new IllegalArgumentException("streaming needs greedy decoding (beam size 1), was " + opts.decoding().beamSize());
        }
        int[] ids = sourceIds(text, opts, 0);
        if (ids == null) {
            return empty();
        }
        int[] generated = new int[opts.decoding().maxLength()];
        int[] count = {0};
        int[] emitted = {0};
        GreedySearch.TokenListener listener = (b, tok) -> {
            generated[count[0]++] = tok;
            String sofar = tokenizer.decode(generated, 0, count[0]);
            if (!sofar.endsWith("\uFFFD") && sofar.length() > emitted[0]) {
                onText.accept(sofar.substring(emitted[0]));
                emitted[0] = sofar.length();
            }
        };
        List<List<Hypothesis>> res = decode(new int[][] {ids}, opts, listener);
        Translation t = toTranslation(res.get(0), opts.decoding(), ids);
        if (t.text().length() > emitted[0]) {
            onText.accept(t.text().substring(emitted[0]));
        }
        return t;
    }

    /**
     * The log-probability of {@code target} as a translation of {@code source}: the sum over the
     * target tokens and the end token. Returns per-token log-probabilities too.
     */
    public Score score(String source, String target) {
        int[] src = sourceIds(source, TranslationOptions.defaults(), 0);
        if (src == null) {
            src = new int[] {model.config().eosId()};
        }
        int[] tgt = tokenizer.encode(target);
        ModelConfig c = model.config();
        int steps = tgt.length + 1;
        if (steps > c.maxPositions()) {
            throw new IllegalArgumentException("target of " + tgt.length + " tokens exceeds the model's " + c.maxPositions() + " positions");
        }
        float[] logp = new float[steps];
        onCall();
        try (Arena arena = Arena.ofShared()) {
            EncoderOutput enc = Encoder.encode(model, kernels, arena, new int[][] {src});
            DecoderState st = new DecoderState(model, kernels, arena, enc, 1, steps);
            int[] input = {c.decoderStartId()};
            int vocab = c.vocabSize();
            for (int t = 0; t < steps; t++) {
                st.step(input);
                kernels.logSoftmax(st.logits(), 0, 1, vocab, vocab, null);
                int next = t < tgt.length ? tgt[t] : c.eosId();
                logp[t] = st.logits().getAtIndex(ValueLayout.JAVA_FLOAT, next);
                input[0] = next;
            }
        }
        float total = 0;
        for (float v : logp) {
            total += v;
        }
        List<String> pieces = new ArrayList<>();
        for (int id : tgt) {
            pieces.add(tokenizer.piece(id));
        }
        return new Score(total, logp, pieces);
    }

    /**
     * The cross-attention of decoder layer {@code layer} (negative: from the end), every head, while
     * {@code target} is decoded as the translation of {@code source}: forced token by token, the end
     * token included, when {@code target} is not null; else the greedy translation (at most
     * {@code maxLength} tokens, the same tokens as greedy {@link #translate}). One row per target
     * token, and one for the end token when it is forced or generated.
     */
    public CrossAttention crossAttention(String source, String target, int layer, int maxLength) {
        ModelConfig c = model.config();
        int layers = c.decoderLayers();
        int l = layer < 0 ? layers + layer : layer;
        if (l < 0 || l >= layers) {
            throw new IllegalArgumentException("layer " + layer + " outside the decoder's " + layers + " layers");
        }
        if (maxLength < 1) {
            throw new IllegalArgumentException("max length must be >= 1, was " + maxLength);
        }
        int[] src = sourceIds(source, TranslationOptions.defaults(), 0);
        if (src == null) {
            src = new int[] {c.eosId()};
        }
        int[] forced = target == null ? null : tokenizer.encode(target);
        int steps = forced != null ? forced.length + 1 : Math.min(maxLength, c.maxPositions());
        if (steps > c.maxPositions()) {
            throw new IllegalArgumentException("target of " + forced.length + " tokens exceeds the model's " + c.maxPositions() + " positions");
        }
        int heads = c.numHeads();
        List<String> targetPieces = new ArrayList<>();
        List<float[][]> rows = new ArrayList<>(); // per target token: (heads, source length)
        onCall();
        try (Arena arena = Arena.ofShared()) {
            EncoderOutput enc = Encoder.encode(model, kernels, arena, new int[][] {src});
            DecoderState st = new DecoderState(model, kernels, arena, enc, 1, steps);
            st.recordAttention(l);
            int[] input = {c.decoderStartId()};
            for (int t = 0; t < steps; t++) {
                st.step(input);
                int next = forced == null ? kernels.argmax(st.logits(), 0, c.vocabSize())
                        : t < forced.length ? forced[t] : c.eosId();
                float[][] row = new float[heads][src.length];
                for (int h = 0; h < heads; h++) {
                    st.attention(0, h, row[h]);
                }
                rows.add(row);
                targetPieces.add(tokenizer.piece(next));
                if (next == c.eosId()) {
                    break;
                }
                input[0] = next;
            }
        }
        float[][][] weights = new float[heads][rows.size()][];
        for (int i = 0; i < rows.size(); i++) {
            for (int h = 0; h < heads; h++) {
                weights[h][i] = rows.get(i)[h];
            }
        }
        List<String> sourcePieces = new ArrayList<>();
        for (int id : src) {
            sourcePieces.add(tokenizer.piece(id));
        }
        return new CrossAttention(l, sourcePieces, targetPieces, weights);
    }

    /** Log-probabilities of a target: total, per token (the end token last), and the target pieces. */
    public record Score(float total, float[] perToken, List<String> tokens) {
    }

    /** Source ids with the end token, or null for empty input; applies the length policy. */
    private int[] sourceIds(String text, TranslationOptions opts, int index) {
        if (text == null) {
            throw new IllegalArgumentException("text " + index + " is null");
        }
        if (text.isBlank()) {
            return null;
        }
        int[] ids = tokenizer.encode(text);
        int limit = Math.min(opts.maxInputLength(), model.config().maxPositions() - 1);
        if (ids.length > limit) {
            if (!opts.truncateInput()) {
                throw new IllegalArgumentException("input " + index + " has " + ids.length + " tokens, more than the limit of " + limit
                        + " (raise max input length, or allow truncation)");
            }
            ids = Arrays.copyOf(ids, limit);
        }
        int[] withEos = Arrays.copyOf(ids, ids.length + 1);
        withEos[ids.length] = model.config().eosId();
        return withEos;
    }

    private List<List<Hypothesis>> decode(int[][] src, TranslationOptions opts, GreedySearch.TokenListener listener) {
        onCall();
        DecodingOptions d = opts.decoding();
        ModelConfig c = model.config();
        int maxLen = Math.min(d.maxLength(), c.maxPositions());
        int[] maxLength = new int[src.length];
        Arrays.fill(maxLength, maxLen);
        try (Arena arena = Arena.ofShared()) {
            EncoderOutput enc = Encoder.encode(model, kernels, arena, src);
            DecoderState state = new DecoderState(model, kernels, arena, enc, d.beamSize(), maxLen);
            if (d.beamSize() == 1) {
                Hypothesis[] h = GreedySearch.run(state, kernels, c, d, maxLength, listener);
                List<List<Hypothesis>> r = new ArrayList<>();
                for (Hypothesis x : h) {
                    r.add(List.of(x));
                }
                return r;
            }
            return BeamSearch.run(state, kernels, c, d, maxLength);
        }
    }

    private static Translation empty() {
        return new Translation("", List.of(), 0f, List.of(new Translation.Alternative("", List.of(), 0f, 0f)), List.of(), null, null);
    }

    private Translation toTranslation(List<Hypothesis> hyps, DecodingOptions d, int[] src) {
        List<Translation.Alternative> alts = new ArrayList<>();
        for (Hypothesis h : hyps) {
            List<String> pieces = new ArrayList<>();
            for (int id : h.tokens()) {
                pieces.add(tokenizer.piece(id));
            }
            alts.add(new Translation.Alternative(tokenizer.decode(h.tokens()), pieces, h.score(), h.normalizedScore()));
        }
        if (alts.isEmpty()) {
            alts.add(new Translation.Alternative("", List.of(), Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY));
        }
        Translation.Alternative best = alts.get(0);
        boolean scored = d.returnScores() || d.beamSize() > 1;
        List<String> source = new ArrayList<>();
        for (int id : src) {
            source.add(tokenizer.piece(id));
        }
        float[][] align = d.returnAlignments() && !hyps.isEmpty() ? hyps.get(0).attention() : null;
        float[] tokenScores = scored && !hyps.isEmpty() ? hyps.get(0).tokenScores() : null;
        return new Translation(best.text(), best.tokens(), scored ? best.score() : Float.NaN, List.copyOf(alts), List.copyOf(source), align,
                tokenScores);
    }

    /** The kernels in use, e.g. "vector-512 (2 threads)", or the lane kernels while the vector ones warm up. */
    public String kernelsName() {
        return kernels.name();
    }

    /** True once the vector kernels serve the calls (always, unless a warm-up policy was chosen and is still running). */
    public boolean warm() {
        return !(kernels instanceof WarmingKernels w) || w.promoted();
    }

    /** Starts a {@link TranslatorOptions.Warmup#DEFERRED} warm-up on the first model call. */
    private void onCall() {
        if (options.warmup() == TranslatorOptions.Warmup.DEFERRED) {
            startWarmup(DEFERRED_WARMUP_MILLIS);
        }
    }

    /** Starts the background warm-up of the vector kernels once (when there is one to do). */
    private void startWarmup(long delayMillis) {
        if (!(kernels instanceof WarmingKernels w) || w.promoted()) {
            return;
        }
        synchronized (lifecycle) {
            if (warmupStarted || closed) {
                return;
            }
            warmupStarted = true;
        }
        Thread t = new Thread(new WarmupTask(w, delayMillis), "kawi-warmup");
        t.setDaemon(true);
        t.start();
    }

    /** The warm-up task: a class rather than a lambda, so that starting it links nothing. */
    private final class WarmupTask implements Runnable {
        private final WarmingKernels kernels;
        private final long delayMillis;

        WarmupTask(WarmingKernels kernels, long delayMillis) {
            this.kernels = kernels;
            this.delayMillis = delayMillis;
        }

        @Override
        public void run() {
            warmUp(kernels, delayMillis);
        }
    }

    private synchronized ExecutorService async() {
        if (async == null) {
            async = Executors.newThreadPerTaskExecutor(Thread.ofPlatform().daemon().name("kawi-translate-", 0).factory());
        }
        return async;
    }

    /**
     * Runs the model with the vector kernels on a made-up sentence (an encoder pass over 24 tokens,
     * which takes the tiled GEMM path, and 16 greedy decoder steps, which take the 1-row path)
     * until the time per pass stops improving, so the JIT has compiled them; then promotes them if
     * a pass is faster with them than with the lane kernels (measured the same way, now and then).
     * They are not where the JIT cannot compile them (e.g. -XX:TieredStopAtLevel=1): the lane
     * kernels then stay. Results do not change: both compute the same bits.
     */
    private void warmUp(WarmingKernels w, long delayMillis) {
        try {
            if (delayMillis > 0) {
                Thread.sleep(delayMillis);
            }
            synchronized (lifecycle) {
                if (closed) {
                    return;
                }
                warming = true;
            }
            Kernels target = w.target();
            ModelConfig c = model.config();
            int srcLen = Math.max(1, Math.min(24, c.maxPositions() - 1));
            int steps = Math.max(1, Math.min(16, c.maxPositions()));
            int[] src = new int[srcLen];
            for (int i = 0; i < srcLen; i++) {
                src[i] = (int) ((4L + 7919L * i) % c.vocabSize());
            }
            src[srcLen - 1] = c.eosId();
            long start = System.nanoTime();
            long best = Long.MAX_VALUE;
            long laneBest = Long.MAX_VALUE;
            int calm = 0;
            int passes = 0;
            boolean faster = false;
            while (!closed && System.nanoTime() - start < WARMUP_LIMIT_NANOS) {
                if (passes % 10 == 0) {
                    long t0 = System.nanoTime();
                    warmupPass(w.cold(), src, steps);
                    laneBest = Math.min(laneBest, System.nanoTime() - t0);
                }
                long t0 = System.nanoTime();
                warmupPass(target, src, steps);
                long dt = System.nanoTime() - t0;
                passes++;
                calm = dt < best - best / 10 ? 0 : calm + 1;
                best = Math.min(best, dt);
                faster = best < laneBest;
                if (passes >= 30 && calm >= 10 && faster) {
                    break;
                }
            }
            if (!closed && faster) {
                w.promote();
            }
            long vectorNanos = best;
            long laneNanos = laneBest;
            boolean promoted = w.promoted();
            Log.LOG.log(System.Logger.Level.DEBUG, () -> "kernels: " + (promoted ? target.name() + " warm" : "staying on " + w.cold().name())
                    + " after " + (System.nanoTime() - start) / 1_000_000 + " ms (a pass: " + vectorNanos / 1000 + " us vector, "
                    + laneNanos / 1000 + " us lanes)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            // The lane kernels go on serving: same results, only slower.
            Log.LOG.log(System.Logger.Level.WARNING, "kernels: warm-up failed, staying on " + w.name() + ": " + e);
        } finally {
            boolean release;
            synchronized (lifecycle) {
                release = closed && warming;
                warming = false;
            }
            if (release) {
                release();
            }
        }
    }

    /** One pass of the warm-up: encode src, then greedy steps (an argmax, a log-softmax and a top-k each). */
    private void warmupPass(Kernels k, int[] src, int steps) {
        ModelConfig c = model.config();
        int vocab = c.vocabSize();
        int[] idx = new int[4];
        float[] val = new float[4];
        try (Arena arena = Arena.ofShared()) {
            EncoderOutput enc = Encoder.encode(model, k, arena, new int[][] {src});
            DecoderState st = new DecoderState(model, k, arena, enc, 1, steps);
            int[] input = {c.decoderStartId()};
            for (int t = 0; t < steps && !closed; t++) {
                st.step(input);
                int next = k.argmax(st.logits(), 0, vocab);
                k.logSoftmax(st.logits(), 0, 1, vocab, vocab, null);
                k.topK(st.logits(), 0, vocab, Math.min(4, vocab), idx, val);
                input[0] = next == c.eosId() ? src[t % src.length] : next;
            }
        }
    }

    /**
     * Unmaps the model and stops the async workers; calls in flight must have returned. A
     * background warm-up still running stops at its next step and unmaps the model then.
     */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            if (warming) {
                return; // the warm-up thread releases when it stops
            }
        }
        release();
    }

    private void release() {
        synchronized (this) {
            if (async != null) {
                async.shutdown();
            }
        }
        modelArena.close();
        file.close();
    }
}

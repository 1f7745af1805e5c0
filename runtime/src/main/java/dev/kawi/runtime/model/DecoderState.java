package dev.kawi.runtime.model;

import dev.kawi.runtime.kernels.Epilogue;
import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.weights.ModelConfig;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Incremental decoding for up to {@code capacity} hypotheses over one encoded batch: the
 * self-attention key/value cache, the cross-attention keys and values (computed once), and
 * preallocated buffers, so that a step allocates nothing.
 *
 * <p>Cache rows are never moved. Hypothesis n's key/value for step t go to row
 * {@code t * capacity + n}; its history is a list of row indices. When a search reorders or
 * drops hypotheses ({@link #reorder}), only those index lists are copied.
 */
public final class DecoderState {
    private final TransformerModel m;
    private final Kernels k;
    private final ModelConfig c;
    private final EncoderOutput enc;
    private final int capacity;
    private final int maxSteps;
    private final int d;
    private final MemorySegment[] kCache;   // per layer (capacity * maxSteps, d)
    private final MemorySegment[] vCache;   // per layer (capacity * maxSteps, d)
    private final MemorySegment[] crossK;   // per layer (B * S, 2d): keys in [0, d), values in [d, 2d)
    private final MemorySegment[] crossV;   // the same segments, offset by d floats
    private final MemorySegment x;          // (capacity, d)
    private final MemorySegment h;          // (capacity, d)
    private final MemorySegment qkv;        // (capacity, 3d)
    private final MemorySegment att;        // (capacity, d)
    private final MemorySegment ffn;        // (capacity, ffn)
    private final MemorySegment logits;     // (capacity, vocab)
    private int[] selfRows;                 // (capacity, maxSteps) cache row of step t of hypothesis n
    private int[] selfRowsNext;
    private final int[] selfLens;           // (capacity)
    private int[] crossRows;                // (capacity, S) memory row of source token j of hypothesis n
    private int[] crossRowsNext;
    private final int[] crossLens;          // (capacity)
    private int[] sentence;                 // (capacity) source sentence of hypothesis n
    private int[] sentenceNext;
    private final int[] tokens;
    private int active;
    private int step;
    private final Epilogue[] qkvEp;
    private final Epilogue[] crossQEp;
    private final Epilogue[] fc1Ep;
    private final Epilogue[] outEp;
    private final Epilogue[] crossOutEp;
    private final Epilogue[] fc2Ep;
    private final Epilogue logitsEp;
    private final Arena arena;
    private int alignLayer = -1;
    private MemorySegment alignWeights;     // (capacity, heads, S) cross-attention probabilities of alignLayer

    /**
     * State for {@code hypothesesPerSentence} hypotheses of each sentence of {@code enc}, for at
     * most {@code maxSteps} decoder steps. Hypothesis n starts on sentence n / hypothesesPerSentence.
     */
    public DecoderState(TransformerModel m, Kernels k, Arena arena, EncoderOutput enc, int hypothesesPerSentence, int maxSteps) {
        this.m = m;
        this.k = k;
        this.c = m.config();
        this.enc = enc;
        this.d = c.dModel();
        this.capacity = enc.batch() * hypothesesPerSentence;
        if (maxSteps > c.maxPositions()) {
            throw new IllegalArgumentException("decoding length " + maxSteps + " exceeds max_positions " + c.maxPositions());
        }
        this.maxSteps = maxSteps;
        this.arena = arena;
        int layers = c.decoderLayers();
        int srcRows = enc.batch() * enc.srcLen();
        kCache = new MemorySegment[layers];
        vCache = new MemorySegment[layers];
        crossK = new MemorySegment[layers];
        crossV = new MemorySegment[layers];
        TransformerModel.DecoderLayer[] dl = m.decoderLayers();
        for (int l = 0; l < layers; l++) {
            kCache[l] = arena.allocate(4L * capacity * maxSteps * d, 64);
            vCache[l] = arena.allocate(4L * capacity * maxSteps * d, 64);
            crossK[l] = arena.allocate(4L * srcRows * 2 * d, 64);
            k.gemm(srcRows, enc.memory(), 0, d, dl[l].crossKv().w(), crossK[l], 0, 2 * d, Epilogue.of(dl[l].crossKv().bias(), null));
            crossV[l] = crossK[l].asSlice(4L * d);
        }
        x = arena.allocate(4L * capacity * d, 64);
        h = arena.allocate(4L * capacity * d, 64);
        qkv = arena.allocate(4L * capacity * 3 * d, 64);
        att = arena.allocate(4L * capacity * d, 64);
        ffn = arena.allocate(4L * capacity * c.ffnDim(), 64);
        logits = arena.allocate(4L * capacity * c.vocabSize(), 64);
        selfRows = new int[capacity * maxSteps];
        selfRowsNext = new int[capacity * maxSteps];
        selfLens = new int[capacity];
        crossRows = new int[capacity * enc.srcLen()];
        crossRowsNext = new int[capacity * enc.srcLen()];
        crossLens = new int[capacity];
        sentence = new int[capacity];
        sentenceNext = new int[capacity];
        tokens = new int[capacity];
        for (int n = 0; n < capacity; n++) {
            int b = n / hypothesesPerSentence;
            sentence[n] = b;
            crossLens[n] = enc.lengths()[b];
            for (int j = 0; j < enc.srcLen(); j++) {
                crossRows[n * enc.srcLen() + j] = b * enc.srcLen() + j;
            }
        }
        active = capacity;
        qkvEp = new Epilogue[layers];
        crossQEp = new Epilogue[layers];
        fc1Ep = new Epilogue[layers];
        outEp = new Epilogue[layers];
        crossOutEp = new Epilogue[layers];
        fc2Ep = new Epilogue[layers];
        for (int l = 0; l < layers; l++) {
            qkvEp[l] = Epilogue.of(dl[l].qkv().bias(), null);
            crossQEp[l] = Epilogue.of(dl[l].crossQ().bias(), null);
            fc1Ep[l] = Epilogue.of(dl[l].fc1().bias(), m.activation());
            outEp[l] = Epilogue.withResidual(dl[l].out().bias(), x, 0, d);
            crossOutEp[l] = Epilogue.withResidual(dl[l].crossOut().bias(), x, 0, d);
            fc2Ep[l] = Epilogue.withResidual(dl[l].fc2().bias(), x, 0, d);
        }
        logitsEp = Epilogue.of(m.outputBias(), null);
    }

    /**
     * Records the cross-attention probabilities of decoder layer {@code layer} (negative: from the
     * end) at every following step, for {@link #attention}.
     */
    public void recordAttention(int layer) {
        int layers = c.decoderLayers();
        int l = layer < 0 ? layers + layer : layer;
        if (l < 0 || l >= layers) {
            throw new IllegalArgumentException("alignment layer " + layer + " outside the decoder's " + layers + " layers");
        }
        alignLayer = l;
        if (alignWeights == null) {
            alignWeights = arena.allocate(4L * capacity * c.numHeads() * enc.srcLen(), 64);
        }
    }

    /**
     * The last step's cross-attention of hypothesis n in the recorded layer, averaged over heads,
     * into {@code dst[0 .. source length)}. Returns the source length.
     */
    public int attention(int n, float[] dst) {
        if (alignLayer < 0) {
            throw new IllegalStateException("call recordAttention first");
        }
        int len = crossLens[n];
        int heads = c.numHeads();
        int s = enc.srcLen();
        for (int j = 0; j < len; j++) {
            float sum = 0;
            for (int h = 0; h < heads; h++) {
                sum += alignWeights.getAtIndex(ValueLayout.JAVA_FLOAT, ((long) n * heads + h) * s + j);
            }
            dst[j] = sum / heads;
        }
        return len;
    }

    /**
     * The last step's cross-attention of hypothesis n in the recorded layer for one head
     * ({@code 0 <= head < numHeads}), into {@code dst[0 .. source length)}. Returns the source length.
     */
    public int attention(int n, int head, float[] dst) {
        if (alignLayer < 0) {
            throw new IllegalStateException("call recordAttention first");
        }
        int heads = c.numHeads();
        if (head < 0 || head >= heads) {
            throw new IllegalArgumentException("head " + head + " outside the model's " + heads + " heads");
        }
        int len = crossLens[n];
        MemorySegment.copy(alignWeights, ValueLayout.JAVA_FLOAT, 4L * (((long) n * heads + head) * enc.srcLen()), dst, 0, len);
        return len;
    }

    /** Length of hypothesis n's source sentence. */
    public int sourceLength(int n) {
        return crossLens[n];
    }

    /** Hypotheses currently decoded. */
    public int active() {
        return active;
    }

    /** Steps taken so far (the position of the next input token). */
    public int step() {
        return step;
    }

    /** Most steps this state can take. */
    public int maxSteps() {
        return maxSteps;
    }

    /** Source sentence of hypothesis n. */
    public int sentence(int n) {
        return sentence[n];
    }

    /** The logits buffer: row n ({@code vocab} floats) belongs to hypothesis n after {@link #step}. */
    public MemorySegment logits() {
        return logits;
    }

    /**
     * Feeds {@code input[n]} to hypothesis n (n < active) at the current position and computes
     * the next-token logits of every active hypothesis into {@link #logits()}.
     */
    public void step(int[] input) {
        if (step >= maxSteps) {
            throw new IllegalStateException("decoder state holds " + maxSteps + " steps");
        }
        int n = active;
        int t = step;
        System.arraycopy(input, 0, tokens, 0, n);
        k.embedding(m.decoderEmbed(), tokens, 0, n, m.embeddingScale(), x, 0, d);
        for (int i = 0; i < n; i++) {
            k.add(x, (long) i * d, x, (long) i * d, m.decoderPositions(t + 1), (long) t * d, d);
            selfRows[i * maxSteps + t] = t * capacity + i;
            selfLens[i] = t + 1;
        }
        boolean pre = c.norm() == ModelConfig.NormPlacement.PRE;
        float eps = c.layerNormEps();
        int heads = c.numHeads();
        int hd = c.headDim();
        float scale = (float) (1.0 / Math.sqrt(hd));
        TransformerModel.DecoderLayer[] layers = m.decoderLayers();
        for (int l = 0; l < layers.length; l++) {
            TransformerModel.DecoderLayer layer = layers[l];
            // Causal self-attention over the cached history.
            MemorySegment in = x;
            if (pre) {
                k.layerNorm(h, 0, d, x, 0, d, n, d, layer.selfAttnNorm().gamma(), layer.selfAttnNorm().beta(), eps, null, null);
                in = h;
            }
            k.gemm(n, in, 0, d, layer.qkv().w(), qkv, 0, 3 * d, qkvEp[l]);
            for (int i = 0; i < n; i++) {
                long row = (long) (t * capacity + i) * d;
                MemorySegment.copy(qkv, 4L * (i * 3L * d + d), kCache[l], 4L * row, 4L * d);
                MemorySegment.copy(qkv, 4L * (i * 3L * d + 2L * d), vCache[l], 4L * row, 4L * d);
            }
            k.attentionStep(n, heads, hd, scale, qkv, 0, 3 * d, kCache[l], vCache[l], d, selfRows, maxSteps, selfLens,
                    att, 0, d, null, 0, 0);
            Encoder.residual(k, pre, n, d, att, layer.out(), outEp[l], x, h, layer.selfAttnNorm(), eps);
            // Cross-attention over the source.
            in = x;
            if (pre) {
                k.layerNorm(h, 0, d, x, 0, d, n, d, layer.crossAttnNorm().gamma(), layer.crossAttnNorm().beta(), eps, null, null);
                in = h;
            }
            k.gemm(n, in, 0, d, layer.crossQ().w(), qkv, 0, d, crossQEp[l]);
            boolean record = l == alignLayer;
            k.attentionStep(n, heads, hd, scale, qkv, 0, d, crossK[l], crossV[l], 2 * d, crossRows, enc.srcLen(), crossLens,
                    att, 0, d, record ? alignWeights : null, 0, record ? enc.srcLen() : 0);
            Encoder.residual(k, pre, n, d, att, layer.crossOut(), crossOutEp[l], x, h, layer.crossAttnNorm(), eps);
            // Feed-forward.
            in = x;
            if (pre) {
                k.layerNorm(h, 0, d, x, 0, d, n, d, layer.ffnNorm().gamma(), layer.ffnNorm().beta(), eps, null, null);
                in = h;
            }
            k.gemm(n, in, 0, d, layer.fc1().w(), ffn, 0, c.ffnDim(), fc1Ep[l]);
            Encoder.residual(k, pre, n, d, ffn, layer.fc2(), fc2Ep[l], x, h, layer.ffnNorm(), eps);
        }
        MemorySegment fin = x;
        if (m.decoderFinalNorm() != null) {
            k.layerNorm(h, 0, d, x, 0, d, n, d, m.decoderFinalNorm().gamma(), m.decoderFinalNorm().beta(), eps, null, null);
            fin = h;
        }
        k.gemm(n, fin, 0, d, m.output(), logits, 0, c.vocabSize(), logitsEp);
        step++;
    }

    /**
     * Keeps {@code count} hypotheses: new hypothesis i continues old hypothesis {@code parents[i]}
     * (its cache history and source). Copies index lists only.
     */
    public void reorder(int[] parents, int count) {
        int s = enc.srcLen();
        for (int i = 0; i < count; i++) {
            int p = parents[i];
            if (p < 0 || p >= active) {
                throw new IllegalArgumentException("parent " + p + " of hypothesis " + i + " is not active (" + active + ")");
            }
            System.arraycopy(selfRows, p * maxSteps, selfRowsNext, i * maxSteps, step);
            System.arraycopy(crossRows, p * s, crossRowsNext, i * s, s);
            sentenceNext[i] = sentence[p];
        }
        for (int i = 0; i < count; i++) {
            crossLens[i] = enc.lengths()[sentenceNext[i]];
        }
        int[] tmp = selfRows;
        selfRows = selfRowsNext;
        selfRowsNext = tmp;
        tmp = crossRows;
        crossRows = crossRowsNext;
        crossRowsNext = tmp;
        tmp = sentence;
        sentence = sentenceNext;
        sentenceNext = tmp;
        active = count;
    }
}

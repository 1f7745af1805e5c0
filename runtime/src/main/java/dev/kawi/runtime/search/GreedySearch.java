package dev.kawi.runtime.search;

import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.runtime.model.DecoderState;
import dev.kawi.weights.ModelConfig;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Greedy decoding (or sampling): each step takes the most likely token (the lowest id among
 * equal logits), or draws one, after the {@link LogitsProcessor} rules. The softmax is skipped
 * unless scores are asked for. A sentence ends at the end token or at its maximum length;
 * finished sentences leave the batch.
 */
public final class GreedySearch {
    private GreedySearch() {
    }

    /** Told of each token as soon as it is decided: (sentence, token). The end token is not reported. */
    @FunctionalInterface
    public interface TokenListener {
        /** Called in order of generation. */
        void accept(int sentence, int token);
    }

    /**
     * Decodes every sentence of the state (one hypothesis each); {@code maxLength[b]} bounds
     * sentence b's generated tokens. Sampling uses one random stream per sentence seeded with
     * {@code options.seed()}, so a sentence samples the same alone or in a batch.
     */
    public static Hypothesis[] run(DecoderState state, Kernels k, ModelConfig c, DecodingOptions options, int[] maxLength,
                                   TokenListener listener) {
        int batch = state.active();
        int vocab = c.vocabSize();
        int[][] out = new int[batch][state.maxSteps()];
        int[] len = new int[batch];
        float[] score = new float[batch];
        float[][] tokenScore = options.returnScores() ? new float[batch][state.maxSteps()] : null;
        int[] input = new int[batch];
        int[] alive = new int[batch];
        int[] parents = new int[batch];
        SplittableRandom[] rnd = new SplittableRandom[batch];
        Arrays.fill(input, c.decoderStartId());
        for (int b = 0; b < batch; b++) {
            alive[b] = b;
            rnd[b] = new SplittableRandom(options.seed());
        }
        LogitsProcessor proc = new LogitsProcessor(options, c.eosId());
        boolean process = !proc.isIdentity();
        Sampler sampler = options.sampling() ? new Sampler(options.temperature(), options.topK(), options.topP()) : null;
        boolean align = options.returnAlignments();
        float[][][] attn = align ? new float[batch][state.maxSteps()][] : null;
        if (align) {
            state.recordAttention(options.alignmentLayer());
        }
        int active = batch;
        MemorySegment logits = state.logits();
        while (active > 0) {
            state.step(input);
            int kept = 0;
            for (int n = 0; n < active; n++) {
                int b = alive[n];
                long row = (long) n * vocab;
                if (process) {
                    proc.apply(logits, row, vocab, out[b], len[b]);
                }
                int tok = sampler != null ? sampler.sample(k, logits, row, vocab, rnd[b]) : k.argmax(logits, row, vocab);
                float logp = 0f;
                if (options.returnScores()) {
                    k.logSoftmax(logits, row, 1, vocab, vocab, null);
                    logp = logits.getAtIndex(ValueLayout.JAVA_FLOAT, row + tok);
                    score[b] += logp;
                }
                if (tok == c.eosId()) {
                    continue;
                }
                if (align) {
                    float[] a = new float[state.sourceLength(n)];
                    state.attention(n, a);
                    attn[b][len[b]] = a;
                }
                if (tokenScore != null) {
                    tokenScore[b][len[b]] = logp;
                }
                out[b][len[b]++] = tok;
                if (listener != null) {
                    listener.accept(b, tok);
                }
                if (len[b] >= maxLength[b] || state.step() >= state.maxSteps()) {
                    continue;
                }
                parents[kept] = n;
                input[kept] = tok;
                alive[kept] = b;
                kept++;
            }
            if (kept < active) {
                state.reorder(parents, kept);
            }
            active = kept;
        }
        Hypothesis[] result = new Hypothesis[batch];
        for (int b = 0; b < batch; b++) {
            result[b] = new Hypothesis(Arrays.copyOf(out[b], len[b]), score[b], score[b], align ? Arrays.copyOf(attn[b], len[b]) : null,
                    tokenScore != null ? Arrays.copyOf(tokenScore[b], len[b]) : null);
        }
        return result;
    }
}

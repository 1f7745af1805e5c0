package dev.kawi.runtime.search;

import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.runtime.model.DecoderState;
import dev.kawi.weights.ModelConfig;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Greedy decoding: each step takes the most likely token (the lowest id among equal logits),
 * without computing a softmax unless scores are asked for. A sentence ends at the end token or at
 * its maximum length; finished sentences leave the batch.
 */
public final class GreedySearch {
    private GreedySearch() {
    }

    /** A listener told of each token as soon as it is decided: (sentence, token). */
    @FunctionalInterface
    public interface TokenListener {
        /** Called in order of generation; the end token is not reported. */
        void accept(int sentence, int token);
    }

    /**
     * Decodes every sentence of the state (one hypothesis each). {@code maxLength[b]} bounds the
     * generated tokens of sentence b; {@code minLength} suppresses the end token before that many.
     */
    public static Hypothesis[] run(DecoderState state, Kernels k, ModelConfig c, int[] maxLength, int minLength,
                                   boolean withScores, TokenListener listener) {
        int batch = state.active();
        int vocab = c.vocabSize();
        int[][] out = new int[batch][state.maxSteps()];
        int[] len = new int[batch];
        float[] score = new float[batch];
        int[] input = new int[batch];
        int[] alive = new int[batch];   // sentence of each active hypothesis
        int[] parents = new int[batch];
        Arrays.fill(input, c.decoderStartId());
        for (int b = 0; b < batch; b++) {
            alive[b] = b;
        }
        int active = batch;
        MemorySegment logits = state.logits();
        while (active > 0) {
            state.step(input);
            int kept = 0;
            for (int n = 0; n < active; n++) {
                int b = alive[n];
                long row = (long) n * vocab;
                if (len[b] < minLength) {
                    logits.setAtIndex(ValueLayout.JAVA_FLOAT, row + c.eosId(), Float.NEGATIVE_INFINITY);
                }
                int tok = k.argmax(logits, row, vocab);
                if (withScores) {
                    k.logSoftmax(logits, row, 1, vocab, vocab, null);
                    score[b] += logits.getAtIndex(ValueLayout.JAVA_FLOAT, row + tok);
                }
                if (tok == c.eosId()) {
                    continue;
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
            result[b] = new Hypothesis(Arrays.copyOf(out[b], len[b]), score[b], score[b]);
        }
        return result;
    }

    /** Convenience for a listener that ignores the sentence index. */
    static TokenListener of(IntConsumer c) {
        return (b, t) -> c.accept(t);
    }
}

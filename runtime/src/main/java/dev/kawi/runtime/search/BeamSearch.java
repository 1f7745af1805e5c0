package dev.kawi.runtime.search;

import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.runtime.model.DecoderState;
import dev.kawi.weights.ModelConfig;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Beam search, batched over sentences. Per sentence and step: every live hypothesis's
 * log-softmax is added to its score (float32); of all candidates the best {@code 2 * beam}
 * (score descending, then lower hypothesis, then lower token) are walked in order: an end token
 * finishes its hypothesis, any other token continues as a live one until {@code beam} are live.
 * A sentence stops when {@code beam} hypotheses have finished (the live ones are then dropped),
 * or at its maximum length, where the live ones finish as they are. Finished hypotheses are ranked by
 * {@code score / ((5 + length) / 6)^alpha} (GNMT's length penalty; length counts the end token).
 * The {@link LogitsProcessor} rules apply to each hypothesis before its log-softmax. With a
 * coverage penalty beta, {@link #coverage} of the alignment layer's attention is added to the
 * normalized score (GNMT).
 */
public final class BeamSearch {
    private BeamSearch() {
    }

    /** One sentence's search state. */
    private static final class Sentence {
        final List<int[]> liveTokens = new ArrayList<>();
        final List<float[][]> liveAttn = new ArrayList<>();
        final List<float[]> liveLogp = new ArrayList<>();
        final List<Float> liveScores = new ArrayList<>();
        final List<Hypothesis> finished = new ArrayList<>();
        final List<Integer> finishOrder = new ArrayList<>();
        boolean done;
    }

    /**
     * Decodes every sentence of {@code state}, which must hold {@code beam} hypotheses per
     * sentence. Returns, per sentence, up to {@code nBest} hypotheses, best first.
     */
    public static List<List<Hypothesis>> run(DecoderState state, Kernels k, ModelConfig c, DecodingOptions options, int[] maxLength) {
        int beam = options.beamSize();
        float alpha = options.lengthPenalty();
        int nBest = options.nBest();
        float beta = options.coveragePenalty();
        boolean align = options.returnAlignments() || beta > 0;
        if (align) {
            state.recordAttention(options.alignmentLayer());
        }
        LogitsProcessor proc = new LogitsProcessor(options, c.eosId());
        boolean process = !proc.isIdentity();
        int batch = state.active() / beam;
        int vocab = c.vocabSize();
        Sentence[] sentences = new Sentence[batch];
        int[] parents = new int[batch * beam];
        int[] input = new int[batch * beam];
        // Step 0: one hypothesis per sentence.
        for (int b = 0; b < batch; b++) {
            sentences[b] = new Sentence();
            sentences[b].liveTokens.add(new int[0]);
            sentences[b].liveAttn.add(new float[0][]);
            sentences[b].liveLogp.add(new float[0]);
            sentences[b].liveScores.add(0f);
            parents[b] = b * beam;
            input[b] = c.decoderStartId();
        }
        state.reorder(parents, batch);
        int[] order = new int[batch]; // sentence of each active group, in state order
        for (int b = 0; b < batch; b++) {
            order[b] = b;
        }
        int groups = batch;
        int cand = 2 * beam;
        int[] topIdx = new int[cand];
        float[] topVal = new float[cand];
        MemorySegment logits = state.logits();
        int finishCounter = 0;
        while (groups > 0) {
            state.step(input);
            int step = state.step();
            int active = 0;     // hypotheses of the next step
            int row = 0;        // first row of the current group in the logits
            int nextGroups = 0;
            for (int g = 0; g < groups; g++) {
                Sentence s = sentences[order[g]];
                int live = s.liveTokens.size();
                float[][] stepAttn = new float[live][];
                if (align) {
                    for (int h = 0; h < live; h++) {
                        stepAttn[h] = new float[state.sourceLength(row + h)];
                        state.attention(row + h, stepAttn[h]);
                    }
                }
                // Candidates: the best 2*beam of each row are enough to find the best 2*beam overall.
                int per = Math.min(cand, vocab);
                int total = live * per;
                float[] cScore = new float[total];
                float[] cLogp = new float[total];
                int[] cHyp = new int[total];
                int[] cTok = new int[total];
                for (int h = 0; h < live; h++) {
                    long r = (long) (row + h) * vocab;
                    if (process) {
                        int[] hist = s.liveTokens.get(h);
                        proc.apply(logits, r, vocab, hist, hist.length);
                    }
                    k.logSoftmax(logits, r, 1, vocab, vocab, null);
                    k.topK(logits, r, vocab, per, topIdx, topVal);
                    float base = s.liveScores.get(h);
                    for (int i = 0; i < per; i++) {
                        cScore[h * per + i] = base + topVal[i];
                        cLogp[h * per + i] = topVal[i];
                        cHyp[h * per + i] = h;
                        cTok[h * per + i] = topIdx[i];
                    }
                }
                Integer[] idx = new Integer[total];
                for (int i = 0; i < total; i++) {
                    idx[i] = i;
                }
                Arrays.sort(idx, (a, b2) -> {
                    int cmp = Float.compare(cScore[b2], cScore[a]);
                    if (cmp != 0) {
                        return cmp;
                    }
                    cmp = Integer.compare(cHyp[a], cHyp[b2]);
                    return cmp != 0 ? cmp : Integer.compare(cTok[a], cTok[b2]);
                });
                List<int[]> nextTokens = new ArrayList<>();
                List<float[][]> nextAttn = new ArrayList<>();
                List<float[]> nextLogp = new ArrayList<>();
                List<Float> nextScores = new ArrayList<>();
                List<Integer> nextParents = new ArrayList<>();
                List<Integer> nextInputs = new ArrayList<>();
                for (int i = 0; i < Math.min(cand, total) && nextTokens.size() < beam; i++) {
                    int ci = idx[i];
                    if (cScore[ci] == Float.NEGATIVE_INFINITY) {
                        break; // impossible continuations (forced prefix, suppressed tokens)
                    }
                    int[] prev = s.liveTokens.get(cHyp[ci]);
                    if (cTok[ci] == c.eosId()) {
                        float[][] pa = align ? s.liveAttn.get(cHyp[ci]) : null;
                        s.finished.add(new Hypothesis(prev, cScore[ci], normalize(cScore[ci], prev.length + 1, alpha) + coverage(pa, beta), pa,
                                s.liveLogp.get(cHyp[ci])));
                        s.finishOrder.add(finishCounter++);
                        continue;
                    }
                    int[] t = Arrays.copyOf(prev, prev.length + 1);
                    t[prev.length] = cTok[ci];
                    nextTokens.add(t);
                    float[] pl = s.liveLogp.get(cHyp[ci]);
                    float[] nl = Arrays.copyOf(pl, pl.length + 1);
                    nl[pl.length] = cLogp[ci];
                    nextLogp.add(nl);
                    if (align) {
                        float[][] pa = s.liveAttn.get(cHyp[ci]);
                        float[][] na = Arrays.copyOf(pa, pa.length + 1);
                        na[pa.length] = stepAttn[cHyp[ci]];
                        nextAttn.add(na);
                    }
                    nextScores.add(cScore[ci]);
                    nextParents.add(row + cHyp[ci]);
                    nextInputs.add(cTok[ci]);
                }
                boolean atMax = step >= maxLength[order[g]] || step >= state.maxSteps();
                if (s.finished.size() >= beam || nextTokens.isEmpty()) {
                    s.done = true; // enough finished (the live ones are dropped), or nothing can continue
                } else if (atMax) {
                    // Out of length: the live hypotheses finish as they are, in live order.
                    for (int i = 0; i < nextTokens.size(); i++) {
                        int[] t = nextTokens.get(i);
                        float[][] na = align ? nextAttn.get(i) : null;
                        s.finished.add(new Hypothesis(t, nextScores.get(i), normalize(nextScores.get(i), t.length, alpha) + coverage(na, beta), na,
                                nextLogp.get(i)));
                        s.finishOrder.add(finishCounter++);
                    }
                    s.done = true;
                } else {
                    s.liveTokens.clear();
                    s.liveTokens.addAll(nextTokens);
                    s.liveAttn.clear();
                    s.liveAttn.addAll(nextAttn);
                    s.liveLogp.clear();
                    s.liveLogp.addAll(nextLogp);
                    s.liveScores.clear();
                    s.liveScores.addAll(nextScores);
                    for (int i = 0; i < nextTokens.size(); i++) {
                        parents[active] = nextParents.get(i);
                        input[active] = nextInputs.get(i);
                        active++;
                    }
                    order[nextGroups++] = order[g];
                }
                row += live;
            }
            groups = nextGroups;
            if (groups > 0) {
                state.reorder(parents, active);
            }
        }
        List<List<Hypothesis>> result = new ArrayList<>(batch);
        for (Sentence s : sentences) {
            Integer[] idx = new Integer[s.finished.size()];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = i;
            }
            Arrays.sort(idx, (a, b) -> {
                int cmp = Float.compare(s.finished.get(b).normalizedScore(), s.finished.get(a).normalizedScore());
                return cmp != 0 ? cmp : Integer.compare(s.finishOrder.get(a), s.finishOrder.get(b));
            });
            List<Hypothesis> best = new ArrayList<>();
            for (int i = 0; i < Math.min(nBest, idx.length); i++) {
                best.add(s.finished.get(idx[i]));
            }
            result.add(best);
        }
        return result;
    }

    /**
     * GNMT's coverage penalty: beta * sum over source tokens of log(min(total attention received, 1)),
     * from the recorded attention rows (one per generated token); 0 when beta is 0.
     */
    static float coverage(float[][] attn, float beta) {
        if (beta == 0f || attn == null || attn.length == 0) {
            return 0f;
        }
        int len = attn[0].length;
        double total = 0;
        for (int j = 0; j < len; j++) {
            double sum = 0;
            for (float[] row : attn) {
                sum += row[j];
            }
            total += Math.log(Math.max(Math.min(sum, 1.0), 1e-20));
        }
        return (float) (beta * total);
    }

    /** score / ((5 + length) / 6)^alpha: the penalty computed in double, rounded to float, then a float division. */
    public static float normalize(float score, int length, float alpha) {
        if (alpha == 0f) {
            return score;
        }
        float penalty = (float) Math.pow((5.0 + length) / 6.0, alpha);
        return score / penalty;
    }
}

package dev.kawi.runtime.search;

import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.runtime.model.DecoderState;
import dev.kawi.weights.ModelConfig;
import java.lang.foreign.MemorySegment;
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
 *
 * <p>Every per-step buffer (histories, candidates) is allocated once per search, so that a step
 * allocates nothing; only a finished hypothesis (the result) and, when alignments or a coverage
 * penalty are asked for, each step's attention rows (they become part of the results) are new.
 */
public final class BeamSearch {
    private BeamSearch() {
    }

    /**
     * One sentence's search state. Its live hypotheses all have {@code len} tokens; each step
     * writes the continuations into the {@code next*} buffers, which are then swapped in.
     */
    private static final class Sentence {
        int live;
        int len;
        int[][] tokens;         // (beam, maxSteps) token history of live hypothesis h
        int[][] nextTokens;
        float[][] logp;         // (beam, maxSteps) log-probability of each token of h
        float[][] nextLogp;
        float[][][] attn;       // (beam, maxSteps) attention rows of h (shared, never written again); null unless recorded
        float[][][] nextAttn;
        float[] scores;         // (beam) score of h
        float[] nextScores;
        final List<Hypothesis> finished = new ArrayList<>();
        boolean done;

        Sentence(int beam, int maxSteps, boolean align) {
            tokens = new int[beam][maxSteps];
            nextTokens = new int[beam][maxSteps];
            logp = new float[beam][maxSteps];
            nextLogp = new float[beam][maxSteps];
            if (align) {
                attn = new float[beam][maxSteps][];
                nextAttn = new float[beam][maxSteps][];
            }
            scores = new float[beam];
            nextScores = new float[beam];
        }

        /** Next hypothesis j = live hypothesis h followed by token tok (log-probability lp, attention row a). */
        void extend(int j, int h, int tok, float score, float lp, float[] a) {
            System.arraycopy(tokens[h], 0, nextTokens[j], 0, len);
            nextTokens[j][len] = tok;
            System.arraycopy(logp[h], 0, nextLogp[j], 0, len);
            nextLogp[j][len] = lp;
            if (attn != null) {
                System.arraycopy(attn[h], 0, nextAttn[j], 0, len);
                nextAttn[j][len] = a;
            }
            nextScores[j] = score;
        }

        /** Makes the next hypotheses (count of them, one token longer) the live ones. */
        void advance(int count) {
            int[][] t = tokens;
            tokens = nextTokens;
            nextTokens = t;
            float[][] l = logp;
            logp = nextLogp;
            nextLogp = l;
            float[][][] a = attn;
            attn = nextAttn;
            nextAttn = a;
            float[] s = scores;
            scores = nextScores;
            nextScores = s;
            live = count;
            len++;
        }

        /** A finished hypothesis from history (tokens, logp, attention) of length n and score. */
        Hypothesis finish(int[] tok, float[] lp, float[][] at, int n, float score, int penaltyLength, float alpha, float beta) {
            float[][] a = at == null ? null : Arrays.copyOf(at, n);
            return new Hypothesis(Arrays.copyOf(tok, n), score, normalize(score, penaltyLength, alpha) + coverage(a, beta), a,
                    Arrays.copyOf(lp, n));
        }
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
        int maxSteps = state.maxSteps();
        Sentence[] sentences = new Sentence[batch];
        int[] parents = new int[batch * beam];
        int[] input = new int[batch * beam];
        // Step 0: one hypothesis per sentence.
        for (int b = 0; b < batch; b++) {
            sentences[b] = new Sentence(beam, maxSteps, align);
            sentences[b].live = 1;
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
        // Candidates: the best 2*beam of each row are enough to find the best 2*beam overall.
        int per = Math.min(cand, vocab);
        int[] topIdx = new int[per];
        float[] topVal = new float[per];
        float[] cScore = new float[beam * per];
        float[] cLogp = new float[beam * per];
        int[] cHyp = new int[beam * per];
        int[] cTok = new int[beam * per];
        int[] best = new int[cand];
        float[][] stepAttn = new float[beam][];
        MemorySegment logits = state.logits();
        while (groups > 0) {
            state.step(input);
            int step = state.step();
            int active = 0;     // hypotheses of the next step
            int row = 0;        // first row of the current group in the logits
            int nextGroups = 0;
            for (int g = 0; g < groups; g++) {
                Sentence s = sentences[order[g]];
                int live = s.live;
                if (align) {
                    for (int h = 0; h < live; h++) {
                        stepAttn[h] = new float[state.sourceLength(row + h)];
                        state.attention(row + h, stepAttn[h]);
                    }
                }
                int total = live * per;
                for (int h = 0; h < live; h++) {
                    long r = (long) (row + h) * vocab;
                    if (process) {
                        proc.apply(logits, r, vocab, s.tokens[h], s.len);
                    }
                    k.logSoftmax(logits, r, 1, vocab, vocab, null);
                    k.topK(logits, r, vocab, per, topIdx, topVal);
                    float base = s.scores[h];
                    for (int i = 0; i < per; i++) {
                        cScore[h * per + i] = base + topVal[i];
                        cLogp[h * per + i] = topVal[i];
                        cHyp[h * per + i] = h;
                        cTok[h * per + i] = topIdx[i];
                    }
                }
                int ranked = selectBest(total, Math.min(cand, total), cScore, cHyp, cTok, best);
                int next = 0;
                for (int i = 0; i < ranked && next < beam; i++) {
                    int ci = best[i];
                    if (cScore[ci] == Float.NEGATIVE_INFINITY) {
                        break; // impossible continuations (forced prefix, suppressed tokens)
                    }
                    int h = cHyp[ci];
                    if (cTok[ci] == c.eosId()) {
                        s.finished.add(s.finish(s.tokens[h], s.logp[h], align ? s.attn[h] : null, s.len, cScore[ci], s.len + 1, alpha, beta));
                        continue;
                    }
                    s.extend(next, h, cTok[ci], cScore[ci], cLogp[ci], align ? stepAttn[h] : null);
                    parents[active + next] = row + h;
                    input[active + next] = cTok[ci];
                    next++;
                }
                boolean atMax = step >= maxLength[order[g]] || step >= maxSteps;
                if (s.finished.size() >= beam || next == 0) {
                    s.done = true; // enough finished (the live ones are dropped), or nothing can continue
                } else if (atMax) {
                    // Out of length: the live hypotheses finish as they are, in live order.
                    for (int i = 0; i < next; i++) {
                        s.finished.add(s.finish(s.nextTokens[i], s.nextLogp[i], align ? s.nextAttn[i] : null, s.len + 1,
                                s.nextScores[i], s.len + 1, alpha, beta));
                    }
                    s.done = true;
                } else {
                    s.advance(next);
                    active += next;
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
            // Stable: equal normalized scores keep the order in which they finished.
            List<Hypothesis> ranked = new ArrayList<>(s.finished);
            ranked.sort((a, b) -> Float.compare(b.normalizedScore(), a.normalizedScore()));
            result.add(new ArrayList<>(ranked.subList(0, Math.min(nBest, ranked.size()))));
        }
        return result;
    }

    /**
     * The {@code limit} best of candidates [0, total), best first, into {@code best}: higher score
     * (Float.compare order), then lower hypothesis, then lower token. A bounded insertion sort:
     * O(total x limit) with no allocation, and the same prefix a full sort would give, since no
     * two candidates compare equal (tokens of one hypothesis are distinct). Returns limit.
     */
    static int selectBest(int total, int limit, float[] score, int[] hyp, int[] tok, int[] best) {
        if (limit <= 0) {
            return 0;
        }
        int n = 0;
        for (int i = 0; i < total; i++) {
            if (n == limit && !before(i, best[n - 1], score, hyp, tok)) {
                continue;
            }
            int j = n < limit ? n++ : n - 1;
            while (j > 0 && before(i, best[j - 1], score, hyp, tok)) {
                best[j] = best[j - 1];
                j--;
            }
            best[j] = i;
        }
        return n;
    }

    /** True when candidate a ranks before candidate b. */
    private static boolean before(int a, int b, float[] score, int[] hyp, int[] tok) {
        int cmp = Float.compare(score[b], score[a]);
        if (cmp != 0) {
            return cmp < 0;
        }
        cmp = Integer.compare(hyp[a], hyp[b]);
        return cmp != 0 ? cmp < 0 : tok[a] < tok[b];
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

package dev.kawi.trainer.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * BLEU (Papineni et al., 2002) exactly as sacreBLEU 2.x computes it, with one reference per segment.
 *
 * <p>Each segment is lowercased (if asked), stripped of trailing whitespace and tokenized; its
 * statistics are the hypothesis and reference word counts and, per order n, the hypothesis n-grams
 * and those matched in the reference (each n-gram's count clipped to its count in the reference).
 * A corpus's statistics are the sums over segments, and the score is
 * {@code BP * exp(mean over orders of log(precision_n))} with {@code BP = exp(1 - ref/hyp)} when
 * the hypothesis is shorter (0 when it is empty). If no n-gram of any order matches, the score and
 * every reported precision are 0; otherwise a zero precision is smoothed as the options say, a
 * precision that is still zero counts as log = -9999999999, and orders after the first one with no
 * hypothesis n-grams stay 0 (with effective order they are left out of the mean instead).
 * Immutable and thread-safe.
 */
public final class Bleu {
    /** sacreBLEU's {@code my_log} floor for the log of a zero precision. */
    private static final double LOG_ZERO = -9999999999.0;

    private final BleuOptions options;

    /** BLEU with the given options. */
    public Bleu(BleuOptions options) {
        this.options = options;
    }

    /** BLEU with sacreBLEU's corpus defaults ({@link BleuOptions#corpus()}). */
    public Bleu() {
        this(BleuOptions.corpus());
    }

    /** The options. */
    public BleuOptions options() {
        return options;
    }

    /** Corpus BLEU of hypotheses against references (same size, one reference per hypothesis). */
    public BleuScore corpusScore(List<String> hypotheses, List<String> references) {
        if (hypotheses.size() != references.size()) {
            throw new IllegalArgumentException(hypotheses.size() + " hypotheses but " + references.size() + " references");
        }
        BleuAccumulator acc = accumulator();
        for (int i = 0; i < hypotheses.size(); i++) {
            acc.add(hypotheses.get(i), references.get(i));
        }
        return acc.score();
    }

    /** BLEU of one segment (with {@link BleuOptions#sentence()} this is sacreBLEU's {@code sentence_bleu}). */
    public BleuScore sentenceScore(String hypothesis, String reference) {
        return score(stats(hypothesis, reference));
    }

    /** A new, empty streaming accumulator with these options. */
    public BleuAccumulator accumulator() {
        return new BleuAccumulator(this);
    }

    /** The segment's words after lowercasing (if asked), stripping trailing whitespace and tokenizing. */
    public List<String> words(String segment) {
        String s = options.lowercase() ? PyText.lower(segment) : segment;
        return PyText.split(options.tokenizer().apply(PyText.rstrip(s)));
    }

    /** The sufficient statistics of one hypothesis against its reference. */
    public BleuStats stats(String hypothesis, String reference) {
        List<String> hyp = words(hypothesis);
        List<String> ref = words(reference);
        int maxOrder = options.maxOrder();
        List<Long> counts = new ArrayList<>(maxOrder);
        List<Long> totals = new ArrayList<>(maxOrder);
        for (int n = 1; n <= maxOrder; n++) {
            Map<String, int[]> refNgrams = ngramCounts(ref, n);
            Map<String, int[]> hypNgrams = ngramCounts(hyp, n);
            long matched = 0;
            for (Map.Entry<String, int[]> e : hypNgrams.entrySet()) {
                int[] r = refNgrams.get(e.getKey());
                if (r != null) {
                    matched += Math.min(e.getValue()[0], r[0]);
                }
            }
            counts.add(matched);
            totals.add((long) Math.max(0, hyp.size() - n + 1));
        }
        return new BleuStats(hyp.size(), ref.size(), counts, totals);
    }

    /** Counts of the n-grams of one order; keys are the words joined by single spaces (words hold no whitespace). */
    private static Map<String, int[]> ngramCounts(List<String> words, int n) {
        Map<String, int[]> m = new HashMap<>();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i + n <= words.size(); i++) {
            sb.setLength(0);
            for (int k = 0; k < n; k++) {
                if (k > 0) {
                    sb.append(' ');
                }
                sb.append(words.get(i + k));
            }
            m.computeIfAbsent(sb.toString(), key -> new int[1])[0]++;
        }
        return m;
    }

    /** The score of accumulated statistics (of these options' order). */
    public BleuScore score(BleuStats stats) {
        int maxOrder = options.maxOrder();
        if (stats.maxOrder() != maxOrder) {
            throw new IllegalArgumentException("statistics of order " + stats.maxOrder() + " for BLEU of order " + maxOrder);
        }
        long hypLen = stats.hypLen();
        long refLen = stats.refLen();
        double bp = 1.0;
        if (hypLen < refLen) {
            bp = hypLen > 0 ? Math.exp(1 - (double) refLen / hypLen) : 0.0;
        }
        double[] precisions = new double[maxOrder];
        if (stats.counts().stream().allMatch(c -> c == 0)) {
            return new BleuScore(0.0, toList(precisions), bp, stats);
        }
        BleuOptions.Smoothing smoothing = options.smoothing();
        double k = options.effectiveSmoothValue();
        double mtevalFactor = 1.0;
        int effOrder = maxOrder;
        for (int n = 1; n <= maxOrder; n++) {
            double correct = stats.counts().get(n - 1);
            double total = stats.totals().get(n - 1);
            if (smoothing == BleuOptions.Smoothing.ADD_K && n > 1) {
                correct += k;
                total += k;
            }
            if (total == 0) {
                break; // no hypothesis n-grams of this order, hence none longer: later precisions stay 0
            }
            if (options.effectiveOrder()) {
                effOrder = n;
            }
            if (correct == 0) {
                if (smoothing == BleuOptions.Smoothing.EXP) {
                    mtevalFactor *= 2;
                    precisions[n - 1] = 100.0 / (mtevalFactor * total);
                } else if (smoothing == BleuOptions.Smoothing.FLOOR) {
                    precisions[n - 1] = 100.0 * k / total;
                }
            } else {
                precisions[n - 1] = 100.0 * correct / total;
            }
        }
        double logSum = 0;
        for (int n = 0; n < effOrder; n++) {
            logSum += precisions[n] == 0.0 ? LOG_ZERO : Math.log(precisions[n]);
        }
        double score = bp * Math.exp(logSum / effOrder);
        return new BleuScore(score, toList(precisions), bp, stats);
    }

    private static List<Double> toList(double[] a) {
        List<Double> l = new ArrayList<>(a.length);
        for (double x : a) {
            l.add(x);
        }
        return l;
    }
}

package dev.kawi.trainer.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * chrF (Popović, 2015) and chrF++ (2017) exactly as sacreBLEU 2.x computes them, with one
 * reference per segment.
 *
 * <p>Character n-grams are over Unicode code points (not UTF-16 chars) of the segment with all
 * whitespace removed (Python's whitespace set). Word n-grams (chrF++) are over the whitespace-split
 * words, with one ASCII punctuation character split off the end of a word, or else off its start.
 * Per order a segment contributes its hypothesis n-grams (0 if the reference has none of that
 * order), its reference n-grams, and the matches (each n-gram clipped to its reference count).
 * From the corpus sums: precision and recall per order; by default these are averaged over the
 * orders where both the hypothesis and reference counts are positive and one
 * {@code F_beta = (1 + beta^2) P R / (beta^2 P + R)} is returned; with eps smoothing the F-scores of
 * all orders are averaged instead, an empty side counting as 1e-16. Immutable and thread-safe.
 */
public final class Chrf {
    private static final double EPS = 1e-16;
    /** Python's {@code string.punctuation}: the ASCII symbols chrF++ splits off words. */
    private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    private final ChrfOptions options;

    /** chrF with the given options. */
    public Chrf(ChrfOptions options) {
        this.options = options;
    }

    /** chrF with sacreBLEU's defaults (chrF2). */
    public Chrf() {
        this(ChrfOptions.defaults());
    }

    /** The options. */
    public ChrfOptions options() {
        return options;
    }

    /** Corpus chrF of hypotheses against references (same size, one reference per hypothesis). */
    public ChrfScore corpusScore(List<String> hypotheses, List<String> references) {
        if (hypotheses.size() != references.size()) {
            throw new IllegalArgumentException(hypotheses.size() + " hypotheses but " + references.size() + " references");
        }
        ChrfAccumulator acc = accumulator();
        for (int i = 0; i < hypotheses.size(); i++) {
            acc.add(hypotheses.get(i), references.get(i));
        }
        return acc.score();
    }

    /** chrF of one segment (sacreBLEU's {@code sentence_chrf} with the default options). */
    public ChrfScore sentenceScore(String hypothesis, String reference) {
        return score(stats(hypothesis, reference));
    }

    /** A new, empty streaming accumulator with these options. */
    public ChrfAccumulator accumulator() {
        return new ChrfAccumulator(this);
    }

    /** The sufficient statistics of one hypothesis against its reference. */
    public ChrfStats stats(String hypothesis, String reference) {
        String h = options.lowercase() ? PyText.lower(hypothesis) : hypothesis;
        String r = options.lowercase() ? PyText.lower(reference) : reference;
        int orders = options.orders();
        List<Long> hypCounts = new ArrayList<>(orders);
        List<Long> refCounts = new ArrayList<>(orders);
        List<Long> matches = new ArrayList<>(orders);
        String hc = options.whitespace() ? h : PyText.removeSpaces(h);
        String rc = options.whitespace() ? r : PyText.removeSpaces(r);
        int[] hOffsets = codePointOffsets(hc);
        int[] rOffsets = codePointOffsets(rc);
        for (int n = 1; n <= options.charOrder(); n++) {
            addOrder(charNgrams(hc, hOffsets, n), charNgrams(rc, rOffsets, n), hypCounts, refCounts, matches);
        }
        if (options.wordOrder() > 0) {
            List<String> hw = splitPunctuation(h);
            List<String> rw = splitPunctuation(r);
            for (int n = 1; n <= options.wordOrder(); n++) {
                addOrder(wordNgrams(hw, n), wordNgrams(rw, n), hypCounts, refCounts, matches);
            }
        }
        return new ChrfStats(hypCounts, refCounts, matches);
    }

    private static void addOrder(Map<String, int[]> hyp, Map<String, int[]> ref, List<Long> hypCounts,
                                 List<Long> refCounts, List<Long> matches) {
        long hypCount = 0;
        long match = 0;
        for (Map.Entry<String, int[]> e : hyp.entrySet()) {
            int c = e.getValue()[0];
            hypCount += c;
            int[] rc = ref.get(e.getKey());
            if (rc != null) {
                match += Math.min(c, rc[0]);
            }
        }
        long refCount = 0;
        for (int[] c : ref.values()) {
            refCount += c[0];
        }
        // sacreBLEU counts no hypothesis n-grams of an order the reference has none of.
        hypCounts.add(ref.isEmpty() ? 0 : hypCount);
        refCounts.add(refCount);
        matches.add(match);
    }

    /** offsets[i] is the char index of code point i; offsets[count] is the length. */
    private static int[] codePointOffsets(String s) {
        int[] offsets = new int[s.codePointCount(0, s.length()) + 1];
        int i = 0;
        int k = 0;
        while (i < s.length()) {
            offsets[k++] = i;
            i += Character.charCount(s.codePointAt(i));
        }
        offsets[k] = s.length();
        return offsets;
    }

    private static Map<String, int[]> charNgrams(String s, int[] offsets, int n) {
        int count = offsets.length - 1;
        Map<String, int[]> m = new HashMap<>();
        for (int i = 0; i + n <= count; i++) {
            m.computeIfAbsent(s.substring(offsets[i], offsets[i + n]), key -> new int[1])[0]++;
        }
        return m;
    }

    private static Map<String, int[]> wordNgrams(List<String> words, int n) {
        Map<String, int[]> m = new HashMap<>();
        for (int i = 0; i + n <= words.size(); i++) {
            m.computeIfAbsent(String.join(" ", words.subList(i, i + n)), key -> new int[1])[0]++;
        }
        return m;
    }

    /** chrF++'s word split: a word of two or more code points loses a final, else an initial, ASCII punctuation mark. */
    private static List<String> splitPunctuation(String s) {
        List<String> out = new ArrayList<>();
        for (String w : PyText.split(s)) {
            if (w.codePointCount(0, w.length()) == 1) {
                out.add(w);
            } else if (PUNCTUATION.indexOf(w.charAt(w.length() - 1)) >= 0) {
                out.add(w.substring(0, w.length() - 1));
                out.add(w.substring(w.length() - 1));
            } else if (PUNCTUATION.indexOf(w.charAt(0)) >= 0) {
                out.add(w.substring(0, 1));
                out.add(w.substring(1));
            } else {
                out.add(w);
            }
        }
        return out;
    }

    /** The score of accumulated statistics (with these options' number of orders). */
    public ChrfScore score(ChrfStats stats) {
        if (stats.orders() != options.orders()) {
            throw new IllegalArgumentException("statistics of " + stats.orders() + " orders for chrF of " + options.orders());
        }
        int factor = options.beta() * options.beta();
        double epsScore = 0.0;
        double avgPrec = 0.0;
        double avgRec = 0.0;
        int effectiveOrder = 0;
        for (int i = 0; i < stats.orders(); i++) {
            long nHyp = stats.hyp().get(i);
            long nRef = stats.ref().get(i);
            long nMatch = stats.match().get(i);
            double prec = nHyp > 0 ? (double) nMatch / nHyp : EPS;
            double rec = nRef > 0 ? (double) nMatch / nRef : EPS;
            double denom = factor * prec + rec;
            epsScore += denom > 0 ? (1 + factor) * prec * rec / denom : EPS;
            if (nHyp > 0 && nRef > 0) {
                avgPrec += prec;
                avgRec += rec;
                effectiveOrder++;
            }
        }
        double score;
        if (options.epsSmoothing()) {
            score = 100 * epsScore / stats.orders();
        } else {
            if (effectiveOrder == 0) {
                avgPrec = 0.0;
                avgRec = 0.0;
            } else {
                avgPrec /= effectiveOrder;
                avgRec /= effectiveOrder;
            }
            if (avgPrec + avgRec != 0) {
                double f = (1 + factor) * avgPrec * avgRec;
                f /= factor * avgPrec + avgRec;
                score = 100 * f;
            } else {
                score = 0.0;
            }
        }
        return new ChrfScore(score, options, stats);
    }
}

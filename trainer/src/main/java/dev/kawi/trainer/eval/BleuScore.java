package dev.kawi.trainer.eval;

import java.util.List;
import java.util.StringJoiner;

/**
 * A BLEU score with what sacreBLEU reports beside it.
 *
 * @param score BLEU in [0, 100]
 * @param precisions the n-gram precisions in percent (after smoothing), index 0 for unigrams
 * @param bp the brevity penalty
 * @param stats the statistics the score was computed from
 */
public record BleuScore(double score, List<Double> precisions, double bp, BleuStats stats) {
    /** Copies the precisions. */
    public BleuScore {
        precisions = List.copyOf(precisions);
    }

    /** Hypothesis words. */
    public long hypLen() {
        return stats.hypLen();
    }

    /** Reference words. */
    public long refLen() {
        return stats.refLen();
    }

    /** Hypothesis length over reference length, 0 when the reference is empty (as sacreBLEU). */
    public double ratio() {
        return stats.refLen() == 0 ? 0 : (double) stats.hypLen() / stats.refLen();
    }

    /** sacreBLEU's short form, e.g. {@code BLEU = 27.31 60.1/33.2/20.5/13.1 (BP = 0.987 ratio = 0.987 hyp_len = 1234 ref_len = 1250)}. */
    public String format() {
        StringJoiner p = new StringJoiner("/");
        for (double x : precisions) {
            p.add(PyText.fixed(x, 1));
        }
        return "BLEU = " + PyText.fixed(score, 2) + " " + p + " (BP = " + PyText.fixed(bp, 3) + " ratio = "
                + PyText.fixed(ratio(), 3) + " hyp_len = " + hypLen() + " ref_len = " + refLen() + ")";
    }
}

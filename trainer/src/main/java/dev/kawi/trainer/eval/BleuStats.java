package dev.kawi.trainer.eval;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * BLEU's sufficient statistics for one segment or a whole corpus: they add up, and the score is a
 * function of the sum alone.
 *
 * @param hypLen hypothesis words
 * @param refLen reference words
 * @param counts clipped n-gram matches per order, index 0 for unigrams
 * @param totals hypothesis n-grams per order
 */
public record BleuStats(long hypLen, long refLen, List<Long> counts, List<Long> totals) {
    /** Validates and copies. */
    public BleuStats {
        counts = List.copyOf(counts);
        totals = List.copyOf(totals);
        if (counts.size() != totals.size() || counts.isEmpty()) {
            throw new IllegalArgumentException("counts and totals need the same non-zero length, got "
                    + counts.size() + " and " + totals.size());
        }
        if (hypLen < 0 || refLen < 0) {
            throw new IllegalArgumentException("lengths must be >= 0");
        }
    }

    /** All zero, for {@code maxOrder} orders: the statistics of an empty corpus. */
    public static BleuStats zero(int maxOrder) {
        List<Long> z = Collections.nCopies(maxOrder, 0L);
        return new BleuStats(0, 0, z, z);
    }

    /** The n-gram order this holds statistics for. */
    public int maxOrder() {
        return counts.size();
    }

    /** The sum of this and another of the same order. */
    public BleuStats plus(BleuStats o) {
        if (o.maxOrder() != maxOrder()) {
            throw new IllegalArgumentException("cannot add BLEU statistics of order " + o.maxOrder() + " to order " + maxOrder());
        }
        List<Long> c = new ArrayList<>(maxOrder());
        List<Long> t = new ArrayList<>(maxOrder());
        for (int i = 0; i < maxOrder(); i++) {
            c.add(counts.get(i) + o.counts.get(i));
            t.add(totals.get(i) + o.totals.get(i));
        }
        return new BleuStats(hypLen + o.hypLen, refLen + o.refLen, c, t);
    }
}

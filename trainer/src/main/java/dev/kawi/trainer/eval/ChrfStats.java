package dev.kawi.trainer.eval;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * chrF's sufficient statistics for one segment or a corpus: per order (character orders first,
 * then word orders), the hypothesis n-grams, the reference n-grams and the matches. They add up.
 *
 * @param hyp hypothesis n-grams per order (0 for a segment whose reference has none of that order)
 * @param ref reference n-grams per order
 * @param match clipped matches per order
 */
public record ChrfStats(List<Long> hyp, List<Long> ref, List<Long> match) {
    /** Validates and copies. */
    public ChrfStats {
        hyp = List.copyOf(hyp);
        ref = List.copyOf(ref);
        match = List.copyOf(match);
        if (hyp.size() != ref.size() || hyp.size() != match.size() || hyp.isEmpty()) {
            throw new IllegalArgumentException("chrF statistics need the same non-zero number of orders");
        }
    }

    /** All zero for the given number of orders: the statistics of an empty corpus. */
    public static ChrfStats zero(int orders) {
        List<Long> z = Collections.nCopies(orders, 0L);
        return new ChrfStats(z, z, z);
    }

    /** The number of orders. */
    public int orders() {
        return hyp.size();
    }

    /** The sum of this and another with the same number of orders. */
    public ChrfStats plus(ChrfStats o) {
        if (o.orders() != orders()) {
            throw new IllegalArgumentException("cannot add chrF statistics of " + o.orders() + " orders to " + orders());
        }
        return new ChrfStats(add(hyp, o.hyp), add(ref, o.ref), add(match, o.match));
    }

    private static List<Long> add(List<Long> a, List<Long> b) {
        List<Long> s = new ArrayList<>(a.size());
        for (int i = 0; i < a.size(); i++) {
            s.add(a.get(i) + b.get(i));
        }
        return s;
    }
}

package dev.kawi.trainer.eval;

/**
 * Corpus chrF built up segment by segment: only the summed statistics are kept. Not thread-safe;
 * give each thread its own and {@link #add(ChrfStats)} them.
 */
public final class ChrfAccumulator {
    private final Chrf chrf;
    private ChrfStats sum;
    private long segments;

    ChrfAccumulator(Chrf chrf) {
        this.chrf = chrf;
        this.sum = ChrfStats.zero(chrf.options().orders());
    }

    /** Adds one hypothesis and its reference; returns that segment's statistics. */
    public ChrfStats add(String hypothesis, String reference) {
        ChrfStats s = chrf.stats(hypothesis, reference);
        add(s);
        return s;
    }

    /** Adds already computed statistics (of one segment, or of another accumulator). */
    public void add(ChrfStats stats) {
        sum = sum.plus(stats);
        segments++;
    }

    /** Segments (or statistics) added so far. */
    public long segments() {
        return segments;
    }

    /** The summed statistics so far. */
    public ChrfStats stats() {
        return sum;
    }

    /** Corpus chrF of everything added so far (0 for nothing). */
    public ChrfScore score() {
        return chrf.score(sum);
    }
}

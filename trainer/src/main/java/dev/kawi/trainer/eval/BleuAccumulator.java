package dev.kawi.trainer.eval;

/**
 * Corpus BLEU built up segment by segment: only the summed statistics are kept, so memory does not
 * grow with the corpus. Not thread-safe; give each thread its own and {@link #add(BleuStats)} them.
 */
public final class BleuAccumulator {
    private final Bleu bleu;
    private BleuStats sum;
    private long segments;

    BleuAccumulator(Bleu bleu) {
        this.bleu = bleu;
        this.sum = BleuStats.zero(bleu.options().maxOrder());
    }

    /** Adds one hypothesis and its reference; returns that segment's statistics. */
    public BleuStats add(String hypothesis, String reference) {
        BleuStats s = bleu.stats(hypothesis, reference);
        add(s);
        return s;
    }

    /** Adds already computed statistics (of one segment, or of another accumulator). */
    public void add(BleuStats stats) {
        sum = sum.plus(stats);
        segments++;
    }

    /** Segments (or statistics) added so far. */
    public long segments() {
        return segments;
    }

    /** The summed statistics so far. */
    public BleuStats stats() {
        return sum;
    }

    /** Corpus BLEU of everything added so far (0 for nothing). */
    public BleuScore score() {
        return bleu.score(sum);
    }
}

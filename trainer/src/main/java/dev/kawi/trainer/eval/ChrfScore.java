package dev.kawi.trainer.eval;

/**
 * A chrF score.
 *
 * @param score chrF in [0, 100]
 * @param options the options it was computed with (they give its name)
 * @param stats the statistics it was computed from
 */
public record ChrfScore(double score, ChrfOptions options, ChrfStats stats) {
    /** The name as sacreBLEU prints it: {@code chrF2}, {@code chrF2++}. */
    public String name() {
        return options.name();
    }

    /** sacreBLEU's short form, e.g. {@code chrF2 = 55.02}. */
    public String format() {
        return name() + " = " + PyText.fixed(score, 2);
    }
}

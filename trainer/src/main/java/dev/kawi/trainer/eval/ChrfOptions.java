package dev.kawi.trainer.eval;

/**
 * How chrF is computed; {@link #defaults()} gives sacreBLEU 2.x's defaults (chrF2).
 *
 * @param charOrder the longest character n-gram (sacreBLEU: 6)
 * @param wordOrder the longest word n-gram; 2 gives chrF++ (sacreBLEU: 0)
 * @param beta recall weighs beta times as much as precision (sacreBLEU: 2)
 * @param lowercase lowercase hypotheses and references first
 * @param whitespace keep whitespace in character n-grams (sacreBLEU: removed)
 * @param epsSmoothing average per-order F-scores with 1e-16 for empty orders, as chrF++.py, Moses
 *     and NLTK do; off (sacreBLEU's default) averages precision and recall over the orders that
 *     have both hypothesis and reference n-grams, then takes one F-score
 */
public record ChrfOptions(int charOrder, int wordOrder, int beta, boolean lowercase, boolean whitespace,
                          boolean epsSmoothing) {
    /** Validates the options. */
    public ChrfOptions {
        if (charOrder < 0 || wordOrder < 0 || charOrder + wordOrder == 0) {
            throw new IllegalArgumentException("need char order >= 0 and word order >= 0, not both 0; got "
                    + charOrder + " and " + wordOrder);
        }
        if (beta < 0) {
            throw new IllegalArgumentException("beta must be >= 0, got " + beta);
        }
    }

    /** sacreBLEU's defaults: character 6-grams, no word n-grams, beta 2, mixed case, no whitespace, no eps smoothing. */
    public static ChrfOptions defaults() {
        return new ChrfOptions(6, 0, 2, false, false, false);
    }

    /** chrF++: the defaults plus word unigrams and bigrams. */
    public static ChrfOptions chrfPlusPlus() {
        return defaults().withWordOrder(2);
    }

    /** A copy with another character order. */
    public ChrfOptions withCharOrder(int n) {
        return new ChrfOptions(n, wordOrder, beta, lowercase, whitespace, epsSmoothing);
    }

    /** A copy with another word order. */
    public ChrfOptions withWordOrder(int n) {
        return new ChrfOptions(charOrder, n, beta, lowercase, whitespace, epsSmoothing);
    }

    /** A copy with another beta. */
    public ChrfOptions withBeta(int b) {
        return new ChrfOptions(charOrder, wordOrder, b, lowercase, whitespace, epsSmoothing);
    }

    /** A copy with lowercasing on or off. */
    public ChrfOptions withLowercase(boolean on) {
        return new ChrfOptions(charOrder, wordOrder, beta, on, whitespace, epsSmoothing);
    }

    /** A copy that keeps or removes whitespace. */
    public ChrfOptions withWhitespace(boolean on) {
        return new ChrfOptions(charOrder, wordOrder, beta, lowercase, on, epsSmoothing);
    }

    /** A copy with eps smoothing on or off. */
    public ChrfOptions withEpsSmoothing(boolean on) {
        return new ChrfOptions(charOrder, wordOrder, beta, lowercase, whitespace, on);
    }

    /** All orders: character then word. */
    public int orders() {
        return charOrder + wordOrder;
    }

    /** The metric's name as sacreBLEU prints it: {@code chrF2}, {@code chrF2++}. */
    public String name() {
        return "chrF" + beta + "+".repeat(wordOrder);
    }

    /** sacreBLEU's signature for these options and one reference, without the version field. */
    public String signature() {
        return "nrefs:1|case:" + (lowercase ? "lc" : "mixed") + "|eff:" + (epsSmoothing ? "no" : "yes") + "|nc:" + charOrder
                + "|nw:" + wordOrder + "|space:" + (whitespace ? "yes" : "no");
    }
}

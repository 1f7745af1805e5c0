package dev.kawi.trainer.eval;

/**
 * How BLEU is computed; {@link #corpus()} gives sacreBLEU 2.x's {@code corpus_bleu} defaults and
 * {@link #sentence()} its {@code sentence_bleu} defaults.
 *
 * @param maxOrder the longest n-gram counted (sacreBLEU: 4)
 * @param smoothing how a zero n-gram precision is replaced
 * @param smoothValue the value for {@link Smoothing#FLOOR} and {@link Smoothing#ADD_K}; NaN means
 *     the method's default (0.1 and 1); unused by the other methods
 * @param effectiveOrder average only over the orders up to the last one with hypothesis n-grams
 *     (sacreBLEU: off for a corpus, on for a sentence)
 * @param lowercase lowercase hypotheses and references first
 * @param tokenizer how segments are split into words
 */
public record BleuOptions(int maxOrder, Smoothing smoothing, double smoothValue, boolean effectiveOrder,
                          boolean lowercase, BleuTokenizer tokenizer) {

    /** Smoothing of zero n-gram precisions (Chen and Cherry, 2014), as named by sacreBLEU. */
    public enum Smoothing {
        /** No smoothing: a zero precision makes the score 0. */
        NONE("none", Double.NaN),
        /** Method 1: a zero count becomes the smoothing value (default 0.1). */
        FLOOR("floor", 0.1),
        /** Method 2: the value (default 1) is added to the counts and totals of orders 2 and up. */
        ADD_K("add-k", 1),
        /** Method 3, mteval-v13a's: the k-th zero precision becomes 1 / (2^k * total). */
        EXP("exp", Double.NaN);

        private final String sacrebleuName;
        private final double defaultValue;

        Smoothing(String sacrebleuName, double defaultValue) {
            this.sacrebleuName = sacrebleuName;
            this.defaultValue = defaultValue;
        }

        /** The method's name in sacreBLEU ({@code smooth_method}). */
        public String sacrebleuName() {
            return sacrebleuName;
        }

        /** The default smoothing value, NaN for methods that take none. */
        public double defaultValue() {
            return defaultValue;
        }

        /** Parses sacreBLEU's name of a method ({@code none, floor, add-k, exp}). */
        public static Smoothing parse(String name) {
            for (Smoothing s : values()) {
                if (s.sacrebleuName.equals(name)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("unknown smoothing method \"" + name + "\" (expected none, floor, add-k or exp)");
        }
    }

    /** Word splitting before n-gram counting. */
    public enum BleuTokenizer {
        /** sacreBLEU's default, {@link Tokenizer13a}. */
        THIRTEEN_A("13a"),
        /** No tokenization: words are the whitespace-separated parts as given. */
        NONE("none");

        private final String sacrebleuName;

        BleuTokenizer(String sacrebleuName) {
            this.sacrebleuName = sacrebleuName;
        }

        /** The tokenizer's name in sacreBLEU's signature ({@code tok:13a}). */
        public String sacrebleuName() {
            return sacrebleuName;
        }

        /** Parses sacreBLEU's name of a tokenizer ({@code 13a} or {@code none}). */
        public static BleuTokenizer parse(String name) {
            for (BleuTokenizer t : values()) {
                if (t.sacrebleuName.equals(name)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("unknown or unsupported tokenizer \"" + name + "\" (expected 13a or none)");
        }

        String apply(String s) {
            return this == THIRTEEN_A ? Tokenizer13a.tokenize(s) : s;
        }
    }

    /** Validates the options. */
    public BleuOptions {
        if (maxOrder < 1) {
            throw new IllegalArgumentException("max n-gram order must be >= 1, got " + maxOrder);
        }
        if (smoothing == null || tokenizer == null) {
            throw new IllegalArgumentException("smoothing and tokenizer must be given");
        }
        if (!Double.isNaN(smoothValue) && !(Double.isFinite(smoothValue) && smoothValue >= 0)) {
            throw new IllegalArgumentException("smoothing value must be finite and >= 0, got " + smoothValue);
        }
    }

    /** sacreBLEU's corpus BLEU defaults: 4-grams, exp smoothing, no effective order, mixed case, 13a. */
    public static BleuOptions corpus() {
        return new BleuOptions(4, Smoothing.EXP, Double.NaN, false, false, BleuTokenizer.THIRTEEN_A);
    }

    /** sacreBLEU's {@code sentence_bleu} defaults: as {@link #corpus()} with effective order on. */
    public static BleuOptions sentence() {
        return corpus().withEffectiveOrder(true);
    }

    /** A copy with another maximum order. */
    public BleuOptions withMaxOrder(int n) {
        return new BleuOptions(n, smoothing, smoothValue, effectiveOrder, lowercase, tokenizer);
    }

    /** A copy with another smoothing method and value (NaN: the method's default). */
    public BleuOptions withSmoothing(Smoothing method, double value) {
        return new BleuOptions(maxOrder, method, value, effectiveOrder, lowercase, tokenizer);
    }

    /** A copy with effective order on or off. */
    public BleuOptions withEffectiveOrder(boolean on) {
        return new BleuOptions(maxOrder, smoothing, smoothValue, on, lowercase, tokenizer);
    }

    /** A copy with lowercasing on or off. */
    public BleuOptions withLowercase(boolean on) {
        return new BleuOptions(maxOrder, smoothing, smoothValue, effectiveOrder, on, tokenizer);
    }

    /** A copy with another tokenizer. */
    public BleuOptions withTokenizer(BleuTokenizer t) {
        return new BleuOptions(maxOrder, smoothing, smoothValue, effectiveOrder, lowercase, t);
    }

    /** The smoothing value in use: the given one, or the method's default. */
    public double effectiveSmoothValue() {
        return Double.isNaN(smoothValue) ? smoothing.defaultValue() : smoothValue;
    }

    /**
     * sacreBLEU's signature for these options and one reference, without the version field, e.g.
     * {@code nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp}.
     */
    public String signature() {
        String smooth = smoothing.sacrebleuName();
        if (!Double.isNaN(smoothing.defaultValue())) {
            smooth += "[" + PyText.fixed(effectiveSmoothValue(), 2) + "]";
        }
        return "nrefs:1|case:" + (lowercase ? "lc" : "mixed") + "|eff:" + (effectiveOrder ? "yes" : "no")
                + "|tok:" + tokenizer.sacrebleuName() + "|smooth:" + smooth;
    }
}

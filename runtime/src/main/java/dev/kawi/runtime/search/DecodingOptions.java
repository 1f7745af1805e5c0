package dev.kawi.runtime.search;

import java.util.Set;

/**
 * How to decode, as CTranslate2 users know it. Immutable; {@link #defaults()} is greedy decoding.
 *
 * @param beamSize          1 = greedy (or sampling when {@code sampling}), more = beam search
 * @param lengthPenalty     alpha of GNMT's length penalty ((5 + length) / 6)^alpha for ranking beam hypotheses; 0 = none
 * @param coveragePenalty   beta of GNMT's coverage penalty (needs attention; 0 = off)
 * @param nBest             hypotheses to return per input (at most beamSize)
 * @param minLength         the end token is suppressed before this many target tokens
 * @param maxLength         at most this many target tokens are generated (the end token not counted)
 * @param sampling          sample from the distribution instead of taking the best token (beamSize must be 1)
 * @param temperature       logits are divided by it before sampling (> 0)
 * @param topK              sample among the k most likely tokens (0 = all)
 * @param topP              sample among the smallest set whose probability reaches p (1 = all)
 * @param seed              random seed for sampling: same seed, same output
 * @param repetitionPenalty logits of already generated tokens are divided by it when positive, multiplied when negative (1 = off)
 * @param noRepeatNgramSize an n-gram of this size never occurs twice in a hypothesis (0 = off)
 * @param suppressedTokens  token ids that are never generated
 * @param prefix            target tokens forced at the start of every hypothesis (may be empty)
 * @param returnScores      compute the log-probability of the output (greedy skips the softmax otherwise)
 * @param returnAlignments  record, for each target token, the cross-attention of {@code alignmentLayer} averaged over heads
 * @param alignmentLayer    decoder layer for alignments and the coverage penalty; negative counts from the end (-1 = last)
 */
public record DecodingOptions(
        int beamSize,
        float lengthPenalty,
        float coveragePenalty,
        int nBest,
        int minLength,
        int maxLength,
        boolean sampling,
        float temperature,
        int topK,
        float topP,
        long seed,
        float repetitionPenalty,
        int noRepeatNgramSize,
        Set<Integer> suppressedTokens,
        int[] prefix,
        boolean returnScores,
        boolean returnAlignments,
        int alignmentLayer) {

    /** Validates every field; messages name the option. */
    public DecodingOptions {
        require(beamSize >= 1, "beam size must be >= 1, was " + beamSize);
        require(nBest >= 1 && nBest <= beamSize, "n-best must be in [1, beam size " + beamSize + "], was " + nBest);
        require(minLength >= 0, "min length must be >= 0, was " + minLength);
        require(maxLength >= 1, "max length must be >= 1, was " + maxLength);
        require(minLength <= maxLength, "min length " + minLength + " exceeds max length " + maxLength);
        require(Float.isFinite(lengthPenalty) && lengthPenalty >= 0, "length penalty must be >= 0, was " + lengthPenalty);
        require(Float.isFinite(coveragePenalty) && coveragePenalty >= 0, "coverage penalty must be >= 0, was " + coveragePenalty);
        require(!sampling || beamSize == 1, "sampling needs beam size 1, was " + beamSize);
        require(temperature > 0 && Float.isFinite(temperature), "temperature must be > 0, was " + temperature);
        require(topK >= 0, "top-k must be >= 0, was " + topK);
        require(topP > 0 && topP <= 1, "top-p must be in (0, 1], was " + topP);
        require(repetitionPenalty > 0 && Float.isFinite(repetitionPenalty), "repetition penalty must be > 0, was " + repetitionPenalty);
        require(noRepeatNgramSize >= 0, "no-repeat n-gram size must be >= 0, was " + noRepeatNgramSize);
        suppressedTokens = suppressedTokens == null ? Set.of() : Set.copyOf(suppressedTokens);
        prefix = prefix == null ? new int[0] : prefix.clone();
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Greedy decoding, up to 256 tokens, no penalties. */
    public static DecodingOptions defaults() {
        return builder().build();
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.beamSize = beamSize;
        b.lengthPenalty = lengthPenalty;
        b.coveragePenalty = coveragePenalty;
        b.nBest = nBest;
        b.minLength = minLength;
        b.maxLength = maxLength;
        b.sampling = sampling;
        b.temperature = temperature;
        b.topK = topK;
        b.topP = topP;
        b.seed = seed;
        b.repetitionPenalty = repetitionPenalty;
        b.noRepeatNgramSize = noRepeatNgramSize;
        b.suppressedTokens = suppressedTokens;
        b.prefix = prefix;
        b.returnScores = returnScores;
        b.returnAlignments = returnAlignments;
        b.alignmentLayer = alignmentLayer;
        return b;
    }

    /** Builds options by name; {@link #build()} validates. */
    public static final class Builder {
        private int beamSize = 1;
        private float lengthPenalty = 1f;
        private float coveragePenalty;
        private int nBest = 1;
        private int minLength;
        private int maxLength = 256;
        private boolean sampling;
        private float temperature = 1f;
        private int topK;
        private float topP = 1f;
        private long seed;
        private float repetitionPenalty = 1f;
        private int noRepeatNgramSize;
        private Set<Integer> suppressedTokens = Set.of();
        private int[] prefix = new int[0];
        private boolean returnScores;
        private boolean returnAlignments;
        private int alignmentLayer = -1;

        private Builder() {
        }

        /** Beam size; n-best is lowered to it if larger. */
        public Builder beamSize(int v) {
            beamSize = v;
            nBest = Math.min(nBest, Math.max(1, v));
            return this;
        }

        /** GNMT length penalty alpha. */
        public Builder lengthPenalty(float v) {
            lengthPenalty = v;
            return this;
        }

        /** GNMT coverage penalty beta. */
        public Builder coveragePenalty(float v) {
            coveragePenalty = v;
            return this;
        }

        /** Hypotheses returned per input. */
        public Builder nBest(int v) {
            nBest = v;
            return this;
        }

        /** Minimum target tokens. */
        public Builder minLength(int v) {
            minLength = v;
            return this;
        }

        /** Maximum target tokens. */
        public Builder maxLength(int v) {
            maxLength = v;
            return this;
        }

        /** Sampling with a temperature, top-k (0 = all), top-p (1 = all) and seed. */
        public Builder sampling(float temperature, int topK, float topP, long seed) {
            this.sampling = true;
            this.temperature = temperature;
            this.topK = topK;
            this.topP = topP;
            this.seed = seed;
            return this;
        }

        /** Repetition penalty (1 = off). */
        public Builder repetitionPenalty(float v) {
            repetitionPenalty = v;
            return this;
        }

        /** No-repeat n-gram size (0 = off). */
        public Builder noRepeatNgramSize(int v) {
            noRepeatNgramSize = v;
            return this;
        }

        /** Token ids never generated. */
        public Builder suppressedTokens(Set<Integer> v) {
            suppressedTokens = v;
            return this;
        }

        /** Forced target prefix (token ids). */
        public Builder prefix(int[] v) {
            prefix = v;
            return this;
        }

        /** Compute output scores. */
        public Builder returnScores(boolean v) {
            returnScores = v;
            return this;
        }

        /** Record alignments from a decoder layer (negative: from the end). */
        public Builder alignments(boolean v, int layer) {
            returnAlignments = v;
            alignmentLayer = layer;
            return this;
        }

        /** Validates and builds. */
        public DecodingOptions build() {
            return new DecodingOptions(beamSize, lengthPenalty, coveragePenalty, nBest, minLength, maxLength, sampling, temperature,
                    topK, topP, seed, repetitionPenalty, noRepeatNgramSize, suppressedTokens, prefix, returnScores, returnAlignments,
                    alignmentLayer);
        }
    }

    /** A copy of the forced prefix. */
    @Override
    public int[] prefix() {
        return prefix.clone();
    }

    /** This with another beam size (and n-best clamped to it). */
    public DecodingOptions withBeamSize(int beam) {
        return toBuilder().beamSize(beam).build();
    }
}

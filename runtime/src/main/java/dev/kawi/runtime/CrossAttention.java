package dev.kawi.runtime;

import java.util.List;

/**
 * The cross-attention of one decoder layer while a target is decoded (greedily, or forced):
 * {@code weights[head][i][j]} is how much head {@code head}, predicting target token i, attends to
 * source token j. Each row is a probability distribution over the source tokens.
 *
 * @param layer        the decoder layer (0-based, counted from the input)
 * @param sourceTokens the source pieces (with the end token), one per column
 * @param targetTokens the target pieces, one per row; the end token last when it was generated or forced
 * @param weights      (heads, targetTokens, sourceTokens) attention probabilities
 */
public record CrossAttention(int layer, List<String> sourceTokens, List<String> targetTokens, float[][][] weights) {
    /** Validates the shapes. */
    public CrossAttention {
        sourceTokens = List.copyOf(sourceTokens);
        targetTokens = List.copyOf(targetTokens);
        for (float[][] head : weights) {
            if (head.length != targetTokens.size()) {
                throw new IllegalArgumentException("a head has " + head.length + " rows for " + targetTokens.size() + " target tokens");
            }
            for (float[] row : head) {
                if (row.length != sourceTokens.size()) {
                    throw new IllegalArgumentException("a row has " + row.length + " weights for " + sourceTokens.size() + " source tokens");
                }
            }
        }
    }

    /** Number of heads. */
    public int heads() {
        return weights.length;
    }

    /** One head's (targetTokens, sourceTokens) weights, a copy. */
    public float[][] head(int head) {
        if (head < 0 || head >= weights.length) {
            throw new IllegalArgumentException("head " + head + " outside the layer's " + weights.length + " heads");
        }
        float[][] out = new float[weights[head].length][];
        for (int i = 0; i < out.length; i++) {
            out[i] = weights[head][i].clone();
        }
        return out;
    }

    /**
     * The weights averaged over heads (summed in head order, then divided), exactly as
     * {@link Translation#alignments()} averages them.
     */
    public float[][] average() {
        int rows = targetTokens.size();
        int cols = sourceTokens.size();
        float[][] out = new float[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                float sum = 0;
                for (float[][] head : weights) {
                    sum += head[i][j];
                }
                out[i][j] = sum / weights.length;
            }
        }
        return out;
    }
}

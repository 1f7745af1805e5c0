package dev.kawi.trainer.data;

import java.util.List;

/**
 * A padded batch of sentence pairs, flattened row-major: sentence b's position t is element
 * {@code b·srcLen + t} (source) or {@code b·tgtLen + t} (target). The decoder reads
 * {@code tgtIn} = (start, y1..yn) and is trained to predict {@code tgtOut} = (y1..yn, eos).
 *
 * @param size         sentences
 * @param srcLen       padded source length
 * @param tgtLen       padded target length
 * @param src          (size, srcLen) source ids ending with eos, then padding
 * @param srcLens      real source lengths
 * @param tgtIn        (size, tgtLen) decoder inputs
 * @param tgtOut       (size, tgtLen) decoder targets; padding where there is none
 * @param tgtLens      real target lengths (n + 1)
 * @param targetTokens non-padding targets
 */
public record Batch(int size, int srcLen, int tgtLen, int[] src, int[] srcLens, int[] tgtIn, int[] tgtOut, int[] tgtLens,
                    long targetTokens) {

    /** One tokenized pair: source ids (without eos) and target ids (without start or eos). */
    public record Pair(int[] source, int[] target) {
    }

    /** Builds a batch; the source gets eos appended, the target the start token and eos. */
    public static Batch of(List<Pair> pairs, int padId, int eosId, int startId) {
        int n = pairs.size();
        int s = 1;
        int t = 1;
        for (Pair p : pairs) {
            s = Math.max(s, p.source().length + 1);
            t = Math.max(t, p.target().length + 1);
        }
        int[] src = new int[n * s];
        int[] srcLens = new int[n];
        int[] tin = new int[n * t];
        int[] tout = new int[n * t];
        int[] tlens = new int[n];
        java.util.Arrays.fill(src, padId);
        java.util.Arrays.fill(tin, padId);
        java.util.Arrays.fill(tout, padId);
        long tokens = 0;
        for (int b = 0; b < n; b++) {
            int[] x = pairs.get(b).source();
            int[] y = pairs.get(b).target();
            System.arraycopy(x, 0, src, b * s, x.length);
            src[b * s + x.length] = eosId;
            srcLens[b] = x.length + 1;
            tin[b * t] = startId;
            System.arraycopy(y, 0, tin, b * t + 1, y.length);
            System.arraycopy(y, 0, tout, b * t, y.length);
            tout[b * t + y.length] = eosId;
            tlens[b] = y.length + 1;
            tokens += y.length + 1;
        }
        return new Batch(n, s, t, src, srcLens, tin, tout, tlens, tokens);
    }
}

package dev.kawi.runtime.search;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Adjusts one hypothesis's next-token logits before a search decides: the forced prefix, the
 * minimum length, suppressed tokens, the repetition penalty and n-gram blocking, in that order.
 * Stateless apart from its options; the history is passed in.
 */
public final class LogitsProcessor {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private final DecodingOptions o;
    private final int eosId;
    private final int[] suppressed;
    private final int[] prefix;

    /** A processor for these options; {@code eosId} is the model's end token. */
    public LogitsProcessor(DecodingOptions options, int eosId) {
        this.o = options;
        this.eosId = eosId;
        // A loop, not a stream: this runs on every call, the first one at start-up.
        int[] sup = new int[options.suppressedTokens().size()];
        int k = 0;
        for (int id : options.suppressedTokens()) {
            sup[k++] = id;
        }
        java.util.Arrays.sort(sup);
        this.suppressed = sup;
        this.prefix = options.prefix();
    }

    /** True when the options change nothing, so the processor can be skipped. */
    public boolean isIdentity() {
        return prefix.length == 0 && o.minLength() == 0 && suppressed.length == 0 && o.repetitionPenalty() == 1f
                && o.noRepeatNgramSize() == 0;
    }

    /**
     * Applies the rules to {@code vocab} logits at element {@code off} of {@code logits}, for a
     * hypothesis that has generated {@code history[0 .. len)}.
     */
    public void apply(MemorySegment logits, long off, int vocab, int[] history, int len) {
        if (len < prefix.length) {
            // Forced token: everything else impossible; its own logit keeps its value, so scores stay the model's.
            int forced = prefix[len];
            float keep = logits.getAtIndex(F, off + forced);
            for (int v = 0; v < vocab; v++) {
                logits.setAtIndex(F, off + v, Float.NEGATIVE_INFINITY);
            }
            logits.setAtIndex(F, off + forced, keep);
            return;
        }
        if (len < o.minLength()) {
            logits.setAtIndex(F, off + eosId, Float.NEGATIVE_INFINITY);
        }
        for (int s : suppressed) {
            if (s >= 0 && s < vocab) {
                logits.setAtIndex(F, off + s, Float.NEGATIVE_INFINITY);
            }
        }
        float rp = o.repetitionPenalty();
        if (rp != 1f) {
            // CTRL's penalty: a seen token's positive logit is divided, a negative one multiplied.
            for (int i = 0; i < len; i++) {
                int t = history[i];
                if (seenBefore(history, i, t)) {
                    continue;
                }
                float v = logits.getAtIndex(F, off + t);
                logits.setAtIndex(F, off + t, v > 0 ? v / rp : v * rp);
            }
        }
        int n = o.noRepeatNgramSize();
        if (n > 0 && len >= n - 1) {
            // Block every token that would complete an n-gram already present in the history.
            for (int start = 0; start + n <= len; start++) {
                boolean match = true;
                for (int j = 0; j < n - 1; j++) {
                    if (history[start + j] != history[len - n + 1 + j]) {
                        match = false;
                        break;
                    }
                }
                if (match) {
                    logits.setAtIndex(F, off + history[start + n - 1], Float.NEGATIVE_INFINITY);
                }
            }
        }
    }

    private static boolean seenBefore(int[] h, int i, int t) {
        for (int j = 0; j < i; j++) {
            if (h[j] == t) {
                return true;
            }
        }
        return false;
    }
}

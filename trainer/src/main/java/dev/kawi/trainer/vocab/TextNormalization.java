package dev.kawi.trainer.vocab;

import dev.kawi.runtime.tokenizer.Tokenizer;
import dev.kawi.weights.TokenizerSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The runtime tokenizer's text normalization (unpaired surrogates to U+FFFD, NFC, whitespace runs
 * to one space, ends trimmed), borrowed from a byte-level runtime {@link Tokenizer} so that the
 * learner sees exactly the words the runtime will later segment: one definition, no copy to drift.
 */
final class TextNormalization {
    /** A BPE tokenizer without merges; only its {@code normalize} is used. */
    private static final Tokenizer NFC;

    static {
        List<String> pieces = new ArrayList<>(VocabOptions.DEFAULT_SPECIALS);
        for (int b = 0; b < 256; b++) {
            pieces.add(TokenizerSpec.bytePiece(b));
        }
        NFC = Tokenizer.create(new TokenizerSpec(TokenizerSpec.Type.BPE, TokenizerSpec.Normalization.NFC, true, true,
                pieces, null, new int[0]), new Tokenizer.Options(0));
    }

    private TextNormalization() {
    }

    /** The normalized form of text, as {@code Tokenizer.normalize} gives it for an NFC tokenizer. */
    static String nfc(String text) {
        return NFC.normalize(text);
    }
}

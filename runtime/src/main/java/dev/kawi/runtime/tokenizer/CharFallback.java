package dev.kawi.runtime.tokenizer;

/**
 * What a character without a piece becomes: its UTF-8 bytes as byte pieces when the tokenizer
 * has byte fallback, else the unknown piece, else an error.
 */
final class CharFallback {
    private final int[] byteIds; // byte value -> id, or null without byte fallback
    private final int unkId;     // -1 if none

    CharFallback(int[] byteIds, int unkId) {
        this.byteIds = byteIds;
        this.unkId = unkId;
    }

    /** Appends the ids standing for code point cp (never a surrogate: text is normalized first). */
    void append(int cp, IntList out) {
        if (byteIds != null) {
            if (cp < 0x80) {
                out.add(byteIds[cp]);
            } else if (cp < 0x800) {
                out.add(byteIds[0xC0 | (cp >>> 6)]);
                out.add(byteIds[0x80 | (cp & 0x3F)]);
            } else if (cp < 0x10000) {
                out.add(byteIds[0xE0 | (cp >>> 12)]);
                out.add(byteIds[0x80 | ((cp >>> 6) & 0x3F)]);
                out.add(byteIds[0x80 | (cp & 0x3F)]);
            } else {
                out.add(byteIds[0xF0 | (cp >>> 18)]);
                out.add(byteIds[0x80 | ((cp >>> 12) & 0x3F)]);
                out.add(byteIds[0x80 | ((cp >>> 6) & 0x3F)]);
                out.add(byteIds[0x80 | (cp & 0x3F)]);
            }
        } else if (unkId >= 0) {
            out.add(unkId);
        } else {
            throw new IllegalArgumentException(String.format(
                    "character U+%04X has no piece, and the tokenizer has neither byte_fallback nor an <unk> piece", cp));
        }
    }
}

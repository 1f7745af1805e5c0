package dev.kawi.runtime.tokenizer;

import java.text.Normalizer;

/**
 * The text normalization every encode starts with (see the package documentation): unpaired
 * surrogates become U+FFFD, then NFC if asked for, then whitespace runs collapse to one space
 * and leading and trailing whitespace goes.
 */
final class TextNormalizer {
    private TextNormalizer() {
    }

    /**
     * Whitespace: the code points with the Unicode White_Space property (a stable list of 25),
     * plus the boundary marker U+2581, which in input cannot be told apart from an encoded space.
     * All are in the BMP, so a char test suffices.
     */
    static boolean isWhitespace(char c) {
        if (c < 0x80) {
            return c == ' ' || (c >= 0x09 && c <= 0x0D);
        }
        return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029
                || c == 0x202F || c == 0x205F || c == 0x3000 || c == 0x2581;
    }

    /** The normalized form of text. Returns text itself when it is already normalized. */
    static String normalize(String text, boolean nfc) {
        String t = replaceUnpairedSurrogates(text);
        if (nfc && !belowCombiningMarks(t) && !Normalizer.isNormalized(t, Normalizer.Form.NFC)) {
            t = Normalizer.normalize(t, Normalizer.Form.NFC);
        }
        return collapseWhitespace(t);
    }

    /**
     * True when every char is below U+0300. Such text is already in NFC: the first code point
     * whose NFC quick-check value is not "Yes" is U+0300 (the combining grave accent, which may
     * compose with what precedes it), so there is nothing to compose or replace. This skips the
     * JDK's check for plain ASCII and Latin-1 text.
     */
    private static boolean belowCombiningMarks(String t) {
        for (int i = 0, n = t.length(); i < n; i++) {
            if (t.charAt(i) >= 0x300) {
                return false;
            }
        }
        return true;
    }

    private static String replaceUnpairedSurrogates(String t) {
        int n = t.length();
        int i = 0;
        while (i < n && !isUnpaired(t, i)) {
            i++;
        }
        if (i == n) {
            return t;
        }
        StringBuilder sb = new StringBuilder(n).append(t, 0, i);
        for (; i < n; i++) {
            sb.append(isUnpaired(t, i) ? '\uFFFD' : t.charAt(i));
        }
        return sb.toString();
    }

    private static boolean isUnpaired(String t, int i) {
        char c = t.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 >= t.length() || !Character.isLowSurrogate(t.charAt(i + 1));
        }
        if (Character.isLowSurrogate(c)) {
            return i == 0 || !Character.isHighSurrogate(t.charAt(i - 1));
        }
        return false;
    }

    /** Runs of whitespace become one U+0020; leading and trailing whitespace is removed. */
    private static String collapseWhitespace(String t) {
        int n = t.length();
        boolean afterSpace = true; // the start counts as a boundary, so a leading space is not canonical
        boolean canonical = true;
        for (int i = 0; i < n; i++) {
            char c = t.charAt(i);
            if (isWhitespace(c)) {
                if (c != ' ' || afterSpace) {
                    canonical = false;
                    break;
                }
                afterSpace = true;
            } else {
                afterSpace = false;
            }
        }
        if (canonical && (n == 0 || !afterSpace)) {
            return t;
        }
        StringBuilder sb = new StringBuilder(n);
        boolean pending = false;
        for (int i = 0; i < n; i++) {
            char c = t.charAt(i);
            if (isWhitespace(c)) {
                pending = sb.length() > 0;
            } else {
                if (pending) {
                    sb.append(' ');
                    pending = false;
                }
                sb.append(c);
            }
        }
        return sb.toString();
    }
}

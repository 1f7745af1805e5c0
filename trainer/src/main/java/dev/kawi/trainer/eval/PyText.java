package dev.kawi.trainer.eval;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The few Python string operations sacreBLEU's results depend on, with Python's exact semantics.
 *
 * <p>Python's {@code str.split()}, {@code str.strip()} and friends treat a wider set of characters as
 * whitespace than {@link Character#isWhitespace}: also U+0085, U+00A0, U+2007 and U+202F. The set
 * below is every code point for which Python's {@code str.isspace()} is true (bidirectional class
 * WS, B or S, or category Zs), listed from Python 3.11 by enumerating all code points.
 */
final class PyText {
    private PyText() {
    }

    /** True for the code points Python's {@code str.isspace()} accepts. */
    static boolean isSpace(int cp) {
        if (cp <= 0x20) {
            return cp == 0x20 || (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x1f);
        }
        if (cp < 0x85) {
            return false;
        }
        return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a)
                || cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
    }

    /** Python's {@code s.split()}: the runs of non-whitespace, in order, no empty strings. */
    static List<String> split(String s) {
        List<String> out = new ArrayList<>();
        int n = s.length();
        int i = 0;
        while (i < n) {
            while (i < n && isSpace(s.charAt(i))) {
                i++; // every Python whitespace character is in the BMP: one char each
            }
            int start = i;
            while (i < n && !isSpace(s.charAt(i))) {
                i++;
            }
            if (i > start) {
                out.add(s.substring(start, i));
            }
        }
        return out;
    }

    /** Python's {@code ' '.join(s.split())}: whitespace runs become one space, ends trimmed. */
    static String collapseSpaces(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        int n = s.length();
        int i = 0;
        while (i < n) {
            while (i < n && isSpace(s.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < n && !isSpace(s.charAt(i))) {
                i++;
            }
            if (i > start) {
                if (!sb.isEmpty()) {
                    sb.append(' ');
                }
                sb.append(s, start, i);
            }
        }
        return sb.toString();
    }

    /** Python's {@code ''.join(s.split())}: the text with every whitespace character removed. */
    static String removeSpaces(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!isSpace(c)) {
                sb.append(c);
            }
        }
        return sb.length() == s.length() ? s : sb.toString();
    }

    /** Python's {@code s.rstrip()}: trailing whitespace removed. */
    static String rstrip(String s) {
        int end = s.length();
        while (end > 0 && isSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end);
    }

    /**
     * Python's {@code s.lower()}. Java's root-locale lowercasing applies the same full Unicode
     * mappings, including the unconditional special cases (U+0130 to "i" + U+0307) and final sigma.
     */
    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    /**
     * Python's {@code f"{x:.Nf}"}: the exact binary value rounded half to even, as CPython does.
     * ({@link String#format} rounds the shortest decimal representation half up, which differs.)
     */
    static String fixed(double x, int digits) {
        if (!Double.isFinite(x)) {
            return Double.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
        }
        String s = new BigDecimal(x).setScale(digits, RoundingMode.HALF_EVEN).toPlainString();
        return (x < 0 || (x == 0 && 1 / x < 0)) && !s.startsWith("-") ? "-" + s : s;
    }
}

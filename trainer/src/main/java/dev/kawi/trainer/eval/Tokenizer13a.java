package dev.kawi.trainer.eval;

import java.util.regex.Pattern;

/**
 * sacreBLEU's default BLEU tokenizer, {@code 13a}: the tokenization of WMT's mteval-v13a.pl.
 *
 * <p>Steps, in order: remove {@code <skipped>}; join lines broken after a hyphen ({@code "-\n"} is
 * removed); other newlines become spaces; if the text holds an {@code &}, unescape {@code &quot;},
 * {@code &amp;}, {@code &lt;}, {@code &gt;} (in that order, one pass each, so {@code &amp;quot;}
 * becomes {@code &quot;}); pad with a space on each side; then four regular-expression passes, each
 * replacing non-overlapping matches from left to right:
 * <ol>
 *   <li>every ASCII symbol except {@code ' , - .} and also the space is surrounded by spaces
 *       ({@code [ -&(-+/:-@[-`{-~]});</li>
 *   <li>a period or comma after a non-digit: {@code ([^0-9])([.,])} becomes {@code "$1 $2 "};</li>
 *   <li>a period or comma before a non-digit: {@code ([.,])([^0-9])} becomes {@code " $1 $2"};</li>
 *   <li>a dash after a digit: {@code ([0-9])(-)} becomes {@code "$1 $2 "};</li>
 * </ol>
 * and finally whitespace runs (Python's whitespace set) collapse to one space and the ends are
 * trimmed. Digits are ASCII only; everything else (Unicode punctuation, emoji) stays attached.
 */
public final class Tokenizer13a {
    // The same character classes as sacreBLEU's TokenizerRegexp; Java and Python agree on them and
    // on replace-all semantics (scan left to right, resume after each match).
    private static final Pattern SYMBOLS = Pattern.compile("([ -&(-+/:-@\\[-`{-~])");
    private static final Pattern PERIOD_COMMA_AFTER_NON_DIGIT = Pattern.compile("([^0-9])([.,])");
    private static final Pattern PERIOD_COMMA_BEFORE_NON_DIGIT = Pattern.compile("([.,])([^0-9])");
    private static final Pattern DASH_AFTER_DIGIT = Pattern.compile("([0-9])(-)");

    private Tokenizer13a() {
    }

    /** Tokenizes one segment; the result has single spaces between tokens and none at the ends. */
    public static String tokenize(String line) {
        String s = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ");
        if (s.indexOf('&') >= 0) {
            s = s.replace("&quot;", "\"").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
        }
        s = " " + s + " ";
        s = SYMBOLS.matcher(s).replaceAll(" $1 ");
        s = PERIOD_COMMA_AFTER_NON_DIGIT.matcher(s).replaceAll("$1 $2 ");
        s = PERIOD_COMMA_BEFORE_NON_DIGIT.matcher(s).replaceAll(" $1 $2");
        s = DASH_AFTER_DIGIT.matcher(s).replaceAll("$1 $2 ");
        return PyText.collapseSpaces(s);
    }
}

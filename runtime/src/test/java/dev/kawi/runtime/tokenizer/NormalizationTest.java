package dev.kawi.runtime.tokenizer;

import static dev.kawi.runtime.tokenizer.TestSpecs.escape;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.kawi.weights.TokenizerSpec.Normalization;
import java.text.Normalizer;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The documented normalization: surrogates, NFC, whitespace. */
class NormalizationTest {
    private static final Tokenizer NFC = Tokenizer.create(TestSpecs.fixedBpe().bpe(Normalization.NFC, true, true));
    private static final Tokenizer NONE = Tokenizer.create(TestSpecs.fixedBpe().bpe(Normalization.NONE, true, true));

    @Test
    void whitespaceRunsCollapseAndEndsAreTrimmed() {
        assertEquals("a b", NFC.normalize("a b"));
        assertEquals("a b", NFC.normalize("  a \t\t b\n"));
        assertEquals("a b c", NFC.normalize("a\r\nb\u00a0\u3000c"));
        assertEquals("a b", NFC.normalize("a\u2581b"));
        assertEquals("a b", NFC.normalize("\u2581a\u2581\u2581b\u2581"));
        assertEquals("", NFC.normalize(" \t\n "));
        assertEquals("", NFC.normalize(""));
        // Not whitespace: zero-width space, BOM, information separators, NUL.
        assertEquals("a\u200bb\ufeff\u001f\u0000", NFC.normalize("a\u200bb\ufeff\u001f\u0000"));
    }

    @Test
    void nfcOnlyWhenAsked() {
        assertEquals("\u00e4", NFC.normalize("a\u0308"));
        assertEquals("a\u0308", NONE.normalize("a\u0308"));
        assertEquals("\u00c5", NFC.normalize("\u212b")); // ANGSTROM SIGN is a singleton decomposition
        assertEquals("\u0301x", NFC.normalize("\u0301x")); // a lone combining mark stays
    }

    @Test
    void unpairedSurrogatesBecomeReplacementCharacters() {
        assertEquals("a\ufffdb\ufffd", NFC.normalize("a\ud800b\udc00"));
        assertEquals("\ud83d\ude00", NFC.normalize("\ud83d\ude00"));
        assertEquals("\ufffd\ufffd", NFC.normalize("\udc00\ud800"));
    }

    @Test
    void normalizedTextIsReturnedAsIs() {
        String s = "Hallo Welt, sch\u00f6n!";
        assertSame(s, NFC.normalize(s));
    }

    /** An independent statement of the rule, with the JDK's regex White_Space property. */
    private static String oracle(String x, boolean nfc) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < x.length(); i++) {
            char c = x.charAt(i);
            boolean paired = Character.isHighSurrogate(c) ? i + 1 < x.length() && Character.isLowSurrogate(x.charAt(i + 1))
                    : !Character.isLowSurrogate(c) || (i > 0 && Character.isHighSurrogate(x.charAt(i - 1)));
            sb.append(paired ? c : '\ufffd');
        }
        String t = nfc ? Normalizer.normalize(sb, Normalizer.Form.NFC) : sb.toString();
        return Arrays.stream(t.split("[\\p{IsWhite_Space}\u2581]+")).filter(w -> !w.isEmpty()).collect(Collectors.joining(" "));
    }

    @Test
    void agreesWithAnIndependentStatementOfTheRuleAndIsIdempotent() {
        long seed = 99L;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < 5000; i++) {
            String x = TestSpecs.randomText(rnd, 12);
            String msg = "seed " + seed + ", text " + escape(x);
            String n = NFC.normalize(x);
            assertEquals(oracle(x, true), n, msg);
            assertEquals(oracle(x, false), NONE.normalize(x), msg);
            assertEquals(n, NFC.normalize(n), msg);
            assertEquals(Arrays.toString(NFC.encode(x)), Arrays.toString(NFC.encode(n)), msg);
        }
    }

    @Test
    void everyWhitespaceCodePointIsOneAndNoOther() {
        Pattern ws = Pattern.compile("[\\p{IsWhite_Space}\u2581]");
        for (int c = 0; c < 0x10000; c++) {
            if (Character.isSurrogate((char) c)) {
                continue;
            }
            boolean expected = ws.matcher(String.valueOf((char) c)).matches();
            assertEquals(expected, TextNormalizer.isWhitespace((char) c), String.format("U+%04X", c));
        }
    }
}

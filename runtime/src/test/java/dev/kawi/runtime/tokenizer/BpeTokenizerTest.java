package dev.kawi.runtime.tokenizer;

import static dev.kawi.runtime.tokenizer.TestSpecs.B;
import static dev.kawi.runtime.tokenizer.TestSpecs.byteId;
import static dev.kawi.runtime.tokenizer.TestSpecs.escape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.weights.TokenizerSpec;
import dev.kawi.weights.TokenizerSpec.Normalization;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** BPE segmentation: exact ids for fixed inputs, and agreement with a naive oracle. */
class BpeTokenizerTest {
    private static Tokenizer fixed(int mergesUsed, boolean prefix) {
        return Tokenizer.create(TestSpecs.fixedBpe(mergesUsed, true).bpe(Normalization.NFC, true, prefix));
    }

    private static int[] ids(TestSpecs.Builder b, String... pieces) {
        int[] r = new int[pieces.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = b.id(pieces[i]);
        }
        return r;
    }

    @Test
    void mergesApplyByRankNotByPosition() {
        TestSpecs.Builder v = TestSpecs.fixedBpe();
        // ▁ a b c: rank 0 (b,c) is applied before rank 1 (a,b) although (a,b) is further left;
        // then (▁,a) rank 2, then (▁a,bc) rank 3.
        assertArrayEquals(ids(v, B, "a", "b", "c"), fixed(0, true).encode("abc"));
        assertArrayEquals(ids(v, B, "a", "bc"), fixed(1, true).encode("abc"));
        assertArrayEquals(ids(v, B, "a", "bc"), fixed(2, true).encode("abc"));
        assertArrayEquals(ids(v, B + "a", "bc"), fixed(3, true).encode("abc"));
        assertArrayEquals(ids(v, B + "abc"), fixed(4, true).encode("abc"));
        // "▁ab": only (a,b) and (▁,a) apply; (a,b) has the lower rank, so ▁ + ab, not ▁a + b.
        assertArrayEquals(ids(v, B, "ab"), fixed(12, true).encode("ab"));
    }

    @Test
    void chainOfMergesBuildsAWord() {
        TestSpecs.Builder v = TestSpecs.fixedBpe();
        assertArrayEquals(ids(v, B + "Hello"), fixed(12, true).encode("Hello"));
        assertArrayEquals(ids(v, B, "Hell"), fixed(7, true).encode("Hell"));
        // Without the dummy prefix the first word has no ▁, the second has.
        assertArrayEquals(ids(v, "Hello", B + "Hello"), fixed(12, false).encode("Hello Hello"));
    }

    @Test
    void equalRanksMergeLeftmostFirst() {
        TestSpecs.Builder v = TestSpecs.fixedBpe();
        assertArrayEquals(ids(v, "aa", "a"), fixed(12, false).encode("aaa"));
        assertArrayEquals(ids(v, "aa", "aa"), fixed(12, false).encode("aaaa"));
        assertArrayEquals(ids(v, "aa", "aa", "a"), fixed(12, false).encode("aaaaa"));
        // With the prefix, (▁,a) rank 2 beats (a,a) rank 9: ▁a a a -> ▁a aa.
        assertArrayEquals(ids(v, B + "a", "aa"), fixed(12, true).encode("aaa"));
    }

    @Test
    void charactersWithoutPieceBecomeTheirUtf8Bytes() {
        TestSpecs.Builder v = TestSpecs.fixedBpe();
        Tokenizer t = fixed(12, true);
        // ö (U+00F6) is not a piece: C3 B6. "▁w" has no merge.
        int[] expected = {v.id(B + "Hello"), v.id(B), v.id("w"), byteId(0xC3), byteId(0xB6), v.id("r"), v.id("l"), v.id("d")};
        assertArrayEquals(expected, t.encode("Hello w\u00f6rld"));
        assertArrayEquals(new int[] {v.id(B), byteId(0xF0), byteId(0x9F), byteId(0x98), byteId(0x80)}, t.encode("\ud83d\ude00"));
        assertEquals("Hello w\u00f6rld", t.decode(t.encode("Hello w\u00f6rld")));
    }

    @Test
    void nfcComposesBeforeSegmenting() {
        TestSpecs.Builder v = TestSpecs.fixedBpe();
        Tokenizer nfc = fixed(12, true);
        assertArrayEquals(ids(v, B, "\u00e4"), nfc.encode("a\u0308"));
        assertArrayEquals(nfc.encode("\u00e4"), nfc.encode("a\u0308"));
        Tokenizer none = Tokenizer.create(TestSpecs.fixedBpe().bpe(Normalization.NONE, true, true));
        // Unnormalized: a + U+0308 (bytes CC 88), and (▁,a) merges.
        assertArrayEquals(new int[] {v.id(B + "a"), byteId(0xCC), byteId(0x88)}, none.encode("a\u0308"));
        assertEquals("a\u0308", none.decode(none.encode("a\u0308")));
    }

    @Test
    void reservedPiecesAreNeverProducedFromText() {
        TestSpecs.Builder v = TestSpecs.fixedBpe();
        Tokenizer t = fixed(12, true);
        // Merge 11 (<s, >) would produce the special <s>; it is ignored.
        assertArrayEquals(ids(v, B, "<s", ">"), t.encode("<s>"));
        assertEquals("<s>", t.decode(t.encode("<s>")));
        // A byte piece's spelling in text is just text; '0', 'x', 'A' have no piece here, so bytes.
        int[] e = t.encode("<0x41>");
        assertArrayEquals(new int[] {v.id(B), v.id("<"), byteId('0'), byteId('x'), byteId('4'), byteId('1'), v.id(">")}, e);
        assertEquals("<0x41>", t.decode(e));
    }

    @Test
    void unknownCharactersBecomeUnkWithoutByteFallback() {
        TestSpecs.Builder v = TestSpecs.fixedBpe();
        Tokenizer t = Tokenizer.create(v.bpe(Normalization.NFC, false, true));
        assertEquals(3, t.unkId());
        assertArrayEquals(new int[] {v.id(B), v.id("w"), 3, 3, v.id("r")}, t.encode("w\u00f6\ud83d\ude00r"));
        assertEquals("wr", t.decode(t.encode("w\u00f6\ud83d\ude00r")));
    }

    @Test
    void noFallbackAndNoUnkIsAClearError() {
        TestSpecs.Builder v = TestSpecs.fixedBpe(12, false);
        Tokenizer t = Tokenizer.create(v.bpe(Normalization.NFC, false, true));
        assertEquals(-1, t.unkId());
        assertArrayEquals(ids(v, B + "abc"), t.encode("abc"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.encode("w\u00f6rld"));
        assertTrue(e.getMessage().contains("U+00F6"), e.getMessage());
    }

    @Test
    void emptyAndBlankTextEncodeToNothing() {
        Tokenizer t = fixed(12, true);
        assertArrayEquals(new int[0], t.encode(""));
        assertArrayEquals(new int[0], t.encode(" \t\n\u3000" + B));
        assertEquals("", t.decode(new int[0]));
    }

    @Test
    void nullTextIsRejected() {
        Tokenizer t = fixed(12, true);
        NullPointerException e = assertThrows(NullPointerException.class, () -> t.encode(null));
        assertTrue(e.getMessage().contains("text"), e.getMessage());
    }

    // ---- the naive oracle: repeatedly merge the lowest-rank adjacent pair, leftmost first ----

    private static final Pattern RESERVED = Pattern.compile("<.+>");

    /** Obviously-right BPE over one word, written from the rule, not from the implementation. */
    private static List<Integer> naiveBpe(TokenizerSpec spec, String word) {
        List<String> pieces = spec.pieces();
        Map<String, Integer> idOf = new HashMap<>();
        for (int i = 0; i < pieces.size(); i++) {
            idOf.put(pieces.get(i), i);
        }
        int[] m = spec.merges();
        Map<List<Integer>, Integer> rank = new HashMap<>();
        for (int r = 0; r < m.length / 2; r++) {
            String merged = pieces.get(m[2 * r]) + pieces.get(m[2 * r + 1]);
            boolean reserved = RESERVED.matcher(pieces.get(m[2 * r])).matches() || RESERVED.matcher(pieces.get(m[2 * r + 1])).matches()
                    || RESERVED.matcher(merged).matches();
            if (!reserved) {
                rank.putIfAbsent(List.of(m[2 * r], m[2 * r + 1]), r);
            }
        }
        List<Integer> syms = new ArrayList<>();
        word.codePoints().forEach(cp -> {
            Integer id = idOf.get(Character.toString(cp));
            if (id != null && !RESERVED.matcher(Character.toString(cp)).matches()) {
                syms.add(id);
            } else {
                for (byte b : Character.toString(cp).getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
                    syms.add(byteId(b & 0xFF));
                }
            }
        });
        while (true) {
            int bestRank = Integer.MAX_VALUE;
            int bestPos = -1;
            for (int i = 0; i + 1 < syms.size(); i++) {
                Integer r = rank.get(List.of(syms.get(i), syms.get(i + 1)));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    bestPos = i;
                }
            }
            if (bestPos < 0) {
                return syms;
            }
            String merged = pieces.get(syms.get(bestPos)) + pieces.get(syms.get(bestPos + 1));
            syms.set(bestPos, idOf.get(merged));
            syms.remove(bestPos + 1);
        }
    }

    @Test
    void agreesWithNaiveOracleOnRandomVocabulariesAndWords() {
        long seed = 20261127L;
        SplittableRandom rnd = new SplittableRandom(seed);
        String[] alphabet = {"a", "b", "e", "n", "r", "s", "t", "\u00e4", "\u00df", "\u201e", "\u201c", ".", "z", "\u00f6", "\ud83d\ude00"};
        for (int vocab = 0; vocab < 20; vocab++) {
            TokenizerSpec spec = TestSpecs.randomBpe(rnd, 50 + rnd.nextInt(400)).bpe(Normalization.NFC, true, true);
            Tokenizer cached = Tokenizer.create(spec);
            Tokenizer uncached = Tokenizer.create(spec, new Tokenizer.Options(0));
            for (int w = 0; w < 300; w++) {
                StringBuilder sb = new StringBuilder();
                int len = 1 + rnd.nextInt(rnd.nextInt(8) == 0 ? 60 : 12);
                for (int i = 0; i < len; i++) {
                    sb.append(alphabet[rnd.nextInt(alphabet.length)]);
                }
                String word = sb.toString();
                int[] expected = naiveBpe(spec, B + word).stream().mapToInt(Integer::intValue).toArray();
                String msg = "seed " + seed + ", vocabulary " + vocab + ", word " + escape(word);
                assertArrayEquals(expected, uncached.encode(word), msg);
                assertArrayEquals(expected, cached.encode(word), msg);
                assertArrayEquals(expected, cached.encode(word), msg + " (cache hit)");
                assertEquals(word, cached.decode(expected), msg);
            }
        }
    }
}

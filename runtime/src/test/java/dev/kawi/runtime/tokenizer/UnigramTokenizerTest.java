package dev.kawi.runtime.tokenizer;

import static dev.kawi.runtime.tokenizer.TestSpecs.B;
import static dev.kawi.runtime.tokenizer.TestSpecs.byteId;
import static dev.kawi.runtime.tokenizer.TestSpecs.escape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kawi.weights.TokenizerSpec;
import dev.kawi.weights.TokenizerSpec.Normalization;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Unigram segmentation: exact ids for fixed inputs, and optimality against exhaustive search. */
class UnigramTokenizerTest {
    private static final TestSpecs.Builder V = TestSpecs.fixedUnigram(true);

    private static Tokenizer fixed(boolean prefix) {
        return Tokenizer.create(V.unigram(Normalization.NFC, true, prefix));
    }

    private static int[] ids(String... pieces) {
        int[] r = new int[pieces.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = V.id(pieces[i]);
        }
        return r;
    }

    @Test
    void viterbiMaximizesTheScoreSumNotThePieceLength() {
        Tokenizer t = fixed(true);
        // ▁abc: ▁ab+c = -3.5, ▁a+bc = -3.0 (best), ▁+abc = -8, ▁+a+bc = -6. Greedy longest match would take ▁ab.
        assertArrayEquals(ids(B + "a", "bc"), t.encode("abc"));
        // ▁abd: ▁ab+d = -4.0 beats ▁a+b+d = -6.5.
        assertArrayEquals(ids(B + "ab", "d"), t.encode("abd"));
        // Without the prefix: a+bc = -3 beats abc = -5 and a+b+c = -6.
        assertArrayEquals(ids("a", "bc"), fixed(false).encode("abc"));
        assertArrayEquals(ids(B + "a", "bc", B + "ab", "d"), t.encode("abc abd"));
    }

    @Test
    void tiesGoToTheLongestLastPiece() {
        // x+y = -2 = xy; ▁+xy = -5 = ▁+x+y.
        assertArrayEquals(ids("xy"), fixed(false).encode("xy"));
        assertArrayEquals(ids(B, "xy"), fixed(true).encode("xy"));
    }

    @Test
    void charactersWithoutPieceFallBackToBytesOrUnk() {
        Tokenizer t = fixed(true);
        // ö has no piece: its bytes, scored min - 10 as one lattice edge.
        assertArrayEquals(new int[] {V.id(B + "a"), byteId(0xC3), byteId(0xB6), V.id("d")}, t.encode("a\u00f6d"));
        assertEquals("a\u00f6d", t.decode(t.encode("a\u00f6d")));
        Tokenizer unk = Tokenizer.create(V.unigram(Normalization.NFC, false, true));
        assertArrayEquals(new int[] {V.id(B + "a"), 3, 3, V.id("d")}, unk.encode("a\u00f6\ud83d\ude00d"));
        Tokenizer none = Tokenizer.create(TestSpecs.fixedUnigram(false).unigram(Normalization.NFC, false, true));
        assertThrows(IllegalArgumentException.class, () -> none.encode("a\u00f6d"));
    }

    @Test
    void reservedPiecesNeverMatchText() {
        Tokenizer t = fixed(true);
        // <s> is a piece (special) and scores 0, better than < s > (-12); it must still not match.
        assertArrayEquals(ids(B, "<", "s", ">"), t.encode("<s>"));
        assertEquals("<s>", t.decode(t.encode("<s>")));
        assertEquals("<0x41>", t.decode(t.encode("<0x41>")));
    }

    @Test
    void nfcComposesBeforeSegmenting() {
        assertArrayEquals(ids(B, "\u00e4"), fixed(true).encode("a\u0308"));
    }

    // ---- oracle: exhaustive search over all segmentations of short words ----

    private static double bestScore(String word, int from, Map<String, Float> scores, double fallback, Map<Integer, Double> memo) {
        if (from == word.length()) {
            return 0;
        }
        Double m = memo.get(from);
        if (m != null) {
            return m;
        }
        double best = Double.NEGATIVE_INFINITY;
        int cpEnd = from + Character.charCount(word.codePointAt(from));
        boolean covered = false;
        for (int end = cpEnd; end <= word.length(); end += end < word.length() ? Character.charCount(word.codePointAt(end)) : 1) {
            Float s = scores.get(word.substring(from, end));
            if (s != null) {
                covered |= end == cpEnd;
                best = Math.max(best, s + bestScore(word, end, scores, fallback, memo));
            }
        }
        if (!covered) {
            best = Math.max(best, fallback + bestScore(word, cpEnd, scores, fallback, memo));
        }
        memo.put(from, best);
        return best;
    }

    @Test
    void findsTheBestSegmentationOnRandomVocabularies() {
        long seed = 7L;
        SplittableRandom rnd = new SplittableRandom(seed);
        String[] alphabet = {"a", "b", "e", "n", "r", "s", "t", "\u00e4", "\u00df", "\u201e", ".", "z", "\ud83d\ude00"};
        for (int vocab = 0; vocab < 20; vocab++) {
            TokenizerSpec spec = TestSpecs.randomUnigram(rnd, 30 + rnd.nextInt(300)).unigram(Normalization.NFC, true, true);
            Tokenizer t = Tokenizer.create(spec, new Tokenizer.Options(0));
            float[] sc = spec.scores();
            Map<String, Float> scores = new HashMap<>();
            float min = Float.POSITIVE_INFINITY;
            for (int i = 260; i < spec.size(); i++) { // the text pieces: after specials and bytes
                scores.put(spec.pieces().get(i), sc[i]);
                min = Math.min(min, sc[i]);
            }
            double fallback = (double) min - 10;
            for (int w = 0; w < 200; w++) {
                StringBuilder sb = new StringBuilder();
                int len = 1 + rnd.nextInt(14);
                for (int i = 0; i < len; i++) {
                    sb.append(alphabet[rnd.nextInt(alphabet.length)]);
                }
                String word = sb.toString();
                String msg = "seed " + seed + ", vocabulary " + vocab + ", word " + escape(word);
                int[] ids = t.encode(word);
                // Score of the result: text pieces score theirs; each run of fallback bytes (one character) the fallback.
                double got = 0;
                StringBuilder concat = new StringBuilder();
                for (int k = 0; k < ids.length; k++) {
                    int b = t.byteValue(ids[k]);
                    if (b < 0) {
                        got += sc[ids[k]];
                        concat.append(t.piece(ids[k]));
                    } else if ((b & 0xC0) != 0x80) { // a lead byte starts one fallback character
                        got += fallback;
                    }
                }
                double expected = bestScore(B + word, 0, scores, fallback, new HashMap<>());
                assertEquals(expected, got, 1e-4, msg);
                assertEquals(word, t.decode(ids), msg);
            }
        }
    }
}

package dev.kawi.runtime.tokenizer;

import dev.kawi.weights.TokenizerSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Hand-built vocabularies for the tokenizer tests, and text helpers. */
final class TestSpecs {
    static final String B = "\u2581";

    private TestSpecs() {
    }

    /** The id of byte b in every vocabulary built here: after the four specials. */
    static int byteId(int b) {
        return 4 + b;
    }

    /** Builds a vocabulary: {@code <pad> <s> </s> <unk>} (optionally without {@code <unk>}), 256 byte pieces, then added pieces. */
    static final class Builder {
        final List<String> pieces = new ArrayList<>();
        final List<Float> scores = new ArrayList<>();
        final List<Integer> merges = new ArrayList<>();
        final Map<String, Integer> ids = new HashMap<>();

        Builder() {
            this(true);
        }

        Builder(boolean withUnk) {
            for (String s : new String[] {"<pad>", "<s>", "</s>", withUnk ? "<unk>" : "<mask>"}) {
                piece(s, 0f);
            }
            for (int b = 0; b < 256; b++) {
                piece(TokenizerSpec.bytePiece(b), 0f);
            }
        }

        /** Adds a piece (if new) and returns its id. */
        int piece(String p, float score) {
            Integer id = ids.get(p);
            if (id != null) {
                return id;
            }
            ids.put(p, pieces.size());
            pieces.add(p);
            scores.add(score);
            return pieces.size() - 1;
        }

        int piece(String p) {
            return piece(p, 0f);
        }

        /** Adds the merge (l, r) with the next rank, adding l, r and l+r as pieces if new; returns the merged id. */
        int merge(String l, String r) {
            merges.add(piece(l));
            merges.add(piece(r));
            return piece(l + r);
        }

        int id(String p) {
            Integer id = ids.get(p);
            if (id == null) {
                throw new IllegalArgumentException("no piece " + p);
            }
            return id;
        }

        TokenizerSpec bpe(TokenizerSpec.Normalization norm, boolean byteFallback, boolean prefix) {
            return new TokenizerSpec(TokenizerSpec.Type.BPE, norm, byteFallback, prefix, pieces, null,
                    merges.stream().mapToInt(Integer::intValue).toArray());
        }

        TokenizerSpec unigram(TokenizerSpec.Normalization norm, boolean byteFallback, boolean prefix) {
            float[] s = new float[scores.size()];
            for (int i = 0; i < s.length; i++) {
                s[i] = scores.get(i);
            }
            return new TokenizerSpec(TokenizerSpec.Type.UNIGRAM, norm, byteFallback, prefix, pieces, s, null);
        }
    }

    /**
     * The fixed BPE vocabulary of the exact-id tests. Merges, by rank: 0 b+c, 1 a+b, 2 ▁+a,
     * 3 ▁a+bc, 4 l+l, 5 H+e, 6 He+ll, 7 Hell+o, 8 ▁+Hello, 9 a+a, 10 <+s, 11 <s+> (whose result
     * is the special {@code <s>}, so it must never apply), then {@code mergesUsed} limits how many.
     */
    static Builder fixedBpe(int mergesUsed, boolean withUnk) {
        Builder b = new Builder(withUnk);
        for (String p : new String[] {B, "a", "b", "c", "d", "e", "H", "l", "o", "w", "r", "\u00e4", "<", "s", ">"}) {
            b.piece(p);
        }
        String[][] merges = {{"b", "c"}, {"a", "b"}, {B, "a"}, {B + "a", "bc"}, {"l", "l"}, {"H", "e"}, {"He", "ll"},
            {"Hell", "o"}, {B, "Hello"}, {"a", "a"}, {"<", "s"}, {"<s", ">"}};
        for (int i = 0; i < mergesUsed; i++) {
            b.merge(merges[i][0], merges[i][1]);
        }
        return b;
    }

    static Builder fixedBpe() {
        return fixedBpe(12, true);
    }

    /** A BPE vocabulary with random merges over a small alphabet (including ä, ß, ▁), for oracle and round-trip tests. */
    static Builder randomBpe(SplittableRandom rnd, int mergeCount) {
        Builder b = new Builder();
        List<String> textual = new ArrayList<>();
        for (String p : new String[] {B, "a", "b", "e", "n", "r", "s", "t", "\u00e4", "\u00df", "\u201e", "\u201c", "."}) {
            b.piece(p);
            textual.add(p);
        }
        while (b.merges.size() / 2 < mergeCount) {
            String l = textual.get(rnd.nextInt(textual.size()));
            String r = textual.get(rnd.nextInt(textual.size()));
            if (r.startsWith(B) || l.length() + r.length() > 8) {
                continue; // pieces carry ▁ only at the front, as in a trained vocabulary
            }
            boolean isNew = !b.ids.containsKey(l + r);
            b.merge(l, r); // repeated pairs and second routes to an existing piece are allowed
            if (isNew) {
                textual.add(l + r);
            }
        }
        return b;
    }

    /** The fixed unigram vocabulary of the exact-id tests (scores chosen so that greedy longest match is wrong). */
    static Builder fixedUnigram(boolean withUnk) {
        Builder b = new Builder(withUnk);
        b.piece(B, -3.0f);
        b.piece("a", -2.0f);
        b.piece("b", -2.0f);
        b.piece("c", -2.0f);
        b.piece(B + "ab", -1.5f);
        b.piece(B + "a", -2.0f);
        b.piece("bc", -1.0f);
        b.piece("abc", -5.0f);
        b.piece("d", -2.5f);
        b.piece("x", -1.0f);
        b.piece("y", -1.0f);
        b.piece("xy", -2.0f);
        b.piece("<", -4.0f);
        b.piece("s", -4.0f);
        b.piece(">", -4.0f);
        b.piece("\u00e4", -3.0f);
        return b;
    }

    /** A unigram vocabulary of random pieces over a small alphabet with random scores. */
    static Builder randomUnigram(SplittableRandom rnd, int extraPieces) {
        Builder b = new Builder();
        String[] alphabet = {B, "a", "b", "e", "n", "r", "s", "t", "\u00e4", "\u00df", "\u201e", "."};
        for (String p : alphabet) {
            b.piece(p, (float) -rnd.nextDouble(2, 8));
        }
        while (b.pieces.size() < 260 + alphabet.length + extraPieces) {
            StringBuilder sb = new StringBuilder(rnd.nextInt(4) == 0 ? B : "");
            int len = 2 + rnd.nextInt(4);
            for (int i = 0; i < len; i++) {
                sb.append(alphabet[1 + rnd.nextInt(alphabet.length - 1)]);
            }
            b.piece(sb.toString(), (float) -rnd.nextDouble(1, 12));
        }
        return b;
    }

    /** Fragments the random corpus is made of: every kind of character the tokenizer must survive. */
    static final String[] FRAGMENTS = {
        "a", "b", "e", "n", "r", "s", "t", "Hallo", "Welt", "Straße", "abc", "Hello", ".", ",", "!", "?", "0", "42", "<s>", "<0x41>",
        "\u00e4", "\u00f6", "\u00fc", "\u00df", "\u00c4", "a\u0308", "o\u0308", "u\u0308", "A\u0308", // umlauts, composed and decomposed
        "\u201e", "\u201c", "\u2019", "\u00ab", "\u00bb",              // typographic quotes
        "\ud83d\ude00", "\ud83d\udc4d\ud83c\udffd", "\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67", "\ud83c\uddea\ud83c\uddfa", // emoji
        "\u4e2d\u6587", "\u65e5\u672c\u8a9e", "\ud840\udc0b",          // CJK, one outside the BMP
        "\u0000", "\u0001", "\u001f", "\u007f", "\u0085", "\u200b", "\ufeff", "\ufffd", // control and invisible
        "\u0301", "\u0308\u0301",                                      // lone combining marks
        "\ud800", "\udc00",                                            // unpaired surrogates
        "\u2581", "\u00a0", "\u3000",                                  // marker and unusual spaces
        " ", " ", " ", "  ", "\t", "\n", "\r\n",                        // whitespace, single spaces most often
    };

    /** A random string of 0..maxFragments fragments. */
    static String randomText(SplittableRandom rnd, int maxFragments) {
        StringBuilder sb = new StringBuilder();
        int n = rnd.nextInt(maxFragments + 1);
        for (int i = 0; i < n; i++) {
            sb.append(FRAGMENTS[rnd.nextInt(FRAGMENTS.length)]);
        }
        return sb.toString();
    }

    /** The text with every char outside printable ASCII written as \\uXXXX, for failure messages. */
    static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f) {
                sb.append(c);
            } else {
                sb.append(String.format("\\u%04X", (int) c));
            }
        }
        return sb.append('"').toString();
    }
}

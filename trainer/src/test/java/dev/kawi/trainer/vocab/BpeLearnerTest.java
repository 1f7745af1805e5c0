package dev.kawi.trainer.vocab;

import static dev.kawi.trainer.vocab.TestCorpus.escape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.runtime.tokenizer.Tokenizer;
import dev.kawi.weights.TokenizerSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BpeLearnerTest {
    private static final long SEED = 20240611L;
    private static final String M = TokenizerSpec.WORD_BOUNDARY;

    /** Sennrich et al.'s example table, with SentencePiece's marker in front of every word. */
    private static WordCounts lowLowerNewestWidest() {
        WordCounts w = new WordCounts();
        w.addWord(M + "low", 5);
        w.addWord(M + "lower", 2);
        w.addWord(M + "newest", 6);
        w.addWord(M + "widest", 3);
        return w;
    }

    private static List<String> merged(LearnedVocab v) {
        List<String> p = v.spec().pieces();
        return p.subList(v.specials() + 256 + v.characters(), p.size());
    }

    @Test
    void handComputedExampleMergesInTheKnownOrder() {
        // Characters by count (ties by code point): e 17, w 16, ▁ 16, s 9, t 9, l 7, o 7, n 6, d 3, i 3, r 2,
        // ids 260..270. Worked by hand, highest pair count first, ties to the smaller left id then right id:
        // e+s 9 (beats s+t 9), es+t 9, ▁+l 7 (beats l+o, o+w), o+w 7 (left id 266 < ▁l's 273), ▁l+ow 7,
        // e+w 6 (left id 260 is the smallest of the four 6s), ▁+n 6, ew+est 6 (276 < ▁n's 277), ▁n+ewest 6,
        // w+i 3, ▁+wi 3, d+est 3, ▁wi+dest 3, e+r 2, ▁low+er 2.
        LearnedVocab v = BpeLearner.learn(lowLowerNewestWidest(), VocabOptions.DEFAULTS.withVocabSize(300).withCharacterCoverage(1));
        TokenizerSpec spec = v.spec();
        assertEquals(List.of("e", "w", M, "s", "t", "l", "o", "n", "d", "i", "r"), spec.pieces().subList(260, 271));
        assertEquals(List.of("es", "est", M + "l", "ow", M + "low", "ew", M + "n", "ewest", M + "newest",
                "wi", M + "wi", "dest", M + "widest", "er", M + "lower"), merged(v));
        int[] m = spec.merges();
        assertEquals(15, m.length / 2);
        assertArrayEquals(new int[] {260, 263}, new int[] {m[0], m[1]}, "first merge e + s");
        assertArrayEquals(new int[] {266, 261}, new int[] {m[6], m[7]}, "fourth merge o + w");
        // Every pair was merged: the data ran out before 300 pieces.
        assertEquals(286, v.size());
        assertNotNull(v.stopReason());
        // A smaller request stops exactly at its size.
        LearnedVocab four = BpeLearner.learn(lowLowerNewestWidest(), VocabOptions.DEFAULTS.withVocabSize(275).withCharacterCoverage(1));
        assertEquals(275, four.size());
        assertNull(four.stopReason());
        assertEquals(List.of("es", "est", M + "l", "ow"), merged(four));
        // The runtime segments with the learned merges as training did.
        Tokenizer t = Tokenizer.create(four.spec());
        assertEquals(List.of(M + "l", "ow", "e", "r", M, "n", "e", "w", "est"), pieces(t, "lower newest"));
    }

    @Test
    void minFrequencyStopsMergingRarePairs() {
        // With minFrequency 3 the last two merges (count 2) are not learned.
        LearnedVocab v = BpeLearner.learn(lowLowerNewestWidest(),
                VocabOptions.DEFAULTS.withVocabSize(300).withCharacterCoverage(1).withMinFrequency(3));
        assertEquals(284, v.size());
        assertEquals(M + "widest", merged(v).get(merged(v).size() - 1));
        assertTrue(v.stopReason().contains("3 times"), v.stopReason());
    }

    private static List<String> pieces(Tokenizer t, String text) {
        List<String> out = new ArrayList<>();
        for (int id : t.encode(text)) {
            out.add(t.piece(id));
        }
        return out;
    }

    @Test
    void vocabularyHasExactlyTheRequestedSizeAndLayout() {
        WordCounts words = TestCorpus.count(TestCorpus.sentences(SEED, 3000, 2000));
        for (int size : new int[] {260, 261, 300, 777, 2000}) {
            LearnedVocab v = BpeLearner.learn(words, VocabOptions.DEFAULTS.withVocabSize(size));
            TokenizerSpec spec = v.spec();
            assertEquals(size, spec.size(), "size " + size);
            assertNull(v.stopReason(), "size " + size);
            assertEquals(List.of("<pad>", "<s>", "</s>", "<unk>"), spec.pieces().subList(0, 4));
            for (int b = 0; b < 256; b++) {
                assertEquals(TokenizerSpec.bytePiece(b), spec.pieces().get(4 + b));
            }
            assertEquals(size, v.specials() + 256 + v.characters() + v.merges());
            assertTrue(spec.byteFallback() && spec.addDummyPrefix());
            assertEquals(TokenizerSpec.Normalization.NFC, spec.normalization());
            assertEquals(TokenizerSpec.Type.BPE, spec.type());
            if (size > 260) {
                assertEquals(M, spec.pieces().get(260), "the marker is always a piece, and here the most frequent character");
            }
        }
    }

    @Test
    void frequentWordsBecomeOnePiece() {
        List<String> sentences = TestCorpus.sentences(SEED, 3000, 2000);
        LearnedVocab v = BpeLearner.learn(TestCorpus.count(sentences), VocabOptions.DEFAULTS.withVocabSize(1000));
        Tokenizer t = Tokenizer.create(v.spec());
        assertEquals(List.of(M + "the"), pieces(t, "the"));
        assertEquals(List.of(M + "der", M + "the", M + "der"), pieces(t, "der the der"));
        // Far fewer tokens than characters on the training text itself.
        long tokens = 0;
        long chars = 0;
        for (String s : sentences) {
            tokens += t.encode(s).length;
            chars += s.codePointCount(0, s.length());
        }
        assertTrue(tokens * 2 < chars, tokens + " tokens for " + chars + " characters");
    }

    @Test
    void runtimeReproducesTheTrainingSegmentationOfEveryWord() {
        // Several corpora and options, including coverage that leaves characters to bytes, short
        // maximum pieces, and a small alphabet where many pieces share substrings.
        List<WordCounts> corpora = List.of(TestCorpus.count(TestCorpus.sentences(SEED, 3000, 2000)),
                TestCorpus.count(TestCorpus.sentences(SEED + 1, 2000, 300)), smallAlphabet(SEED + 2));
        List<VocabOptions> options = List.of(VocabOptions.DEFAULTS.withVocabSize(1500),
                VocabOptions.DEFAULTS.withVocabSize(900).withCharacterCoverage(0.98).withMaxPieceLength(4),
                VocabOptions.DEFAULTS.withVocabSize(2500).withMinFrequency(1).withCharacterCoverage(1));
        for (int c = 0; c < corpora.size(); c++) {
            for (int o = 0; o < options.size(); o++) {
                WordCounts words = corpora.get(c);
                BpeLearner learner = new BpeLearner(words, options.get(o));
                LearnedVocab v = learner.run();
                assertEquals(v.size(), v.specials() + 256 + v.characters() + v.merges());
                Tokenizer t = Tokenizer.create(v.spec(), new Tokenizer.Options(0));
                for (Map.Entry<String, Long> e : words.sorted()) {
                    String word = e.getKey();
                    int[] expected = learner.trainingSegmentation(word);
                    // The word without its marker is a one-word text; the runtime adds the marker.
                    assertArrayEquals(expected, t.encode(word.substring(1)), "corpus " + c + ", options " + o + ", word " + escape(word));
                }
                for (String p : v.spec().pieces().subList(v.specials() + 256, v.size())) {
                    assertTrue(p.codePointCount(0, p.length()) <= options.get(o).maxPieceLength(), p);
                    assertFalse(VocabOptions.isReserved(p), "learned a reserved-looking piece " + p);
                }
            }
        }
    }

    /** Words over {a, b, c}: few characters, long shared substrings, pieces of many lengths. */
    private static WordCounts smallAlphabet(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        WordCounts w = new WordCounts();
        for (int i = 0; i < 3000; i++) {
            StringBuilder sb = new StringBuilder(M);
            int n = 1 + rnd.nextInt(12);
            for (int k = 0; k < n; k++) {
                sb.append("abc".charAt(rnd.nextInt(3)));
            }
            w.addWord(sb.toString(), 1 + rnd.nextInt(5));
        }
        return w;
    }

    @Test
    void anyUnicodeRoundTripsThroughTheRuntimeTokenizer() {
        LearnedVocab v = BpeLearner.learn(TestCorpus.count(TestCorpus.sentences(SEED, 3000, 2000)), VocabOptions.DEFAULTS.withVocabSize(1200));
        Tokenizer t = Tokenizer.create(v.spec());
        List<String> fixed = List.of("Gr\u00fc\u00dfe aus K\u00f6ln \ud83d\ude00\ud83c\udde9\ud83c\uddea", "\u4e2d\u6587\u6d4b\u8bd5 \u65e5\u672c\u8a9e",
                "ctrl \u0000\u0001\u001f\u007f\u0085\u009f end", "combining e\u0301 a\u0308 \u0301alone", "zero\u200bwidth\ufeff",
                "<s> </s> <pad> <unk> <0x41>", "\u2581marker\u2581inside", "  \t spaces \n\n everywhere  ",
                "lone \ud800 high \udc00 low", "\uffff\ufffe\ufffd", "\ud83d\udc69\u200d\ud83d\udc69\u200d\ud83d\udc67 family",
                "\u0915\u094d\u0937 \u0627\u0644\u0639\u0631\u0628\u064a\u0629", "");
        List<String> texts = new ArrayList<>(fixed);
        SplittableRandom rnd = new SplittableRandom(SEED);
        for (int i = 0; i < 3000; i++) {
            texts.add(TestCorpus.randomText(rnd, 24));
        }
        for (String x : texts) {
            int[] ids = t.encode(x);
            for (int id : ids) {
                assertTrue(id != t.unkId() && !t.isSpecial(id), "seed " + SEED + ", " + escape(x) + ": produced " + t.piece(id));
            }
            assertEquals(escape(t.normalize(x)), escape(t.decode(ids)), "seed " + SEED + ", text " + escape(x));
        }
        // Normalized text comes back char for char.
        String s = "\u201eGr\u00fc\u00dfe\u201c \u2013 sagte sie \ud83d\ude00 \u4e2d\u56fd e\u0301";
        String nfc = java.text.Normalizer.normalize(s, java.text.Normalizer.Form.NFC);
        assertEquals(nfc, t.decode(t.encode(s)));
    }

    @Test
    void piecesDoNotMixScriptsOrDigitsUnlessAsked() {
        WordCounts w = new WordCounts();
        w.addWord(M + "menu.", 50);
        w.addWord(M + "x86", 40);
        w.addWord(M + "2024", 30);
        w.addWord(M + "\u4e2d\u6587\u3072\u3089\u30ab\u30bf", 20); // Han, Hiragana, Katakana: one class
        w.addWord(M + "\u0436\u0443\u043a", 10); // Cyrillic
        VocabOptions all = VocabOptions.DEFAULTS.withVocabSize(400).withCharacterCoverage(1);
        Tokenizer split = Tokenizer.create(BpeLearner.learn(w, all).spec());
        assertEquals(List.of(M + "menu", "."), pieces(split, "menu."));
        assertEquals(List.of(M + "x", "86"), pieces(split, "x86"));
        assertEquals(List.of(M + "2024"), pieces(split, "2024"));
        assertEquals(List.of(M + "\u4e2d\u6587\u3072\u3089\u30ab\u30bf"), pieces(split, "\u4e2d\u6587\u3072\u3089\u30ab\u30bf"));
        assertEquals(List.of(M + "\u0436\u0443\u043a"), pieces(split, "\u0436\u0443\u043a"));
        Tokenizer mixed = Tokenizer.create(BpeLearner.learn(w, all.withSplitByScript(false)).spec());
        assertEquals(List.of(M + "menu."), pieces(mixed, "menu."));
        assertEquals(List.of(M + "x86"), pieces(mixed, "x86"));
        // A combining mark (script Inherited) joins its base: q + U+0301 has no precomposed form, so NFC keeps it.
        WordCounts marks = new WordCounts();
        marks.addWord(M + "q\u0301q\u0301", 10);
        Tokenizer t = Tokenizer.create(BpeLearner.learn(marks, all).spec());
        assertEquals(List.of(M + "q\u0301q\u0301"), pieces(t, "q\u0301q\u0301"));
    }

    @Test
    void uncoveredCharactersAreLeftToBytes() {
        WordCounts w = new WordCounts();
        w.addWord(M + "aaaa", 1000);
        w.addWord(M + "\u00e9", 1); // 1 of 5002 occurrences
        LearnedVocab v = BpeLearner.learn(w, VocabOptions.DEFAULTS.withVocabSize(300).withCharacterCoverage(0.999));
        assertEquals(1, v.droppedCharacters());
        assertFalse(v.spec().pieces().contains("\u00e9"));
        Tokenizer t = Tokenizer.create(v.spec());
        int[] ids = t.encode("\u00e9");
        assertEquals(3, ids.length, "▁ then the two bytes of é");
        assertEquals(0xC3, t.byteValue(ids[1]));
        assertEquals(0xA9, t.byteValue(ids[2]));
        // At full coverage it gets a piece.
        assertTrue(BpeLearner.learn(w, VocabOptions.DEFAULTS.withVocabSize(300).withCharacterCoverage(1)).spec().pieces().contains("\u00e9"));
    }

    @Test
    void charactersBeyondTheRoomAreDroppedRarestFirstButTheMarkerStays() {
        WordCounts w = new WordCounts();
        w.addWord(M + "abcdef", 10);
        w.addWord(M + "bcdef", 10);
        // Room for 3 characters: ▁ plus the two most frequent (b..f 20 each, tie by code point: b, c).
        LearnedVocab v = BpeLearner.learn(w, VocabOptions.DEFAULTS.withVocabSize(263).withCharacterCoverage(1));
        assertEquals(List.of("b", "c", M), v.spec().pieces().subList(260, 263));
        assertEquals(4, v.droppedCharacters());
        assertEquals(263, v.size());
    }

    @Test
    void learningIsDeterministicWhateverTheInsertionOrder() {
        List<String> sentences = TestCorpus.sentences(SEED, 2000, 1500);
        String first = VocabFiles.toJson(BpeLearner.learn(TestCorpus.count(sentences), VocabOptions.DEFAULTS.withVocabSize(900)).spec());
        List<String> shuffled = new ArrayList<>(sentences);
        Collections.shuffle(shuffled, new java.util.Random(SEED));
        String second = VocabFiles.toJson(BpeLearner.learn(TestCorpus.count(shuffled), VocabOptions.DEFAULTS.withVocabSize(900)).spec());
        assertEquals(first, second);
        String third = VocabFiles.toJson(BpeLearner.learn(TestCorpus.count(sentences), VocabOptions.DEFAULTS.withVocabSize(900)).spec());
        assertEquals(first, third);
    }

    @Test
    void customSpecialsTakeTheFirstIds() {
        LearnedVocab v = BpeLearner.learn(lowLowerNewestWidest(),
                VocabOptions.DEFAULTS.withVocabSize(270).withSpecials(List.of("<unk>", "<s>", "</s>", "<pad>", "<2en>")));
        assertEquals(List.of("<unk>", "<s>", "</s>", "<pad>", "<2en>"), v.spec().pieces().subList(0, 5));
        assertEquals(TokenizerSpec.bytePiece(0), v.spec().pieces().get(5));
        assertEquals(0, Tokenizer.create(v.spec()).unkId());
    }

    @Test
    void emptyTableGivesSpecialsAndBytesOnly() {
        LearnedVocab v = BpeLearner.learn(new WordCounts(), VocabOptions.DEFAULTS);
        assertEquals(260, v.size());
        assertNotNull(v.stopReason());
        Tokenizer t = Tokenizer.create(v.spec());
        assertEquals("abc \u00e9", t.decode(t.encode("abc \u00e9")));
    }

    @Test
    void badOptionsAreRejectedWithTheirName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> VocabOptions.DEFAULTS.withVocabSize(259))
                .getMessage().contains("vocabSize"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> VocabOptions.DEFAULTS.withMinFrequency(0))
                .getMessage().contains("minFrequency"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> VocabOptions.DEFAULTS.withMaxPieceLength(0))
                .getMessage().contains("maxPieceLength"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> VocabOptions.DEFAULTS.withCharacterCoverage(1.5))
                .getMessage().contains("characterCoverage"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> VocabOptions.DEFAULTS.withSpecials(List.of("pad")))
                .getMessage().contains("pad"));
        assertThrows(IllegalArgumentException.class, () -> VocabOptions.DEFAULTS.withSpecials(List.of("<0x41>")));
        assertThrows(IllegalArgumentException.class, () -> VocabOptions.DEFAULTS.withSpecials(List.of("<s>", "<s>")));
    }

    @Test
    void wordCountsNormalizeLikeTheRuntime() {
        WordCounts w = new WordCounts();
        w.addText("  Cafe\u0301\tcaf\u00e9 \u00a0 x\u2581y ");
        assertEquals(1, w.count(M + "Caf\u00e9"), "NFC composes e + U+0301");
        assertEquals(1, w.count(M + "caf\u00e9"));
        assertEquals(1, w.count(M + "x"), "▁ in input is a space");
        assertEquals(1, w.count(M + "y"));
        assertEquals(4, w.total());
        assertThrows(IllegalArgumentException.class, () -> w.addWord("abc", 1), "no marker");
        assertThrows(IllegalArgumentException.class, () -> w.addWord(M + "a b", 1), "a space");
        assertThrows(IllegalArgumentException.class, () -> w.addWord(M + "e\u0301", 1), "not NFC");
        assertThrows(IllegalArgumentException.class, () -> w.addWord(M + "a", 0), "count");
    }
}

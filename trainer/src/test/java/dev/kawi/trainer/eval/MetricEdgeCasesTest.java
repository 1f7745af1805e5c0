package dev.kawi.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Corners of BLEU and chrF; expected values are sacreBLEU 2.6.0's, quoted in the comments. */
class MetricEdgeCasesTest {
    @Test
    void emptyCorpusScoresZeroWithNeutralBrevityPenalty() {
        // sacreBLEU itself refuses an empty list; its compute_bleu on all-zero statistics gives this.
        BleuScore b = new Bleu().corpusScore(List.of(), List.of());
        assertEquals(0.0, b.score());
        assertEquals(1.0, b.bp());
        assertEquals(0.0, b.ratio());
        assertEquals("BLEU = 0.00 0.0/0.0/0.0/0.0 (BP = 1.000 ratio = 0.000 hyp_len = 0 ref_len = 0)", b.format());
        assertEquals(b, new Bleu().accumulator().score());
        ChrfScore c = new Chrf().corpusScore(List.of(), List.of());
        assertEquals(0.0, c.score());
        assertEquals("chrF2 = 0.00", c.format());
    }

    @Test
    void allEmptyHypothesesScoreZeroWithZeroBrevityPenalty() {
        List<String> refs = List.of("a b", "c", "d e f");
        BleuScore b = new Bleu().corpusScore(List.of("", "", ""), refs);
        assertEquals("BLEU = 0.00 0.0/0.0/0.0/0.0 (BP = 0.000 ratio = 0.000 hyp_len = 0 ref_len = 6)", b.format());
        assertEquals(0.0, b.bp());
        assertEquals(0.0, new Chrf().corpusScore(List.of("", "", ""), refs).score());
        // Only whitespace is empty too.
        assertEquals(b, new Bleu().corpusScore(List.of(" ", "\t", "\u00a0\u3000"), refs));
    }

    @Test
    void zeroMatchesAtOrderFourUnderEachSmoothing() {
        // Unigrams 5/5, bigrams 2/4, trigrams 1/3, 4-grams 0/2.
        List<String> hyp = List.of("a b c d e");
        List<String> ref = List.of("a b c e d");
        BleuScore exp = new Bleu().corpusScore(hyp, ref);
        assertEquals(List.of(5L, 2L, 1L, 0L), exp.stats().counts());
        assertEquals(List.of(5L, 4L, 3L, 2L), exp.stats().totals());
        assertEquals(45.180100180492246, exp.score(), 1e-12); // 4-gram precision 100 / (2 * 2) = 25
        assertEquals("BLEU = 45.18 100.0/50.0/33.3/25.0 (BP = 1.000 ratio = 1.000 hyp_len = 5 ref_len = 5)", exp.format());
        BleuOptions o = BleuOptions.corpus();
        assertEquals(0.0, new Bleu(o.withSmoothing(BleuOptions.Smoothing.NONE, Double.NaN)).corpusScore(hyp, ref).score());
        assertEquals("BLEU = 0.00 100.0/50.0/33.3/0.0 (BP = 1.000 ratio = 1.000 hyp_len = 5 ref_len = 5)",
                new Bleu(o.withSmoothing(BleuOptions.Smoothing.NONE, Double.NaN)).corpusScore(hyp, ref).format());
        assertEquals(30.213753973567677, new Bleu(o.withSmoothing(BleuOptions.Smoothing.FLOOR, Double.NaN)).corpusScore(hyp, ref).score(), 1e-12);
        assertEquals(56.234132519034915, new Bleu(o.withSmoothing(BleuOptions.Smoothing.ADD_K, Double.NaN)).corpusScore(hyp, ref).score(), 1e-12);
    }

    @Test
    void shortSegmentsNeedEffectiveOrder() {
        // No 4-grams at all: corpus BLEU is 0, sentence BLEU (effective order) is 100.
        assertEquals(0.0, new Bleu().corpusScore(List.of("a b c"), List.of("a b c")).score());
        BleuScore s = new Bleu(BleuOptions.sentence()).sentenceScore("a b c", "a b c");
        assertEquals(100.00000000000004, s.score(), 1e-12);
        assertEquals("BLEU = 100.00 100.0/100.0/100.0/0.0 (BP = 1.000 ratio = 1.000 hyp_len = 3 ref_len = 3)", s.format());
        assertEquals("BLEU = 100.00 100.0/0.0/0.0/0.0 (BP = 1.000 ratio = 1.000 hyp_len = 1 ref_len = 1)",
                new Bleu(BleuOptions.sentence()).sentenceScore("Hallo", "Hallo").format());
    }

    @Test
    void chrfCountsCodePointsNotChars() {
        Chrf c = new Chrf();
        assertEquals(100.0, c.sentenceScore("😀", "😀").score());
        assertEquals(83.33333333333334, c.sentenceScore("😀😀", "😀").score(), 1e-12);
        assertEquals(100.0, c.sentenceScore("a😀b", "a😀 b").score()); // whitespace is removed
        ChrfStats s = c.stats("😀😀", "😀");
        assertEquals(List.of(2L, 0L, 0L, 0L, 0L, 0L), s.hyp(), "a reference without n-grams of an order counts no hypothesis ones");
        assertEquals(List.of(1L, 0L, 0L, 0L, 0L, 0L), s.ref());
    }

    @Test
    void accumulatorsMergeAndRefuseMismatchedOrders() {
        Random rnd = new Random(7);
        List<String> hyps = new ArrayList<>();
        List<String> refs = new ArrayList<>();
        String[] words = {"the", "a", "cat", "dog", "sat", "on", "mat", ".", ",", "1,5", "x-1"};
        for (int i = 0; i < 200; i++) {
            hyps.add(sentence(rnd, words));
            refs.add(sentence(rnd, words));
        }
        Bleu bleu = new Bleu();
        BleuAccumulator[] parts = {bleu.accumulator(), bleu.accumulator(), bleu.accumulator()};
        for (int i = 0; i < hyps.size(); i++) {
            parts[i % 3].add(hyps.get(i), refs.get(i));
        }
        BleuAccumulator total = bleu.accumulator();
        for (BleuAccumulator p : parts) {
            total.add(p.stats());
        }
        assertEquals(bleu.corpusScore(hyps, refs), total.score(), "seed 7");
        assertTrue(total.score().score() > 0, "seed 7");
        BleuAccumulator order2 = new Bleu(BleuOptions.corpus().withMaxOrder(2)).accumulator();
        assertThrows(IllegalArgumentException.class, () -> order2.add(total.stats()));
        assertThrows(IllegalArgumentException.class, () -> bleu.corpusScore(List.of("a"), List.of()));
        assertThrows(IllegalArgumentException.class, () -> new Chrf().corpusScore(List.of(), List.of("a")));
        ChrfAccumulator c = new Chrf().accumulator();
        assertThrows(IllegalArgumentException.class, () -> c.add(new Chrf(ChrfOptions.chrfPlusPlus()).stats("a", "a")));
    }

    private static String sentence(Random rnd, String[] words) {
        StringBuilder sb = new StringBuilder();
        for (int k = rnd.nextInt(12); k >= 0; k--) {
            sb.append(words[rnd.nextInt(words.length)]).append(' ');
        }
        return sb.toString();
    }

    @Test
    void formattingRoundsLikePython() {
        // f"{x:.2f}" rounds the exact binary value, ties to even.
        assertEquals("0.12", PyText.fixed(0.125, 2));
        assertEquals("0.38", PyText.fixed(0.375, 2));
        assertEquals("2.67", PyText.fixed(2.675, 2));
        assertEquals("100.00", PyText.fixed(99.995, 2));
        assertEquals("27.31", PyText.fixed(27.314999999999998, 2));
        assertEquals("27.315", PyText.fixed(27.314999999999998, 3));
        assertEquals("0", PyText.fixed(0.5, 0));
        assertEquals("2", PyText.fixed(1.5, 0));
        assertEquals("2", PyText.fixed(2.5, 0));
        assertEquals("0.000", PyText.fixed(0, 3));
    }

    @Test
    void pythonWhitespaceIsWiderThanJavas() {
        for (int cp : new int[] {0x85, 0xa0, 0x2007, 0x202f, 0x1c, 0x3000, 0x2028}) {
            assertTrue(PyText.isSpace(cp), Integer.toHexString(cp));
        }
        for (int cp : new int[] {0x200b, 0xfeff, 0x180e, 'a', 0x84, 0x2030}) {
            assertTrue(!PyText.isSpace(cp), Integer.toHexString(cp));
        }
        assertEquals(List.of("a", "b", "c"), PyText.split("\u00a0a\u0085b\u202f c \t"));
        assertEquals("x", PyText.rstrip("x \u3000\r"));
    }

    @Test
    void optionsAreValidatedAndSigned() {
        assertThrows(IllegalArgumentException.class, () -> BleuOptions.corpus().withMaxOrder(0));
        assertThrows(IllegalArgumentException.class, () -> BleuOptions.corpus().withSmoothing(BleuOptions.Smoothing.FLOOR, -1));
        assertThrows(IllegalArgumentException.class, () -> BleuOptions.Smoothing.parse("laplace"));
        assertThrows(IllegalArgumentException.class, () -> ChrfOptions.defaults().withCharOrder(0));
        assertEquals("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp", BleuOptions.corpus().signature());
        assertEquals("nrefs:1|case:lc|eff:yes|tok:13a|smooth:floor[0.10]",
                BleuOptions.sentence().withLowercase(true).withSmoothing(BleuOptions.Smoothing.FLOOR, Double.NaN).signature());
        assertEquals("nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no", ChrfOptions.defaults().signature());
        assertEquals("nrefs:1|case:lc|eff:no|nc:6|nw:2|space:yes",
                ChrfOptions.chrfPlusPlus().withEpsSmoothing(true).withWhitespace(true).withLowercase(true).signature());
        assertEquals("chrF2++", ChrfOptions.chrfPlusPlus().name());
    }
}

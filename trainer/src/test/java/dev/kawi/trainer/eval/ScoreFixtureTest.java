package dev.kawi.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.weights.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Kawi's BLEU, chrF and 13a tokenizer against sacreBLEU's numbers for 15 systems of 400 real
 * sentence pairs and 5 small made-up corpora for corner cases (fixture made by {@code src/test/fixtures/make_score_fixtures.py}): statistics
 * and formatted lines exact, scores within 1e-9 relative.
 */
class ScoreFixtureTest {
    private static final Path FIXTURE = Path.of("src/test/resources/eval/sacrebleu-fixtures.json");
    private static final double REL_TOL = 1e-9;

    private static Map<String, Object> fixture;
    private static List<String> refs;
    private static double maxRelError;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void load() throws Exception {
        fixture = (Map<String, Object>) Json.parse(Files.readString(FIXTURE, StandardCharsets.UTF_8));
        refs = strings(fixture.get("references"));
        assertEquals(400, refs.size());
        assertTrue(((String) fixture.get("sacrebleu_version")).startsWith("2."), "fixture made with sacreBLEU 2.x");
    }

    @AfterAll
    static void report() {
        System.out.printf("ScoreFixtureTest: largest relative difference from sacreBLEU %.3g%n", maxRelError);
    }

    @Test
    void tokenizerMatchesSacrebleuOnCraftedCases() {
        List<?> cases = (List<?>) fixture.get("tokenizer_cases");
        assertTrue(cases.size() > 40);
        for (Object o : cases) {
            Map<?, ?> c = (Map<?, ?>) o;
            assertEquals(c.get("output"), Tokenizer13a.tokenize((String) c.get("input")), () -> "input " + Json.write(c.get("input")));
        }
    }

    @Test
    void tokenizerMatchesSacrebleuOnSampledReferences() {
        List<String> expected = strings(fixture.get("references_13a"));
        int every = ((Number) fixture.get("sentence_every")).intValue();
        for (int k = 0; k < expected.size(); k++) {
            assertEquals(expected.get(k), Tokenizer13a.tokenize(PyText.rstrip(refs.get(k * every))), "reference " + k * every);
        }
    }

    @TestFactory
    Stream<DynamicTest> everySystem() {
        List<?> systems = (List<?>) fixture.get("systems");
        assertEquals(20, systems.size());
        return systems.stream().map(o -> (Map<?, ?>) o).map(s -> DynamicTest.dynamicTest((String) s.get("name"), () -> checkSystem(s)));
    }

    private static void checkSystem(Map<?, ?> sys) {
        String name = (String) sys.get("name");
        List<String> hyps = strings(sys.get("hypotheses"));
        // The made-up corpora for corner cases carry their own references.
        List<String> refs = sys.containsKey("references") ? strings(sys.get("references")) : ScoreFixtureTest.refs;
        assertEquals(refs.size(), hyps.size());

        BleuScore bleu = new Bleu().corpusScore(hyps, refs);
        checkBleu(name + " BLEU", (Map<?, ?>) sys.get("bleu"), bleu, 0);
        ChrfScore chrf = new Chrf().corpusScore(hyps, refs);
        Map<?, ?> chrfExpected = (Map<?, ?>) sys.get("chrf");
        assertClose(num(chrfExpected.get("score")), chrf.score(), name + " chrF");
        assertEquals(chrfExpected.get("formatted"), chrf.format(), name + " chrF");

        // The streaming accumulators, fed in two halves and merged, give the same statistics.
        Bleu b = new Bleu();
        Chrf c = new Chrf();
        BleuAccumulator b1 = b.accumulator();
        BleuAccumulator b2 = b.accumulator();
        ChrfAccumulator c1 = c.accumulator();
        ChrfAccumulator c2 = c.accumulator();
        for (int i = 0; i < hyps.size(); i++) {
            (i < hyps.size() / 3 ? b1 : b2).add(hyps.get(i), refs.get(i));
            (i < hyps.size() / 3 ? c1 : c2).add(hyps.get(i), refs.get(i));
        }
        b1.add(b2.stats());
        c1.add(c2.stats());
        assertEquals(bleu, b1.score(), name);
        assertEquals(chrf, c1.score(), name);

        Object variants = sys.get("variants");
        if (variants != null) {
            for (Object v : (List<?>) variants) {
                checkVariant(name, hyps, refs, (Map<?, ?>) v);
            }
        }

        int every = sys.containsKey("references") ? 1 : ((Number) fixture.get("sentence_every")).intValue();
        Bleu sentenceBleu = new Bleu(BleuOptions.sentence());
        for (Object o : (List<?>) sys.get("sentences")) {
            Map<?, ?> s = (Map<?, ?>) o;
            int i = ((Number) s.get("index")).intValue();
            assertEquals(0, i % every);
            String where = name + " sentence " + i;
            assertEquals(s.get("hyp_13a"), Tokenizer13a.tokenize(PyText.rstrip(hyps.get(i))), where);
            checkBleu(where + " BLEU", (Map<?, ?>) s.get("bleu"), sentenceBleu.sentenceScore(hyps.get(i), refs.get(i)), 0);
            assertClose(num(s.get("chrf")), c.sentenceScore(hyps.get(i), refs.get(i)).score(), where + " chrF");
        }
    }

    private static void checkVariant(String system, List<String> hyps, List<String> refs, Map<?, ?> v) {
        Map<?, ?> opts = (Map<?, ?>) v.get("options");
        String where = system + " " + v.get("metric") + " " + Json.write(opts);
        if (v.get("metric").equals("bleu")) {
            BleuOptions o = BleuOptions.corpus();
            for (Map.Entry<?, ?> e : opts.entrySet()) {
                Object x = e.getValue();
                o = switch ((String) e.getKey()) {
                    case "smooth_method" -> o.withSmoothing(BleuOptions.Smoothing.parse((String) x), o.smoothValue());
                    case "smooth_value" -> o.withSmoothing(o.smoothing(), num(x));
                    case "effective_order" -> o.withEffectiveOrder((Boolean) x);
                    case "lowercase" -> o.withLowercase((Boolean) x);
                    case "tokenize" -> o.withTokenizer(BleuOptions.BleuTokenizer.parse((String) x));
                    case "max_ngram_order" -> o.withMaxOrder(((Number) x).intValue());
                    default -> throw new AssertionError("unknown option " + e.getKey());
                };
            }
            // sacreBLEU's add-k adds k to the counts and totals of orders >= 2 in the reported score.
            double added = o.smoothing() == BleuOptions.Smoothing.ADD_K ? o.effectiveSmoothValue() : 0;
            BleuScore s = new Bleu(o).corpusScore(hyps, refs);
            checkBleu(where, v, s, added);
        } else {
            ChrfOptions o = ChrfOptions.defaults();
            for (Map.Entry<?, ?> e : opts.entrySet()) {
                Object x = e.getValue();
                o = switch ((String) e.getKey()) {
                    case "eps_smoothing" -> o.withEpsSmoothing((Boolean) x);
                    case "word_order" -> o.withWordOrder(((Number) x).intValue());
                    case "char_order" -> o.withCharOrder(((Number) x).intValue());
                    case "beta" -> o.withBeta(((Number) x).intValue());
                    case "whitespace" -> o.withWhitespace((Boolean) x);
                    case "lowercase" -> o.withLowercase((Boolean) x);
                    default -> throw new AssertionError("unknown option " + e.getKey());
                };
            }
            ChrfScore s = new Chrf(o).corpusScore(hyps, refs);
            assertClose(num(v.get("score")), s.score(), where);
            assertEquals(v.get("formatted"), s.format(), where);
        }
    }

    private static void checkBleu(String where, Map<?, ?> e, BleuScore s, double addK) {
        assertEquals(((Number) e.get("sys_len")).longValue(), s.hypLen(), where + " hyp_len");
        assertEquals(((Number) e.get("ref_len")).longValue(), s.refLen(), where + " ref_len");
        List<?> counts = (List<?>) e.get("counts");
        List<?> totals = (List<?>) e.get("totals");
        boolean anyMatch = s.stats().counts().stream().anyMatch(c -> c > 0);
        for (int n = 0; n < s.stats().maxOrder(); n++) {
            // add-k's adjusted counts appear only once sacreBLEU reaches the smoothing loop.
            double k = n > 0 && anyMatch ? addK : 0;
            assertEquals(num(counts.get(n)), s.stats().counts().get(n) + k, where + " count " + (n + 1));
            assertEquals(num(totals.get(n)), s.stats().totals().get(n) + k, where + " total " + (n + 1));
        }
        assertClose(num(e.get("score")), s.score(), where + " score");
        if (e.containsKey("precisions")) {
            List<?> p = (List<?>) e.get("precisions");
            assertEquals(p.size(), s.precisions().size(), where);
            for (int n = 0; n < p.size(); n++) {
                assertClose(num(p.get(n)), s.precisions().get(n), where + " precision " + (n + 1));
            }
            assertClose(num(e.get("bp")), s.bp(), where + " bp");
            assertClose(num(e.get("ratio")), s.ratio(), where + " ratio");
        }
        assertEquals(e.get("formatted"), s.format(), where);
    }

    private static void assertClose(double expected, double actual, String where) {
        if (expected == actual) {
            return;
        }
        double rel = Math.abs(actual - expected) / Math.abs(expected);
        maxRelError = Math.max(maxRelError, rel);
        assertTrue(rel <= REL_TOL, () -> where + ": expected " + expected + " but got " + actual + " (relative difference " + rel + ")");
    }

    private static double num(Object o) {
        return ((Number) o).doubleValue();
    }

    private static List<String> strings(Object o) {
        List<String> out = new ArrayList<>();
        for (Object x : (List<?>) o) {
            out.add((String) x);
        }
        return out;
    }
}

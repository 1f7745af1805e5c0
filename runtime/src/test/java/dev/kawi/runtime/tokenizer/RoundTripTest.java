package dev.kawi.runtime.tokenizer;

import static dev.kawi.runtime.tokenizer.TestSpecs.escape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.weights.TokenizerSpec;
import dev.kawi.weights.TokenizerSpec.Normalization;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** decode(encode(x)) == normalize(x) for any text, and == x exactly for normalized text. */
class RoundTripTest {
    private static final long SEED = 1234L;

    /** Every tokenizer kind: BPE and unigram, NFC or not, dummy prefix or not, cache or not. */
    private static List<Tokenizer> tokenizers() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        TestSpecs.Builder bpe = TestSpecs.randomBpe(rnd, 300);
        TestSpecs.Builder uni = TestSpecs.randomUnigram(rnd, 300);
        List<Tokenizer> all = new ArrayList<>();
        for (Normalization norm : Normalization.values()) {
            for (boolean prefix : new boolean[] {true, false}) {
                for (TokenizerSpec spec : new TokenizerSpec[] {bpe.bpe(norm, true, prefix), uni.unigram(norm, true, prefix),
                    TestSpecs.fixedBpe().bpe(norm, true, prefix), TestSpecs.fixedUnigram(true).unigram(norm, true, prefix)}) {
                    all.add(Tokenizer.create(spec));
                    all.add(Tokenizer.create(spec, new Tokenizer.Options(0)));
                }
            }
        }
        return all;
    }

    @Test
    void anyTextRoundTripsToItsNormalizedFormWithoutUnk() {
        List<Tokenizer> tokenizers = tokenizers();
        SplittableRandom rnd = new SplittableRandom(SEED);
        for (int i = 0; i < 3000; i++) {
            String x = TestSpecs.randomText(rnd, 16);
            for (int k = 0; k < tokenizers.size(); k++) {
                Tokenizer t = tokenizers.get(k);
                String msg = "seed " + SEED + ", text " + i + " " + escape(x) + ", tokenizer " + k + " " + t;
                int[] ids = t.encode(x);
                for (int id : ids) {
                    assertTrue(id != t.unkId() && !t.isSpecial(id), msg + ": produced " + id + " " + t.piece(id));
                }
                assertEquals(escape(t.normalize(x)), escape(t.decode(ids)), msg);
                assertArrayEquals(ids, t.encode(x), msg + " (deterministic)");
            }
        }
    }

    @Test
    void normalizedTextRoundTripsExactly() {
        List<Tokenizer> tokenizers = tokenizers();
        SplittableRandom rnd = new SplittableRandom(SEED + 1);
        for (int i = 0; i < 3000; i++) {
            // Normalized by construction: NFC, single spaces between words, nothing at the ends.
            String raw = TestSpecs.randomText(rnd, 16).replaceAll("[\ud800-\udfff]", "x"); // unpaired surrogates only
            String x = java.text.Normalizer.normalize(raw, java.text.Normalizer.Form.NFC)
                    .replaceAll("[\\p{IsWhite_Space}\u2581]+", " ").strip();
            if (!x.isEmpty() && (x.charAt(0) == ' ' || x.charAt(x.length() - 1) == ' ')) {
                continue; // strip() trims only what it counts as whitespace
            }
            for (Tokenizer t : tokenizers) {
                assertEquals(escape(x), escape(t.decode(t.encode(x))), "seed " + (SEED + 1) + ", text " + escape(x) + ", " + t);
            }
        }
    }

    @Test
    void germanSentenceRoundTripsExactly() {
        String s = "\u201eGr\u00fc\u00dfe aus K\u00f6ln\u201c, sagte sie \u2013 und l\u00e4chelte \ud83d\ude00.";
        for (Tokenizer t : tokenizers()) {
            assertEquals(s, t.decode(t.encode(s)), t.toString());
        }
    }

    @Test
    void longTextWithoutSpacesIsNotQuadratic() {
        // 200k chars in one word (e.g. CJK, which has no spaces): quadratic work would take minutes.
        SplittableRandom rnd = new SplittableRandom(SEED + 2);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 200_000) {
            String f = TestSpecs.FRAGMENTS[rnd.nextInt(TestSpecs.FRAGMENTS.length)];
            if (f.isBlank() || f.equals("\u2581") || f.equals("\u0085") || f.equals("\u00a0") || f.equals("\u3000")) {
                continue;
            }
            sb.append(f);
        }
        String x = sb.toString();
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            for (Tokenizer t : tokenizers()) {
                assertEquals(t.normalize(x), t.decode(t.encode(x)), t.toString());
            }
        });
    }
}

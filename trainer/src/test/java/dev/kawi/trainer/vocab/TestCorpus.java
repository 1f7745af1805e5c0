package dev.kawi.trainer.vocab;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Seeded synthetic text for the learner's tests. */
final class TestCorpus {
    private TestCorpus() {
    }

    /** Letters words are made of, weighted by repetition; includes umlauts and ß so NFC matters. */
    private static final String LETTERS = "eeeeeennnnrrrriiiisssttttaaaadhhhuullccggmmoobbffkkwwzpvüäößyj";

    /**
     * Sentences of Zipf-distributed words from a random lexicon of {@code lexicon} words; "the" and
     * "der" are the two most frequent words; one word in 200 is a rare token (emoji, CJK, a
     * combining sequence, digits, punctuation), so coverage and byte fallback are exercised.
     */
    static List<String> sentences(long seed, int count, int lexicon) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<String> words = new ArrayList<>();
        words.add("the");
        words.add("der");
        while (words.size() < lexicon) {
            int len = 1 + rnd.nextInt(9);
            StringBuilder w = new StringBuilder();
            for (int i = 0; i < len; i++) {
                w.append(LETTERS.charAt(rnd.nextInt(LETTERS.length())));
            }
            if (rnd.nextInt(8) == 0) {
                w.setCharAt(0, Character.toUpperCase(w.charAt(0)));
            }
            if (rnd.nextInt(10) == 0) {
                w.append(rnd.nextBoolean() ? "." : ",");
            }
            words.add(w.toString());
        }
        double[] cdf = new double[lexicon];
        double sum = 0;
        for (int i = 0; i < lexicon; i++) {
            sum += 1.0 / (i + 1);
            cdf[i] = sum;
        }
        String[] rare = {"\ud83d\ude00", "\u4e2d\u56fd", "e\u0301t\u00e9", "2024", "\u00bfqu\u00e9?", "\u0915\u094d\u0937", "<br>", "<s>", "a\u200bb"};
        List<String> out = new ArrayList<>(count);
        for (int s = 0; s < count; s++) {
            int n = 3 + rnd.nextInt(10);
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < n; k++) {
                if (k > 0) {
                    sb.append(' ');
                }
                if (rnd.nextInt(200) == 0) {
                    sb.append(rare[rnd.nextInt(rare.length)]);
                    continue;
                }
                double u = rnd.nextDouble() * sum;
                int lo = 0;
                int hi = lexicon - 1;
                while (lo < hi) {
                    int mid = (lo + hi) >>> 1;
                    if (cdf[mid] < u) {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                sb.append(words.get(lo));
            }
            out.add(sb.toString());
        }
        return out;
    }

    /** The word table of sentences. */
    static WordCounts count(List<String> sentences) {
        WordCounts w = new WordCounts();
        for (String s : sentences) {
            w.addText(s);
        }
        return w;
    }

    /**
     * Random text of up to maxLen code points mixing what a tokenizer must survive: ASCII, Latin-1,
     * emoji, CJK, controls, combining marks, the marker ▁, assorted whitespace and unpaired
     * surrogates.
     */
    static String randomText(SplittableRandom rnd, int maxLen) {
        int n = rnd.nextInt(maxLen + 1);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            switch (rnd.nextInt(11)) {
                case 0, 1, 2 -> sb.append((char) ('a' + rnd.nextInt(26)));
                case 3 -> sb.append(' ');
                case 4 -> sb.appendCodePoint(0x1F600 + rnd.nextInt(80));
                case 5 -> sb.appendCodePoint(0x4E00 + rnd.nextInt(0x5000));
                case 6 -> sb.append((char) rnd.nextInt(0x20));
                case 7 -> sb.append((char) (0x300 + rnd.nextInt(0x70)));
                case 8 -> sb.append("\u2581\t\u00a0\u3000\n".charAt(rnd.nextInt(5)));
                case 9 -> sb.append((char) (0xD800 + rnd.nextInt(0x800)));
                default -> sb.append((char) (0xA1 + rnd.nextInt(0x15F)));
            }
        }
        return sb.toString();
    }

    /** s with non-ASCII and control characters as \\uXXXX, for readable failure messages. */
    static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c >= 0x20 && c < 0x7F) {
                sb.append(c);
            } else {
                sb.append(String.format("\\u%04X", (int) c));
            }
        }
        return sb.toString();
    }
}

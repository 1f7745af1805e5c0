package dev.kawi.runtime.tokenizer;

import java.util.Arrays;

/**
 * Unigram: the segmentation of the word into pieces with the highest sum of piece scores,
 * found by Viterbi over the lattice of all pieces matching at each code point boundary.
 *
 * <p>Where no single-code-point piece covers a character, the lattice gets a fallback edge over
 * just that character, scored as the lowest score of a text piece (not special, not a byte
 * piece) minus 10, a penalty that makes paths through real pieces strongly preferred (the
 * SentencePiece convention); after the search, fallback edges become the
 * character's byte pieces or the unknown piece. Every boundary is therefore reachable.
 *
 * <p>Ties: candidates are tried by start position ascending, then piece length ascending, and
 * only a strictly better score replaces the best path into a position; so among equal-score
 * segmentations the one whose last piece is longest wins, recursively from the end.
 *
 * <p>Pieces are found with a character trie stored in one {@link LongIntMap} keyed by
 * {@code node << 16 | char}.
 */
final class UnigramSegmenter implements Segmenter {
    /** Score margin below the lowest piece score for a character without a piece. */
    static final double FALLBACK_PENALTY = 10.0;

    private static final int FALLBACK = -1;

    private final LongIntMap children; // (node << 16 | char) -> child node; node 0 is the root
    private final int[] nodePiece;     // node -> id of the piece ending there, or -1
    private final float[] scores;      // id -> score
    private final double fallbackScore;
    private final CharFallback fallback;

    UnigramSegmenter(String[] pieces, boolean[] textual, float[] scores, CharFallback fallback) {
        this.scores = scores.clone();
        this.fallback = fallback;
        long chars = 0;
        float min = Float.POSITIVE_INFINITY;
        for (int id = 0; id < pieces.length; id++) {
            if (textual[id]) {
                chars += pieces[id].length();
                min = Math.min(min, scores[id]);
            }
        }
        if (min == Float.POSITIVE_INFINITY) {
            min = 0; // no piece can match text: every character falls back
        }
        if (chars >= Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("vocabulary too large for the trie: " + chars + " characters");
        }
        fallbackScore = (double) min - FALLBACK_PENALTY;
        children = new LongIntMap((int) chars);
        int[] ends = new int[(int) chars + 1];
        Arrays.fill(ends, -1);
        int nodes = 1;
        for (int id = 0; id < pieces.length; id++) {
            if (!textual[id]) {
                continue; // special and byte pieces never match text
            }
            String p = pieces[id];
            int node = 0;
            for (int i = 0; i < p.length(); i++) {
                long key = ((long) node << 16) | p.charAt(i);
                int child = children.get(key);
                if (child < 0) {
                    child = nodes++;
                    children.put(key, child);
                }
                node = child;
            }
            ends[node] = id;
        }
        nodePiece = Arrays.copyOf(ends, nodes);
    }

    @Override
    public void segment(String word, IntList out) {
        int len = word.length();
        double[] best = new double[len + 1];  // (len+1) best score of a path into each char index
        int[] backId = new int[len + 1];      // (len+1) last piece of that path, or FALLBACK
        int[] backStart = new int[len + 1];   // (len+1) where that last piece starts
        Arrays.fill(best, Double.NEGATIVE_INFINITY);
        best[0] = 0;
        for (int i = 0; i < len; ) {
            int cpEnd = i + Character.charCount(word.codePointAt(i));
            double base = best[i];
            boolean covered = false;
            int node = 0;
            for (int j = i; j < len; j++) {
                node = children.get(((long) node << 16) | word.charAt(j));
                if (node < 0) {
                    break;
                }
                int id = nodePiece[node];
                int end = j + 1;
                // Only end at a code point boundary (a piece could end in a lone high surrogate).
                if (id >= 0 && !(end < len && Character.isHighSurrogate(word.charAt(j)) && Character.isLowSurrogate(word.charAt(end)))) {
                    double s = base + scores[id];
                    if (s > best[end]) {
                        best[end] = s;
                        backId[end] = id;
                        backStart[end] = i;
                    }
                    covered |= end == cpEnd;
                }
            }
            if (!covered) {
                double s = base + fallbackScore;
                if (s > best[cpEnd]) {
                    best[cpEnd] = s;
                    backId[cpEnd] = FALLBACK;
                    backStart[cpEnd] = i;
                }
            }
            i = cpEnd;
        }
        // Backtrack from the end, collecting the path's starts, then emit it front to back.
        int count = 0;
        int[] path = new int[len];
        for (int e = len; e > 0; e = backStart[e]) {
            path[count++] = e;
        }
        for (int k = count - 1; k >= 0; k--) {
            int e = path[k];
            int id = backId[e];
            if (id == FALLBACK) {
                fallback.append(word.codePointAt(backStart[e]), out);
            } else {
                out.add(id);
            }
        }
    }
}

package dev.kawi.trainer.vocab;

import dev.kawi.runtime.tokenizer.LongIntMap;
import dev.kawi.weights.TokenizerSpec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Learns a SentencePiece-style BPE vocabulary from a {@link WordCounts} table, as a
 * {@link TokenizerSpec} that the runtime's {@code Tokenizer} reads unchanged: NFC, the boundary
 * marker ▁ before every word, byte fallback, and merges as id pairs in priority order.
 *
 * <p><b>Vocabulary layout</b> (ids in this order): the special pieces ({@link VocabOptions#specials()},
 * by default pad 0, bos 1, eos 2, unk 3); the 256 byte pieces {@code <0x00>..<0xFF>}; one piece per
 * covered character, most frequent first (ties by code point); then the merged pieces in the order
 * they were learned. Characters are covered most frequent first until {@code characterCoverage} of
 * all character occurrences is reached (▁ always is); if they do not fit in the requested size,
 * the rarest are dropped. Uncovered characters are encoded as their UTF-8 bytes, which never merge.
 *
 * <p><b>Merges</b>: each word starts as one symbol per character; repeatedly the adjacent pair
 * with the highest count (summed over word frequencies) is merged everywhere, left to right
 * within a word. Ties go to the smaller left id, then the smaller right id, so the result depends
 * only on the word counts and the options. A pair is never merged when its piece would be longer
 * than {@code maxPieceLength} code points, would mix scripts or digits with other characters
 * ({@link VocabOptions#splitByScript()}), would look reserved ({@code <...>}, which the runtime
 * never produces from text) or already exists (see below). Learning stops when the vocabulary has the requested size, or early
 * when no mergeable pair occurs {@code minFrequency} times.
 *
 * <p><b>Exactness</b>: the runtime applies merges by rank, lowest first and leftmost first,
 * which gives exactly the segmentation training arrived at, because no word ever holds a pair
 * whose rank is lower than the merge being learned: the pairs a merge creates contain its new
 * piece, so their merges can only come later. That argument needs the merged piece to be new;
 * a pair whose concatenation is already a piece (say {@code ab + c} after {@code a + bc}) is
 * therefore never merged. (With merges applied left to right everywhere such a pair seems not to
 * arise at all: none on the German-English corpus, none in 20,000 random small tables; the rule
 * makes exactness independent of that.) So every merge adds exactly one piece.
 *
 * <p><b>Algorithm</b>: the pair counts are kept incrementally. Each pair has an index of the words
 * it occurs in; merging a pair visits only those words and updates only the pairs around each
 * merge site. The best pair comes from a max-heap with lazy entries: an increase pushes a new
 * entry, a decrease is corrected when its stale entry reaches the top. Cost per merge is
 * proportional to the occurrences it changes, so learning 8000 pieces from a 100k-sentence
 * corpus takes seconds.
 */
public final class BpeLearner {
    /** A symbol for a character without a piece: it never forms a pair. */
    private static final int BARRIER = -1;

    private static final byte LIVE = 0;
    private static final byte BLOCKED = 1;
    private static final byte MERGED = 2;

    /** Script class of a piece with no character that decides (only ▁ or combining marks): joins any. */
    private static final int ANY_SCRIPT = -1;
    /** Script class of decimal digits, apart from the Common script they belong to. */
    private static final int DIGITS = Character.UnicodeScript.values().length;

    private final VocabOptions options;

    // Vocabulary, indexed by id.
    private final List<String> pieces = new ArrayList<>();
    private final Map<String, Integer> pieceIds = new HashMap<>();
    private final int[] pieceLength;   // (vocabSize) length in code points
    private final int[] pieceScript;   // (vocabSize) script class of the piece's characters, or ANY_SCRIPT
    private final Map<Integer, Integer> charIds = new HashMap<>(); // code point -> id
    private final List<Integer> merges = new ArrayList<>();
    private int characters;
    private int droppedCharacters;

    // Words: the training segmentation, symbols in place, shrinking as merges apply.
    private final String[] wordText;   // (W) with leading ▁
    private final Map<String, Integer> wordIndex;
    private final int[][] symbols;     // (W) ids or BARRIER, valid up to length[w]
    private final int[] length;        // (W)
    private final long[] frequency;    // (W)
    private final int[] wordStamp;     // (W) last merge step that visited the word
    private final long totalWords;

    // Pairs, by dense index (P grows as pairs appear).
    private final LongIntMap pairIndex = new LongIntMap(1 << 16);
    private long[] pairKey = new long[1 << 16];   // (P) left << 32 | right
    private long[] count = new long[1 << 16];     // (P) occurrences, weighted by word frequency
    private int[][] where = new int[1 << 16][];   // (P) words holding the pair (maybe stale, maybe repeated)
    private int[] whereSize = new int[1 << 16];   // (P)
    private int[] whereLast = new int[1 << 16];   // (P) last word appended, to skip repeats within a word
    private byte[] state = new byte[1 << 16];     // (P) LIVE, BLOCKED or MERGED
    private long[] delta = new long[1 << 16];     // (P) count change in the current merge step
    private boolean[] dirty = new boolean[1 << 16]; // (P) delta touched in the current step
    private int pairs;
    private int[] dirtyList = new int[1 << 10];
    private int dirtyCount;

    // Max-heap of (count, pair): higher count first, then smaller key; entries may be stale.
    private long[] heapCount = new long[1 << 16];
    private int[] heapPair = new int[1 << 16];
    private int heapSize;

    private int[] mergedAt = new int[64]; // scratch: output positions of merge sites in one word

    /** Learns a vocabulary from the counted words. */
    public static LearnedVocab learn(WordCounts words, VocabOptions options) {
        return new BpeLearner(words, options).run();
    }

    /** Sets up the vocabulary's fixed part and the words' initial symbols; {@link #run()} learns. */
    BpeLearner(WordCounts words, VocabOptions options) {
        this.options = options;
        pieceLength = new int[options.vocabSize()];
        pieceScript = new int[options.vocabSize()];
        for (String s : options.specials()) {
            addPiece(s, 1);
        }
        for (int b = 0; b < 256; b++) {
            addPiece(TokenizerSpec.bytePiece(b), 1);
        }
        List<Map.Entry<String, Long>> sorted = words.sorted();
        chooseCharacters(sorted);
        int n = sorted.size();
        wordText = new String[n];
        wordIndex = new HashMap<>(2 * n);
        symbols = new int[n][];
        length = new int[n];
        frequency = new long[n];
        wordStamp = new int[n];
        totalWords = words.total();
        for (int w = 0; w < n; w++) {
            String text = sorted.get(w).getKey();
            wordText[w] = text;
            wordIndex.put(text, w);
            frequency[w] = sorted.get(w).getValue();
            int[] s = text.codePoints().map(cp -> charIds.getOrDefault(cp, BARRIER)).toArray();
            symbols[w] = s;
            length[w] = s.length;
        }
    }

    /** Character pieces: the most frequent characters up to the coverage, ▁ always, as many as fit. */
    private void chooseCharacters(List<Map.Entry<String, Long>> words) {
        Map<Integer, long[]> freq = new HashMap<>();
        long total = 0;
        for (Map.Entry<String, Long> e : words) {
            String w = e.getKey();
            long f = e.getValue();
            for (int i = 0; i < w.length(); ) {
                int cp = w.codePointAt(i);
                freq.computeIfAbsent(cp, k -> new long[1])[0] += f;
                total += f;
                i += Character.charCount(cp);
            }
        }
        List<Integer> order = new ArrayList<>(freq.keySet()); // by frequency desc, then code point asc
        order.sort((a, b) -> {
            int c = Long.compare(freq.get(b)[0], freq.get(a)[0]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        int room = options.vocabSize() - pieces.size();
        int marker = TokenizerSpec.WORD_BOUNDARY.codePointAt(0);
        double target = options.characterCoverage() * total;
        long covered = 0;
        List<Integer> keep = new ArrayList<>();
        boolean markerKept = false;
        for (int cp : order) {
            boolean isMarker = cp == marker;
            // Stop at the coverage, or when only the slot reserved for ▁ is left.
            if (!isMarker && (covered >= target || keep.size() >= room - (markerKept ? 0 : 1))) {
                continue;
            }
            if (keep.size() >= room) {
                continue;
            }
            keep.add(cp);
            markerKept |= isMarker;
            covered += freq.get(cp)[0];
        }
        for (int cp : keep) {
            int id = addPiece(Character.toString(cp), 1);
            charIds.put(cp, id);
            pieceScript[id] = scriptClass(cp);
        }
        characters = keep.size();
        droppedCharacters = freq.size() - keep.size();
    }

    /** The script class of a character: its Unicode script, digits apart, the Japanese scripts as one. */
    private static int scriptClass(int cp) {
        if (cp == TokenizerSpec.WORD_BOUNDARY.codePointAt(0)) {
            return ANY_SCRIPT;
        }
        Character.UnicodeScript s = Character.UnicodeScript.of(cp);
        return switch (s) {
            case INHERITED -> ANY_SCRIPT; // combining marks take the script of their base
            case HIRAGANA, KATAKANA -> Character.UnicodeScript.HAN.ordinal();
            default -> Character.isDigit(cp) ? DIGITS : s.ordinal();
        };
    }

    private int addPiece(String piece, int codePoints) {
        int id = pieces.size();
        pieces.add(piece);
        pieceIds.put(piece, id);
        pieceLength[id] = codePoints;
        return id;
    }

    /** Learns the merges and returns the vocabulary. */
    LearnedVocab run() {
        countInitialPairs();
        String stop = null;
        int step = 0;
        while (pieces.size() < options.vocabSize()) {
            if (heapSize == 0) {
                stop = "no pair of adjacent symbols is left to merge";
                break;
            }
            long c = heapCount[0];
            int p = heapPair[0];
            popHeap();
            if (state[p] != LIVE || c != count[p]) {
                if (state[p] == LIVE && c > count[p] && count[p] > 0) {
                    pushHeap(count[p], p); // a stale entry from before a decrease: requeue at the current count
                }
                continue;
            }
            if (c < options.minFrequency()) {
                stop = "no mergeable pair occurs " + options.minFrequency() + " times or more";
                break;
            }
            int left = (int) (pairKey[p] >>> 32);
            int right = (int) pairKey[p];
            String merged = pieces.get(left) + pieces.get(right);
            int mergedLength = pieceLength[left] + pieceLength[right];
            int script = pieceScript[left] == ANY_SCRIPT ? pieceScript[right] : pieceScript[left];
            boolean mixed = pieceScript[left] != ANY_SCRIPT && pieceScript[right] != ANY_SCRIPT && pieceScript[left] != pieceScript[right];
            if (mergedLength > options.maxPieceLength() || (mixed && options.splitByScript())
                    || VocabOptions.isReserved(merged) || pieceIds.containsKey(merged)) {
                state[p] = BLOCKED; // for good: lengths, scripts, forms and the vocabulary never change back
                continue;
            }
            int m = addPiece(merged, mergedLength);
            pieceScript[m] = script;
            merges.add(left);
            merges.add(right);
            applyMerge(p, left, right, m, ++step);
        }
        int[] flat = new int[merges.size()];
        for (int i = 0; i < flat.length; i++) {
            flat[i] = merges.get(i);
        }
        TokenizerSpec spec = new TokenizerSpec(TokenizerSpec.Type.BPE, TokenizerSpec.Normalization.NFC, true, true,
                pieces, null, flat);
        return new LearnedVocab(spec, options.vocabSize(), options.specials().size(), characters, droppedCharacters,
                flat.length / 2, totalWords, wordText.length, stop);
    }

    private void countInitialPairs() {
        for (int w = 0; w < symbols.length; w++) {
            int[] s = symbols[w];
            for (int i = 0; i + 1 < length[w]; i++) {
                if (s[i] != BARRIER && s[i + 1] != BARRIER) {
                    int p = pairOf(s[i], s[i + 1]);
                    count[p] += frequency[w];
                    addWhere(p, w);
                }
            }
        }
        for (int p = 0; p < pairs; p++) {
            pushHeap(count[p], p);
        }
    }

    /** The index of pair (left, right), created if new. */
    private int pairOf(int left, int right) {
        long key = ((long) left << 32) | right;
        int p = pairIndex.get(key);
        if (p >= 0) {
            return p;
        }
        p = pairs++;
        if (p == pairKey.length) {
            int n = 2 * p;
            pairKey = Arrays.copyOf(pairKey, n);
            count = Arrays.copyOf(count, n);
            where = Arrays.copyOf(where, n);
            whereSize = Arrays.copyOf(whereSize, n);
            whereLast = Arrays.copyOf(whereLast, n);
            state = Arrays.copyOf(state, n);
            delta = Arrays.copyOf(delta, n);
            dirty = Arrays.copyOf(dirty, n);
        }
        pairKey[p] = key;
        whereLast[p] = -1;
        pairIndex.put(key, p);
        return p;
    }

    private void addWhere(int p, int w) {
        if (whereLast[p] == w) {
            return;
        }
        whereLast[p] = w;
        int[] list = where[p];
        if (list == null) {
            list = where[p] = new int[4];
        } else if (whereSize[p] == list.length) {
            list = where[p] = Arrays.copyOf(list, 2 * list.length);
        }
        list[whereSize[p]++] = w;
    }

    /** Merges (left, right) into m in every word holding it, and updates the counts and the heap. */
    private void applyMerge(int p, int left, int right, int m, int step) {
        int[] list = where[p];
        int size = whereSize[p];
        where[p] = null; // the pair disappears everywhere; its index is no longer needed
        whereSize[p] = 0;
        state[p] = MERGED;
        for (int k = 0; k < size; k++) {
            int w = list[k];
            if (wordStamp[w] != step) {
                wordStamp[w] = step;
                mergeWord(w, left, right, m);
            }
        }
        for (int k = 0; k < dirtyCount; k++) {
            int q = dirtyList[k];
            long d = delta[q];
            count[q] += d;
            delta[q] = 0;
            dirty[q] = false;
            if (d > 0) {
                if (state[q] == MERGED) {
                    // Impossible by the exactness argument in the class comment; fail loudly rather than learn a wrong table.
                    throw new IllegalStateException("merged pair " + pieces.get((int) (pairKey[q] >>> 32)) + " + "
                            + pieces.get((int) pairKey[q]) + " reappeared");
                }
                pushHeap(count[q], q);
            }
        }
        dirtyCount = 0;
        if (count[p] != 0) {
            throw new IllegalStateException("pair count " + count[p] + " left after merging " + pieces.get(m));
        }
    }

    /**
     * Merges every (left, right) in word w, left to right. The pairs that change are exactly those
     * overlapping a merge site: before the merge, the pairs at old positions i-1, i, i+1 of a site
     * starting at i (each counted once though neighbouring sites share one); after it, the pairs
     * on both sides of the new symbol.
     */
    private void mergeWord(int w, int left, int right, int m) {
        int[] s = symbols[w];
        int n = length[w];
        long f = frequency[w];
        int lastPair = -1; // highest old pair position already subtracted
        boolean found = false;
        for (int i = 0; i + 1 < n; ) {
            if (s[i] == left && s[i + 1] == right) {
                found = true;
                for (int j = Math.max(i - 1, lastPair + 1); j <= Math.min(i + 1, n - 2); j++) {
                    addDelta(s[j], s[j + 1], -f, -1);
                }
                lastPair = Math.min(i + 1, n - 2);
                i += 2;
            } else {
                i++;
            }
        }
        if (!found) {
            return; // a stale index entry: an earlier merge took the pair out of this word
        }
        int sites = 0;
        int o = 0;
        for (int i = 0; i < n; ) {
            if (i + 1 < n && s[i] == left && s[i + 1] == right) {
                if (sites == mergedAt.length) {
                    mergedAt = Arrays.copyOf(mergedAt, 2 * sites);
                }
                mergedAt[sites++] = o;
                s[o++] = m;
                i += 2;
            } else {
                s[o++] = s[i++];
            }
        }
        length[w] = o;
        lastPair = -1;
        for (int k = 0; k < sites; k++) {
            int at = mergedAt[k];
            for (int j = Math.max(at - 1, lastPair + 1); j <= Math.min(at, o - 2); j++) {
                addDelta(s[j], s[j + 1], f, w);
            }
            lastPair = Math.min(at, o - 2);
        }
    }

    /** Adds d to the pending count change of (a, b); for a new occurrence (w >= 0) indexes word w. */
    private void addDelta(int a, int b, long d, int w) {
        if (a == BARRIER || b == BARRIER) {
            return;
        }
        int q = w >= 0 ? pairOf(a, b) : pairIndex.get(((long) a << 32) | b);
        if (!dirty[q]) {
            dirty[q] = true;
            if (dirtyCount == dirtyList.length) {
                dirtyList = Arrays.copyOf(dirtyList, 2 * dirtyCount);
            }
            dirtyList[dirtyCount++] = q;
        }
        delta[q] += d;
        if (w >= 0) {
            addWhere(q, w);
        }
    }

    /** True when heap entry i comes before entry j: higher count, then smaller pair key. */
    private boolean before(int i, int j) {
        long ci = heapCount[i];
        long cj = heapCount[j];
        return ci != cj ? ci > cj : pairKey[heapPair[i]] < pairKey[heapPair[j]];
    }

    private void pushHeap(long c, int p) {
        if (heapSize == heapCount.length) {
            heapCount = Arrays.copyOf(heapCount, 2 * heapSize);
            heapPair = Arrays.copyOf(heapPair, 2 * heapSize);
        }
        int i = heapSize++;
        heapCount[i] = c;
        heapPair[i] = p;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!before(i, parent)) {
                break;
            }
            swap(i, parent);
            i = parent;
        }
    }

    private void popHeap() {
        heapSize--;
        heapCount[0] = heapCount[heapSize];
        heapPair[0] = heapPair[heapSize];
        int i = 0;
        while (true) {
            int c = 2 * i + 1;
            if (c >= heapSize) {
                break;
            }
            if (c + 1 < heapSize && before(c + 1, c)) {
                c++;
            }
            if (!before(c, i)) {
                break;
            }
            swap(i, c);
            i = c;
        }
    }

    private void swap(int i, int j) {
        long c = heapCount[i];
        heapCount[i] = heapCount[j];
        heapCount[j] = c;
        int p = heapPair[i];
        heapPair[i] = heapPair[j];
        heapPair[j] = p;
    }

    /**
     * The ids training arrived at for word (with its leading ▁), uncovered characters written as
     * their byte pieces as the runtime encodes them; null for a word not in the table. For tests.
     */
    int[] trainingSegmentation(String word) {
        Integer w = wordIndex.get(word);
        if (w == null) {
            return null;
        }
        List<Integer> out = new ArrayList<>();
        int pos = 0; // char index in the word text, advanced by each symbol's code points
        String text = wordText[w];
        for (int k = 0; k < length[w]; k++) {
            int id = symbols[w][k];
            if (id == BARRIER) {
                int cp = text.codePointAt(pos);
                for (byte b : Character.toString(cp).getBytes(StandardCharsets.UTF_8)) {
                    out.add(pieceIds.get(TokenizerSpec.bytePiece(b & 0xFF)));
                }
                pos += Character.charCount(cp);
            } else {
                out.add(id);
                pos += pieces.get(id).length();
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}

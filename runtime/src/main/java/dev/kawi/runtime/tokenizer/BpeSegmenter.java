package dev.kawi.runtime.tokenizer;

import java.util.Arrays;
import java.util.Map;

/**
 * BPE: the word starts as one symbol per code point (the code point's piece, or its fallback
 * ids), then the adjacent pair with the lowest merge rank is merged, the leftmost one among
 * equal ranks, until no adjacent pair has a merge.
 *
 * <p>Symbols form a linked list over arrays; candidate pairs wait in a binary min-heap of
 * {@code rank << 32 | leftPosition}, so one pop yields the lowest rank and, among equal ranks,
 * the leftmost pair. Entries are not removed when a merge invalidates them; a popped entry is
 * used only if its left symbol is still alive and the pair there still has that rank (a rank
 * names exactly one pair, so that check is complete). A word of n symbols costs O(n log n).
 */
final class BpeSegmenter implements Segmenter {
    private static final int DEAD = -1;

    private final LongIntMap charIds;  // code point -> id of the single-code-point piece
    private final LongIntMap ranks;    // (leftId << 32 | rightId) -> rank (index in the spec's merge list)
    private final int[] mergedIds;     // rank -> id of the merged piece
    private final CharFallback fallback;

    /**
     * @param pieces    the vocabulary
     * @param textual   per id: may the piece come from text (not special, not a byte piece)
     * @param idOf      piece -> id
     * @param merges    flattened merge pairs, highest priority first
     */
    BpeSegmenter(String[] pieces, boolean[] textual, Map<String, Integer> idOf, int[] merges, CharFallback fallback) {
        this.fallback = fallback;
        int singles = 0;
        for (int id = 0; id < pieces.length; id++) {
            if (textual[id] && isOneCodePoint(pieces[id])) {
                singles++;
            }
        }
        charIds = new LongIntMap(singles);
        for (int id = 0; id < pieces.length; id++) {
            if (textual[id] && isOneCodePoint(pieces[id])) {
                charIds.put(pieces[id].codePointAt(0), id);
            }
        }
        int count = merges.length / 2;
        ranks = new LongIntMap(count);
        mergedIds = new int[count];
        for (int r = 0; r < count; r++) {
            int l = merges[2 * r];
            int rt = merges[2 * r + 1];
            // TokenizerSpec checked that the concatenation is a piece.
            int m = idOf.get(pieces[l] + pieces[rt]);
            // A merge touching a special or byte piece can never apply to text: drop it, so
            // that encoding never produces those ids (decode would drop or reinterpret them).
            if (!textual[l] || !textual[rt] || !textual[m]) {
                continue;
            }
            long key = pair(l, rt);
            if (ranks.get(key) < 0) { // a repeated pair keeps its first (highest) priority
                ranks.put(key, r);
                mergedIds[r] = m;
            }
        }
    }

    private static boolean isOneCodePoint(String s) {
        return s.length() == Character.charCount(s.codePointAt(0));
    }

    private static long pair(int left, int right) {
        return ((long) left << 32) | right;
    }

    @Override
    public void segment(String word, IntList out) {
        // Initial symbols: one per code point, or the code point's fallback ids.
        int len = word.length();
        IntList initial = new IntList(len + 4);
        for (int i = 0; i < len; ) {
            int cp = word.codePointAt(i);
            int id = charIds.get(cp);
            if (id >= 0) {
                initial.add(id);
            } else {
                fallback.append(cp, initial);
            }
            i += Character.charCount(cp);
        }
        int n = initial.size();
        if (n == 1) {
            out.add(initial.get(0));
            return;
        }
        int[] id = initial.toArray();     // (n) symbol ids, DEAD once merged into the left neighbour
        int[] next = new int[n];          // (n) index of the next live symbol, or -1
        int[] prev = new int[n];          // (n) index of the previous live symbol, or -1
        long[] heap = new long[Math.max(4, n)];
        int heapSize = 0;
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        for (int i = 0; i + 1 < n; i++) {
            int r = ranks.get(pair(id[i], id[i + 1]));
            if (r >= 0) {
                heap = push(heap, heapSize++, ((long) r << 32) | i);
            }
        }
        while (heapSize > 0) {
            long top = heap[0];
            heapSize = pop(heap, heapSize);
            int rank = (int) (top >>> 32);
            int left = (int) top;
            int right = next[left];
            if (id[left] == DEAD || right < 0 || ranks.get(pair(id[left], id[right])) != rank) {
                continue; // stale: this pair was changed by an earlier merge
            }
            id[left] = mergedIds[rank];
            id[right] = DEAD;
            int after = next[right];
            next[left] = after;
            if (after >= 0) {
                prev[after] = left;
            }
            int before = prev[left];
            if (before >= 0) {
                int r = ranks.get(pair(id[before], id[left]));
                if (r >= 0) {
                    heap = push(heap, heapSize++, ((long) r << 32) | before);
                }
            }
            if (after >= 0) {
                int r = ranks.get(pair(id[left], id[after]));
                if (r >= 0) {
                    heap = push(heap, heapSize++, ((long) r << 32) | left);
                }
            }
        }
        for (int i = 0; i >= 0; i = next[i]) { // symbol 0 is never merged away: merges remove the right one
            out.add(id[i]);
        }
    }

    /** Inserts v into the min-heap heap[0, size); returns the (possibly grown) array. */
    private static long[] push(long[] heap, int size, long v) {
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, 2 * size);
        }
        int i = size;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= v) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = v;
        return heap;
    }

    /** Removes the minimum of heap[0, size); returns the new size. */
    private static int pop(long[] heap, int size) {
        int n = size - 1;
        long v = heap[n];
        int i = 0;
        while (true) {
            int c = 2 * i + 1;
            if (c >= n) {
                break;
            }
            if (c + 1 < n && heap[c + 1] < heap[c]) {
                c++;
            }
            if (v <= heap[c]) {
                break;
            }
            heap[i] = heap[c];
            i = c;
        }
        if (n > 0) {
            heap[i] = v;
        }
        return n;
    }
}

package dev.kawi.trainer.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Token-budget batches from length-sorted buckets: pairs are sorted by length (ties in a seeded
 * random order), cut into batches whose padded size ({@code sentences · longest side}) stays
 * within the budget, and the batches are shuffled anew each epoch. Everything follows from the
 * seed and the epoch number, so a run resumed at (epoch, index) sees exactly the batches it
 * would have seen.
 */
public final class Batcher {
    private final List<List<Batch.Pair>> batches;
    private final long seed;
    private final int padId;
    private final int eosId;
    private final int startId;

    /** Batches of at most {@code maxTokens} padded tokens per side. */
    public Batcher(List<Batch.Pair> pairs, int maxTokens, long seed, int padId, int eosId, int startId) {
        this.seed = seed;
        this.padId = padId;
        this.eosId = eosId;
        this.startId = startId;
        Integer[] order = new Integer[pairs.size()];
        long[] key = new long[pairs.size()];
        Random rnd = new Random(seed);
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
            Batch.Pair p = pairs.get(i);
            int len = Math.max(p.source().length, p.target().length) + 1;
            // Sort by the longer side, then the shorter, then a random tie-breaker.
            int other = Math.min(p.source().length, p.target().length) + 1;
            key[i] = ((long) len << 40) | ((long) other << 24) | rnd.nextInt(1 << 24);
        }
        Arrays.sort(order, (a, b) -> Long.compare(key[a], key[b]));
        List<List<Batch.Pair>> out = new ArrayList<>();
        List<Batch.Pair> cur = new ArrayList<>();
        int longest = 0;
        for (int i : order) {
            Batch.Pair p = pairs.get(i);
            int len = Math.max(p.source().length, p.target().length) + 1;
            int newLongest = Math.max(longest, len);
            if (!cur.isEmpty() && (long) newLongest * (cur.size() + 1) > maxTokens) {
                out.add(cur);
                cur = new ArrayList<>();
                newLongest = len;
            }
            cur.add(p);
            longest = newLongest;
        }
        if (!cur.isEmpty()) {
            out.add(cur);
        }
        this.batches = out;
    }

    /** Batches per epoch. */
    public int size() {
        return batches.size();
    }

    /** Batch {@code index} of {@code epoch}'s shuffled order. */
    public Batch get(int epoch, int index) {
        return Batch.of(pairs(epoch, index), padId, eosId, startId);
    }

    /** The pairs of batch {@code index} of {@code epoch}'s shuffled order, sorted by length. */
    public List<Batch.Pair> pairs(int epoch, int index) {
        return Collections.unmodifiableList(batches.get(order(epoch)[index]));
    }

    private int cachedEpoch = -1;
    private int[] cachedOrder;

    private synchronized int[] order(int epoch) {
        if (epoch != cachedEpoch) {
            List<Integer> idx = new ArrayList<>(batches.size());
            for (int i = 0; i < batches.size(); i++) {
                idx.add(i);
            }
            Collections.shuffle(idx, new Random(seed * 31 + epoch));
            cachedOrder = idx.stream().mapToInt(Integer::intValue).toArray();
            cachedEpoch = epoch;
        }
        return cachedOrder;
    }

    /** The pairs of every batch in sorted order, unshuffled (validation). */
    public List<List<Batch.Pair>> sortedPairs() {
        return Collections.unmodifiableList(batches);
    }

    /** The batches in sorted order, unshuffled (validation). */
    public List<Batch> inOrder() {
        List<Batch> out = new ArrayList<>(batches.size());
        for (List<Batch.Pair> b : batches) {
            out.add(Batch.of(b, padId, eosId, startId));
        }
        return out;
    }
}

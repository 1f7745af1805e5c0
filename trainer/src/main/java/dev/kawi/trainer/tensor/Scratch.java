package dev.kawi.trainer.tensor;

/**
 * Per-thread double arrays for the layers' bulk loops: a chunk or a row is read from a
 * {@link Buf} into one of these, computed on with plain (vectorizable) loops, and written back.
 */
public final class Scratch {
    private static final int SLOTS = 6;
    private static final ThreadLocal<double[][]> ARRAYS = ThreadLocal.withInitial(() -> new double[SLOTS][0]);

    private Scratch() {
    }

    /** This thread's array number {@code slot} (0..5), at least {@code n} long; contents undefined. */
    public static double[] get(int slot, int n) {
        double[][] a = ARRAYS.get();
        if (a[slot].length < n) {
            a[slot] = new double[Math.max(n, Buf.CHUNK)];
        }
        return a[slot];
    }
}

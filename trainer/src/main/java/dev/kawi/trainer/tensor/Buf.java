package dev.kawi.trainer.tensor;

/**
 * A flat array of numbers that the trainer's layers read and write by element index: F32
 * (off-heap, the kernels' products run on it; training uses this) or F64 (on the heap, for the
 * finite-difference gradient checks). Layer code is written once against this class and computes
 * in double either way; only storage precision differs.
 *
 * <p>Only one implementation is loaded in a training process, so the JIT devirtualizes and
 * inlines {@link #get} and {@link #set} (class hierarchy analysis).
 */
public abstract sealed class Buf permits F32Buf, F64Buf {

    /** Number of elements. */
    public abstract long size();

    /** Element {@code i}. */
    public abstract double get(long i);

    /** Sets element {@code i} (rounded to the storage precision). */
    public abstract void set(long i, double v);

    /** Adds {@code v} to element {@code i}. */
    public void add(long i, double v) {
        set(i, get(i) + v);
    }

    /** Sets {@code n} elements from {@code off} to zero. */
    public abstract void zero(long off, long n);

    /** Sets every element to zero. */
    public void zero() {
        zero(0, size());
    }

    /** Copies {@code n} elements from {@code src[srcOff]} to {@code this[off]} (same precision). */
    public abstract void copyFrom(long off, Buf src, long srcOff, long n);

    /** Copies {@code n} elements from {@code off} into {@code dst[dstOff..]} (widened to double). */
    public abstract void read(long off, double[] dst, int dstOff, int n);

    /** Copies {@code n} values from {@code src[srcOff..]} to elements {@code off..} (rounded to the storage precision). */
    public abstract void write(long off, double[] src, int srcOff, int n);

    /** Elements processed per chunk by the bulk loops of the layers: fits L1 in double. */
    public static final int CHUNK = 2048;

    /** A new zeroed buffer of the same precision. */
    public abstract Buf like(long n);

    /** Allocates a zeroed buffer of {@code n} elements in the given precision. */
    public static Buf allocate(Precision p, long n) {
        return p == Precision.F32 ? new F32Buf(n) : new F64Buf(n);
    }

    /** Allocates a zeroed buffer of {@code n} elements; F32 buffers live in {@code arena}. */
    public static Buf allocate(Precision p, long n, java.lang.foreign.Arena arena) {
        return p == Precision.F32 ? new F32Buf(n, arena) : new F64Buf(n);
    }

    /** This buffer's precision. */
    public abstract Precision precision();
}

package dev.kawi.trainer.tensor;

import java.util.Arrays;

/** Double-precision elements on the heap: the gradient checks' storage. */
public final class F64Buf extends Buf {
    private final double[] a;

    /** A zeroed buffer of {@code n} doubles. */
    public F64Buf(long n) {
        this.a = new double[Math.toIntExact(n)];
    }

    /** The backing array. */
    public double[] array() {
        return a;
    }

    @Override
    public long size() {
        return a.length;
    }

    @Override
    public double get(long i) {
        return a[(int) i];
    }

    @Override
    public void set(long i, double v) {
        a[(int) i] = v;
    }

    @Override
    public void add(long i, double v) {
        a[(int) i] += v;
    }

    @Override
    public void zero(long off, long n) {
        Arrays.fill(a, (int) off, (int) (off + n), 0.0);
    }

    @Override
    public void copyFrom(long off, Buf src, long srcOff, long n) {
        System.arraycopy(((F64Buf) src).a, (int) srcOff, a, (int) off, (int) n);
    }

    @Override
    public void read(long off, double[] dst, int dstOff, int n) {
        System.arraycopy(a, (int) off, dst, dstOff, n);
    }

    @Override
    public void write(long off, double[] src, int srcOff, int n) {
        System.arraycopy(src, srcOff, a, (int) off, n);
    }

    @Override
    public Buf like(long n) {
        return new F64Buf(n);
    }

    @Override
    public Precision precision() {
        return Precision.F64;
    }
}

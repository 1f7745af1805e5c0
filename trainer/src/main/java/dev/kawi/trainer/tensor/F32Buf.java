package dev.kawi.trainer.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** F32 elements in a 64-byte aligned native segment, freed by the garbage collector. */
public final class F32Buf extends Buf {
    private static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT;
    private final MemorySegment seg;
    private final long size;

    /** A zeroed buffer of {@code n} floats, freed by the garbage collector. */
    public F32Buf(long n) {
        this(n, Arena.ofAuto());
    }

    /** A zeroed buffer of {@code n} floats in {@code arena} (freed when the arena closes). */
    public F32Buf(long n, Arena arena) {
        this.size = n;
        this.seg = arena.allocate(Math.max(4, 4 * n), 64);
    }

    /** The native segment (kernels take it with byte offsets = 4 * element offset). */
    public MemorySegment segment() {
        return seg;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public double get(long i) {
        return seg.getAtIndex(FL, i);
    }

    /** Element {@code i} as a float. */
    public float getFloat(long i) {
        return seg.getAtIndex(FL, i);
    }

    @Override
    public void set(long i, double v) {
        seg.setAtIndex(FL, i, (float) v);
    }

    @Override
    public void add(long i, double v) {
        seg.setAtIndex(FL, i, (float) (seg.getAtIndex(FL, i) + v));
    }

    @Override
    public void zero(long off, long n) {
        seg.asSlice(4 * off, 4 * n).fill((byte) 0);
    }

    @Override
    public void copyFrom(long off, Buf src, long srcOff, long n) {
        MemorySegment.copy(((F32Buf) src).seg, 4 * srcOff, seg, 4 * off, 4 * n);
    }

    @Override
    public Buf like(long n) {
        return new F32Buf(n);
    }

    @Override
    public Precision precision() {
        return Precision.F32;
    }

    /** Per-thread staging for the double[] bulk copies (parameters are read by several threads at once). */
    private static final ThreadLocal<float[]> STAGE = ThreadLocal.withInitial(() -> new float[4096]);

    private static float[] stage(int n) {
        float[] f = STAGE.get();
        if (f.length < n) {
            f = new float[Math.max(n, 2 * f.length)];
            STAGE.set(f);
        }
        return f;
    }

    @Override
    public void read(long off, double[] dst, int dstOff, int n) {
        float[] f = stage(n);
        MemorySegment.copy(seg, FL, 4 * off, f, 0, n);
        for (int i = 0; i < n; i++) {
            dst[dstOff + i] = f[i];
        }
    }

    @Override
    public void write(long off, double[] src, int srcOff, int n) {
        float[] f = stage(n);
        for (int i = 0; i < n; i++) {
            f[i] = (float) src[srcOff + i];
        }
        MemorySegment.copy(f, 0, seg, FL, 4 * off, n);
    }

    /** Copies {@code n} floats into {@code dst[dstOff..]}. */
    public void read(long off, float[] dst, int dstOff, int n) {
        MemorySegment.copy(seg, FL, 4 * off, dst, dstOff, n);
    }

    /** Copies {@code n} floats from {@code src[srcOff..]}. */
    public void write(long off, float[] src, int srcOff, int n) {
        MemorySegment.copy(src, srcOff, seg, FL, 4 * off, n);
    }
}

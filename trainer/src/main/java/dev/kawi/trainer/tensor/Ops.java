package dev.kawi.trainer.tensor;

/** Element-wise helpers over buffers, in chunks through {@link Scratch}. */
public final class Ops {
    private Ops() {
    }

    /** {@code dst[i] = a[i] + b[i]} for n elements (dst may alias a or b exactly); F32 buffers by the kernels' add. */
    public static void add(Products p, Buf dst, long dOff, Buf a, long aOff, Buf b, long bOff, long n) {
        if (dst instanceof F32Buf d && a instanceof F32Buf x && b instanceof F32Buf y) {
            p.kernels().add(d.segment(), dOff, x.segment(), aOff, y.segment(), bOff, n);
            return;
        }
        double[] x = Scratch.get(0, Buf.CHUNK);
        double[] y = Scratch.get(1, Buf.CHUNK);
        for (long c = 0; c < n; c += Buf.CHUNK) {
            int len = (int) Math.min(Buf.CHUNK, n - c);
            a.read(aOff + c, x, 0, len);
            b.read(bOff + c, y, 0, len);
            for (int i = 0; i < len; i++) {
                x[i] += y[i];
            }
            dst.write(dOff + c, x, 0, len);
        }
    }

    /** {@code dst[i] += src[i]} for n elements. */
    public static void addInto(Products p, Buf dst, long dOff, Buf src, long sOff, long n) {
        add(p, dst, dOff, dst, dOff, src, sOff, n);
    }

    /** Sum of squares of n elements. */
    public static double sumSquares(Buf x, long off, long n) {
        double[] v = Scratch.get(0, Buf.CHUNK);
        double s = 0;
        for (long c = 0; c < n; c += Buf.CHUNK) {
            int len = (int) Math.min(Buf.CHUNK, n - c);
            x.read(off + c, v, 0, len);
            for (int i = 0; i < len; i++) {
                s += v[i] * v[i];
            }
        }
        return s;
    }
}

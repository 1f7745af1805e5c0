package dev.kawi.runtime.kernels.simd;

import static dev.kawi.runtime.kernels.simd.VectorMath.F;
import static dev.kawi.runtime.kernels.simd.VectorMath.L;
import static dev.kawi.runtime.kernels.simd.VectorMath.get;
import static dev.kawi.runtime.kernels.simd.VectorMath.NATIVE;
import static dev.kawi.runtime.kernels.simd.VectorMath.set;

import dev.kawi.runtime.kernels.Activation;
import dev.kawi.runtime.kernels.Weights;
import dev.kawi.runtime.kernels.WorkerPool;
import dev.kawi.weights.QuantCodec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Row and element-wise operations with the Vector API: a vector body and a scalar tail, no masked
 * loads. Reductions run in float with several accumulators in a fixed order (the scalar oracle
 * uses double; the tests bound the difference).
 *
 * <p>Parallel work is split into fixed pieces (whole rows, or chunks of {@link #CHUNK} elements)
 * and every element's arithmetic is the same wherever it falls (the tails use the bit-identical
 * scalar twins of {@link VectorMath}), so results never depend on the thread count.
 */
final class VectorOps {
    /** Elements per task of the element-wise ops; below this a call runs on the caller alone. */
    static final int CHUNK = 1 << 15;
    /** Elements per task of the row ops (rows are never split: a task gets whole rows). */
    static final int ROW_TASK_ELEMENTS = 1 << 14;

    // Narrow species with as many lanes as F, for widening int8 / int16 weights to floats. A
    // 128-bit F (4 lanes) has no 32-bit byte species: quantized gathers then use scalar code.
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final VectorSpecies<Short> S16 = narrow(short.class, 2);
    private static final VectorSpecies<Byte> S8 = narrow(byte.class, 4);
    // A Q4 block is 16 bytes: value j in the low nibble of byte j, value j + 16 in the high one;
    // the vector path reads L bytes at a time, so L must divide 16 (and, for Q8, 32).
    private static final boolean Q4_VECTOR = S8 != null && 16 % L == 0;
    private static final boolean Q8_VECTOR = S8 != null && QuantCodec.BLOCK % L == 0;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    private VectorOps() {
    }

    /** The species of {@code type} with F's lane count, or null when the x86 shapes have none. */
    private static <E> VectorSpecies<E> narrow(Class<E> type, int ratio) {
        int bits = F.vectorBitSize() / ratio;
        return bits == 64 || bits == 128 || bits == 256 ? VectorSpecies.of(type, VectorShape.forBitSize(bits)) : null;
    }

    // ------------------------------------------------------------------ task splitting

    /**
     * Whole rows in fixed blocks: task i gets rows [i * perTask, min(rows, (i + 1) * perTask)),
     * with perTask set by the row length alone (never by the thread count).
     */
    private abstract static class RowsTask extends PoolTask {
        private int rows;
        private int perTask;

        /** Runs {@link #rows} over [0, rows) with {@code cols} elements per row. */
        final void run(WorkerPool pool, int rows, int cols) {
            if (rows <= 0) {
                clear();
                return;
            }
            this.rows = rows;
            this.perTask = Math.max(1, ROW_TASK_ELEMENTS / Math.max(1, cols));
            PoolTask.run(pool, (rows + perTask - 1) / perTask, this);
        }

        @Override
        public final void accept(int i) {
            rows(i * perTask, Math.min(rows, (i + 1) * perTask));
        }

        /** Processes rows [r0, r1). */
        abstract void rows(int r0, int r1);
    }

    /** Chunks of {@link #CHUNK} elements: task c gets [c * CHUNK, min(n, (c + 1) * CHUNK)). */
    private abstract static class ChunksTask extends PoolTask {
        private long n;

        /** Runs {@link #chunk} over [0, n). */
        final void run(WorkerPool pool, long n) {
            if (n <= 0) {
                clear();
                return;
            }
            long chunks = (n + CHUNK - 1) / CHUNK;
            if (chunks > Integer.MAX_VALUE) {
                clear();
                throw new IllegalArgumentException("too many elements: " + n);
            }
            this.n = n;
            PoolTask.run(pool, (int) chunks, this);
        }

        @Override
        public final void accept(int c) {
            long start = (long) c * CHUNK;
            chunk(start, (int) Math.min(CHUNK, n - start));
        }

        /** Processes elements [start, start + len). */
        abstract void chunk(long start, int len);
    }

    /** Softmax or log-softmax rows. */
    private static final class SoftmaxTask extends RowsTask {
        MemorySegment x;
        long off;
        int cols;
        int ld;
        int[] valid;
        boolean log;

        @Override
        void rows(int r0, int r1) {
            for (int r = r0; r < r1; r++) {
                long base = off + (long) r * ld;
                if (log) {
                    logSoftmaxRow(x, base, cols, validCols(valid, r, cols));
                } else {
                    softmaxRow(x, base, cols, validCols(valid, r, cols));
                }
            }
        }

        @Override
        boolean shareable() {
            return shareable(x);
        }

        @Override
        void clear() {
            x = null;
            valid = null;
        }
    }

    private static final class LayerNormTask extends RowsTask {
        MemorySegment out;
        long outOff;
        int ldo;
        MemorySegment x;
        long xOff;
        int ldx;
        int cols;
        MemorySegment gamma;
        MemorySegment beta;
        float eps;
        MemorySegment meanOut;
        MemorySegment rstdOut;

        @Override
        void rows(int r0, int r1) {
            for (int r = r0; r < r1; r++) {
                layerNormRow(out, outOff + (long) r * ldo, x, xOff + (long) r * ldx, cols, gamma, beta, eps, meanOut, rstdOut, r);
            }
        }

        @Override
        boolean shareable() {
            return shareable(out) && shareable(x) && shareable(gamma) && shareable(beta) && shareable(meanOut) && shareable(rstdOut);
        }

        @Override
        void clear() {
            out = x = gamma = beta = meanOut = rstdOut = null;
        }
    }

    private static final class RmsNormTask extends RowsTask {
        MemorySegment out;
        long outOff;
        int ldo;
        MemorySegment x;
        long xOff;
        int ldx;
        int cols;
        MemorySegment gamma;
        float eps;

        @Override
        void rows(int r0, int r1) {
            for (int r = r0; r < r1; r++) {
                rmsNormRow(out, outOff + (long) r * ldo, x, xOff + (long) r * ldx, cols, gamma, eps);
            }
        }

        @Override
        boolean shareable() {
            return shareable(out) && shareable(x) && shareable(gamma);
        }

        @Override
        void clear() {
            out = x = gamma = null;
        }
    }

    private static final class ActivationTask extends ChunksTask {
        Activation act;
        MemorySegment x;
        long off;

        @Override
        void chunk(long start, int len) {
            activationChunk(act, x, off + start, len);
        }

        @Override
        boolean shareable() {
            return shareable(x);
        }

        @Override
        void clear() {
            x = null;
        }
    }

    private static final class AddTask extends ChunksTask {
        MemorySegment out;
        long outOff;
        MemorySegment a;
        long aOff;
        MemorySegment b;
        long bOff;

        @Override
        void chunk(long start, int len) {
            long o = outOff + start;
            long pa = aOff + start;
            long pb = bOff + start;
            int i = 0;
            for (; i <= len - L; i += L) {
                FloatVector.fromMemorySegment(F, a, (pa + i) << 2, NATIVE).add(FloatVector.fromMemorySegment(F, b, (pb + i) << 2, NATIVE)).intoMemorySegment(out, (o + i) << 2, NATIVE);
            }
            for (; i < len; i++) {
                set(out, o + i, get(a, pa + i) + get(b, pb + i));
            }
        }

        @Override
        boolean shareable() {
            return shareable(out) && shareable(a) && shareable(b);
        }

        @Override
        void clear() {
            out = a = b = null;
        }
    }

    private static final class ScaleTask extends ChunksTask {
        MemorySegment x;
        long off;
        float s;

        @Override
        void chunk(long start, int len) {
            scaleRange(x, off + start, len, s);
        }

        @Override
        boolean shareable() {
            return shareable(x);
        }

        @Override
        void clear() {
            x = null;
        }
    }

    /** One instance of each task per calling thread: the kernels are shared by concurrent requests. */
    private static final class Tasks {
        final SoftmaxTask softmax = new SoftmaxTask();
        final LayerNormTask layerNorm = new LayerNormTask();
        final RmsNormTask rmsNorm = new RmsNormTask();
        final ActivationTask activation = new ActivationTask();
        final AddTask add = new AddTask();
        final ScaleTask scale = new ScaleTask();
    }

    private static final ThreadLocal<Tasks> TASKS = ThreadLocal.withInitial(Tasks::new);

    private static int validCols(int[] valid, int r, int cols) {
        return valid == null ? cols : Math.max(0, Math.min(cols, valid[r]));
    }

    // ------------------------------------------------------------------ softmax

    static void softmax(WorkerPool pool, MemorySegment x, long off, int rows, int cols, int ld, int[] valid) {
        softmaxRows(pool, x, off, rows, cols, ld, valid, false);
    }

    static void logSoftmax(WorkerPool pool, MemorySegment x, long off, int rows, int cols, int ld, int[] valid) {
        softmaxRows(pool, x, off, rows, cols, ld, valid, true);
    }

    private static void softmaxRows(WorkerPool pool, MemorySegment x, long off, int rows, int cols, int ld, int[] valid, boolean log) {
        SoftmaxTask t = TASKS.get().softmax;
        t.x = x;
        t.off = off;
        t.cols = cols;
        t.ld = ld;
        t.valid = valid;
        t.log = log;
        t.run(pool, rows, cols);
    }

    /** Largest of x[base .. base+n), n >= 1; NaN propagates (as Math.max does). */
    static float max(MemorySegment x, long base, int n) {
        int i = 0;
        float max = Float.NEGATIVE_INFINITY;
        if (n >= 2 * L) {
            // Two accumulators: MAX with Java's NaN/-0.0 rules is a few instructions deep.
            FloatVector m0 = FloatVector.fromMemorySegment(F, x, base << 2, NATIVE);
            FloatVector m1 = FloatVector.fromMemorySegment(F, x, (base + L) << 2, NATIVE);
            for (i = 2 * L; i <= n - 2 * L; i += 2 * L) {
                m0 = m0.max(FloatVector.fromMemorySegment(F, x, (base + i) << 2, NATIVE));
                m1 = m1.max(FloatVector.fromMemorySegment(F, x, (base + i + L) << 2, NATIVE));
            }
            max = m0.max(m1).reduceLanes(VectorOperators.MAX);   // exact: order does not matter
        }
        for (; i < n; i++) {
            max = Math.max(max, get(x, base + i));
        }
        return max;
    }

    /** x[base + j] *= s for j in [0, n). */
    private static void scaleRange(MemorySegment x, long base, int n, float s) {
        FloatVector sv = FloatVector.broadcast(F, s);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromMemorySegment(F, x, (base + i) << 2, NATIVE).mul(sv).intoMemorySegment(x, (base + i) << 2, NATIVE);
        }
        for (; i < n; i++) {
            set(x, base + i, get(x, base + i) * s);
        }
    }

    static void softmaxRow(MemorySegment x, long base, int cols, int len) {
        if (len > 0) {
            float max = max(x, base, len);
            float sum = VectorMath.expShift(x, base, len, max, true);
            // One division, then multiplies: at most one extra rounding per element.
            scaleRange(x, base, len, 1f / sum);
        }
        VectorMath.fill(x, base + len, cols - len, 0f);
    }

    static void logSoftmaxRow(MemorySegment x, long base, int cols, int len) {
        if (len > 0) {
            float max = max(x, base, len);
            // (x - max) - log(sum) rather than x - (max + log(sum)): the largest entries, the ones
            // a search keeps, then keep their full relative precision.
            float logSum = (float) Math.log(VectorMath.expShift(x, base, len, max, false));
            FloatVector m = FloatVector.broadcast(F, max);
            FloatVector ls = FloatVector.broadcast(F, logSum);
            int i = 0;
            for (; i <= len - L; i += L) {
                FloatVector.fromMemorySegment(F, x, (base + i) << 2, NATIVE).sub(m).sub(ls).intoMemorySegment(x, (base + i) << 2, NATIVE);
            }
            for (; i < len; i++) {
                set(x, base + i, (get(x, base + i) - max) - logSum);
            }
        }
        VectorMath.fill(x, base + len, cols - len, Float.NEGATIVE_INFINITY);
    }

    // ------------------------------------------------------------------ norms

    /** Sum of x[base .. base+n) in float, four accumulators, fixed order. */
    private static float sum(MemorySegment x, long base, int n) {
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        int i = 0;
        for (; i <= n - 4 * L; i += 4 * L) {
            s0 = s0.add(FloatVector.fromMemorySegment(F, x, (base + i) << 2, NATIVE));
            s1 = s1.add(FloatVector.fromMemorySegment(F, x, (base + i + L) << 2, NATIVE));
            s2 = s2.add(FloatVector.fromMemorySegment(F, x, (base + i + 2 * L) << 2, NATIVE));
            s3 = s3.add(FloatVector.fromMemorySegment(F, x, (base + i + 3 * L) << 2, NATIVE));
        }
        for (; i <= n - L; i += L) {
            s0 = s0.add(FloatVector.fromMemorySegment(F, x, (base + i) << 2, NATIVE));
        }
        FloatVector v = s0.add(s1).add(s2.add(s3));
        // The fixed-order lane sum, written out (see VectorMath.X1).
        if (L >= 16) {
            v = v.add(v.rearrange(VectorMath.X8));
        }
        if (L >= 8) {
            v = v.add(v.rearrange(VectorMath.X4));
        }
        if (L >= 4) {
            v = v.add(v.rearrange(VectorMath.X2));
        }
        float sum = v.add(v.rearrange(VectorMath.X1)).lane(0);
        for (; i < n; i++) {
            sum += get(x, base + i);
        }
        return sum;
    }

    /** Sum of (x - c)^2 over x[base .. base+n), as {@link #sum}. */
    private static float sumSquares(MemorySegment x, long base, int n, float c) {
        FloatVector cv = FloatVector.broadcast(F, c);
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        int i = 0;
        for (; i <= n - 4 * L; i += 4 * L) {
            FloatVector d0 = FloatVector.fromMemorySegment(F, x, (base + i) << 2, NATIVE).sub(cv);
            FloatVector d1 = FloatVector.fromMemorySegment(F, x, (base + i + L) << 2, NATIVE).sub(cv);
            FloatVector d2 = FloatVector.fromMemorySegment(F, x, (base + i + 2 * L) << 2, NATIVE).sub(cv);
            FloatVector d3 = FloatVector.fromMemorySegment(F, x, (base + i + 3 * L) << 2, NATIVE).sub(cv);
            s0 = d0.fma(d0, s0);
            s1 = d1.fma(d1, s1);
            s2 = d2.fma(d2, s2);
            s3 = d3.fma(d3, s3);
        }
        for (; i <= n - L; i += L) {
            FloatVector d = FloatVector.fromMemorySegment(F, x, (base + i) << 2, NATIVE).sub(cv);
            s0 = d.fma(d, s0);
        }
        FloatVector v = s0.add(s1).add(s2.add(s3));
        // The fixed-order lane sum, written out (see VectorMath.X1).
        if (L >= 16) {
            v = v.add(v.rearrange(VectorMath.X8));
        }
        if (L >= 8) {
            v = v.add(v.rearrange(VectorMath.X4));
        }
        if (L >= 4) {
            v = v.add(v.rearrange(VectorMath.X2));
        }
        float sum = v.add(v.rearrange(VectorMath.X1)).lane(0);
        for (; i < n; i++) {
            float d = get(x, base + i) - c;
            sum = Math.fma(d, d, sum);
        }
        return sum;
    }

    static void layerNorm(WorkerPool pool, MemorySegment out, long outOff, int ldo, MemorySegment x, long xOff, int ldx, int rows, int cols,
                          MemorySegment gamma, MemorySegment beta, float eps, MemorySegment meanOut, MemorySegment rstdOut) {
        if (cols <= 0) {
            return;
        }
        LayerNormTask t = TASKS.get().layerNorm;
        t.out = out;
        t.outOff = outOff;
        t.ldo = ldo;
        t.x = x;
        t.xOff = xOff;
        t.ldx = ldx;
        t.cols = cols;
        t.gamma = gamma;
        t.beta = beta;
        t.eps = eps;
        t.meanOut = meanOut;
        t.rstdOut = rstdOut;
        t.run(pool, rows, cols);
    }

    private static void layerNormRow(MemorySegment out, long ob, MemorySegment x, long xb, int cols,
                                     MemorySegment gamma, MemorySegment beta, float eps, MemorySegment meanOut, MemorySegment rstdOut, int r) {
        // Two passes (mean, then squared deviations): no cancellation when the mean is large.
        float mean = sum(x, xb, cols) / cols;
        float var = sumSquares(x, xb, cols, mean) / cols;
        if (!Float.isFinite(mean) || !Float.isFinite(var)) {
            // |x| beyond ~1e19 overflows the float sums (or x holds inf/NaN): redo the row in double.
            layerNormRowDouble(out, ob, x, xb, cols, gamma, beta, eps, meanOut, rstdOut, r);
            return;
        }
        float rstd = (float) (1.0 / Math.sqrt((double) var + eps));
        if (meanOut != null) {
            set(meanOut, r, mean);
        }
        if (rstdOut != null) {
            set(rstdOut, r, rstd);
        }
        normalize(out, ob, x, xb, cols, mean, rstd, gamma, beta);
    }

    /** out = (x - mean) * rstd * gamma + beta over one row. */
    private static void normalize(MemorySegment out, long ob, MemorySegment x, long xb, int cols, float mean, float rstd,
                                  MemorySegment gamma, MemorySegment beta) {
        FloatVector mv = FloatVector.broadcast(F, mean);
        FloatVector rv = FloatVector.broadcast(F, rstd);
        int j = 0;
        for (; j <= cols - L; j += L) {
            FloatVector n = FloatVector.fromMemorySegment(F, x, (xb + j) << 2, NATIVE).sub(mv).mul(rv);
            n.fma(FloatVector.fromMemorySegment(F, gamma, (long) j << 2, NATIVE), FloatVector.fromMemorySegment(F, beta, (long) j << 2, NATIVE)).intoMemorySegment(out, (ob + j) << 2, NATIVE);
        }
        for (; j < cols; j++) {
            float n = (get(x, xb + j) - mean) * rstd;
            set(out, ob + j, Math.fma(n, get(gamma, j), get(beta, j)));
        }
    }

    /** The rare-case row: same formula, double accumulation. */
    private static void layerNormRowDouble(MemorySegment out, long ob, MemorySegment x, long xb, int cols,
                                           MemorySegment gamma, MemorySegment beta, float eps, MemorySegment meanOut, MemorySegment rstdOut, int r) {
        double mean = 0;
        for (int j = 0; j < cols; j++) {
            mean += get(x, xb + j);
        }
        mean /= cols;
        double var = 0;
        for (int j = 0; j < cols; j++) {
            double d = get(x, xb + j) - mean;
            var += d * d;
        }
        var /= cols;
        double rstd = 1.0 / Math.sqrt(var + eps);
        if (meanOut != null) {
            set(meanOut, r, (float) mean);
        }
        if (rstdOut != null) {
            set(rstdOut, r, (float) rstd);
        }
        for (int j = 0; j < cols; j++) {
            set(out, ob + j, (float) ((get(x, xb + j) - mean) * rstd * get(gamma, j) + get(beta, j)));
        }
    }

    static void rmsNorm(WorkerPool pool, MemorySegment out, long outOff, int ldo, MemorySegment x, long xOff, int ldx, int rows, int cols,
                        MemorySegment gamma, float eps) {
        if (cols <= 0) {
            return;
        }
        RmsNormTask t = TASKS.get().rmsNorm;
        t.out = out;
        t.outOff = outOff;
        t.ldo = ldo;
        t.x = x;
        t.xOff = xOff;
        t.ldx = ldx;
        t.cols = cols;
        t.gamma = gamma;
        t.eps = eps;
        t.run(pool, rows, cols);
    }

    private static void rmsNormRow(MemorySegment out, long ob, MemorySegment x, long xb, int cols, MemorySegment gamma, float eps) {
        float ss = sumSquares(x, xb, cols, 0f);
        double rms;
        if (Float.isFinite(ss)) {
            rms = 1.0 / Math.sqrt((double) ss / cols + eps);
        } else {
            // |x| beyond ~1e19 overflows x^2 in float (or x holds inf/NaN): sum in double.
            double d = 0;
            for (int j = 0; j < cols; j++) {
                double v = get(x, xb + j);
                d += v * v;
            }
            rms = 1.0 / Math.sqrt(d / cols + eps);
        }
        float rf = (float) rms;
        if (rf == 0f || !Float.isFinite(rf)) {
            // rms outside float range (only with eps = 0 and extreme rows): scale in double.
            for (int j = 0; j < cols; j++) {
                set(out, ob + j, (float) (get(x, xb + j) * rms * get(gamma, j)));
            }
            return;
        }
        FloatVector rv = FloatVector.broadcast(F, rf);
        int j = 0;
        for (; j <= cols - L; j += L) {
            FloatVector.fromMemorySegment(F, x, (xb + j) << 2, NATIVE).mul(rv).mul(FloatVector.fromMemorySegment(F, gamma, (long) j << 2, NATIVE)).intoMemorySegment(out, (ob + j) << 2, NATIVE);
        }
        for (; j < cols; j++) {
            set(out, ob + j, get(x, xb + j) * rf * get(gamma, j));
        }
    }

    // ------------------------------------------------------------------ element-wise

    static void activation(WorkerPool pool, Activation act, MemorySegment x, long off, long n) {
        if (act == Activation.NONE) {
            return;
        }
        ActivationTask t = TASKS.get().activation;
        t.act = act;
        t.x = x;
        t.off = off;
        t.run(pool, n);
    }

    /** Applies {@code act} in place to x[base .. base+n); each element's result is independent of its position. */
    static void activationChunk(Activation act, MemorySegment x, long base, int n) {
        switch (act) {
            case RELU -> relu(x, base, n);
            case GELU -> VectorMath.gelu(x, base, n);
            case SWISH -> VectorMath.swish(x, base, n);
            case NONE -> {
            }
        }
    }

    /** max(0, x) with Java semantics: relu(-0.0) = 0.0 and relu(NaN) = NaN, as Math.max. */
    private static void relu(MemorySegment x, long base, int n) {
        FloatVector zero = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromMemorySegment(F, x, (base + i) << 2, NATIVE).max(zero).intoMemorySegment(x, (base + i) << 2, NATIVE);
        }
        for (; i < n; i++) {
            set(x, base + i, Math.max(0f, get(x, base + i)));
        }
    }

    static void add(WorkerPool pool, MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff, long n) {
        AddTask t = TASKS.get().add;
        t.out = out;
        t.outOff = outOff;
        t.a = a;
        t.aOff = aOff;
        t.b = b;
        t.bOff = bOff;
        t.run(pool, n);
    }

    static void scale(WorkerPool pool, MemorySegment x, long off, long n, float s) {
        ScaleTask t = TASKS.get().scale;
        t.x = x;
        t.off = off;
        t.s = s;
        t.run(pool, n);
    }

    // ------------------------------------------------------------------ embedding

    static void embedding(Weights table, int[] ids, int idsOff, int count, float scale, MemorySegment out, long outOff, int ldo) {
        // Check every id before writing anything, so a bad id leaves the output untouched.
        for (int r = 0; r < count; r++) {
            int id = ids[idsOff + r];
            if (id < 0 || id >= table.rows()) {
                throw new IndexOutOfBoundsException("token id " + id + " outside the embedding table of " + table.rows() + " rows");
            }
        }
        int cols = table.cols();
        for (int r = 0; r < count; r++) {
            int id = ids[idsOff + r];
            long ob = outOff + (long) r * ldo;
            switch (table.dtype()) {
                case F32 -> gatherF32(table.data(), (long) id * cols, cols, scale, out, ob);
                case F16 -> gatherHalf(table.data(), (long) id * cols, cols, scale, out, ob, false);
                case BF16 -> gatherHalf(table.data(), (long) id * cols, cols, scale, out, ob, true);
                case Q8 -> gatherQ8(table, id, scale, out, ob);
                case Q4 -> gatherQ4(table, id, scale, out, ob);
            }
        }
    }

    /** Weights are little-endian (the file layout), activations native. */
    private static void gatherF32(MemorySegment w, long e, int cols, float scale, MemorySegment out, long ob) {
        int j = 0;
        for (; j <= cols - L; j += L) {
            FloatVector.fromMemorySegment(F, w, (e + j) << 2, LE).mul(scale).intoMemorySegment(out, (ob + j) << 2, NATIVE);
        }
        for (; j < cols; j++) {
            set(out, ob + j, w.get(F32_LE, (e + j) << 2) * scale);
        }
    }

    private static void gatherHalf(MemorySegment w, long e, int cols, float scale, MemorySegment out, long ob, boolean bf16) {
        int j = 0;
        if (S16 != null) {
            for (; j <= cols - L; j += L) {
                IntVector h = ((IntVector) ShortVector.fromMemorySegment(S16, w, (e + j) << 1, LE)
                        .convertShape(VectorOperators.S2I, I, 0));
                FloatVector f;
                if (bf16) {
                    f = h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                } else {
                    // IEEE binary16 (sign-extended in each lane) to float, exactly: placing the 15
                    // exponent-and-mantissa bits at the top of a float's and multiplying by 2^112
                    // rebiases the exponent (127 - 15) and also normalizes subnormal halves; inf and
                    // NaN get the all-ones exponent instead; the sign goes back on last. Written here,
                    // not in a helper: no method of this package passes vectors (see VectorMath).
                    IntVector magnitude = h.and(0x7FFF);
                    IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
                    IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
                    VectorMask<Integer> infOrNan = magnitude.compare(VectorOperators.GE, 0x7C00);
                    IntVector bits = finite.blend(shifted.or(0x7F800000), infOrNan);
                    f = bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
                }
                f.mul(scale).intoMemorySegment(out, (ob + j) << 2, NATIVE);
            }
        }
        for (; j < cols; j++) {
            short h = w.get(I16_LE, (e + j) << 1);
            float f = bf16 ? QuantCodec.bf16ToFloat(h) : Float.float16ToFloat(h);
            set(out, ob + j, f * scale);
        }
    }

    /**
     * Q8 row: q * (scale of its 32-block), then * scale, in that order, exactly as the scalar
     * dequantization followed by the embedding scale.
     */
    private static void gatherQ8(Weights t, int id, float scale, MemorySegment out, long ob) {
        int cols = t.cols();
        int blocks = t.blocksPerRow();
        MemorySegment q = t.data();
        long qb = (long) id * cols;
        long sb = (long) id * blocks;
        for (int b = 0; b < blocks; b++) {
            float s = t.scales().get(F32_LE, (sb + b) << 2);
            int j = 0;
            if (Q8_VECTOR) {
                FloatVector sv = FloatVector.broadcast(F, s);
                for (; j < QuantCodec.BLOCK; j += L) {
                    FloatVector v = (FloatVector) ByteVector.fromMemorySegment(S8, q, qb + b * QuantCodec.BLOCK + j, LE)
                            .convertShape(VectorOperators.B2F, F, 0);
                    v.mul(sv).mul(scale).intoMemorySegment(out, (ob + b * QuantCodec.BLOCK + j) << 2, NATIVE);
                }
            }
            for (; j < QuantCodec.BLOCK; j++) {
                float v = q.get(ValueLayout.JAVA_BYTE, qb + b * QuantCodec.BLOCK + j) * s;
                set(out, ob + b * QuantCodec.BLOCK + j, v * scale);
            }
        }
    }

    /** Q4 row: 16 bytes per 32-block, byte j = value j (low nibble) and value j + 16 (high), each + 8. */
    private static void gatherQ4(Weights t, int id, float scale, MemorySegment out, long ob) {
        int cols = t.cols();
        int blocks = t.blocksPerRow();
        int half = QuantCodec.BLOCK / 2;
        MemorySegment q = t.data();
        long qb = (long) id * (cols / 2);
        long sb = (long) id * blocks;
        for (int b = 0; b < blocks; b++) {
            float s = t.scales().get(F32_LE, (sb + b) << 2);
            long bytes = qb + (long) b * half;
            long o = ob + (long) b * QuantCodec.BLOCK;
            if (Q4_VECTOR) {
                FloatVector sv = FloatVector.broadcast(F, s);
                for (int j = 0; j < half; j += L) {
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(S8, q, bytes + j, LE)
                            .convertShape(VectorOperators.B2I, I, 0);
                    IntVector lo = v.and(0x0F).sub(QuantCodec.Q4_OFFSET);
                    IntVector hi = v.lanewise(VectorOperators.ASHR, 4).and(0x0F).sub(QuantCodec.Q4_OFFSET);
                    FloatVector flo = (FloatVector) lo.convertShape(VectorOperators.I2F, F, 0);
                    FloatVector fhi = (FloatVector) hi.convertShape(VectorOperators.I2F, F, 0);
                    flo.mul(sv).mul(scale).intoMemorySegment(out, (o + j) << 2, NATIVE);
                    fhi.mul(sv).mul(scale).intoMemorySegment(out, (o + half + j) << 2, NATIVE);
                }
            } else {
                for (int j = 0; j < half; j++) {
                    int v = q.get(ValueLayout.JAVA_BYTE, bytes + j);
                    set(out, o + j, ((v & 0x0F) - QuantCodec.Q4_OFFSET) * s * scale);
                    set(out, o + half + j, (((v >> 4) & 0x0F) - QuantCodec.Q4_OFFSET) * s * scale);
                }
            }
        }
    }

    // ------------------------------------------------------------------ argmax / top-k

    static int argmax(MemorySegment x, long off, int n) {
        if (n <= 0) {
            return 0;
        }
        // Pass 1: the largest non-NaN value. A lane takes a new value only when it compares
        // greater, so NaN (never greater) is skipped and -inf lanes stay -inf.
        float best = Float.NEGATIVE_INFINITY;
        int i = 0;
        if (n >= 2 * L) {
            FloatVector m0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            FloatVector m1 = m0;
            for (; i <= n - 2 * L; i += 2 * L) {
                FloatVector v0 = FloatVector.fromMemorySegment(F, x, (off + i) << 2, NATIVE);
                FloatVector v1 = FloatVector.fromMemorySegment(F, x, (off + i + L) << 2, NATIVE);
                m0 = m0.blend(v0, v0.compare(VectorOperators.GT, m0));
                m1 = m1.blend(v1, v1.compare(VectorOperators.GT, m1));
            }
            best = m0.max(m1).reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) {
            float v = get(x, off + i);
            if (v > best) {
                best = v;
            }
        }
        // Pass 2: the first element equal to it (-0.0 == 0.0, matching the strict '>' rule of a
        // sequential scan). No match means every element is NaN: index 0, as the scalar kernel.
        FloatVector bv = FloatVector.broadcast(F, best);
        i = 0;
        for (; i <= n - L; i += L) {
            VectorMask<Float> eq = FloatVector.fromMemorySegment(F, x, (off + i) << 2, NATIVE).compare(VectorOperators.EQ, bv);
            if (eq.anyTrue()) {
                return i + eq.firstTrue();
            }
        }
        for (; i < n; i++) {
            if (get(x, off + i) == best) {
                return i;
            }
        }
        return 0;
    }

    /** Ranking key: NaN counts as -inf; Float.compare order otherwise (so 0.0 ranks above -0.0). */
    private static float key(float v) {
        return Float.isNaN(v) ? Float.NEGATIVE_INFINITY : v;
    }

    /** True when (va, ia) ranks below (vb, ib): smaller key, or equal key and higher index. */
    private static boolean worse(float va, int ia, float vb, int ib) {
        int c = Float.compare(key(va), key(vb));
        return c < 0 || (c == 0 && ia > ib);
    }

    /** Restores the heap below {@code i} in idx/val[0..size): the worst entry at the root. */
    private static void siftDown(int[] idx, float[] val, int i, int size) {
        int ci = idx[i];
        float cv = val[i];
        while (true) {
            int c = 2 * i + 1;
            if (c >= size) {
                break;
            }
            if (c + 1 < size && worse(val[c + 1], idx[c + 1], val[c], idx[c])) {
                c++;
            }
            if (!worse(val[c], idx[c], cv, ci)) {
                break;
            }
            idx[i] = idx[c];
            val[i] = val[c];
            i = c;
        }
        idx[i] = ci;
        val[i] = cv;
    }

    /**
     * A min-heap of the k best seen so far, kept in the output arrays themselves, then heap-sorted
     * in place. The scan compares whole vectors against the heap's worst value and only looks at
     * lanes that could enter; after the first few hundred elements almost none can.
     */
    static void topK(MemorySegment x, long off, int n, int k, int[] idx, float[] val) {
        if (k > n) {
            throw new IllegalArgumentException("k = " + k + " > n = " + n);
        }
        if (k <= 0) {
            return;
        }
        for (int i = 0; i < k; i++) {
            idx[i] = i;
            val[i] = get(x, off + i);
        }
        for (int i = k / 2 - 1; i >= 0; i--) {
            siftDown(idx, val, i, k);
        }
        int i = k;
        // Candidates are lanes >= the root's key: '>=' (not '>') so that 0.0 still gets a look
        // when the root is -0.0; worse() then decides exactly. NaN lanes never pass, and need not.
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromMemorySegment(F, x, (off + i) << 2, NATIVE);
            VectorMask<Float> m = v.compare(VectorOperators.GE, key(val[0]));
            if (m.anyTrue()) {
                for (int lane = m.firstTrue(); lane < L; lane++) {
                    if (m.laneIsSet(lane)) {
                        offer(idx, val, k, i + lane, v.lane(lane));
                    }
                }
            }
        }
        for (; i < n; i++) {
            offer(idx, val, k, i, get(x, off + i));
        }
        // Heap sort: move the worst to the end, repeatedly; the arrays end up best first.
        for (int end = k - 1; end > 0; end--) {
            int ti = idx[0];
            float tv = val[0];
            idx[0] = idx[end];
            val[0] = val[end];
            idx[end] = ti;
            val[end] = tv;
            siftDown(idx, val, 0, end);
        }
    }

    private static void offer(int[] idx, float[] val, int k, int i, float v) {
        if (worse(val[0], idx[0], v, i)) {
            idx[0] = i;
            val[0] = v;
            siftDown(idx, val, 0, k);
        }
    }
}

package dev.kawi.runtime.kernels;

import static dev.kawi.runtime.kernels.OpsTestSupport.OFFSETS;
import static dev.kawi.runtime.kernels.OpsTestSupport.SEED;
import static dev.kawi.runtime.kernels.OpsTestSupport.SPECIALS;
import static dev.kawi.runtime.kernels.OpsTestSupport.U;
import static dev.kawi.runtime.kernels.OpsTestSupport.anyValue;
import static dev.kawi.runtime.kernels.OpsTestSupport.assertSame;
import static dev.kawi.runtime.kernels.OpsTestSupport.close;
import static dev.kawi.runtime.kernels.OpsTestSupport.copy;
import static dev.kawi.runtime.kernels.OpsTestSupport.failAt;
import static dev.kawi.runtime.kernels.OpsTestSupport.floats;
import static dev.kawi.runtime.kernels.OpsTestSupport.gaussian;
import static dev.kawi.runtime.kernels.OpsTestSupport.get;
import static dev.kawi.runtime.kernels.OpsTestSupport.same;
import static dev.kawi.runtime.kernels.OpsTestSupport.set;
import static dev.kawi.runtime.kernels.OpsTestSupport.sizes;
import static dev.kawi.runtime.kernels.OpsTestSupport.sumBound;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kawi.runtime.kernels.simd.VectorKernels;
import dev.kawi.weights.DType;
import dev.kawi.weights.QuantCodec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The vector row and element-wise kernels against the scalar oracle (tolerances: {@link OpsTestSupport}). */
class OpsConformanceTest {
    private static final Kernels S = new ScalarKernels();
    /** Two threads, so that the split paths run too (OpsDeterminismTest covers 1, 2 and 3). */
    private static final Kernels V = new VectorKernels(2);

    // ------------------------------------------------------------------ softmax

    /** Fills the rows of a softmax input: gaussians of a per-row scale. */
    private static void softmaxInput(Random r, MemorySegment x, long off, int rows, int cols, int ld) {
        double[] scales = {1, 10, 100, 0.01};
        for (int row = 0; row < rows; row++) {
            gaussian(r, x, off + (long) row * ld, cols, scales[row % scales.length]);
        }
    }

    private static int[] validFor(Random r, int rows, int cols) {
        if (r.nextInt(3) == 0) {
            return null;
        }
        int[] valid = new int[rows];
        for (int row = 0; row < rows; row++) {
            valid[row] = switch (row % 5) {
                case 0 -> cols;
                case 1 -> 0;                       // fully masked
                case 2 -> cols + 3;                // more than cols: all valid
                case 3 -> -2;                      // negative: fully masked
                default -> 1 + r.nextInt(cols);
            };
        }
        return valid;
    }

    @Test
    void softmaxMatchesScalar() {
        checkSoftmaxes(false);
    }

    @Test
    void logSoftmaxMatchesScalar() {
        checkSoftmaxes(true);
    }

    private void checkSoftmaxes(boolean log) {
        long seed = SEED + (log ? 11 : 10);
        Random r = new Random(seed);
        try (Arena arena = Arena.ofConfined()) {
            int i = 0;
            for (int cols : sizes(4098)) {
                int off = OFFSETS[i++ % OFFSETS.length];
                int rows = 5;
                int ld = cols + r.nextInt(3);
                MemorySegment x = floats(arena, off + (long) rows * ld);
                softmaxInput(r, x, off, rows, cols, ld);
                int[] valid = validFor(r, rows, cols);
                compareSoftmax(seed, log, arena, x, off, rows, cols, ld, valid);
            }
        }
    }

    /** Rows with boundary values: -inf entries, huge and tiny magnitudes, ties, and inf/NaN rows. */
    @Test
    void softmaxBoundaryRows() {
        long seed = SEED + 12;
        Random r = new Random(seed);
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] {1, 2, 7, 8, 9, 15, 16, 17, 33, 100, 1000, 32000}) {
                int rows = 9;
                int off = 3;
                MemorySegment x = floats(arena, off + (long) rows * cols);
                for (int j = 0; j < cols; j++) {
                    long b = off + j;
                    set(x, b, r.nextInt(4) == 0 ? Float.NEGATIVE_INFINITY : (float) r.nextGaussian());  // -inf masking
                    set(x, b + cols, (float) (r.nextGaussian() * 1e30));                              // huge
                    set(x, b + 2L * cols, (float) (r.nextGaussian() * 1e-30));                       // tiny
                    set(x, b + 3L * cols, 5f);                                                        // all equal
                    set(x, b + 4L * cols, j == cols / 2 ? Float.MAX_VALUE : -Float.MAX_VALUE);        // extreme spread
                    set(x, b + 5L * cols, Float.NEGATIVE_INFINITY);                                   // all -inf: NaN
                    set(x, b + 6L * cols, j == cols - 1 ? Float.POSITIVE_INFINITY : 1f);              // +inf: NaN
                    set(x, b + 7L * cols, j == 0 ? Float.NaN : 1f);                                   // NaN
                    set(x, b + 8L * cols, (float) (r.nextGaussian() * 40));                           // exp underflow
                }
                if (cols > 1) {
                    set(x, off, 0f);   // keep one finite entry in the -inf row
                }
                for (boolean log : new boolean[] {false, true}) {
                    compareSoftmax(seed, log, arena, x, off, rows, cols, cols, null);
                    compareSoftmax(seed, log, arena, x, off, rows, cols, cols, new int[] {cols, cols - 1, 1, 0, cols, cols, cols, cols, cols / 2});
                }
            }
        }
    }

    private static void compareSoftmax(long seed, boolean log, Arena arena, MemorySegment x, int off, int rows, int cols, int ld, int[] valid) {
        MemorySegment sx = copy(arena, x);
        MemorySegment vx = copy(arena, x);
        if (log) {
            S.logSoftmax(sx, off, rows, cols, ld, valid);
            V.logSoftmax(vx, off, rows, cols, ld, valid);
        } else {
            S.softmax(sx, off, rows, cols, ld, valid);
            V.softmax(vx, off, rows, cols, ld, valid);
        }
        String what = (log ? "logSoftmax" : "softmax") + " cols=" + cols + " ld=" + ld + " off=" + off;
        for (int row = 0; row < rows; row++) {
            int len = valid == null ? cols : Math.max(0, Math.min(cols, valid[row]));
            double base = sumBound(len) + 8 * U;
            for (int j = 0; j < cols; j++) {
                long e = off + (long) row * ld + j;
                float sv = get(sx, e);
                float vv = get(vx, e);
                double tol = j >= len ? 0
                        : log ? sumBound(len) + 4 * U * (Math.abs(sv) + Math.log(len) + 1)
                        : base * Math.abs(sv) + 2e-38;
                if (!close(vv, sv, tol)) {
                    failAt(seed, what + " row " + row + " valid " + len, j, vv, sv, tol);
                }
            }
        }
        // Elements before the first row and the padding columns between rows are not touched.
        assertSame(seed, what + " before off", vx, 0, x, 0, off);
        for (int row = 0; row < rows; row++) {
            for (int j = cols; j < ld; j++) {
                long e = off + (long) row * ld + j;
                if (e < x.byteSize() / 4 && !same(get(vx, e), get(x, e))) {
                    fail("seed=" + seed + " " + what + ": padding element " + e + " was written");
                }
            }
        }
    }

    // ------------------------------------------------------------------ norms

    @Test
    void layerNormMatchesScalar() {
        long seed = SEED + 20;
        Random r = new Random(seed);
        try (Arena arena = Arena.ofConfined()) {
            int i = 0;
            for (int cols : sizes(4098)) {
                int off = OFFSETS[i % OFFSETS.length];
                boolean alias = i % 3 == 0;
                boolean stats = i % 2 == 0;
                i++;
                int rows = 4;
                int ldx = cols + r.nextInt(4);
                int ldo = alias ? ldx : cols + r.nextInt(4);
                MemorySegment x = floats(arena, off + (long) rows * ldx);
                gaussian(r, x, off, cols, 1);
                for (int j = 0; j < cols; j++) {
                    set(x, off + ldx + j, (float) (1e4 + r.nextGaussian()));     // large mean, small spread
                    set(x, off + 2L * ldx + j, (float) (r.nextGaussian() * 1e-3));
                    set(x, off + 3L * ldx + j, (float) (r.nextGaussian() * 50 + 3));
                }
                checkLayerNorm(seed, arena, x, off, ldx, ldo, rows, cols, alias, stats, r, 1e-5f);
            }
        }
    }

    /** Huge rows (float sums overflow: the double fallback), tiny rows, constant rows, eps = 0. */
    @Test
    void normBoundaryRows() {
        long seed = SEED + 21;
        Random r = new Random(seed);
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] {1, 2, 8, 15, 16, 17, 64, 511, 512, 1000}) {
                int rows = 5;
                int off = 1;
                MemorySegment x = floats(arena, off + (long) rows * cols);
                for (int j = 0; j < cols; j++) {
                    set(x, off + j, (float) (r.nextGaussian() * 1e30));
                    set(x, off + cols + j, (float) (r.nextGaussian() * 1e-30));
                    set(x, off + 2L * cols + j, 0.1f);
                    set(x, off + 3L * cols + j, (float) (r.nextGaussian() * 3e37));
                    set(x, off + 4L * cols + j, j % 2 == 0 ? 1e19f : -1e19f);
                }
                for (float eps : new float[] {1e-5f, 1e-6f}) {
                    checkLayerNorm(seed, arena, x, off, cols, cols, rows, cols, false, true, r, eps);
                    checkRmsNorm(seed, arena, x, off, cols, cols, rows, cols, false, r, eps);
                }
            }
        }
    }

    private static void checkLayerNorm(long seed, Arena arena, MemorySegment x, int off, int ldx, int ldo, int rows, int cols,
                                       boolean alias, boolean stats, Random r, float eps) {
        MemorySegment gamma = floats(arena, cols);
        MemorySegment beta = floats(arena, cols);
        gaussian(r, gamma, 0, cols, 1);
        gaussian(r, beta, 0, cols, 1);
        MemorySegment sIn = copy(arena, x);
        MemorySegment vIn = copy(arena, x);
        MemorySegment sOut = alias ? sIn : floats(arena, off + (long) rows * ldo);
        MemorySegment vOut = alias ? vIn : floats(arena, off + (long) rows * ldo);
        MemorySegment sMean = stats ? floats(arena, rows) : null;
        MemorySegment sRstd = stats ? floats(arena, rows) : null;
        MemorySegment vMean = stats ? floats(arena, rows) : null;
        MemorySegment vRstd = stats ? floats(arena, rows) : null;
        S.layerNorm(sOut, off, ldo, sIn, off, ldx, rows, cols, gamma, beta, eps, sMean, sRstd);
        V.layerNorm(vOut, off, ldo, vIn, off, ldx, rows, cols, gamma, beta, eps, vMean, vRstd);
        String what = "layerNorm cols=" + cols + " off=" + off + " ldx=" + ldx + " ldo=" + ldo + " alias=" + alias + " eps=" + eps;
        for (int row = 0; row < rows; row++) {
            // Reference statistics in double, from the untouched input.
            double mean = 0;
            double meanAbs = 0;
            for (int j = 0; j < cols; j++) {
                double v = get(x, off + (long) row * ldx + j);
                mean += v;
                meanAbs += Math.abs(v);
            }
            mean /= cols;
            meanAbs /= cols;
            double var = 0;
            for (int j = 0; j < cols; j++) {
                double d = get(x, off + (long) row * ldx + j) - mean;
                var += d * d;
            }
            var /= cols;
            double rstd = 1 / Math.sqrt(var + eps);
            // Error of the float mean, and the relative error of the float rstd (see OpsTestSupport).
            double dMean = sumBound(cols) * meanAbs + U * Math.abs(mean);
            double eRstd = sumBound(cols) / 2 + 3 * U + dMean * dMean * rstd * rstd;
            for (int j = 0; j < cols; j++) {
                float sv = get(sOut, off + (long) row * ldo + j);
                float vv = get(vOut, off + (long) row * ldo + j);
                double xv = get(x, off + (long) row * ldx + j);
                double tol = 2 * (Math.abs(get(gamma, j)) * rstd * (dMean + Math.abs(xv - mean) * (eRstd + 2 * U))
                        + 2 * U * Math.abs(sv)) + Float.MIN_NORMAL;
                if (!close(vv, sv, tol)) {
                    failAt(seed, what + " row " + row, j, vv, sv, tol);
                }
            }
            if (stats) {
                double tm = 2 * dMean + Float.MIN_NORMAL;
                if (!close(get(vMean, row), get(sMean, row), tm)) {
                    failAt(seed, what + " mean", row, get(vMean, row), get(sMean, row), tm);
                }
                double tr = 2 * eRstd * rstd;
                if (!close(get(vRstd, row), get(sRstd, row), tr)) {
                    failAt(seed, what + " rstd", row, get(vRstd, row), get(sRstd, row), tr);
                }
            }
        }
    }

    @Test
    void rmsNormMatchesScalar() {
        long seed = SEED + 22;
        Random r = new Random(seed);
        try (Arena arena = Arena.ofConfined()) {
            int i = 0;
            for (int cols : sizes(4098)) {
                int off = OFFSETS[i % OFFSETS.length];
                boolean alias = i % 3 == 0;
                i++;
                int rows = 3;
                int ldx = cols + r.nextInt(4);
                int ldo = alias ? ldx : cols + r.nextInt(4);
                MemorySegment x = floats(arena, off + (long) rows * ldx);
                for (int row = 0; row < rows; row++) {
                    gaussian(r, x, off + (long) row * ldx, cols, new double[] {1, 1e3, 1e-3}[row]);
                }
                checkRmsNorm(seed, arena, x, off, ldx, ldo, rows, cols, alias, r, 1e-6f);
            }
        }
    }

    private static void checkRmsNorm(long seed, Arena arena, MemorySegment x, int off, int ldx, int ldo, int rows, int cols,
                                     boolean alias, Random r, float eps) {
        MemorySegment gamma = floats(arena, cols);
        gaussian(r, gamma, 0, cols, 1);
        MemorySegment sIn = copy(arena, x);
        MemorySegment vIn = copy(arena, x);
        MemorySegment sOut = alias ? sIn : floats(arena, off + (long) rows * ldo);
        MemorySegment vOut = alias ? vIn : floats(arena, off + (long) rows * ldo);
        S.rmsNorm(sOut, off, ldo, sIn, off, ldx, rows, cols, gamma, eps);
        V.rmsNorm(vOut, off, ldo, vIn, off, ldx, rows, cols, gamma, eps);
        // Sum of squares (positive terms): relative sumBound; the root halves it; three roundings after.
        double rel = 2 * (sumBound(cols) / 2 + 5 * U);
        for (int row = 0; row < rows; row++) {
            for (int j = 0; j < cols; j++) {
                float sv = get(sOut, off + (long) row * ldo + j);
                float vv = get(vOut, off + (long) row * ldo + j);
                double tol = rel * Math.abs(sv) + Float.MIN_NORMAL;
                if (!close(vv, sv, tol)) {
                    failAt(seed, "rmsNorm cols=" + cols + " off=" + off + " alias=" + alias + " eps=" + eps + " row " + row, j, vv, sv, tol);
                }
            }
        }
    }

    // ------------------------------------------------------------------ element-wise

    /** Sizes for element-wise ops: the usual ones plus some that span several parallel chunks. */
    private static int[] elementSizes() {
        int[] base = sizes(4098);
        int[] all = java.util.Arrays.copyOf(base, base.length + 3);
        all[base.length] = (1 << 15) + 1;
        all[base.length + 1] = 3 * (1 << 15) + 17;
        all[base.length + 2] = 100_003;
        return all;
    }

    @Test
    void activationsMatchScalar() {
        for (Activation act : Activation.values()) {
            long seed = SEED + 30 + act.ordinal();
            Random r = new Random(seed);
            try (Arena arena = Arena.ofConfined()) {
                int i = 0;
                for (int n : elementSizes()) {
                    int off = OFFSETS[i++ % OFFSETS.length];
                    MemorySegment x = floats(arena, off + n + 1L);
                    for (int j = 0; j < n; j++) {
                        set(x, off + j, anyValue(r));
                    }
                    MemorySegment sx = copy(arena, x);
                    MemorySegment vx = copy(arena, x);
                    S.activation(act, sx, off, n);
                    V.activation(act, vx, off, n);
                    for (int j = 0; j < n; j++) {
                        float in = get(x, off + j);
                        float sv = get(sx, off + j);
                        float vv = get(vx, off + j);
                        double tol = switch (act) {
                            case NONE, RELU -> 0;
                            // Only float evaluation error: both use the same erfc fit. g is the
                            // erfc term: x/2 erfc(|x|/sqrt2) (= x - gelu for x >= 0, gelu for x < 0).
                            case GELU -> geluTol(in, sv);
                            case SWISH -> 6 * U * Math.abs(sv) + 1e-36;
                        };
                        if (!close(vv, sv, tol)) {
                            failAt(seed, act + " of " + in + " n=" + n + " off=" + off, j, vv, sv, tol);
                        }
                    }
                    // Neighbours of the range are untouched.
                    assertSame(seed, act + " neighbours", vx, off + n, x, off + n, 1);
                    if (off > 0) {
                        assertSame(seed, act + " neighbours", vx, off - 1, x, off - 1, 1);
                    }
                }
            }
        }
    }

    /**
     * GELU: both sides use the same erfc fit, so only float evaluation error counts, relative to
     * the erfc term g = x/2 erfc(|x|/sqrt2) (= x - gelu for x >= 0, gelu for x < 0): about 8U from
     * the polynomial, exp and products, plus U x^2/2 from rounding the exponent -x^2/2 + P(t);
     * doubled. Then the final rounding. The oracle computes 1 + erf in double, which cancels for
     * negative x: its own error, up to |x| 2^-53, is added (below x = -8 it returns -0.0).
     */
    private static double geluTol(float in, float sv) {
        double g = Math.abs(in >= 0 ? (double) in - sv : sv);
        return (16 + (double) in * in) * U * g + 2 * U * Math.abs(sv) + Math.abs(in) * 0x1p-52 + 1e-36;
    }

    /** GELU and swish over every boundary value and a dense sweep of [-12, 12]. */
    @Test
    void activationsBoundaryValues() {
        try (Arena arena = Arena.ofConfined()) {
            int n = SPECIALS.length + 24001;
            MemorySegment x = floats(arena, n);
            for (int j = 0; j < SPECIALS.length; j++) {
                set(x, j, SPECIALS[j]);
            }
            for (int j = 0; j <= 24000; j++) {
                set(x, SPECIALS.length + j, -12f + j * 1e-3f);
            }
            for (Activation act : new Activation[] {Activation.GELU, Activation.SWISH, Activation.RELU}) {
                MemorySegment sx = copy(arena, x);
                MemorySegment vx = copy(arena, x);
                S.activation(act, sx, 0, n);
                V.activation(act, vx, 0, n);
                for (int j = 0; j < n; j++) {
                    float in = get(x, j);
                    float sv = get(sx, j);
                    float vv = get(vx, j);
                    double tol = switch (act) {
                        case GELU -> geluTol(in, sv);
                        case SWISH -> 6 * U * Math.abs(sv) + 1e-36;
                        default -> 0;
                    };
                    if (!close(vv, sv, tol)) {
                        failAt(SEED, act + " of " + in, j, vv, sv, tol);
                    }
                }
            }
        }
    }

    @Test
    void addAndScaleAreExact() {
        long seed = SEED + 40;
        Random r = new Random(seed);
        try (Arena arena = Arena.ofConfined()) {
            int i = 0;
            for (int n : elementSizes()) {
                int oa = OFFSETS[i % OFFSETS.length];
                int ob = OFFSETS[(i + 1) % OFFSETS.length];
                int oo = OFFSETS[(i + 2) % OFFSETS.length];
                i++;
                MemorySegment a = floats(arena, oa + n);
                MemorySegment b = floats(arena, ob + n);
                for (int j = 0; j < n; j++) {
                    set(a, oa + j, anyValue(r));
                    set(b, ob + j, anyValue(r));
                }
                MemorySegment so = floats(arena, oo + n);
                MemorySegment vo = floats(arena, oo + n);
                S.add(so, oo, a, oa, b, ob, n);
                V.add(vo, oo, a, oa, b, ob, n);
                assertSame(seed, "add n=" + n, vo, oo, so, oo, n);
                // out aliasing a, then b, exactly.
                MemorySegment sa = copy(arena, a);
                MemorySegment va = copy(arena, a);
                S.add(sa, oa, sa, oa, b, ob, n);
                V.add(va, oa, va, oa, b, ob, n);
                assertSame(seed, "add into a n=" + n, va, oa, sa, oa, n);
                MemorySegment sb = copy(arena, b);
                MemorySegment vb = copy(arena, b);
                S.add(sb, ob, a, oa, sb, ob, n);
                V.add(vb, ob, a, oa, vb, ob, n);
                assertSame(seed, "add into b n=" + n, vb, ob, sb, ob, n);

                float s = new float[] {0.5f, -3.7f, 0f, 1e20f, Float.MIN_VALUE}[i % 5];
                MemorySegment sx = copy(arena, a);
                MemorySegment vx = copy(arena, a);
                S.scale(sx, oa, n, s);
                V.scale(vx, oa, n, s);
                assertSame(seed, "scale by " + s + " n=" + n, vx, 0, sx, 0, oa + n);
            }
        }
    }

    // ------------------------------------------------------------------ embedding

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * A table in the file layout. F16/BF16 tables hold every 16-bit pattern (when large enough);
     * Q8/Q4 tables come from QuantCodec with extreme raw codes (-128/127, nibbles 0/15) patched in.
     */
    static Weights table(Arena arena, DType dtype, int rows, int cols, Random r) {
        switch (dtype) {
            case F32 -> {
                MemorySegment d = arena.allocate(4L * rows * cols, 64);
                for (long i = 0; i < (long) rows * cols; i++) {
                    d.setAtIndex(F32_LE, i, anyValue(r));
                }
                return new Weights(dtype, rows, cols, d, null);
            }
            case F16, BF16 -> {
                MemorySegment d = arena.allocate(2L * rows * cols, 64);
                int start = r.nextInt(1 << 16);
                for (long i = 0; i < (long) rows * cols; i++) {
                    d.setAtIndex(I16_LE, i, (short) (start + i));
                }
                return new Weights(dtype, rows, cols, d, null);
            }
            default -> {
                long qRow = dtype.quantRowBytes(cols);
                MemorySegment t = arena.allocate(dtype.byteSize(rows, cols), 64);
                MemorySegment q = t.asSlice(0, rows * qRow);
                MemorySegment sc = t.asSlice(dtype.scalesOffset(rows, cols), dtype.scalesBytes(rows, cols));
                float[] src = new float[cols];
                byte[] qb = new byte[(int) qRow];
                float[] s = new float[cols / QuantCodec.BLOCK];
                for (int row = 0; row < rows; row++) {
                    double mag = Math.pow(10, r.nextInt(7) - 3);
                    for (int j = 0; j < cols; j++) {
                        src[j] = (float) (r.nextGaussian() * mag);
                    }
                    if (row % 7 == 3) {
                        java.util.Arrays.fill(src, 0, QuantCodec.BLOCK, 0f);   // an all-zero block: scale 0
                    }
                    if (dtype == DType.Q8) {
                        QuantCodec.quantizeRowQ8(src, 0, cols, qb, 0, s, 0);
                        qb[r.nextInt(cols)] = -128;
                        qb[r.nextInt(cols)] = 127;
                        qb[r.nextInt(cols)] = -127;
                    } else {
                        QuantCodec.quantizeRowQ4(src, 0, cols, qb, 0, s, 0);
                        qb[r.nextInt(qb.length)] = 0x00;          // both nibbles 0: value -8
                        qb[r.nextInt(qb.length)] = (byte) 0xFF;   // both nibbles 15: value 7
                        qb[r.nextInt(qb.length)] = (byte) 0x0F;
                        qb[r.nextInt(qb.length)] = (byte) 0xF0;
                    }
                    MemorySegment.copy(qb, 0, q, ValueLayout.JAVA_BYTE, row * qRow, qb.length);
                    for (int b = 0; b < s.length; b++) {
                        sc.setAtIndex(F32_LE, (long) row * s.length + b, s[b]);
                    }
                }
                return new Weights(dtype, rows, cols, q, sc);
            }
        }
    }

    @Test
    void embeddingMatchesScalarExactly() {
        long seed = SEED + 50;
        Random r = new Random(seed);
        try (Arena arena = Arena.ofConfined()) {
            for (DType dtype : DType.values()) {
                int[] colsList = dtype.isQuantized() ? new int[] {32, 64, 96, 512, 1024}
                        : new int[] {1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 100, 512, 515};
                for (int cols : colsList) {
                    // F16/BF16: enough rows that the table holds all 65536 bit patterns.
                    int rows = dtype == DType.F16 || dtype == DType.BF16 ? Math.max(50, (1 << 16) / cols + 1) : 50;
                    Weights w = table(arena, dtype, rows, cols, r);
                    int count = 2 * rows;
                    int idsOff = 2;
                    int[] ids = new int[idsOff + count];
                    for (int i = 0; i < count; i++) {
                        ids[idsOff + i] = i < rows ? i : r.nextInt(rows);   // every row, then repeats
                    }
                    for (float scale : new float[] {1f, (float) Math.sqrt(512), -0.5f}) {
                        int off = OFFSETS[r.nextInt(OFFSETS.length)];
                        int ldo = cols + r.nextInt(3);
                        MemorySegment so = floats(arena, off + (long) count * ldo);
                        MemorySegment vo = floats(arena, off + (long) count * ldo);
                        S.embedding(w, ids, idsOff, count, scale, so, off, ldo);
                        V.embedding(w, ids, idsOff, count, scale, vo, off, ldo);
                        assertSame(seed, "embedding " + dtype + " cols=" + cols + " scale=" + scale + " ldo=" + ldo, vo, 0, so, 0, off + (long) count * ldo);
                    }
                }
            }
        }
    }

    @Test
    void embeddingRejectsBadIds() {
        try (Arena arena = Arena.ofConfined()) {
            Weights w = table(arena, DType.F32, 10, 8, new Random(SEED));
            MemorySegment out = floats(arena, 80);
            for (int bad : new int[] {-1, 10, Integer.MAX_VALUE}) {
                int[] ids = {1, 2, bad};
                assertThrows(IndexOutOfBoundsException.class, () -> V.embedding(w, ids, 0, 3, 1f, out, 0, 8), "seed=" + SEED + " id " + bad);
                assertThrows(IndexOutOfBoundsException.class, () -> S.embedding(w, ids, 0, 3, 1f, out, 0, 8), "seed=" + SEED + " id " + bad);
            }
        }
    }

    // ------------------------------------------------------------------ argmax / top-k

    /** Data for argmax/top-k: kind 0 gaussian, 1 few distinct values (ties), 2 with NaN, 3 signed zeros, 4 NaN and -inf only. */
    private static void rankingInput(Random r, MemorySegment x, long off, int n, int kind) {
        for (int j = 0; j < n; j++) {
            float v = switch (kind) {
                case 0 -> (float) r.nextGaussian();
                case 1 -> r.nextInt(4);
                case 2 -> r.nextInt(5) == 0 ? Float.NaN : r.nextInt(3) - 1f;
                case 3 -> r.nextBoolean() ? 0f : -0f;
                default -> r.nextBoolean() ? Float.NaN : Float.NEGATIVE_INFINITY;
            };
            set(x, off + j, v);
        }
    }

    @Test
    void argmaxMatchesScalarExactly() {
        long seed = SEED + 60;
        Random r = new Random(seed);
        try (Arena arena = Arena.ofConfined()) {
            int i = 0;
            for (int n : sizes(4098)) {
                int off = OFFSETS[i++ % OFFSETS.length];
                MemorySegment x = floats(arena, off + n);
                for (int kind = 0; kind <= 5; kind++) {
                    if (kind == 5) {
                        for (int j = 0; j < n; j++) {
                            set(x, off + j, Float.NaN);   // all NaN: index 0
                        }
                    } else {
                        rankingInput(r, x, off, n, kind);
                    }
                    assertEquals(S.argmax(x, off, n), V.argmax(x, off, n), "seed=" + seed + " argmax n=" + n + " off=" + off + " kind=" + kind);
                }
                // The maximum as the last element, and as the only non-NaN one.
                rankingInput(r, x, off, n, 0);
                set(x, off + n - 1, 100f);
                assertEquals(n - 1, V.argmax(x, off, n), "seed=" + seed + " argmax last n=" + n);
                for (int j = 0; j < n; j++) {
                    set(x, off + j, j == n / 2 ? -5f : Float.NaN);
                }
                assertEquals(n / 2, V.argmax(x, off, n), "seed=" + seed + " argmax lone value n=" + n);
            }
        }
    }

    @Test
    void topKMatchesScalarExactly() {
        long seed = SEED + 61;
        Random r = new Random(seed);
        try (Arena arena = Arena.ofConfined()) {
            int i = 0;
            for (int n : sizes(4098)) {
                int off = OFFSETS[i++ % OFFSETS.length];
                MemorySegment x = floats(arena, off + n);
                int[] ks = {1, Math.min(n, 4), Math.min(n, 1 + r.nextInt(64)), Math.min(n, 64), n <= 70 ? n : 5};
                for (int kind = 0; kind <= 4; kind++) {
                    rankingInput(r, x, off, n, kind);
                    for (int k : ks) {
                        compareTopK(seed, x, off, n, k, "kind=" + kind);
                    }
                }
            }
            // A vocabulary-sized row.
            int n = 32000;
            MemorySegment x = floats(arena, n + 3);
            gaussian(r, x, 3, n, 5);
            compareTopK(seed, x, 3, n, 64, "vocabulary");
            compareTopK(seed, x, 3, n, 1, "vocabulary");
        }
    }

    private static void compareTopK(long seed, MemorySegment x, int off, int n, int k, String what) {
        int[] si = new int[k];
        float[] sv = new float[k];
        int[] vi = new int[k + 1];
        float[] vv = new float[k + 1];
        vi[k] = -7;
        vv[k] = 42f;
        S.topK(x, off, n, k, si, sv);
        V.topK(x, off, n, k, vi, vv);
        String msg = "seed=" + seed + " topK n=" + n + " k=" + k + " off=" + off + " " + what;
        assertArrayEquals(si, java.util.Arrays.copyOf(vi, k), msg);
        for (int j = 0; j < k; j++) {
            if (!same(sv[j], vv[j])) {
                fail(msg + ": value " + j + " vector " + vv[j] + " scalar " + sv[j]);
            }
        }
        assertEquals(-7, vi[k], msg + ": wrote past k");
        assertEquals(42f, vv[k], msg + ": wrote past k");
    }

    @Test
    void topKRejectsKAboveN() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = floats(arena, 4);
            assertThrows(IllegalArgumentException.class, () -> V.topK(x, 0, 4, 5, new int[5], new float[5]));
            assertThrows(IllegalArgumentException.class, () -> S.topK(x, 0, 4, 5, new int[5], new float[5]));
        }
    }

    @Test
    void zeroSizesDoNothing() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = floats(arena, 8);
            set(x, 0, 3f);
            MemorySegment before = copy(arena, x);
            V.softmax(x, 0, 0, 8, 8, null);
            V.logSoftmax(x, 0, 1, 0, 0, null);
            V.layerNorm(x, 0, 8, x, 0, 8, 0, 8, x, x, 1e-5f, null, null);
            V.rmsNorm(x, 0, 8, x, 0, 8, 1, 0, x, 1e-5f);
            V.activation(Activation.GELU, x, 0, 0);
            V.add(x, 0, x, 0, x, 0, 0);
            V.scale(x, 0, 0, 2f);
            V.embedding(Weights.f32(x, 1, 8), new int[0], 0, 0, 1f, x, 0, 8);
            V.topK(x, 0, 8, 0, new int[0], new float[0]);
            OpsTestSupport.assertBitIdentical("zero sizes", x, before);
        }
    }
}

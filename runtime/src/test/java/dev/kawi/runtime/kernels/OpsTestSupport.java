package dev.kawi.runtime.kernels;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.TreeSet;

/**
 * Shared pieces of the vector-vs-scalar conformance tests: sizes, inputs, comparisons and the
 * error bounds.
 *
 * <p>Tolerances. {@code U} = 2^-24 is float's unit round-off. The scalar oracle reduces in double,
 * the vector kernels in float, so every bound below is a worst-case round-off bound for the
 * vector kernel's float arithmetic (not a fudge factor), made a little looser for safety:
 * <ul>
 *   <li>a float sum of n terms, relative to the sum of |terms|: U times the most additions any
 *       term goes through. With L >= 4 lanes: the norms' 4 accumulators give n/(4L) + 2 +
 *       log2 L + a tail of up to L - 1 <= 15; the exp sums' blocks of 16 vectors give 16 + n/(16L)
 *       + 1 + log2 L + 15. {@link #sumBound} = U (n/16 + 40) covers both;</li>
 *   <li>exp: 2U relative (measured 8.4e-8); swish 6U relative; GELU relative to its erfc term
 *       (see OpsConformanceTest.geluTol); plus a tiny absolute floor for results that underflow;</li>
 *   <li>softmax: sumBound(len) + 8U relative per element, plus 2e-38 absolute (exp flushes below
 *       e^-87.3 to 0); log-softmax: the same on the log scale, times (|result| + ln len + 1);</li>
 *   <li>layer norm and RMS norm: derived from the mean and variance bounds per element (see the
 *       tests);</li>
 *   <li>attention: dot products of headDim terms (U (headDim + 8) times the sum of |q_i k_i|),
 *       through the softmax, and a weighted sum of len terms, relative to sum_j p_j |v_j|.</li>
 * </ul>
 * Exact (bitwise, NaN compared as NaN) where the arithmetic is the same single rounding in both:
 * relu, add, scale, every embedding dtype, and the argmax and top-k results.
 */
final class OpsTestSupport {
    /** Unit round-off of float. */
    static final double U = 0x1p-24;
    /** Base seed; rerun one failure with -Dkawi.test.seed=N. */
    static final long SEED = Long.getLong("kawi.test.seed", 0x6b617769L);
    static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Unaligned (and aligned) element offsets the tests place their data at. */
    static final int[] OFFSETS = {0, 1, 3, 7};

    private OpsTestSupport() {
    }

    /**
     * Sizes from 1 to max: every size up to 70, then dense samples around powers of two and
     * multiples of 8 and 16 (the lane counts of 256- and 512-bit vectors), plus odd ones.
     */
    static int[] sizes(int max) {
        TreeSet<Integer> s = new TreeSet<>();
        for (int i = 1; i <= 70; i++) {
            s.add(i);
        }
        int[] centers = {80, 96, 127, 128, 160, 255, 256, 320, 511, 512, 768, 1000, 1024, 1536, 2048, 3000, 4096};
        for (int c : centers) {
            for (int d = -3; d <= 3; d++) {
                s.add(c + d);
            }
        }
        for (int x : new int[] {333, 777, 1001, 2047, 2049, 3333, 4097, 4098}) {
            s.add(x);
        }
        return s.stream().filter(x -> x >= 1 && x <= max).mapToInt(Integer::intValue).toArray();
    }

    /** A zeroed, 64-byte aligned segment of n floats. */
    static MemorySegment floats(Arena arena, long n) {
        return arena.allocate(Math.max(4, 4 * n), 64);
    }

    static float get(MemorySegment s, long i) {
        return s.getAtIndex(FL, i);
    }

    static void set(MemorySegment s, long i, float v) {
        s.setAtIndex(FL, i, v);
    }

    /** A copy of a segment (same size and contents). */
    static MemorySegment copy(Arena arena, MemorySegment s) {
        MemorySegment c = arena.allocate(s.byteSize(), 64);
        c.copyFrom(s);
        return c;
    }

    /** Fills n floats from element off with gaussians times {@code scale}. */
    static void gaussian(Random r, MemorySegment s, long off, long n, double scale) {
        for (long i = 0; i < n; i++) {
            set(s, off + i, (float) (r.nextGaussian() * scale));
        }
    }

    /** Boundary values: zeros of both signs, huge and tiny magnitudes, subnormals, infinities, NaN. */
    static final float[] SPECIALS = {0f, -0f, 1f, -1f, Float.MAX_VALUE, -Float.MAX_VALUE, 1e30f, -1e30f, 1e-30f, -1e-30f,
        Float.MIN_NORMAL, -Float.MIN_NORMAL, Float.MIN_VALUE, -Float.MIN_VALUE, 3e-42f, Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY, Float.NaN, 88f, -88f, 100f, -100f, 9.5f, -9.5f, 10f, 10.5f, -30f, 1e-8f, 5e-4f};

    /** A value for element-wise tests: mostly gaussians of varied scale, sometimes a special. */
    static float anyValue(Random r) {
        return switch (r.nextInt(8)) {
            case 0 -> SPECIALS[r.nextInt(SPECIALS.length)];
            case 1 -> (float) (r.nextGaussian() * 30);
            case 2 -> (float) (r.nextGaussian() * 1e-3);
            default -> (float) (r.nextGaussian() * 3);
        };
    }

    /** Worst-case relative error of a float sum of n terms as the vector kernels do it. */
    static double sumBound(int n) {
        return U * (n / 16.0 + 40);
    }

    /** Bitwise equality, except that every NaN equals every NaN. */
    static boolean same(float a, float b) {
        return Float.floatToIntBits(a) == Float.floatToIntBits(b);
    }

    /** True when a and b are the same (bitwise / both NaN / same infinity) or within tol. */
    static boolean close(float a, float b, double tol) {
        if (same(a, b)) {
            return true;
        }
        if (Float.isNaN(a) || Float.isNaN(b) || Float.isInfinite(a) || Float.isInfinite(b)) {
            return false;
        }
        return Math.abs((double) a - b) <= tol;
    }

    /** Fails with the seed and context in the message. */
    static void failAt(long seed, String what, long index, float vector, float scalar, double tol) {
        fail(String.format("seed=%d %s: index %d: vector %s (0x%08x) vs scalar %s (0x%08x), tolerance %.3g",
                seed, what, index, vector, Float.floatToRawIntBits(vector), scalar, Float.floatToRawIntBits(scalar), tol));
    }

    /** Asserts bitwise equality of n floats at the given offsets. */
    static void assertSame(long seed, String what, MemorySegment v, long vOff, MemorySegment s, long sOff, long n) {
        for (long i = 0; i < n; i++) {
            float a = get(v, vOff + i);
            float b = get(s, sOff + i);
            if (!same(a, b)) {
                failAt(seed, what, i, a, b, 0);
            }
        }
    }

    /** Asserts two segments hold the same bytes (thread-count determinism). */
    static void assertBitIdentical(String what, MemorySegment a, MemorySegment b) {
        long m = a.mismatch(b);
        if (m != -1) {
            fail(String.format("seed=%d %s: outputs differ at byte %d", SEED, what, m));
        }
    }
}

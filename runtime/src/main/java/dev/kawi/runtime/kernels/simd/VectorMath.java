package dev.kawi.runtime.kernels.simd;

import dev.kawi.runtime.kernels.LaneMath;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector math shared by the SIMD kernels: exp, GELU, swish and a fixed-order horizontal sum. Every
 * vector function has a scalar twin doing the very same float operations in the same order, so a
 * value computed in a scalar tail is bit-identical to the same value computed in a vector lane.
 * That is what makes results independent of where a row or chunk boundary falls.
 *
 * <p>Why not {@code lanewise(VectorOperators.EXP)}: measured on JDK 25 (AVX-512 EPYC) it is no
 * faster than the polynomial at 512 bits (0.15 ns/element both) and only slightly faster at 256
 * bits, and its result depends on whether the code runs interpreted (per-lane Math.exp) or
 * C2-compiled (SVML stub): about 1% of lanes differed in the last bit, so a kernel's output would
 * change once the JIT kicks in. The polynomial gives the same bits in both, and in scalar code.
 *
 * <p>Shape of the code, for C2: a vector value that crosses a call C2 did not inline is boxed
 * (allocated), which costs 5-10x. Two things stop inlining here: a method that already has a big
 * compiled body of its own ("already compiled into a big method"; warm-up compiles helpers alone),
 * and the parse-time node budget (NodeCountInliningCutoff; every Vector API call expands into
 * dozens of wrapper methods before it becomes one instruction). So: each hot loop is a method of
 * its own taking segments and scalars; the only vector-typed helpers are small ({@link #exp},
 * {@link #sum}, load/store); loops with exp are not unrolled.
 */
final class VectorMath {
    /** The preferred species: the widest the CPU has (256 bits on AVX2, 512 on AVX-512). */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Lanes per float vector. */
    static final int L = F.length();
    /** Byte order of activations (native, as Kernels says). */
    static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    /** Scalar float access to activations. */
    static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT_UNALIGNED;

    // The constants of exp and GELU, and the scalar twins, are defined once in LaneMath.
    private static final float EXP_LO = LaneMath.EXP_LO;
    private static final float EXP_HI = LaneMath.EXP_HI;
    private static final float LOG2E = LaneMath.LOG2E;
    private static final float ROUND_MAGIC = LaneMath.ROUND_MAGIC;
    private static final float LN2_HI = LaneMath.LN2_HI;
    private static final float LN2_LO = LaneMath.LN2_LO;
    private static final float E5 = LaneMath.E5;
    private static final float E4 = LaneMath.E4;
    private static final float E3 = LaneMath.E3;
    private static final float E2 = LaneMath.E2;
    private static final float E1 = LaneMath.E1;
    private static final float E0 = LaneMath.E0;
    private static final float SQRT_HALF = LaneMath.SQRT_HALF;
    private static final float P9 = LaneMath.P9;
    private static final float P8 = LaneMath.P8;
    private static final float P7 = LaneMath.P7;
    private static final float P6 = LaneMath.P6;
    private static final float P5 = LaneMath.P5;
    private static final float P4 = LaneMath.P4;
    private static final float P3 = LaneMath.P3;
    private static final float P2 = LaneMath.P2;
    private static final float P1 = LaneMath.P1;
    private static final float P0 = LaneMath.P0;
    private static final float GELU_IDENTITY = LaneMath.GELU_IDENTITY;

    // The constants as vectors. Every scalar-argument shortcut (v.mul(0.5f), blend(0f, m)) hides
    // a broadcast that costs C2 as much parse budget as a real operation; a static final vector
    // costs almost none, and keeps the GELU loop under the node budget (see the class comment).
    private static final FloatVector ZERO_V = FloatVector.zero(F);
    private static final FloatVector ONE_V = FloatVector.broadcast(F, 1f);
    private static final FloatVector HALF_V = FloatVector.broadcast(F, 0.5f);
    private static final FloatVector NEG_HALF_V = FloatVector.broadcast(F, -0.5f);
    private static final FloatVector INF_V = FloatVector.broadcast(F, Float.POSITIVE_INFINITY);
    private static final FloatVector EXP_LO_V = FloatVector.broadcast(F, EXP_LO);
    private static final FloatVector EXP_HI_V = FloatVector.broadcast(F, EXP_HI);
    private static final FloatVector LOG2E_V = FloatVector.broadcast(F, LOG2E);
    private static final FloatVector ROUND_MAGIC_V = FloatVector.broadcast(F, ROUND_MAGIC);
    private static final FloatVector NEG_LN2_HI_V = FloatVector.broadcast(F, -LN2_HI);
    private static final FloatVector NEG_LN2_LO_V = FloatVector.broadcast(F, -LN2_LO);
    private static final FloatVector E5_V = FloatVector.broadcast(F, E5);
    private static final FloatVector E4_V = FloatVector.broadcast(F, E4);
    private static final FloatVector E3_V = FloatVector.broadcast(F, E3);
    private static final FloatVector E2_V = FloatVector.broadcast(F, E2);
    private static final FloatVector E1_V = FloatVector.broadcast(F, E1);
    private static final FloatVector E0_V = FloatVector.broadcast(F, E0);
    private static final IntVector BIAS_V = IntVector.broadcast(F.withLanes(int.class), 127);
    private static final FloatVector SQRT_HALF_V = FloatVector.broadcast(F, SQRT_HALF);
    private static final FloatVector P9_V = FloatVector.broadcast(F, P9);
    private static final FloatVector P8_V = FloatVector.broadcast(F, P8);
    private static final FloatVector P7_V = FloatVector.broadcast(F, P7);
    private static final FloatVector P6_V = FloatVector.broadcast(F, P6);
    private static final FloatVector P5_V = FloatVector.broadcast(F, P5);
    private static final FloatVector P4_V = FloatVector.broadcast(F, P4);
    private static final FloatVector P3_V = FloatVector.broadcast(F, P3);
    private static final FloatVector P2_V = FloatVector.broadcast(F, P2);
    private static final FloatVector P1_V = FloatVector.broadcast(F, P1);
    private static final FloatVector P0_V = FloatVector.broadcast(F, P0);
    private static final FloatVector GELU_IDENTITY_V = FloatVector.broadcast(F, GELU_IDENTITY);

    // Butterfly shuffles for the horizontal sum: lane i takes lane i ^ s.
    private static final VectorShuffle<Float> X1 = VectorShuffle.fromOp(F, i -> i ^ 1);
    private static final VectorShuffle<Float> X2 = VectorShuffle.fromOp(F, i -> i ^ (2 % L));
    private static final VectorShuffle<Float> X4 = VectorShuffle.fromOp(F, i -> i ^ (4 % L));
    private static final VectorShuffle<Float> X8 = VectorShuffle.fromOp(F, i -> i ^ (8 % L));

    // A thread that is never started: a segment it may access is not confined to one thread.
    private static final Thread PROBE = Thread.ofPlatform().unstarted(() -> { });

    private VectorMath() {
    }

    /**
     * True when worker threads may access every given segment (null entries are skipped). A
     * segment of a confined arena can only be used by its owner thread, so a kernel given one must
     * run all its tasks on the caller; the fixed task split keeps the results the same.
     */
    static boolean shareable(MemorySegment... segments) {
        for (MemorySegment s : segments) {
            if (s != null && !s.isAccessibleBy(PROBE)) {
                return false;
            }
        }
        return true;
    }

    static FloatVector load(MemorySegment s, long elem) {
        return FloatVector.fromMemorySegment(F, s, elem << 2, NATIVE);
    }

    static void store(FloatVector v, MemorySegment s, long elem) {
        v.intoMemorySegment(s, elem << 2, NATIVE);
    }

    static float get(MemorySegment s, long elem) {
        return s.getAtIndex(FL, elem);
    }

    static void set(MemorySegment s, long elem, float v) {
        s.setAtIndex(FL, elem, v);
    }

    /** Sets n floats from element {@code elem} to v. */
    static void fill(MemorySegment s, long elem, long n, float v) {
        FloatVector fv = FloatVector.broadcast(F, v);
        long i = 0;
        for (; i <= n - L; i += L) {
            store(fv, s, elem + i);
        }
        for (; i < n; i++) {
            set(s, elem + i, v);
        }
    }

    /**
     * Sum of the lanes in a fixed order (a butterfly). {@code reduceLanes(ADD)} leaves the order
     * unspecified, so it could differ between the interpreter and C2, or between JDK versions.
     */
    static float sum(FloatVector v) {
        if (L >= 16) {
            v = v.add(v.rearrange(X8));
        }
        if (L >= 8) {
            v = v.add(v.rearrange(X4));
        }
        if (L >= 4) {
            v = v.add(v.rearrange(X2));
        }
        if (L >= 2) {
            v = v.add(v.rearrange(X1));
        }
        return v.lane(0);
    }

    /** e^x per lane; relative error below 1e-7, 0 below -87.34, +inf above 88.38. */
    static FloatVector exp(FloatVector x) {
        VectorMask<Float> tiny = x.compare(VectorOperators.LT, EXP_LO_V);
        VectorMask<Float> huge = x.compare(VectorOperators.GT, EXP_HI_V);
        // Clamp with blends: lanewise MIN/MAX cost extra instructions for Java's NaN and -0.0
        // rules; a NaN passes both compares untouched and comes out NaN.
        FloatVector xc = x.blend(EXP_LO_V, tiny).blend(EXP_HI_V, huge);
        FloatVector t = xc.fma(LOG2E_V, ROUND_MAGIC_V);
        FloatVector n = t.sub(ROUND_MAGIC_V);
        FloatVector r = n.fma(NEG_LN2_HI_V, xc);
        r = n.fma(NEG_LN2_LO_V, r);
        FloatVector y = r.fma(E5_V, E4_V);
        y = y.fma(r, E3_V);
        y = y.fma(r, E2_V);
        y = y.fma(r, E1_V);
        y = y.fma(r, E0_V);
        y = y.fma(r.mul(r), r).add(ONE_V);
        // 2^n: t's bits are those of ROUND_MAGIC plus n; adding the bias 127 and shifting the sum
        // into the exponent field pushes the magic's own bits out of the word.
        FloatVector pow2n = t.reinterpretAsInts().add(BIAS_V).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(pow2n).blend(ZERO_V, tiny).blend(INF_V, huge);
    }

    /** The scalar twin of {@link #exp(FloatVector)}: bit-identical results. */
    static float exp(float x) {
        return LaneMath.exp(x);
    }

    /**
     * Exact-form GELU in place over x[base .. base+n), x/2 (1 + erf(x/sqrt2)), written as
     * x - x/2 erfc(|x|/sqrt2) for x >= 0 and x/2 erfc(|x|/sqrt2) for x < 0, so negative inputs
     * keep their relative precision instead of cancelling in 1 + erf.
     */
    static void gelu(MemorySegment x, long base, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector v = load(x, base + i);
            FloatVector z = v.abs().mul(SQRT_HALF_V);
            FloatVector t = ONE_V.div(z.fma(HALF_V, ONE_V));
            FloatVector p = t.fma(P9_V, P8_V);
            p = p.fma(t, P7_V);
            p = p.fma(t, P6_V);
            p = p.fma(t, P5_V);
            p = p.fma(t, P4_V);
            p = p.fma(t, P3_V);
            p = p.fma(t, P2_V);
            p = p.fma(t, P1_V);
            p = p.fma(t, P0_V);
            // -z^2 = (-x/2) x, exact inside the FMA; squaring the rounded z would cost z^2 * 1e-7.
            FloatVector erfc = t.mul(exp(v.mul(NEG_HALF_V).fma(v, p)));
            FloatVector g = v.mul(HALF_V).mul(erfc);
            FloatVector y = v.sub(g).blend(g, v.compare(VectorOperators.LT, ZERO_V));
            store(y.blend(v, v.compare(VectorOperators.GT, GELU_IDENTITY_V)), x, base + i);
        }
        for (; i < n; i++) {
            set(x, base + i, gelu(get(x, base + i)));
        }
    }

    /** GELU of one value: the scalar twin of the vector loop, bit-identical to a lane. */
    static float gelu(float x) {
        return LaneMath.gelu(x);
    }

    /** SiLU in place over x[base .. base+n), x / (1 + e^-x); +-inf and NaN behave as in double arithmetic. */
    static void swish(MemorySegment x, long base, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector v = load(x, base + i);
            store(v.div(exp(v.neg()).add(ONE_V)), x, base + i);
        }
        for (; i < n; i++) {
            set(x, base + i, swish(get(x, base + i)));
        }
    }

    /** SiLU of one value: the scalar twin of the vector loop. */
    static float swish(float x) {
        return LaneMath.swish(x);
    }

    /** Vectors per inner block of the exp sums (see {@link #expShift}). */
    private static final int SUM_BLOCK = 16;

    /**
     * Returns the sum of e^(x - shift) over x[base .. base+n), storing the terms in place when
     * {@code store}. One exp per iteration (unrolling would blow C2's node budget, and exp has no
     * loop-carried dependency to hide anyway); the sum is blocked: lanes add up to SUM_BLOCK terms,
     * the blocks are then added, so a lane's round-off grows with 16 + n/(16L) instead of n/L.
     * The order is fixed by n alone.
     */
    static float expShift(MemorySegment x, long base, int n, float shift, boolean store) {
        FloatVector sv = FloatVector.broadcast(F, shift);
        FloatVector total = FloatVector.zero(F);
        FloatVector block = total;
        int i = 0;
        int k = 0;
        for (; i <= n - L; i += L) {
            FloatVector e = exp(load(x, base + i).sub(sv));
            if (store) {
                store(e, x, base + i);
            }
            block = block.add(e);
            if (++k == SUM_BLOCK) {
                total = total.add(block);
                block = FloatVector.zero(F);
                k = 0;
            }
        }
        float sum = sum(total.add(block));
        for (; i < n; i++) {
            float e = exp(get(x, base + i) - shift);
            if (store) {
                set(x, base + i, e);
            }
            sum += e;
        }
        return sum;
    }

    /** {@link #expShift} with store, over an array: p[0..n) = e^(p - shift); returns the sum, same order. */
    static float expShift(float[] p, int n, float shift) {
        FloatVector sv = FloatVector.broadcast(F, shift);
        FloatVector total = FloatVector.zero(F);
        FloatVector block = total;
        int i = 0;
        int k = 0;
        for (; i <= n - L; i += L) {
            FloatVector e = exp(FloatVector.fromArray(F, p, i).sub(sv));
            e.intoArray(p, i);
            block = block.add(e);
            if (++k == SUM_BLOCK) {
                total = total.add(block);
                block = FloatVector.zero(F);
                k = 0;
            }
        }
        float sum = sum(total.add(block));
        for (; i < n; i++) {
            float e = exp(p[i] - shift);
            p[i] = e;
            sum += e;
        }
        return sum;
    }
}

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
 * (allocated), which costs 5-10x and allocates on every element. Whether C2 inlines one of our
 * own methods depends on the order of compilations and on budgets: a callee that already has a
 * compiled body is refused at call sites the profile calls cold ("already compiled into a medium
 * method"), and the parse-time node budget (NodeCountInliningCutoff) stops inlining in big
 * compilation units (every Vector API call expands into dozens of wrapper methods before it
 * becomes one instruction). The JDK's own Vector API methods are force-inlined and escape both
 * rules. So no method of this package that runs per call takes or returns a vector: loads and
 * stores call the JDK directly, the fixed-order horizontal sum (see {@link #X1}) and the exp
 * polynomial are written out where they are needed (exp's scalar twin {@link #exp(float)} is the
 * reference; the conformance tests compare them). Measured
 * before this rule: some JVM runs settled on compilations that boxed in layer norm or
 * log-softmax, allocating up to 200 KB per decoding step, others on ones that did not.
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

    // A thread that is never started: a segment it may access is not confined to one thread.
    private static final Thread PROBE = Thread.ofPlatform().unstarted(() -> { });

    private VectorMath() {
    }

    /**
     * True when worker threads may access {@code s} (null counts as accessible). A segment of a
     * confined arena can only be used by its owner thread, so a kernel given one must run all its
     * tasks on the caller; the fixed task split keeps the results the same.
     */
    static boolean shareable(MemorySegment s) {
        return s == null || s.isAccessibleBy(PROBE);
    }

    static float get(MemorySegment s, long elem) {
        return s.getAtIndex(FL, elem);
    }

    static void set(MemorySegment s, long elem, float v) {
        s.setAtIndex(FL, elem, v);
    }

    /**
     * Sets n floats from element {@code elem} to v. The vector is made only when the vector loop
     * runs: C2 allocated a box for it on every call that skipped the loop (masked softmax rows
     * with nothing to mask), the only allocation left in a decoding step.
     */
    static void fill(MemorySegment s, long elem, long n, float v) {
        long i = 0;
        if (n >= L) {
            FloatVector fv = FloatVector.broadcast(F, v);
            for (; i <= n - L; i += L) {
                fv.intoMemorySegment(s, (elem + i) << 2, NATIVE);
            }
        }
        for (; i < n; i++) {
            set(s, elem + i, v);
        }
    }

    /**
     * Butterfly shuffles for fixed-order horizontal sums: lane i takes lane i ^ s. A sum is written
     * out where it is needed (no helper may take a vector, see the class comment):
     * {@code v = v.add(v.rearrange(X8))} when L >= 16, then X4 when L >= 8, X2 when L >= 4, X1,
     * and {@code v.lane(0)}: lane i is added to lane i + h for h = L/2, ..., 1, the pairs of
     * {@link VectorGemm#sumsOfStored}, so both give the same bits. {@code reduceLanes(ADD)} leaves
     * the order unspecified (it could differ between the interpreter and C2, or between JDKs).
     */
    static final VectorShuffle<Float> X1 = VectorShuffle.fromOp(F, i -> i ^ 1);
    static final VectorShuffle<Float> X2 = VectorShuffle.fromOp(F, i -> i ^ (2 % L));
    static final VectorShuffle<Float> X4 = VectorShuffle.fromOp(F, i -> i ^ (4 % L));
    static final VectorShuffle<Float> X8 = VectorShuffle.fromOp(F, i -> i ^ (8 % L));

    /**
     * e^x: relative error below 1e-7, 0 below -87.34, +inf above 88.38. The vector loops write out
     * the same operations per lane ({@code x.compare(LT, EXP_LO_V)} ... {@code blend(INF_V, huge)}),
     * so their results are bit-identical to this.
     */
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
            FloatVector v = FloatVector.fromMemorySegment(F, x, (base + i) << 2, NATIVE);
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
            FloatVector arg = v.mul(NEG_HALF_V).fma(v, p);
            // e^arg, written out (see the class comment): the operations of exp(float), lane by lane.
            VectorMask<Float> eTiny = arg.compare(VectorOperators.LT, EXP_LO_V);
            VectorMask<Float> eHuge = arg.compare(VectorOperators.GT, EXP_HI_V);
            FloatVector eX = arg.blend(EXP_LO_V, eTiny).blend(EXP_HI_V, eHuge);
            FloatVector eT = eX.fma(LOG2E_V, ROUND_MAGIC_V);
            FloatVector eN = eT.sub(ROUND_MAGIC_V);
            FloatVector eR = eN.fma(NEG_LN2_HI_V, eX);
            eR = eN.fma(NEG_LN2_LO_V, eR);
            FloatVector eY = eR.fma(E5_V, E4_V);
            eY = eY.fma(eR, E3_V);
            eY = eY.fma(eR, E2_V);
            eY = eY.fma(eR, E1_V);
            eY = eY.fma(eR, E0_V);
            eY = eY.fma(eR.mul(eR), eR).add(ONE_V);
            FloatVector ePow = eT.reinterpretAsInts().add(BIAS_V).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = eY.mul(ePow).blend(ZERO_V, eTiny).blend(INF_V, eHuge);
            FloatVector erfc = t.mul(e);
            FloatVector g = v.mul(HALF_V).mul(erfc);
            FloatVector y = v.sub(g).blend(g, v.compare(VectorOperators.LT, ZERO_V));
            y.blend(v, v.compare(VectorOperators.GT, GELU_IDENTITY_V)).intoMemorySegment(x, (base + i) << 2, NATIVE);
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
            FloatVector v = FloatVector.fromMemorySegment(F, x, (base + i) << 2, NATIVE);
            FloatVector arg = v.neg();
            // e^arg, written out (see the class comment): the operations of exp(float), lane by lane.
            VectorMask<Float> eTiny = arg.compare(VectorOperators.LT, EXP_LO_V);
            VectorMask<Float> eHuge = arg.compare(VectorOperators.GT, EXP_HI_V);
            FloatVector eX = arg.blend(EXP_LO_V, eTiny).blend(EXP_HI_V, eHuge);
            FloatVector eT = eX.fma(LOG2E_V, ROUND_MAGIC_V);
            FloatVector eN = eT.sub(ROUND_MAGIC_V);
            FloatVector eR = eN.fma(NEG_LN2_HI_V, eX);
            eR = eN.fma(NEG_LN2_LO_V, eR);
            FloatVector eY = eR.fma(E5_V, E4_V);
            eY = eY.fma(eR, E3_V);
            eY = eY.fma(eR, E2_V);
            eY = eY.fma(eR, E1_V);
            eY = eY.fma(eR, E0_V);
            eY = eY.fma(eR.mul(eR), eR).add(ONE_V);
            FloatVector ePow = eT.reinterpretAsInts().add(BIAS_V).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = eY.mul(ePow).blend(ZERO_V, eTiny).blend(INF_V, eHuge);
            v.div(e.add(ONE_V)).intoMemorySegment(x, (base + i) << 2, NATIVE);
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
            FloatVector arg = FloatVector.fromMemorySegment(F, x, (base + i) << 2, NATIVE).sub(sv);
            // e^arg, written out (see the class comment): the operations of exp(float), lane by lane.
            VectorMask<Float> eTiny = arg.compare(VectorOperators.LT, EXP_LO_V);
            VectorMask<Float> eHuge = arg.compare(VectorOperators.GT, EXP_HI_V);
            FloatVector eX = arg.blend(EXP_LO_V, eTiny).blend(EXP_HI_V, eHuge);
            FloatVector eT = eX.fma(LOG2E_V, ROUND_MAGIC_V);
            FloatVector eN = eT.sub(ROUND_MAGIC_V);
            FloatVector eR = eN.fma(NEG_LN2_HI_V, eX);
            eR = eN.fma(NEG_LN2_LO_V, eR);
            FloatVector eY = eR.fma(E5_V, E4_V);
            eY = eY.fma(eR, E3_V);
            eY = eY.fma(eR, E2_V);
            eY = eY.fma(eR, E1_V);
            eY = eY.fma(eR, E0_V);
            eY = eY.fma(eR.mul(eR), eR).add(ONE_V);
            FloatVector ePow = eT.reinterpretAsInts().add(BIAS_V).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = eY.mul(ePow).blend(ZERO_V, eTiny).blend(INF_V, eHuge);
            if (store) {
                e.intoMemorySegment(x, (base + i) << 2, NATIVE);
            }
            block = block.add(e);
            if (++k == SUM_BLOCK) {
                total = total.add(block);
                block = FloatVector.zero(F);
                k = 0;
            }
        }
        FloatVector v = total.add(block);
        // The fixed-order lane sum, written out (see X1).
        if (L >= 16) {
            v = v.add(v.rearrange(X8));
        }
        if (L >= 8) {
            v = v.add(v.rearrange(X4));
        }
        if (L >= 4) {
            v = v.add(v.rearrange(X2));
        }
        float sum = v.add(v.rearrange(X1)).lane(0);
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
            FloatVector arg = FloatVector.fromArray(F, p, i).sub(sv);
            // e^arg, written out (see the class comment): the operations of exp(float), lane by lane.
            VectorMask<Float> eTiny = arg.compare(VectorOperators.LT, EXP_LO_V);
            VectorMask<Float> eHuge = arg.compare(VectorOperators.GT, EXP_HI_V);
            FloatVector eX = arg.blend(EXP_LO_V, eTiny).blend(EXP_HI_V, eHuge);
            FloatVector eT = eX.fma(LOG2E_V, ROUND_MAGIC_V);
            FloatVector eN = eT.sub(ROUND_MAGIC_V);
            FloatVector eR = eN.fma(NEG_LN2_HI_V, eX);
            eR = eN.fma(NEG_LN2_LO_V, eR);
            FloatVector eY = eR.fma(E5_V, E4_V);
            eY = eY.fma(eR, E3_V);
            eY = eY.fma(eR, E2_V);
            eY = eY.fma(eR, E1_V);
            eY = eY.fma(eR, E0_V);
            eY = eY.fma(eR.mul(eR), eR).add(ONE_V);
            FloatVector ePow = eT.reinterpretAsInts().add(BIAS_V).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = eY.mul(ePow).blend(ZERO_V, eTiny).blend(INF_V, eHuge);
            e.intoArray(p, i);
            block = block.add(e);
            if (++k == SUM_BLOCK) {
                total = total.add(block);
                block = FloatVector.zero(F);
                k = 0;
            }
        }
        FloatVector v = total.add(block);
        // The fixed-order lane sum, written out (see X1).
        if (L >= 16) {
            v = v.add(v.rearrange(X8));
        }
        if (L >= 8) {
            v = v.add(v.rearrange(X4));
        }
        if (L >= 4) {
            v = v.add(v.rearrange(X2));
        }
        float sum = v.add(v.rearrange(X1)).lane(0);
        for (; i < n; i++) {
            float e = exp(p[i] - shift);
            p[i] = e;
            sum += e;
        }
        return sum;
    }
}

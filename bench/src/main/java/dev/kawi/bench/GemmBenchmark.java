package dev.kawi.bench;

import dev.kawi.runtime.kernels.Epilogue;
import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.runtime.kernels.Weights;
import dev.kawi.weights.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One {@code C[M x N] = A[M x K] · Wᵀ} ({@link Kernels#gemm}, no epilogue) with W = N x K in
 * each weight dtype, on 1 and 2 kernel threads. The shapes are those of translation: M = 1 is a
 * greedy decoding step (GEMV) through a d=512 layer, an FFN (512 -> 2048 -> 512) and the
 * 32000-word output projection; M = 32..64 are beams or a short batch; 512 and 1024 are
 * encoder-sized and square reference points.
 *
 * <p>SampleTime: JMH times individual calls, and the report ({@code bench/kernels_report.py})
 * takes the median call time (p50 over all measured calls) and turns it into
 * {@code GFLOP/s = 2 M N K / p50}; numpy's peer number is the same statistic. Iterations are
 * time-based, so the 2 GFLOP shape costs a few calls per iteration even on the scalar kernels.
 * A quick check can skip big shapes: {@code -p shape=1x512x512,32x512x512}.
 *
 * <p>Kernels: {@code new VectorKernels(threads)}; {@code java -Dkawi.bench.kernels=scalar -jar ...}
 * measures the scalar oracle instead (single-threaded whatever {@code threads} says; pass
 * {@code -p threads=1}). Data: off-heap, 64-byte aligned, uniform [-1, 1) from a fixed seed; the
 * weights are built with the weights-format codec in their file layout. The result is checked
 * against a double-precision dot product before timing. W is the same every call, so it is
 * cache-warm as far as its size allows (the 32000 x 512 matrix is 16 to 65 MB by dtype, so it
 * may stream from memory), as in numpy's peer measurement.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GemmBenchmark {
    /** {@code MxKxN}: A is M x K, W is N x K, C is M x N. */
    @Param({"1x512x512", "1x512x2048", "1x2048x512", "1x512x32000", "32x512x512", "64x512x2048", "512x512x512", "1024x1024x1024"})
    public String shape;

    /** Storage type of W (F32, F16, BF16, Q8 or Q4). */
    @Param({"F32", "F16", "Q8", "Q4"})
    public String dtype;

    /** Threads the kernels use for one call. */
    @Param({"1", "2"})
    public int threads;

    private static final long SEED = 0x6b617769L;

    private Arena arena;
    private Kernels kernels;
    private int m;
    private int k;
    private int n;
    private MemorySegment a;   // (M, K)
    private Weights w;         // (N, K) in the file layout of dtype
    private MemorySegment c;   // (M, N)

    /** Parses the shape, builds A and W, and checks one call's result. */
    @Setup(Level.Trial)
    public void setUp() {
        String[] mkn = shape.split("x");
        if (mkn.length != 3) {
            throw new IllegalArgumentException("shape must be MxKxN, got " + shape);
        }
        m = Integer.parseInt(mkn[0]);
        k = Integer.parseInt(mkn[1]);
        n = Integer.parseInt(mkn[2]);
        // Shared: the kernels' worker threads read and write these segments too.
        arena = Arena.ofShared();
        SplittableRandom rnd = new SplittableRandom(SEED);
        a = BenchData.randomF32(arena, (long) m * k, rnd);
        w = BenchData.randomWeights(arena, DType.valueOf(dtype), n, k, rnd);
        c = BenchData.zerosF32(arena, (long) m * n);
        kernels = BenchData.kernels(threads);
        gemm();
        BenchData.checkGemmElement(a, k, w, c, n, 0, 0);
        BenchData.checkGemmElement(a, k, w, c, n, m - 1, n - 1);
        BenchData.checkGemmElement(a, k, w, c, n, m / 2, n / 3);
    }

    /** Frees the off-heap buffers. */
    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    /** {@code C = A · Wᵀ}: 2 M N K flops. */
    @Benchmark
    public void gemm() {
        kernels.gemm(m, a, 0, k, w, c, 0, n, Epilogue.NONE);
    }
}

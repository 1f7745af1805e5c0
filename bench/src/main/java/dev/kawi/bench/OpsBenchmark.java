package dev.kawi.bench;

import dev.kawi.runtime.kernels.Kernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * The kernels around the matrix products, at translation sizes (d = 512, 8 heads of 64): encoder
 * self-attention, one decoding step of attention over a beam KV cache, softmax over logits and
 * over attention scores, and layer norm. Run: {@code java -jar bench/target/benchmarks.jar Ops}
 *
 * <p>Throughput mode: the primary score is calls per second; a secondary result gives the rate
 * that fits the operation, counted per call by the benchmark ({@code gflops}: 10^9 flops/s of
 * multiply-adds, {@code gbytes}: 10^9 bytes/s of compulsory traffic, {@code gelems}: 10^9
 * elements/s). Kernels and data as in {@link GemmBenchmark} ({@code -Dkawi.bench.kernels=scalar}
 * for the scalar ones, {@code threads} as a parameter).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class OpsBenchmark {
    static final int D_MODEL = 512;
    static final int HEADS = 8;
    static final int HEAD_DIM = D_MODEL / HEADS;
    static final float SCALE = (float) (1 / Math.sqrt(HEAD_DIM));
    private static final long SEED = 0x6b617769L;

    /** The kernels under test and the arena of the current trial. */
    @State(Scope.Benchmark)
    public static class Env {
        /** Threads the kernels use for one call. */
        @Param({"1", "2"})
        public int threads;

        Kernels kernels;
        Arena arena;

        /** Creates the kernels and the arena. */
        @Setup(Level.Trial)
        public void setUp() {
            kernels = BenchData.kernels(threads);
            // Shared: the kernels' worker threads touch the buffers too.
            arena = Arena.ofShared();
        }

        /** Frees every buffer of the trial. */
        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    /** 10^9 flops per second (an add and a multiply count as 2). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        /** Flops done in this iteration, in units of 10^9; JMH divides by the time. */
        public double gflops;

        /** JMH does not reset counters itself. */
        @Setup(Level.Iteration)
        public void reset() {
            gflops = 0;
        }
    }

    /** 10^9 bytes per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Bytes {
        /** Bytes moved in this iteration, in units of 10^9; JMH divides by the time. */
        public double gbytes;

        /** JMH does not reset counters itself. */
        @Setup(Level.Iteration)
        public void reset() {
            gbytes = 0;
        }
    }

    /** 10^9 elements per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Elements {
        /** Elements processed in this iteration, in units of 10^9; JMH divides by the time. */
        public double gelems;

        /** JMH does not reset counters itself. */
        @Setup(Level.Iteration)
        public void reset() {
            gelems = 0;
        }
    }

    /** Encoder self-attention: {@code batch} sentences of {@code seqLen} tokens, no mask. */
    @State(Scope.Benchmark)
    public static class EncoderAttention {
        /** Sentences in the batch. */
        @Param({"1", "8", "32"})
        public int batch;

        /** Tokens per sentence (queries = keys). */
        @Param({"32", "128"})
        public int seqLen;

        MemorySegment qkv;   // (batch * seqLen, 3 * D_MODEL): a fused projection; Q, K, V are column views
        MemorySegment out;   // (batch * seqLen, D_MODEL)
        double gflop;        // per call: Q·Kᵀ and P·V, 2 * 2 * batch * heads * seqLen^2 * headDim

        /** Random Q, K, V. */
        @Setup(Level.Trial)
        public void setUp(Env env) {
            SplittableRandom rnd = new SplittableRandom(SEED);
            long rows = (long) batch * seqLen;
            qkv = BenchData.randomF32(env.arena, rows * 3 * D_MODEL, rnd);
            out = BenchData.zerosF32(env.arena, rows * D_MODEL);
            gflop = 4.0 * batch * HEADS * seqLen * (double) seqLen * HEAD_DIM / 1e9;
        }
    }

    /**
     * One decoding step: {@code beams} queries, each over {@code kvLen} cached keys and values.
     * The cache is step-major, as a beam search fills it: the rows of step j for all beams are
     * together, and beam b's history at step j is the row of one (random) ancestor beam, reached
     * through the row indices. Cross-attention over the source has the same shape.
     */
    @State(Scope.Benchmark)
    public static class DecoderStep {
        /** Beams (or sentences) decoded together. */
        @Param({"1", "5", "32"})
        public int beams;

        /** Cached positions each query attends to. */
        @Param({"20", "128"})
        public int kvLen;

        MemorySegment q;       // (beams, D_MODEL)
        MemorySegment kCache;  // (kvLen * beams, D_MODEL), row of (step j, beam b) = j * beams + b
        MemorySegment vCache;  // (kvLen * beams, D_MODEL)
        MemorySegment out;     // (beams, D_MODEL)
        int[] rows;            // (beams, kvLen): cache row of each beam's step j
        int[] lengths;         // (beams): kvLen each
        double gflop;          // per call: 2 * 2 * beams * heads * kvLen * headDim

        /** Random queries and cache, random ancestry. */
        @Setup(Level.Trial)
        public void setUp(Env env) {
            SplittableRandom rnd = new SplittableRandom(SEED);
            long cacheRows = (long) kvLen * beams;
            q = BenchData.randomF32(env.arena, (long) beams * D_MODEL, rnd);
            kCache = BenchData.randomF32(env.arena, cacheRows * D_MODEL, rnd);
            vCache = BenchData.randomF32(env.arena, cacheRows * D_MODEL, rnd);
            out = BenchData.zerosF32(env.arena, (long) beams * D_MODEL);
            rows = new int[beams * kvLen];
            for (int b = 0; b < beams; b++) {
                for (int j = 0; j < kvLen; j++) {
                    rows[b * kvLen + j] = j * beams + rnd.nextInt(beams);
                }
            }
            lengths = new int[beams];
            Arrays.fill(lengths, kvLen);
            gflop = 4.0 * beams * HEADS * kvLen * HEAD_DIM / 1e9;
        }
    }

    /** Softmax rows: {@code Rx32000} are vocabulary logits (R beams), {@code Rx64} attention scores. */
    @State(Scope.Benchmark)
    public static class SoftmaxRows {
        /** {@code ROWSxCOLS}. */
        @Param({"1x32000", "32x32000", "8x64", "256x64"})
        public String softmaxShape;

        int rows;
        int cols;
        MemorySegment x;   // (rows, cols), normalized in place call after call (values stay finite)
        double gelem;      // per call: rows * cols

        /** Random logits. */
        @Setup(Level.Trial)
        public void setUp(Env env) {
            SplittableRandom rnd = new SplittableRandom(SEED);
            String[] rc = softmaxShape.split("x");
            rows = Integer.parseInt(rc[0]);
            cols = Integer.parseInt(rc[1]);
            x = BenchData.randomF32(env.arena, (long) rows * cols, rnd);
            gelem = (double) rows * cols / 1e9;
        }
    }

    /** Layer norm of {@code lnRows} rows of D_MODEL: 1 (a greedy step), 32 (beams), 4096 (an encoder batch). */
    @State(Scope.Benchmark)
    public static class LayerNormRows {
        /** Rows normalized per call. */
        @Param({"1", "32", "4096"})
        public int lnRows;

        MemorySegment x;       // (lnRows, D_MODEL)
        MemorySegment out;     // (lnRows, D_MODEL)
        MemorySegment gamma;   // (D_MODEL)
        MemorySegment beta;    // (D_MODEL)
        double gbyte;          // per call: x read and out written, 2 * 4 * lnRows * D_MODEL

        /** Random input and parameters. */
        @Setup(Level.Trial)
        public void setUp(Env env) {
            SplittableRandom rnd = new SplittableRandom(SEED);
            x = BenchData.randomF32(env.arena, (long) lnRows * D_MODEL, rnd);
            out = BenchData.zerosF32(env.arena, (long) lnRows * D_MODEL);
            gamma = BenchData.randomF32(env.arena, D_MODEL, rnd);
            beta = BenchData.randomF32(env.arena, D_MODEL, rnd);
            gbyte = 8.0 * lnRows * D_MODEL / 1e9;
        }
    }

    /** Encoder self-attention over the batch (all keys valid, not causal). */
    @Benchmark
    public void encoderAttention(Env env, EncoderAttention s, Flops f) {
        int ld = 3 * D_MODEL;
        env.kernels.attention(s.batch, HEADS, HEAD_DIM, s.seqLen, s.seqLen, null, false, SCALE,
                s.qkv, 0, ld, s.qkv, D_MODEL, ld, s.qkv, 2 * D_MODEL, ld, s.out, 0, D_MODEL, null, 0);
        f.gflops += s.gflop;
    }

    /** One decoding step of attention through the row indices. */
    @Benchmark
    public void decoderStepAttention(Env env, DecoderStep s, Flops f) {
        env.kernels.attentionStep(s.beams, HEADS, HEAD_DIM, SCALE, s.q, 0, D_MODEL, s.kCache, s.vCache, D_MODEL,
                s.rows, s.kvLen, s.lengths, s.out, 0, D_MODEL, null, 0, 0);
        f.gflops += s.gflop;
    }

    /** Softmax of every row, in place. */
    @Benchmark
    public void softmax(Env env, SoftmaxRows s, Elements e) {
        env.kernels.softmax(s.x, 0, s.rows, s.cols, s.cols, null);
        e.gelems += s.gelem;
    }

    /** Log-softmax of every row, in place (what beam search applies to the logits). */
    @Benchmark
    public void logSoftmax(Env env, SoftmaxRows s, Elements e) {
        env.kernels.logSoftmax(s.x, 0, s.rows, s.cols, s.cols, null);
        e.gelems += s.gelem;
    }

    /** Layer norm of every row, out of place. */
    @Benchmark
    public void layerNorm(Env env, LayerNormRows s, Bytes b) {
        env.kernels.layerNorm(s.out, 0, D_MODEL, s.x, 0, D_MODEL, s.lnRows, D_MODEL, s.gamma, s.beta, 1e-5f, null, null);
        b.gbytes += s.gbyte;
    }
}

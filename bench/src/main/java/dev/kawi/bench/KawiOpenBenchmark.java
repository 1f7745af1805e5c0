package dev.kawi.bench;

import dev.kawi.weights.DType;
import dev.kawi.weights.KawiFile;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.RandomModels;
import dev.kawi.weights.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * Time to open a model file and read its tensor table, for a ~40 MB and a ~400 MB file with the
 * same architecture depth (same tensor count and metadata size; only the FFN width differs), so
 * any growth with file size would show. Run:
 * {@code java -jar bench/target/benchmarks.jar KawiOpen}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class KawiOpenBenchmark {
    /** Approximate file size in MB. */
    @Param({"40", "400"})
    public int sizeMb;

    private Path file;

    /** Writes the file once per trial (the page cache then holds it, as for a model opened again). */
    @Setup(Level.Trial)
    public void write() throws IOException {
        // 6+6 layers of width 256, vocab 8000: parameters = 6.75M + 6144 * ffn; pick ffn for the size.
        int ffn = sizeMb == 40 ? 512 : 15360;
        ModelConfig c = new ModelConfig(6, 6, 256, 4, ffn, 8000, 512, ModelConfig.NormPlacement.PRE, true, true, 1e-5f,
                ModelConfig.Activation.RELU, ModelConfig.EmbeddingScale.SQRT_D_MODEL, ModelConfig.Positions.SINUSOIDAL,
                true, true, false, true, 0, 1, 2, 3, 1);
        file = Files.createTempFile("kawi-open-" + sizeMb + "mb-", ".kawi");
        RandomModels.write(file, c, DType.F32, 1);
    }

    /** Deletes the file. */
    @TearDown(Level.Trial)
    public void delete() throws IOException {
        Files.deleteIfExists(file);
    }

    /** Open (map + validate), walk the tensor table, close. */
    @Benchmark
    public long openAndReadTable() throws IOException {
        long total = 0;
        try (KawiFile f = KawiFile.open(file)) {
            for (TensorInfo t : f.tensors()) {
                total += t.size();
            }
            total += f.fileSize();
        }
        return total;
    }
}

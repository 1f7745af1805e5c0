package dev.kawi.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.trainer.data.Batcher;
import dev.kawi.trainer.tensor.F32Buf;
import dev.kawi.weights.DType;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.RandomModels;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run resumed from a checkpoint repeats the uninterrupted run bit for bit; damaged checkpoints are refused. */
class ResumeTest {
    @TempDir
    Path dir;

    private static final ModelConfig CONFIG = TestModels.config(2, 1, 32, 4, 64, 260, ModelConfig.NormPlacement.POST, false,
            ModelConfig.Activation.GELU, ModelConfig.Positions.LEARNED, false, false, true, true);

    private static TrainOptions options() {
        return TrainOptions.defaults().withSchedule(8, 3, 1.0).withRegularization(0.1, 0.1, 0.01, 0.5)
                .withBatching(200, 2, 2).withSeed(9, 32).withQat(DType.Q8, 5);
    }

    private static Batcher data() {
        return new Batcher(CopyReverseTest.task(true, 300, 3), 200, 9, 0, 2, 1);
    }

    private static long[] bits(F32Buf b) {
        long[] out = new long[(int) b.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.floatToRawIntBits(b.getFloat(i));
        }
        return out;
    }

    @Test
    void resumedRunEqualsUninterruptedRun() throws IOException {
        double[] straight = new double[8];
        long[] straightParams;
        try (Trainer t = new Trainer(CONFIG, options(), data())) {
            for (int i = 0; i < 8; i++) {
                straight[i] = t.trainStep().loss();
            }
            straightParams = bits(t.parameters());
        }
        double[] resumed = new double[8];
        Path ck = dir.resolve("run.ckpt");
        try (Trainer t = new Trainer(CONFIG, options(), data())) {
            for (int i = 0; i < 4; i++) {
                resumed[i] = t.trainStep().loss();
            }
            Checkpoint.save(ck, t, RandomModels.byteTokenizer(260), Map.of("note", "half way"));
        }
        long[] resumedParams;
        try (Trainer t = Checkpoint.resume(ck, data())) {
            assertEquals(4, t.completedSteps());
            for (int i = 4; i < 8; i++) {
                resumed[i] = t.trainStep().loss();
            }
            assertTrue(t.qatActive(), "QAT is on from step 5");
            resumedParams = bits(t.parameters());
        }
        assertArrayEquals(straight, resumed, 0.0, "losses of the resumed run");
        assertArrayEquals(straightParams, resumedParams, "parameters after 8 steps");
        assertEquals("half way", Checkpoint.readMeta(ck).extra().get("note"));
    }

    @Test
    void damagedCheckpointsAreRefusedWithTheFileNamed() throws IOException {
        Path ck = dir.resolve("x.ckpt");
        try (Trainer t = new Trainer(CONFIG, options(), data())) {
            t.trainStep();
            Checkpoint.save(ck, t, RandomModels.byteTokenizer(260), Map.of());
        }
        byte[] good = Files.readAllBytes(ck);
        // A flipped byte in the parameters: the checksum catches it.
        try (FileChannel ch = FileChannel.open(ck, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {(byte) (good[good.length - 100] ^ 1)}), good.length - 100);
        }
        TrainingException e = assertThrows(TrainingException.class, () -> Checkpoint.resume(ck, data()));
        assertTrue(e.getMessage().contains(ck.toString()) && e.getMessage().contains("checksum"), e.getMessage());
        // Truncated.
        Files.write(ck, java.util.Arrays.copyOf(good, good.length - 7));
        e = assertThrows(TrainingException.class, () -> Checkpoint.resume(ck, data()));
        assertTrue(e.getMessage().contains("size"), e.getMessage());
        // Not a checkpoint at all.
        Files.writeString(ck, "hello, this is not a checkpoint file");
        e = assertThrows(TrainingException.class, () -> Checkpoint.resume(ck, data()));
        assertTrue(e.getMessage().contains("magic"), e.getMessage());
    }
}

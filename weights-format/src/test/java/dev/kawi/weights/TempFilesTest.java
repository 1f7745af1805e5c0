package dev.kawi.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Atomically written files get the permissions of any new file, not createTempFile's owner-only 0600. */
class TempFilesTest {
    @TempDir
    Path dir;

    @Test
    void aWrittenModelIsAsReadableAsAPlainNewFile() throws Exception {
        Set<PosixFilePermission> plain = Files.getPosixFilePermissions(Files.createFile(dir.resolve("plain")));
        // Under the usual umask 022 that is rw-r--r--, where createTempFile gives rw-------.

        Path model = dir.resolve("m.kawi");
        ModelConfig c = new ModelConfig(1, 1, 16, 2, 32, 300, 16, ModelConfig.NormPlacement.PRE, true, true, 1e-5f,
                ModelConfig.Activation.RELU, ModelConfig.EmbeddingScale.SQRT_D_MODEL, ModelConfig.Positions.SINUSOIDAL,
                true, true, false, true, 0, 1, 2, 3, 1);
        RandomModels.write(model, c, DType.F32, 1);
        assertEquals(plain, Files.getPosixFilePermissions(model));

        Path temp = TempFiles.besides(dir.resolve("out.txt"));
        assertEquals(dir, temp.getParent());
        assertTrue(temp.getFileName().toString().startsWith(".out.txt.") && temp.getFileName().toString().endsWith(".tmp"), temp.toString());
        assertEquals(plain, Files.getPosixFilePermissions(temp));
    }
}

package dev.kawi.weights;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The temporary file of an atomic write (write it, then rename it over the target). Unlike
 * {@link Files#createTempFile}, which makes every file owner-only (0600), the file gets the
 * permissions of any new file (0666 less the umask), so what the rename leaves behind (a model,
 * a translation, a vocabulary) is as readable as if it had been written in place.
 */
public final class TempFiles {
    private TempFiles() {
    }

    /** Creates an empty hidden file {@code .NAME.RANDOM.tmp} in the folder of {@code target} (which must exist). */
    public static Path besides(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        for (int attempt = 0; ; attempt++) {
            String random = Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
            try {
                return Files.createFile(dir.resolve("." + abs.getFileName() + "." + random + ".tmp"));
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw e;
                }
            }
        }
    }
}

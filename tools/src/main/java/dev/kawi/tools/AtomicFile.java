package dev.kawi.tools;

import dev.kawi.weights.TempFiles;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A file written atomically: bytes go to a temporary file in the target's folder, which
 * {@link #commit()} renames over the target. Closing without committing deletes the temporary
 * file, so the target is either left as it was or replaced whole.
 */
final class AtomicFile implements Closeable {
    private final Path target;
    private final Path temp;
    private final OutputStream out;
    private boolean committed;

    private AtomicFile(Path target, Path temp, OutputStream out) {
        this.target = target;
        this.temp = temp;
        this.out = out;
    }

    /** Creates the temporary file beside {@code target}; a missing or unwritable folder is a one-line error. */
    static AtomicFile create(Path target) {
        Path abs = target.toAbsolutePath();
        Path parent = abs.getParent();
        if (Files.isDirectory(abs)) {
            throw new BadInputException(target + ": is a directory");
        }
        if (parent == null || !Files.isDirectory(parent)) {
            throw new BadInputException(target + ": no such folder " + parent);
        }
        try {
            Path temp = TempFiles.besides(abs);
            return new AtomicFile(target, temp, Files.newOutputStream(temp));
        } catch (AccessDeniedException e) {
            throw new BadInputException(target + ": permission denied");
        } catch (NoSuchFileException e) {
            throw new BadInputException(target + ": no such folder " + parent);
        } catch (IOException e) {
            throw new BadInputException(target + ": cannot write: " + e.getMessage());
        }
    }

    /** The stream to the temporary file (unbuffered). */
    OutputStream stream() {
        return out;
    }

    /** Flushes, syncs and renames the temporary file over the target. */
    void commit() throws IOException {
        out.flush();
        out.close();
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        committed = true;
    }

    /** Deletes the temporary file unless committed. */
    @Override
    public void close() throws IOException {
        if (!committed) {
            out.close();
            Files.deleteIfExists(temp);
        }
    }
}

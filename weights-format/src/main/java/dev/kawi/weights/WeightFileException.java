package dev.kawi.weights;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A {@code .kawi} file is malformed or unreadable. The message names the file, the problem and
 * where it is (a byte offset or a metadata field), so a user can act on it without a stack trace.
 */
public final class WeightFileException extends IOException {
    private final transient Path file;

    /** A problem in {@code file}; {@code where} is e.g. "offset 64" or "field tensors[3].shape", or null. */
    public WeightFileException(Path file, String problem, String where) {
        super(file + ": " + problem + (where == null ? "" : " (" + where + ")"));
        this.file = file;
    }

    /** As {@link #WeightFileException(Path, String, String)} with the underlying cause. */
    public WeightFileException(Path file, String problem, String where, Throwable cause) {
        this(file, problem, where);
        initCause(cause);
    }

    /** The file concerned. */
    public Path file() {
        return file;
    }
}

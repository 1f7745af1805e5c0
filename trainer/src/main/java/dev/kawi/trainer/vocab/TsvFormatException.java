package dev.kawi.trainer.vocab;

import java.nio.file.Path;

/** A malformed line in a TSV file of sentence pairs; the message is {@code FILE:LINE: problem}. */
public final class TsvFormatException extends RuntimeException {
    private final transient Path file;
    private final long line;

    /** A problem on line {@code line} (1-based) of file. */
    public TsvFormatException(Path file, long line, String problem) {
        super(file + ":" + line + ": " + problem);
        this.file = file;
        this.line = line;
    }

    /** The file concerned. */
    public Path file() {
        return file;
    }

    /** The 1-based line number. */
    public long line() {
        return line;
    }
}

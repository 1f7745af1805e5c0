package dev.kawi.trainer.data;

/** A training file that cannot be used; the message names the file and line. */
public final class CorpusException extends RuntimeException {
    /** An error with its location already in {@code message}. */
    public CorpusException(String message) {
        super(message);
    }
}

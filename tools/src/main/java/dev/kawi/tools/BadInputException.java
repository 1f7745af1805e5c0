package dev.kawi.tools;

/** Bad input given to a command (a file, a value); the CLI prints the message on one line and exits with 2. */
public final class BadInputException extends RuntimeException {
    /** Creates one with a message that names the problem and where it is. */
    public BadInputException(String message) {
        super(message);
    }
}

package dev.kawi.tools.serve;

/** A request refused with an HTTP status and a one-line message for the JSON error body. */
final class HttpError extends Exception {
    final int status;

    HttpError(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }
}

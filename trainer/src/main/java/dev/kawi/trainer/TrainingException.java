package dev.kawi.trainer;

/** Training cannot continue (a NaN or infinite value, a bad checkpoint); the message says where. */
public final class TrainingException extends RuntimeException {
    /** An error whose message names the step and tensor or file. */
    public TrainingException(String message) {
        super(message);
    }
}

package dev.kawi.trainer.vocab;

/** What reading a TSV file does with a malformed line. */
public enum BadLines {
    /** Stop at the first malformed line with an error naming the file and line. */
    FAIL,
    /** Skip malformed lines, counting them and remembering the first few problems. */
    SKIP
}

package dev.kawi.weights;

/** A metadata value is missing or invalid; the message starts with the field's path, e.g. "config.d_model". */
public final class MetadataException extends IllegalArgumentException {
    private final String field;

    /** A problem with {@code field} (a dotted path such as "tokenizer.pieces[3]"). */
    public MetadataException(String field, String problem) {
        super(field + ": " + problem);
        this.field = field;
    }

    /** The dotted path of the field concerned. */
    public String field() {
        return field;
    }
}

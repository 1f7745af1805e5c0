package dev.kawi.weights;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Which tensors a conversion to a smaller dtype changes. One definition for {@code kawi quantize},
 * the trainer's export and its quantization-aware training, so that a QAT model is fake-quantized
 * exactly where its export is quantized.
 */
public final class QuantPolicy {
    /** Name patterns ({@code *} matches anything) of tensors kept as they are by default: biases and norms. */
    public static final List<String> DEFAULT_KEEP = List.of("*.bias", "*norm*");

    private final List<Pattern> keep;

    private QuantPolicy(List<String> globs) {
        this.keep = globs.stream().map(QuantPolicy::glob).toList();
    }

    /** The default policy (norms and biases kept). */
    public static QuantPolicy defaults() {
        return new QuantPolicy(DEFAULT_KEEP);
    }

    /** A policy keeping the tensors whose names match one of {@code globs}. */
    public static QuantPolicy keeping(List<String> globs) {
        return new QuantPolicy(globs);
    }

    /** True when {@code name} matches a keep pattern. */
    public boolean kept(String name) {
        for (Pattern p : keep) {
            if (p.matcher(name).matches()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The dtype tensor {@code name} (last dimension {@code cols}, now in {@code current}) gets when a
     * file is converted to {@code target}: {@code current} when kept by name or when {@code target}
     * is block-quantized and {@code cols} is not a multiple of the block.
     */
    public DType storedType(String name, long cols, DType current, DType target) {
        if (kept(name) || (target.isQuantized() && cols % QuantCodec.BLOCK != 0)) {
            return current;
        }
        return target;
    }

    private static Pattern glob(String g) {
        StringBuilder re = new StringBuilder();
        for (String part : g.split("\\*", -1)) {
            if (!re.isEmpty()) {
                re.append(".*");
            }
            re.append(Pattern.quote(part));
        }
        return Pattern.compile(re.toString());
    }
}

package dev.kawi.trainer.export;

import dev.kawi.trainer.model.ParamLayout;
import dev.kawi.trainer.tensor.F32Buf;
import dev.kawi.weights.DType;
import dev.kawi.weights.KawiWriter;
import dev.kawi.weights.QuantPolicy;
import dev.kawi.weights.TokenizerSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes trained parameters as a {@code .kawi} file (atomically, through {@link KawiWriter}):
 * F32, or F16/BF16/Q8/Q4 for the tensors {@link QuantPolicy} converts, with the config, the
 * tokenizer and the training provenance.
 */
public final class Exporter {
    private Exporter() {
    }

    /** Writes {@code params} (laid out by {@code layout}) to {@code out} with matrices in {@code dtype}. */
    public static void write(Path out, ParamLayout layout, F32Buf params, DType dtype, TokenizerSpec tokenizer,
                             Map<String, Object> provenance) throws IOException {
        QuantPolicy policy = QuantPolicy.defaults();
        try (KawiWriter w = KawiWriter.create(out)) {
            for (ParamLayout.Entry e : layout.entries()) {
                DType to = policy.storedType(e.name(), e.cols(), DType.F32, dtype);
                int cols = e.cols();
                w.writeFloats(e.name(), to, e.shape(), (row, dst) -> params.read(e.offset() + row * cols, dst, 0, cols));
            }
            w.finish(layout.config(), tokenizer, provenance);
        }
    }
}

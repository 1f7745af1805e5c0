package dev.kawi.tools;

import dev.kawi.weights.DType;
import dev.kawi.weights.KawiFile;
import dev.kawi.weights.KawiWriter;
import dev.kawi.weights.QuantCodec;
import dev.kawi.weights.QuantPolicy;
import dev.kawi.weights.Tensor;
import dev.kawi.weights.TensorInfo;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kawi quantize}: converts a model's weight matrices to another dtype. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Convert a model's tensors to Q8, Q4, F16, BF16 or F32, streaming tensor by tensor.",
            "Tensors matching a --keep pattern (by default norms and biases) are copied unchanged.",
            "Prints the size before and after and the max and mean absolute error of every tensor."})
final class QuantizeCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "IN", description = "Input .kawi file.")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "Output .kawi file (written atomically).")
    Path out;

    @Option(names = "--dtype", required = true, paramLabel = "TYPE",
            description = "Target type: q8, q4, f16, bf16 or f32.")
    String dtype;

    @Option(names = "--keep", paramLabel = "GLOB",
            description = "Name pattern (* matches anything) of tensors to copy unchanged; repeatable. Default: '*.bias', '*norm*'.")
    List<String> keep;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        DType target = DType.fromName(dtype.toUpperCase(Locale.ROOT));
        if (target == null) {
            throw new BadInputException("--dtype: unknown type \"" + dtype + "\" (use q8, q4, f16, bf16 or f32)");
        }
        if (Files.exists(out) && Files.isSameFile(in, out)) {
            throw new BadInputException("OUT must differ from IN (" + out + ")");
        }
        QuantPolicy policy = keep == null ? QuantPolicy.defaults() : QuantPolicy.keeping(keep);
        PrintWriter pw = spec.commandLine().getOut();
        Map<String, String> notes = new LinkedHashMap<>();
        try (KawiFile src = KawiFile.open(in); KawiWriter w = KawiWriter.create(out)) {
            for (TensorInfo t : src.tensors()) {
                Tensor tensor = src.tensor(t.name());
                DType to = policy.storedType(t.name(), t.cols(), t.dtype(), target);
                if (policy.kept(t.name())) {
                    notes.put(t.name(), "kept");
                } else if (to != target) {
                    notes.put(t.name(), "kept: last dimension " + t.cols() + " is not a multiple of " + QuantCodec.BLOCK);
                }
                if (to == t.dtype()) {
                    w.writeTensor(t.name(), t.dtype(), t.shape(), tensor.data());
                } else {
                    w.writeFloats(t.name(), to, t.shape(), tensor::readRow);
                }
            }
            Map<String, Object> provenance = new LinkedHashMap<>(src.provenance());
            provenance.put("quantized", Map.of("from", in.getFileName().toString(), "dtype", target.name()));
            w.finish(src.config(), src.tokenizer(), provenance);
        }
        report(pw, notes);
        return Main.OK;
    }

    /** Compares every tensor of OUT with IN, row by row, and prints the table and sizes. */
    private void report(PrintWriter pw, Map<String, String> notes) throws Exception {
        try (KawiFile a = KawiFile.open(in); KawiFile b = KawiFile.open(out)) {
            int w = "tensor".length();
            for (TensorInfo t : a.tensors()) {
                w = Math.max(w, t.name().length());
            }
            pw.printf("%-" + w + "s  %-11s  %12s  %12s%n", "tensor", "dtype", "max |err|", "mean |err|");
            for (TensorInfo t : a.tensors()) {
                Tensor x = a.tensor(t.name());
                Tensor y = b.tensor(t.name());
                int cols = (int) t.cols();
                float[] rx = new float[cols];
                float[] ry = new float[cols];
                double max = 0;
                double sum = 0;
                for (long r = 0; r < t.rows(); r++) {
                    x.readRow(r, rx);
                    y.readRow(r, ry);
                    for (int i = 0; i < cols; i++) {
                        double e = Math.abs((double) rx[i] - ry[i]);
                        max = Math.max(max, e);
                        sum += e;
                    }
                }
                String types = t.dtype() + " -> " + y.dtype();
                String note = notes.containsKey(t.name()) ? "  (" + notes.get(t.name()) + ")" : "";
                pw.printf(Locale.ROOT, "%-" + w + "s  %-11s  %12.3e  %12.3e%s%n", t.name(), types, max, sum / t.elementCount(), note);
            }
            pw.printf(Locale.ROOT, "size: %s -> %s (%.1f%%)%n", Format.bytes(a.fileSize()), Format.bytes(b.fileSize()),
                    100.0 * b.fileSize() / a.fileSize());
        }
    }

}

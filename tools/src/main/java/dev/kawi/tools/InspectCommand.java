package dev.kawi.tools;

import dev.kawi.weights.DType;
import dev.kawi.weights.Json;
import dev.kawi.weights.KawiFile;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.TensorInfo;
import dev.kawi.weights.TokenizerSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code kawi inspect}: what a model file holds. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Show a model file's config, tokenizer, provenance and tensor table.")
final class InspectCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "The .kawi file.")
    Path file;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Option(names = "--verify", description = "Also check every tensor's CRC-32C (reads the whole file).")
    boolean verify;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (KawiFile f = KawiFile.open(file)) {
            if (verify) {
                f.verifyChecksums();
            }
            if (json) {
                out.println(Json.writePretty(toJson(f)));
            } else {
                printText(f, out);
            }
        }
        return Main.OK;
    }

    private Map<String, Object> toJson(KawiFile f) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", f.path().toString());
        m.put("format_version", f.version());
        m.put("file_bytes", f.fileSize());
        m.put("config", f.config().toJson());
        TokenizerSpec t = f.tokenizer();
        Map<String, Object> tok = new LinkedHashMap<>();
        tok.put("type", t.type().name().toLowerCase(Locale.ROOT));
        tok.put("pieces", (long) t.size());
        tok.put("merges", (long) t.mergeCount());
        tok.put("normalization", t.normalization().name().toLowerCase(Locale.ROOT));
        tok.put("byte_fallback", t.byteFallback());
        tok.put("add_dummy_prefix", t.addDummyPrefix());
        m.put("tokenizer", tok);
        m.put("provenance", f.provenance());
        List<Object> tensors = new ArrayList<>();
        for (TensorInfo ti : f.tensors()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", ti.name());
            e.put("dtype", ti.dtype().name());
            List<Object> shape = new ArrayList<>();
            for (long d : ti.shape()) {
                shape.add(d);
            }
            e.put("shape", shape);
            e.put("bytes", ti.size());
            tensors.add(e);
        }
        m.put("tensors", tensors);
        m.put("totals", totals(f));
        if (verify) {
            m.put("checksums", "verified");
        }
        return m;
    }

    private static Map<String, Object> totals(KawiFile f) {
        Map<String, Object> m = new LinkedHashMap<>();
        long params = 0;
        long bytes = 0;
        Map<DType, long[]> byType = new EnumMap<>(DType.class);
        for (TensorInfo t : f.tensors()) {
            params += t.elementCount();
            bytes += t.size();
            long[] acc = byType.computeIfAbsent(t.dtype(), k -> new long[3]);
            acc[0]++;
            acc[1] += t.elementCount();
            acc[2] += t.size();
        }
        m.put("tensors", (long) f.tensors().size());
        m.put("parameters", params);
        m.put("tensor_bytes", bytes);
        Map<String, Object> types = new LinkedHashMap<>();
        byType.forEach((k, v) -> types.put(k.name(), Map.of("tensors", v[0], "parameters", v[1], "bytes", v[2])));
        m.put("by_dtype", types);
        return m;
    }

    private void printText(KawiFile f, PrintWriter out) {
        ModelConfig c = f.config();
        out.printf("file        %s (%s, format %s)%n", f.path(), Format.bytes(f.fileSize()), f.version());
        out.printf("model       transformer: %d encoder + %d decoder layers, d_model %d, %d heads of %d, ffn %d, vocab %s, max positions %d%n",
                c.encoderLayers(), c.decoderLayers(), c.dModel(), c.numHeads(), c.headDim(), c.ffnDim(), Format.count(c.vocabSize()), c.maxPositions());
        out.printf("            %s-norm (eps %s)%s%s, %s, embeddings x %s, %s positions%n",
                lower(c.norm()), c.layerNormEps(), c.encoderFinalNorm() ? ", final encoder norm" : "",
                c.decoderFinalNorm() ? ", final decoder norm" : "", lower(c.activation()),
                c.embeddingScale() == ModelConfig.EmbeddingScale.ONE ? "1" : "sqrt(d_model)", lower(c.positions()));
        out.printf("            %s embeddings, %s output projection%s, %s%n",
                c.sharedEmbeddings() ? "shared" : "separate", c.tiedOutput() ? "tied" : "separate",
                c.outputBias() ? " with bias" : "", c.linearBias() ? "linear layers with bias" : "linear layers without bias");
        out.printf("            ids: pad %d, bos %d, eos %d, unk %d, decoder start %d%n",
                c.padId(), c.bosId(), c.eosId(), c.unkId(), c.decoderStartId());
        TokenizerSpec t = f.tokenizer();
        out.printf("tokenizer   %s, %s pieces, %s merges, normalization %s%s%s%n", lower(t.type()), Format.count(t.size()),
                Format.count(t.mergeCount()), lower(t.normalization()), t.byteFallback() ? ", byte fallback" : "",
                t.addDummyPrefix() ? ", dummy prefix" : "");
        out.printf("provenance  %s%n", Json.write(f.provenance()));
        out.println();
        int w = "name".length();
        for (TensorInfo ti : f.tensors()) {
            w = Math.max(w, ti.name().length());
        }
        out.printf("%-" + w + "s  %-5s  %-14s  %12s%n", "name", "dtype", "shape", "bytes");
        for (TensorInfo ti : f.tensors()) {
            out.printf("%-" + w + "s  %-5s  %-14s  %12s%n", ti.name(), ti.dtype(), ti.shapeString(), Format.count(ti.size()));
        }
        out.println();
        Map<String, Object> tot = totals(f);
        out.printf("total       %s tensors, %s parameters, %s of tensor data%n", tot.get("tensors"),
                Format.count((Long) tot.get("parameters")), Format.bytes((Long) tot.get("tensor_bytes")));
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Long>> byType = (Map<String, Map<String, Long>>) tot.get("by_dtype");
        byType.forEach((k, v) -> out.printf("            %-4s %4d tensors, %s parameters, %s%n", k, v.get("tensors"),
                Format.count(v.get("parameters")), Format.bytes(v.get("bytes"))));
        if (verify) {
            out.printf("checksums   verified (%d tensors, CRC-32C)%n", f.tensors().size());
        }
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}

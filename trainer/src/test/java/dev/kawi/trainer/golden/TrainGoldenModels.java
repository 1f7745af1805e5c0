package dev.kawi.trainer.golden;

import dev.kawi.trainer.TestModels;
import dev.kawi.trainer.data.Batch;
import dev.kawi.trainer.export.Exporter;
import dev.kawi.trainer.model.ParamLayout;
import dev.kawi.trainer.tensor.Buf;
import dev.kawi.trainer.tensor.F32Buf;
import dev.kawi.weights.DType;
import dev.kawi.weights.Json;
import dev.kawi.weights.KawiFile;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.Tensor;
import dev.kawi.weights.TokenizerSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes the inputs of the trainer's golden gradient fixtures: two small F32 models with seeded
 * random weights and one fixed batch of sentence pairs. The independent PyTorch reference
 * ({@code trainer/src/test/golden/make_train_golden.py}) reads them and writes the loss and every
 * parameter's gradient; {@code TrainGoldenTest} compares {@code Seq2Seq.step} against those.
 * Deterministic: same files, byte for byte, on every run.
 *
 * <p>Run from the repository root:
 * <pre>
 * ./mvn25 -q -o -pl trainer -am test-compile
 * java -cp trainer/target/test-classes:trainer/target/classes:runtime/target/classes:weights-format/target/classes \
 *     dev.kawi.trainer.golden.TrainGoldenModels [output-dir]
 * </pre>
 * The default output directory is {@code trainer/src/test/resources/golden}.
 */
public final class TrainGoldenModels {
    /** The models: file stem, config, weight seed. */
    record Model(String name, ModelConfig config, long seed) {
    }

    static final int VOCAB = 32;
    /** d = 16 and head width 4 make √d = 4 and 1/√hd = 0.5 exact, in float32 as in float64. */
    static final int D_MODEL = 16;
    static final int HEADS = 4;
    static final int FFN = 32;
    /** Matrices uniform in ±0.4 ({@link TestModels#randomize}): activations stay O(1), softmaxes far from one-hot. */
    static final double WEIGHT_SCALE = 0.4;
    static final String BATCH_FILE = "batch.json";
    static final long BATCH_SEED = 2100;
    /** Source and target lengths before eos / start: both sides get padding, one target has a single token. */
    static final int[] SOURCE_LENGTHS = {6, 2, 9, 4};
    static final int[] TARGET_LENGTHS = {5, 8, 1, 3};

    private TrainGoldenModels() {
    }

    /** The two architectures the fixtures cover (every option of {@link ModelConfig} except swish and no biases). */
    static List<Model> models() {
        return List.of(
                new Model("post_tied", TestModels.config(2, 2, D_MODEL, HEADS, FFN, VOCAB, ModelConfig.NormPlacement.POST,
                        false, ModelConfig.Activation.RELU, ModelConfig.Positions.SINUSOIDAL, true, true, false, true), 2001),
                new Model("pre_untied", TestModels.config(2, 2, D_MODEL, HEADS, FFN, VOCAB, ModelConfig.NormPlacement.PRE,
                        true, ModelConfig.Activation.GELU, ModelConfig.Positions.LEARNED, false, false, true, true), 2002));
    }

    /** A tokenizer of exactly {@code vocab} pieces: the four specials, then {@code ▁w0, ▁w1, ...} (no merges). */
    static TokenizerSpec tokenizer(int vocab) {
        List<String> pieces = new ArrayList<>(List.of("<pad>", "<s>", "</s>", "<unk>"));
        for (int i = 0; pieces.size() < vocab; i++) {
            pieces.add(TokenizerSpec.WORD_BOUNDARY + "w" + i);
        }
        return new TokenizerSpec(TokenizerSpec.Type.BPE, TokenizerSpec.Normalization.NFC, false, true, pieces, null, new int[0]);
    }

    /** The batch's sentence pairs: seeded random ids in [4, vocab) of the fixed lengths. */
    static List<Batch.Pair> pairs() {
        SplittableRandom rnd = new SplittableRandom(BATCH_SEED);
        List<Batch.Pair> out = new ArrayList<>();
        for (int b = 0; b < SOURCE_LENGTHS.length; b++) {
            int[] src = new int[SOURCE_LENGTHS[b]];
            int[] tgt = new int[TARGET_LENGTHS[b]];
            for (int i = 0; i < src.length; i++) {
                src[i] = 4 + rnd.nextInt(VOCAB - 4);
            }
            for (int i = 0; i < tgt.length; i++) {
                tgt[i] = 4 + rnd.nextInt(VOCAB - 4);
            }
            out.add(new Batch.Pair(src, tgt));
        }
        return out;
    }

    /** Reads the batch file: {@code {"pairs": [{"source": [...], "target": [...]}, ...]}}. */
    static List<Batch.Pair> readPairs(Path file) throws IOException {
        Object parsed;
        try {
            parsed = Json.parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (Json.ParseException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        List<Batch.Pair> out = new ArrayList<>();
        List<?> pairs = (List<?>) ((Map<?, ?>) parsed).get("pairs");
        for (Object o : pairs) {
            Map<?, ?> p = (Map<?, ?>) o;
            out.add(new Batch.Pair(ints(p.get("source")), ints(p.get("target"))));
        }
        return out;
    }

    private static int[] ints(Object list) {
        List<?> l = (List<?>) list;
        int[] a = new int[l.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = ((Number) l.get(i)).intValue();
        }
        return a;
    }

    /** Copies every tensor of {@code file} (F32) into {@code params}, laid out by {@code layout}. */
    static void load(KawiFile file, ParamLayout layout, Buf params) {
        if (file.tensors().size() != layout.entries().size()) {
            throw new IllegalStateException(file.path() + ": " + file.tensors().size() + " tensors, the layout has "
                    + layout.entries().size());
        }
        for (ParamLayout.Entry e : layout.entries()) {
            Tensor t = file.tensor(e.name());
            float[] v = t.toFloats();
            if (v.length != e.size()) {
                throw new IllegalStateException(file.path() + ": tensor " + e.name() + " has " + v.length
                        + " values, expected " + e.size());
            }
            for (int i = 0; i < v.length; i++) {
                params.set(e.offset() + i, v[i]);
            }
        }
    }

    /** Writes the models and the batch into {@code args[0]} (default {@code trainer/src/test/resources/golden}). */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "trainer/src/test/resources/golden");
        Files.createDirectories(dir);
        for (Model m : models()) {
            ParamLayout layout = new ParamLayout(m.config());
            F32Buf params = new F32Buf(layout.total());
            TestModels.randomize(layout, params, m.seed(), WEIGHT_SCALE);
            Map<String, Object> provenance = new LinkedHashMap<>();
            provenance.put("generator", "TrainGoldenModels");
            provenance.put("seed", m.seed());
            provenance.put("weight_scale", WEIGHT_SCALE);
            Path out = dir.resolve(m.name() + ".kawi");
            Exporter.write(out, layout, params, DType.F32, tokenizer(m.config().vocabSize()), provenance);
            System.out.println("wrote " + out + " (" + Files.size(out) + " bytes, seed " + m.seed() + ")");
        }
        StringBuilder sb = new StringBuilder();
        sb.append("{\n  \"description\": \"sentence pairs without eos/start: Batch.of appends eos to the source, ")
                .append("prepends decoder_start to the decoder input and appends eos to the labels\",\n");
        sb.append("  \"seed\": ").append(BATCH_SEED).append(",\n  \"pairs\": [\n");
        List<Batch.Pair> pairs = pairs();
        for (int i = 0; i < pairs.size(); i++) {
            Batch.Pair p = pairs.get(i);
            sb.append("    {\"source\": ").append(Json.write(boxed(p.source()))).append(", \"target\": ")
                    .append(Json.write(boxed(p.target()))).append(i + 1 < pairs.size() ? "},\n" : "}\n");
        }
        sb.append("  ]\n}\n");
        Path batch = dir.resolve(BATCH_FILE);
        Path tmp = dir.resolve(BATCH_FILE + ".tmp");
        Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
        Files.move(tmp, batch, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.println("wrote " + batch);
    }

    private static List<Long> boxed(int[] a) {
        List<Long> l = new ArrayList<>(a.length);
        for (int x : a) {
            l.add((long) x);
        }
        return l;
    }
}

package dev.kawi.trainer.export;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.runtime.kernels.KernelProvider;
import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.runtime.model.DecoderState;
import dev.kawi.runtime.model.Encoder;
import dev.kawi.runtime.model.EncoderOutput;
import dev.kawi.runtime.model.TransformerModel;
import dev.kawi.trainer.TestModels;
import dev.kawi.trainer.data.Batch;
import dev.kawi.trainer.model.ParamLayout;
import dev.kawi.trainer.model.Seq2Seq;
import dev.kawi.trainer.model.Workspace;
import dev.kawi.trainer.tensor.Buf;
import dev.kawi.trainer.tensor.F32Buf;
import dev.kawi.trainer.tensor.Precision;
import dev.kawi.trainer.tensor.Products;
import dev.kawi.weights.DType;
import dev.kawi.weights.KawiFile;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.QuantPolicy;
import dev.kawi.weights.RandomModels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The trainer's forward logits equal the runtime's for the exported file: F32 export against
 * the F32 parameters, and Q8/Q4 exports against the fake-quantized parameters of QAT.
 */
class RuntimeAgreementTest {
    @TempDir
    Path dir;

    static Stream<Arguments> cases() {
        ModelConfig post = TestModels.config(2, 2, 32, 4, 64, 300, ModelConfig.NormPlacement.POST, false,
                ModelConfig.Activation.RELU, ModelConfig.Positions.SINUSOIDAL, true, true, false, true);
        ModelConfig pre = TestModels.config(2, 2, 32, 4, 64, 300, ModelConfig.NormPlacement.PRE, true,
                ModelConfig.Activation.GELU, ModelConfig.Positions.LEARNED, false, false, true, true);
        return Stream.of(
                Arguments.of("post-norm tied", post, DType.F32),
                Arguments.of("pre-norm untied", pre, DType.F32),
                Arguments.of("post-norm tied Q8", post, DType.Q8),
                Arguments.of("pre-norm untied Q8", pre, DType.Q8),
                Arguments.of("post-norm tied Q4", post, DType.Q4));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void exportedModelGivesTheTrainersLogits(String name, ModelConfig c, DType dtype) throws Exception {
        long seed = 11;
        ParamLayout layout = new ParamLayout(c);
        F32Buf params = new F32Buf(layout.total());
        TestModels.randomize(layout, params, seed, 0.3);
        F32Buf used = params;
        if (dtype.isQuantized()) {
            used = new F32Buf(layout.total());
            new FakeQuant(layout, dtype, QuantPolicy.defaults()).apply(params, used);
        }
        Kernels k = KernelProvider.get(1);
        Workspace ws = new Workspace(c, Precision.F32, new Products(k));
        Batch batch = TestModels.batch(c, 4, seed + 1);
        Seq2Seq model = new Seq2Seq(layout);
        model.logits(ws, used, batch);
        Buf logits = ws.logits();

        Path file = dir.resolve("m.kawi");
        Exporter.write(file, layout, params, dtype, RandomModels.byteTokenizer(c.vocabSize()), Map.of("test", name));
        double worst = 0;
        int v = c.vocabSize();
        try (KawiFile f = KawiFile.open(file); Arena arena = Arena.ofConfined()) {
            TransformerModel m = new TransformerModel(f, arena);
            for (int b = 0; b < batch.size(); b++) {
                int[] src = Arrays.copyOfRange(batch.src(), b * batch.srcLen(), b * batch.srcLen() + batch.srcLens()[b]);
                EncoderOutput enc = Encoder.encode(m, k, arena, new int[][] {src});
                DecoderState st = new DecoderState(m, k, arena, enc, 1, batch.tgtLen());
                for (int t = 0; t < batch.tgtLens()[b]; t++) {
                    st.step(new int[] {batch.tgtIn()[b * batch.tgtLen() + t]});
                    MemorySegment rl = st.logits();
                    long row = (long) (b * batch.tgtLen() + t) * v;
                    for (int j = 0; j < v; j++) {
                        double diff = Math.abs(rl.getAtIndex(ValueLayout.JAVA_FLOAT, j) - logits.get(row + j));
                        worst = Math.max(worst, diff);
                    }
                }
            }
        }
        System.out.printf("trainer vs runtime %s: max |logit difference| %.3g%n", name, worst);
        assertTrue(worst <= 1e-5, name + ": max logit difference " + worst + " (seed " + seed + ")");
    }
}

package dev.kawi.trainer.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.runtime.kernels.KernelProvider;
import dev.kawi.trainer.data.Batch;
import dev.kawi.trainer.model.ParamLayout;
import dev.kawi.trainer.model.Seq2Seq;
import dev.kawi.trainer.model.Workspace;
import dev.kawi.trainer.nn.CrossEntropy;
import dev.kawi.trainer.tensor.Buf;
import dev.kawi.trainer.tensor.Precision;
import dev.kawi.trainer.tensor.Products;
import dev.kawi.weights.Json;
import dev.kawi.weights.KawiFile;
import dev.kawi.weights.ModelConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The trainer's loss and the gradient of every parameter against PyTorch autograd in float64
 * ({@code src/test/golden/make_train_golden.py}, fixtures in {@code src/test/resources/golden}):
 * the same .kawi weights and the same padded batch, label smoothing 0.1, no dropout, gradients of
 * the mean loss (Kawi: loss summed, gradients scaled by 1 / target tokens). Run in F64 and in F32.
 *
 * <p>Per tensor, two checks: the norm-wise relative error {@code ||kawi - torch|| / ||torch||}
 * within the tolerance ({@link #REL_TOL} in F32, {@link #REL_TOL_F64} in F64), and every element
 * within {@code tolerance · max(|torch_i|, floor)} where
 * the floor is {@link #FLOOR_FRACTION} of the tensor's RMS gradient (elements far below the
 * tensor's typical size carry float32 cancellation noise that says nothing about correctness).
 */
class TrainGoldenTest {
    private static final Path DIR = Path.of("src/test/resources/golden");
    /** F32: the float32 trainer against float64 autograd (observed ~1e-6 norm-wise, ~2e-5 element-wise). */
    private static final double REL_TOL = 1e-4;
    /** F64: the same math in the same precision, so only summation order differs (observed ~1e-15). */
    private static final double REL_TOL_F64 = 1e-10;
    private static final double FLOOR_FRACTION = 0.1;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("post_tied", Precision.F64),
                Arguments.of("post_tied", Precision.F32),
                Arguments.of("pre_untied", Precision.F64),
                Arguments.of("pre_untied", Precision.F32));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    @SuppressWarnings("unchecked")
    void lossAndEveryGradientMatchPyTorch(String model, Precision precision) throws Exception {
        Map<String, Object> fx = (Map<String, Object>) Json.parse(
                Files.readString(DIR.resolve(model + ".grad.json"), StandardCharsets.UTF_8));
        assertEquals(0.0, ((Number) fx.get("dropout")).doubleValue(), "fixture dropout");
        double smoothing = ((Number) fx.get("label_smoothing")).doubleValue();
        try (KawiFile file = KawiFile.open(DIR.resolve(model + ".kawi"))) {
            ModelConfig c = file.config();
            ParamLayout layout = new ParamLayout(c);
            Buf w = Buf.allocate(precision, layout.total());
            TrainGoldenModels.load(file, layout, w);
            List<Batch.Pair> pairs = TrainGoldenModels.readPairs(DIR.resolve((String) fx.get("batch")));
            Batch b = Batch.of(pairs, c.padId(), c.eosId(), c.decoderStartId());
            // The fixture's padded batch is the one Kawi builds.
            assertEquals(flat(fx.get("source")), Arrays.stream(b.src()).boxed().toList(), "padded source");
            assertEquals(flat(fx.get("decoder_input")), Arrays.stream(b.tgtIn()).boxed().toList(), "decoder input");
            assertEquals(flat(fx.get("labels")), Arrays.stream(b.tgtOut()).boxed().toList(), "labels");
            long tokens = ((Number) fx.get("target_tokens")).longValue();
            assertEquals(tokens, b.targetTokens(), "target tokens");

            Seq2Seq net = new Seq2Seq(layout);
            Workspace ws = new Workspace(c, precision, new Products(KernelProvider.get(1)));
            Buf grad = Buf.allocate(precision, layout.total());
            double scale = 1.0 / tokens;
            CrossEntropy.Sums sums = net.step(ws, w, grad, b, new Seq2Seq.PassOptions(0, smoothing, 0), scale);

            String where = model + " " + precision;
            assertEquals(tokens, sums.tokens(), where + ": tokens counted by the loss");
            double lossRel = relErr(sums.loss() * scale, ((Number) fx.get("loss_mean")).doubleValue());
            double nllRel = relErr(sums.nll(), ((Number) fx.get("nll_sum")).doubleValue());

            Map<String, Object> grads = (Map<String, Object>) fx.get("gradients");
            assertEquals(layout.entries().stream().map(ParamLayout.Entry::name).toList(), List.copyOf(grads.keySet()),
                    where + ": the fixture has a gradient for every parameter, in layout order");
            double worstNorm = 0;
            String worstNormAt = "";
            double worstElem = 0;
            String worstElemAt = "";
            for (ParamLayout.Entry e : layout.entries()) {
                Map<String, Object> g = (Map<String, Object>) grads.get(e.name());
                List<?> values = (List<?>) g.get("values");
                assertEquals(e.size(), values.size(), where + ": size of " + e.name());
                double[] ref = new double[values.size()];
                double diff2 = 0;
                double ref2 = 0;
                for (int i = 0; i < ref.length; i++) {
                    ref[i] = ((Number) values.get(i)).doubleValue();
                    double d = grad.get(e.offset() + i) - ref[i];
                    diff2 += d * d;
                    ref2 += ref[i] * ref[i];
                }
                assertTrue(ref2 > 0, where + ": the reference gradient of " + e.name() + " is zero");
                double normRel = Math.sqrt(diff2 / ref2);
                if (normRel > worstNorm || worstNormAt.isEmpty()) {
                    worstNorm = normRel;
                    worstNormAt = e.name();
                }
                double floor = FLOOR_FRACTION * Math.sqrt(ref2 / ref.length);
                for (int i = 0; i < ref.length; i++) {
                    double an = grad.get(e.offset() + i);
                    double err = Math.abs(an - ref[i]) / Math.max(Math.abs(ref[i]), floor);
                    if (err > worstElem || worstElemAt.isEmpty()) {
                        worstElem = err;
                        worstElemAt = e.name() + "[" + i + "] kawi=" + an + " torch=" + ref[i];
                    }
                }
            }
            double tol = precision == Precision.F64 ? REL_TOL_F64 : REL_TOL;
            System.out.printf("train golden %s: loss rel %.3g, nll rel %.3g; worst tensor (norm-wise) %.3g at %s;"
                    + " worst element (floor %.2g x RMS) %.3g at %s%n", where, lossRel, nllRel, worstNorm, worstNormAt,
                    FLOOR_FRACTION, worstElem, worstElemAt);
            assertTrue(lossRel <= tol, where + ": mean loss relative error " + lossRel);
            assertTrue(nllRel <= tol, where + ": nll relative error " + nllRel);
            assertTrue(worstNorm <= tol, where + ": gradient of " + worstNormAt + " off by " + worstNorm
                    + " (norm-wise relative)");
            assertTrue(worstElem <= tol, where + ": gradient element " + worstElemAt + " off by " + worstElem);
        }
    }

    private static double relErr(double a, double ref) {
        return Math.abs(a - ref) / Math.abs(ref);
    }

    private static List<Integer> flat(Object rows) {
        return ((List<?>) rows).stream().flatMap(r -> ((List<?>) r).stream()).map(x -> ((Number) x).intValue()).toList();
    }
}

package dev.kawi.trainer.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.runtime.kernels.KernelProvider;
import dev.kawi.trainer.TestModels;
import dev.kawi.trainer.data.Batch;
import dev.kawi.trainer.tensor.Buf;
import dev.kawi.trainer.tensor.Precision;
import dev.kawi.trainer.tensor.Products;
import dev.kawi.weights.ModelConfig;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Finite-difference check of the whole model's gradient, in double precision, for every
 * parameter of tiny configurations covering each architecture option.
 */
class ModelGradientCheckTest {

    static Stream<Arguments> configs() {
        return Stream.of(
                Arguments.of("post-norm tied sinusoidal relu", TestModels.paper(13), 0.0, 0.1),
                Arguments.of("pre-norm untied learned gelu final-norms output-bias", TestModels.preNorm(13), 0.0, 0.0),
                Arguments.of("post-norm swish separate tables no linear bias, dropout",
                        TestModels.config(1, 2, 8, 4, 12, 11, ModelConfig.NormPlacement.POST, true, ModelConfig.Activation.SWISH,
                                ModelConfig.Positions.LEARNED, false, true, true, false), 0.2, 0.1),
                Arguments.of("pre-norm shared untied, no encoder layers",
                        TestModels.config(0, 1, 8, 2, 12, 11, ModelConfig.NormPlacement.PRE, false, ModelConfig.Activation.GELU,
                                ModelConfig.Positions.SINUSOIDAL, true, false, false, true), 0.1, 0.0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void everyParameterMatchesFiniteDifferences(String name, ModelConfig c, double dropout, double smoothing) {
        long seed = 42;
        ParamLayout layout = new ParamLayout(c);
        Seq2Seq model = new Seq2Seq(layout);
        Buf w = Buf.allocate(Precision.F64, layout.total());
        TestModels.randomize(layout, w, seed, 0.5);
        Batch batch = TestModels.batch(c, 3, seed + 1);
        Workspace ws = new Workspace(c, Precision.F64, new Products(KernelProvider.get(1)));
        Seq2Seq.PassOptions o = new Seq2Seq.PassOptions(dropout, smoothing, 7);
        double scale = 1.0 / batch.targetTokens();
        Buf grad = Buf.allocate(Precision.F64, layout.total());
        model.step(ws, w, grad, batch, o, scale);

        double h = 1e-4;
        double worst = 0;
        String worstAt = "";
        for (ParamLayout.Entry e : layout.entries()) {
            for (long i = 0; i < e.size(); i++) {
                long at = e.offset() + i;
                double orig = w.get(at);
                // Five-point stencil: truncation error O(h^4), so h can stay far above rounding noise.
                double f1 = loss(model, ws, w, batch, o, at, orig + h) - loss(model, ws, w, batch, o, at, orig - h);
                double f2 = loss(model, ws, w, batch, o, at, orig + 2 * h) - loss(model, ws, w, batch, o, at, orig - 2 * h);
                w.set(at, orig);
                double fd = (8 * f1 - f2) / (12 * h) * scale;
                double an = grad.get(at);
                double rel = Math.abs(fd - an) / Math.max(Math.max(Math.abs(fd), Math.abs(an)), 1e-6);
                if (rel > worst) {
                    worst = rel;
                    worstAt = e.name() + "[" + i + "] fd=" + fd + " analytic=" + an;
                }
            }
        }
        System.out.printf("gradient check %s: worst relative error %.3g at %s%n", name, worst, worstAt);
        assertTrue(worst <= 1e-4, name + ": worst relative error " + worst + " at " + worstAt + " (seed " + seed + ")");
    }

    private static double loss(Seq2Seq model, Workspace ws, Buf w, Batch batch, Seq2Seq.PassOptions o, long at, double value) {
        w.set(at, value);
        return model.step(ws, w, null, batch, o, 0).loss();
    }
}

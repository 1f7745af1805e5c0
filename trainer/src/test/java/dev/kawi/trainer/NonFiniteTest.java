package dev.kawi.trainer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.trainer.data.Batcher;
import dev.kawi.trainer.model.ParamLayout;
import dev.kawi.trainer.tensor.F32Buf;
import dev.kawi.weights.ModelConfig;
import org.junit.jupiter.api.Test;

/** A NaN or infinity stops training with a message naming the step and, for gradients, the tensor. */
class NonFiniteTest {
    private static final ModelConfig CONFIG = TestModels.config(1, 1, 32, 4, 64, 260, ModelConfig.NormPlacement.PRE, false,
            ModelConfig.Activation.RELU, ModelConfig.Positions.SINUSOIDAL, false, false, false, true);

    private static Trainer trainer(F32Buf params) {
        TrainOptions o = TrainOptions.defaults().withSchedule(10, 2, 1.0).withBatching(200, 1, 1).withSeed(1, 32);
        Batcher data = new Batcher(CopyReverseTest.task(false, 100, 1), 200, 1, 0, 2, 1);
        return new Trainer(CONFIG, o, data, params);
    }

    @Test
    void aNanLossNamesTheStep() {
        ParamLayout layout = new ParamLayout(CONFIG);
        F32Buf p = new F32Buf(layout.total());
        Trainer.initialize(layout, p, 1);
        p.set(layout.offset("output.weight") + 5, Float.NaN);
        try (Trainer t = trainer(p)) {
            TrainingException e = assertThrows(TrainingException.class, t::trainStep);
            assertTrue(e.getMessage().startsWith("step 1: the loss is NaN"), e.getMessage());
        }
    }

    @Test
    void anInfiniteGradientNamesTheTensor() {
        ParamLayout layout = new ParamLayout(CONFIG);
        F32Buf p = new F32Buf(layout.total());
        Trainer.initialize(layout, p, 1);
        // A huge encoder embedding row keeps the loss finite (the norm rescales it) but overflows its gradient.
        long row = layout.offset("encoder.embed.weight");
        for (int id = 4; id < 24; id++) {
            for (int i = 0; i < 32; i++) {
                p.set(row + (long) id * 32 + i, i % 2 == 0 ? 3e38f : -3e38f);
            }
        }
        try (Trainer t = trainer(p)) {
            TrainingException e = assertThrows(TrainingException.class, t::trainStep);
            assertTrue(e.getMessage().startsWith("step 1: "), e.getMessage());
            assertTrue(e.getMessage().contains("encoder") || e.getMessage().contains("loss"), e.getMessage());
        }
    }
}

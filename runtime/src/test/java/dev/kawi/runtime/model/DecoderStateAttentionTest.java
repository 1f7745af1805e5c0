package dev.kawi.runtime.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kawi.runtime.kernels.KernelProvider;
import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.weights.DType;
import dev.kawi.weights.KawiFile;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.RandomModels;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link DecoderState#attention(int, int, float[])}: one head's weights, for every hypothesis of a batch, after reordering. */
class DecoderStateAttentionTest {
    @TempDir
    Path dir;

    @Test
    void headsOfEveryHypothesisAverageToTheRecordedAlignment() throws Exception {
        ModelConfig c = ModelInvarianceTest.config(ModelConfig.NormPlacement.POST);
        Path p = dir.resolve("m.kawi");
        RandomModels.write(p, c, DType.F32, 5);
        Kernels k = KernelProvider.get(1);
        int[][] src = ModelInvarianceTest.sources(3);
        try (KawiFile f = KawiFile.open(p); Arena arena = Arena.ofShared()) {
            TransformerModel m = new TransformerModel(f, arena);
            EncoderOutput e = Encoder.encode(m, k, arena, src);
            DecoderState st = new DecoderState(m, k, arena, e, 2, 4);
            st.recordAttention(-1);
            int heads = c.numHeads();
            int[] input = {1, 1, 1, 1, 1, 1};
            for (int step = 0; step < 3; step++) {
                st.step(input);
                for (int n = 0; n < st.active(); n++) {
                    int len = st.sourceLength(n);
                    assertEquals(src[st.sentence(n)].length, len);
                    float[] avg = new float[len];
                    st.attention(n, avg);
                    float[] sum = new float[len];
                    float[][] perHead = new float[heads][len];
                    for (int h = 0; h < heads; h++) {
                        assertEquals(len, st.attention(n, h, perHead[h]));
                    }
                    for (int j = 0; j < len; j++) {
                        for (int h = 0; h < heads; h++) {
                            sum[j] += perHead[h][j];
                        }
                        sum[j] /= heads;
                    }
                    assertArrayEquals(avg, sum, "step " + step + " hypothesis " + n);
                }
                // Keep hypotheses 5, 0 and 3 (of sentences 2, 0 and 1): their source lengths follow them.
                if (step == 0) {
                    st.reorder(new int[] {5, 0, 3}, 3);
                    Arrays.fill(input, 7);
                }
            }
            float[] dst = new float[src[0].length];
            assertThrows(IllegalArgumentException.class, () -> st.attention(0, heads, dst));
            assertThrows(IllegalArgumentException.class, () -> st.attention(0, -1, dst));
        }
    }
}

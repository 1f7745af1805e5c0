package dev.kawi.trainer.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.runtime.kernels.KernelProvider;
import dev.kawi.trainer.tensor.Buf;
import dev.kawi.trainer.tensor.F64Buf;
import dev.kawi.trainer.tensor.Products;
import dev.kawi.weights.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Finite-difference checks, in double precision, of every layer's backward pass: each layer's
 * output is reduced to a scalar {@code L = Σ r ⊙ out} with a fixed random r, and the analytic
 * gradient of L with respect to every input and parameter is compared with a five-point
 * central difference.
 */
class LayerGradientCheckTest {
    private static final long SEED = 1234;
    private static final double H = 1e-4;
    private static final double TOLERANCE = 1e-4;
    private final Products products = new Products(KernelProvider.get(1));

    /** A scalar function of some buffers, and the analytic gradients it claims. */
    private interface Layer {
        /** Runs the forward pass and returns L. */
        double loss();

        /** Runs the backward pass of L, adding into the gradient buffers. */
        void backward();
    }

    private static F64Buf random(SplittableRandom rnd, int n, double scale) {
        F64Buf b = new F64Buf(n);
        for (int i = 0; i < n; i++) {
            b.set(i, rnd.nextDouble(-scale, scale));
        }
        return b;
    }

    private static double dot(Buf a, Buf b, long n) {
        double s = 0;
        for (long i = 0; i < n; i++) {
            s += a.get(i) * b.get(i);
        }
        return s;
    }

    /** Checks the gradients of {@code layer} for each (input, gradient) pair; returns the worst relative error. */
    private static double check(String name, Layer layer, List<Buf> inputs, List<Buf> grads) {
        for (Buf g : grads) {
            g.zero();
        }
        layer.backward();
        double worst = 0;
        String at = "";
        for (int t = 0; t < inputs.size(); t++) {
            Buf x = inputs.get(t);
            Buf g = grads.get(t);
            for (long i = 0; i < x.size(); i++) {
                double orig = x.get(i);
                x.set(i, orig + H);
                double p1 = layer.loss();
                x.set(i, orig - H);
                double m1 = layer.loss();
                x.set(i, orig + 2 * H);
                double p2 = layer.loss();
                x.set(i, orig - 2 * H);
                double m2 = layer.loss();
                x.set(i, orig);
                double fd = (8 * (p1 - m1) - (p2 - m2)) / (12 * H);
                double an = g.get(i);
                double rel = Math.abs(fd - an) / Math.max(Math.max(Math.abs(fd), Math.abs(an)), 1e-6);
                if (rel > worst) {
                    worst = rel;
                    at = "input " + t + "[" + i + "] fd=" + fd + " analytic=" + an;
                }
            }
        }
        System.out.printf("layer gradient check %s: worst relative error %.3g%n", name, worst);
        assertTrue(worst <= TOLERANCE, name + ": worst relative error " + worst + " at " + at + " (seed " + SEED + ")");
        return worst;
    }

    @Test
    void layerNorm() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int n = 5;
        int c = 7;
        F64Buf x = random(rnd, n * c, 2);
        F64Buf gamma = random(rnd, c, 1.5);
        F64Buf beta = random(rnd, c, 1);
        F64Buf r = random(rnd, n * c, 1);
        F64Buf out = new F64Buf(n * c);
        F64Buf mean = new F64Buf(n);
        F64Buf rstd = new F64Buf(n);
        F64Buf dx = new F64Buf(n * c);
        F64Buf dg = new F64Buf(c);
        F64Buf db = new F64Buf(c);
        check("layer norm", new Layer() {
            public double loss() {
                LayerNorm.forward(out, 0, mean, rstd, 0, x, 0, gamma, 0, beta, 0, n, c, 1e-5);
                return dot(out, r, n * c);
            }

            public void backward() {
                loss();
                LayerNorm.backward(dx, 0, dg, 0, db, 0, r, 0, x, 0, mean, rstd, 0, gamma, 0, n, c);
            }
        }, List.of(x, gamma, beta), List.of(dx, dg, db));
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void linear(boolean bias) {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int n = 4;
        int in = 6;
        int outDim = 5;
        F64Buf x = random(rnd, n * in, 1);
        F64Buf w = random(rnd, outDim * in, 1);
        F64Buf b = random(rnd, outDim, 1);
        F64Buf r = random(rnd, n * outDim, 1);
        F64Buf y = new F64Buf(n * outDim);
        F64Buf dx = new F64Buf(n * in);
        F64Buf dw = new F64Buf(outDim * in);
        F64Buf db = new F64Buf(outDim);
        check("linear bias=" + bias, new Layer() {
            public double loss() {
                Linear.forward(products, y, 0, x, 0, w, 0, bias ? b : null, 0, n, in, outDim);
                return dot(y, r, n * outDim);
            }

            public void backward() {
                Linear.backward(products, dx, 0, dw, 0, bias ? db : null, 0, r, 0, x, 0, w, 0, n, in, outDim);
            }
        }, bias ? List.of(x, w, b) : List.of(x, w), bias ? List.of(dx, dw, db) : List.of(dx, dw));
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void attentionWithPaddingAndCausalMasks(boolean causal) {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int batch = 2;
        int heads = 2;
        int hd = 3;
        int d = heads * hd;
        int t = 4;
        int[] kvLen = {4, 2};
        // Packed (B*T, 3d) projections, as self-attention reads them.
        F64Buf qkv = random(rnd, batch * t * 3 * d, 1.5);
        F64Buf r = random(rnd, batch * t * d, 1);
        // Padded query rows never reach the loss in the model; zero their weight here too.
        for (int b = 0; b < batch; b++) {
            for (int q = kvLen[b]; q < t; q++) {
                for (int j = 0; j < d; j++) {
                    r.set((long) (b * t + q) * d + j, 0);
                }
            }
        }
        Attention.Dims dm = new Attention.Dims(batch, t, t, heads, hd, causal);
        F64Buf out = new F64Buf(batch * t * d);
        F64Buf probs = new F64Buf(dm.probsSize());
        F64Buf dqkv = new F64Buf(qkv.size());
        F64Buf scratch = new F64Buf(t * t);
        check("attention causal=" + causal, new Layer() {
            public double loss() {
                Attention.forward(products, out, 0, d, probs, 0, qkv, 0, 3 * d, qkv, d, 3 * d, qkv, 2 * d, 3 * d, kvLen, dm);
                return dot(out, r, out.size());
            }

            public void backward() {
                loss();
                Attention.backward(products, dqkv, 0, dqkv, d, dqkv, 2 * d, scratch, r, 0, d, probs, 0,
                        qkv, 0, 3 * d, qkv, d, 3 * d, qkv, 2 * d, 3 * d, dm);
            }
        }, List.of(qkv), List.of(dqkv));
    }

    @ParameterizedTest
    @EnumSource(ModelConfig.Activation.class)
    void activation(ModelConfig.Activation act) {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int n = 40;
        F64Buf x = random(rnd, n, 3);
        if (act == ModelConfig.Activation.RELU) {
            // Keep away from the kink, where the derivative is undefined.
            for (int i = 0; i < n; i++) {
                if (Math.abs(x.get(i)) < 0.01) {
                    x.set(i, 0.5);
                }
            }
        }
        F64Buf r = random(rnd, n, 1);
        F64Buf y = new F64Buf(n);
        F64Buf dx = new F64Buf(n);
        check("activation " + act, new Layer() {
            public double loss() {
                Act.forward(y, 0, x, 0, n, act);
                return dot(y, r, n);
            }

            public void backward() {
                Act.backward(dx, 0, r, 0, x, 0, n, act);
            }
        }, List.of(x), List.of(dx));
    }

    @Test
    void embeddingWithLearnedPositions() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int vocab = 6;
        int d = 4;
        int batch = 2;
        int len = 3;
        int[] ids = {1, 4, 4, 0, 5, 1};
        F64Buf table = random(rnd, vocab * d, 1);
        F64Buf pos = random(rnd, len * d, 1);
        F64Buf r = random(rnd, batch * len * d, 1);
        F64Buf out = new F64Buf(batch * len * d);
        F64Buf dt = new F64Buf(vocab * d);
        F64Buf dp = new F64Buf(len * d);
        check("embedding", new Layer() {
            public double loss() {
                Embedding.forward(out, 0, ids, table, 0, 2.0, pos, 0, batch, len, d);
                return dot(out, r, out.size());
            }

            public void backward() {
                Embedding.backward(dt, 0, dp, 0, r, 0, ids, 2.0, batch, len, d);
            }
        }, List.of(table, pos), List.of(dt, dp));
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0, 0.1})
    void labelSmoothedCrossEntropyWithPadding(double smoothing) {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int n = 4;
        int v = 7;
        int[] targets = {3, 0, 6, 1};   // row 1 is padding (pad id 0)
        F64Buf logits = random(rnd, n * v, 3);
        F64Buf work = new F64Buf(n * v);
        F64Buf grad = new F64Buf(n * v);
        check("cross-entropy smoothing=" + smoothing, new Layer() {
            public double loss() {
                work.copyFrom(0, logits, 0, n * v);
                return CrossEntropy.forwardBackward(products, work, 0, targets, 0, smoothing, n, v, 0).loss();
            }

            public void backward() {
                work.copyFrom(0, logits, 0, n * v);
                CrossEntropy.forwardBackward(products, work, 0, targets, 0, smoothing, n, v, 1.0);
                grad.copyFrom(0, work, 0, n * v);
            }
        }, List.of(logits), List.of(grad));
    }

    @Test
    void dropoutIsLinearWithTheSameMaskBothWays() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int n = 50;
        F64Buf x = random(rnd, n, 1);
        F64Buf r = random(rnd, n, 1);
        F64Buf y = new F64Buf(n);
        F64Buf dx = new F64Buf(n);
        List<Buf> in = new ArrayList<>(List.of(x));
        check("dropout", new Layer() {
            public double loss() {
                y.copyFrom(0, x, 0, n);
                Dropout.forward(y, 0, n, 0.3, 77);
                return dot(y, r, n);
            }

            public void backward() {
                dx.copyFrom(0, r, 0, n);
                Dropout.backward(dx, 0, n, 0.3, 77);
            }
        }, in, List.of(dx));
        // About 30% of the elements are dropped, and the kept ones are scaled by 1/(1-p).
        y.copyFrom(0, x, 0, n);
        Dropout.forward(y, 0, n, 0.3, 77);
        int dropped = 0;
        for (int i = 0; i < n; i++) {
            if (y.get(i) == 0) {
                dropped++;
            } else {
                assertTrue(Math.abs(y.get(i) - x.get(i) / 0.7) < 1e-12);
            }
        }
        assertTrue(dropped >= 7 && dropped <= 25, "dropped " + dropped + " of " + n);
    }
}

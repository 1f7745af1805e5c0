package dev.kawi.trainer.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.runtime.kernels.KernelProvider;
import dev.kawi.trainer.tensor.Buf;
import dev.kawi.trainer.tensor.F32Buf;
import dev.kawi.trainer.tensor.F64Buf;
import dev.kawi.trainer.tensor.Ops;
import dev.kawi.trainer.tensor.Products;
import dev.kawi.weights.ModelConfig;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The layers' F32 passes (float SIMD lanes and the runtime's kernels) against their double
 * passes, which the finite-difference checks verify: each layer runs on F64 buffers and on F32
 * buffers holding the same values, and every output must agree to float precision. Sizes are
 * not multiples of the vector length, so the scalar tails run too.
 */
class F32PathTest {
    private static final double TOLERANCE = 2e-6;
    private final Products products = new Products(KernelProvider.get(1));
    private final SplittableRandom rnd = new SplittableRandom(99);

    /** The same values in double and in float storage. */
    private record Twin(F64Buf d, F32Buf f) {
    }

    private Twin random(int n, double scale) {
        F64Buf d = new F64Buf(n);
        F32Buf f = new F32Buf(n);
        for (int i = 0; i < n; i++) {
            float v = (float) rnd.nextDouble(-scale, scale);
            d.set(i, v);
            f.set(i, v);
        }
        return new Twin(d, f);
    }

    private static Twin zeros(int n) {
        return new Twin(new F64Buf(n), new F32Buf(n));
    }

    /** Max-norm relative difference of the F32 result from the double one. */
    private static void assertClose(String what, Twin t) {
        double diff = 0;
        double norm = 0;
        for (long i = 0; i < t.d().size(); i++) {
            diff = Math.max(diff, Math.abs(t.d().get(i) - t.f().get(i)));
            norm = Math.max(norm, Math.abs(t.d().get(i)));
        }
        assertTrue(norm > 0, what + ": all zero, the comparison would be empty");
        assertTrue(diff <= TOLERANCE * norm, what + ": F32 differs from double by " + diff + " (max |x| " + norm + ")");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void reluForwardAndBackward(boolean accumulate) {
        int n = 1000 + 7;
        Twin x = random(n, 1);
        Twin g = random(n, 1);
        Twin out = zeros(n);
        Twin d = random(n, 1);
        Act.forward(out.d(), 0, x.d(), 0, n, ModelConfig.Activation.RELU);
        Act.forward(out.f(), 0, x.f(), 0, n, ModelConfig.Activation.RELU);
        Act.backward(d.d(), 0, g.d(), 0, x.d(), 0, n, ModelConfig.Activation.RELU, accumulate);
        Act.backward(d.f(), 0, g.f(), 0, x.f(), 0, n, ModelConfig.Activation.RELU, accumulate);
        assertClose("relu", out);
        assertClose("relu backward", d);
    }

    @Test
    void addAndDropout() {
        int n = 999;
        Twin a = random(n, 1);
        Twin b = random(n, 1);
        Ops.add(products, a.d(), 0, a.d(), 0, b.d(), 0, n);
        Ops.add(products, a.f(), 0, a.f(), 0, b.f(), 0, n);
        assertClose("add", a);
        Dropout.forward(a.d(), 3, n - 3, 0.3, 77);
        Dropout.forward(a.f(), 3, n - 3, 0.3, 77);
        assertClose("dropout", a);
        int dropped = 0;
        for (int i = 0; i < n; i++) {
            assertEquals(a.d().get(i) == 0, a.f().get(i) == 0, "the same mask at " + i);
            dropped += a.f().get(i) == 0 ? 1 : 0;
        }
        assertTrue(dropped > 200 && dropped < 400, "about 30% dropped: " + dropped);
    }

    @Test
    void linearBias() {
        int rows = 5;
        int in = 19;
        int out = 37;
        Twin x = random(rows * in, 1);
        Twin w = random(out * in, 1);
        Twin b = random(out, 1);
        Twin y = zeros(rows * out);
        Linear.forward(products, y.d(), 0, x.d(), 0, w.d(), 0, b.d(), 0, rows, in, out);
        Linear.forward(products, y.f(), 0, x.f(), 0, w.f(), 0, b.f(), 0, rows, in, out);
        assertClose("linear", y);
        Twin dx = zeros(rows * in);
        Twin dw = zeros(out * in);
        Twin db = random(out, 1);
        Linear.backward(products, dx.d(), 0, dw.d(), 0, db.d(), 0, y.d(), 0, x.d(), 0, w.d(), 0, rows, in, out);
        Linear.backward(products, dx.f(), 0, dw.f(), 0, db.f(), 0, y.f(), 0, x.f(), 0, w.f(), 0, rows, in, out);
        assertClose("linear dx", dx);
        assertClose("linear dW", dw);
        assertClose("linear dBias", db);
    }

    @Test
    void layerNorm() {
        int rows = 6;
        int c = 40;
        Twin x = random(rows * c, 2);
        Twin gamma = random(c, 1);
        Twin beta = random(c, 1);
        Twin out = zeros(rows * c);
        Twin mean = zeros(rows);
        Twin rstd = zeros(rows);
        LayerNorm.forward(out.d(), 0, mean.d(), rstd.d(), 0, x.d(), 0, gamma.d(), 0, beta.d(), 0, rows, c, 1e-5);
        LayerNorm.forward(out.f(), 0, mean.f(), rstd.f(), 0, x.f(), 0, gamma.f(), 0, beta.f(), 0, rows, c, 1e-5);
        assertClose("layer norm", out);
        assertClose("mean", mean);
        assertClose("rstd", rstd);
        Twin dy = random(rows * c, 1);
        Twin dx = random(rows * c, 1);
        Twin dg = random(c, 1);
        Twin db = random(c, 1);
        LayerNorm.backward(dx.d(), 0, dg.d(), 0, db.d(), 0, dy.d(), 0, x.d(), 0, mean.d(), rstd.d(), 0, gamma.d(), 0, rows, c);
        LayerNorm.backward(dx.f(), 0, dg.f(), 0, db.f(), 0, dy.f(), 0, x.f(), 0, mean.f(), rstd.f(), 0, gamma.f(), 0, rows, c);
        assertClose("layer norm dx", dx);
        assertClose("layer norm dGamma", dg);
        assertClose("layer norm dBeta", db);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void attention(boolean causal) {
        Attention.Dims dm = new Attention.Dims(2, 7, causal ? 7 : 19, 2, 5, causal);
        int d = dm.heads() * dm.headDim();
        int[] kvLen = {dm.kvLen(), causal ? 7 : 11};
        Twin q = random(dm.batch() * dm.qLen() * d, 1.5);
        Twin k = random(dm.batch() * dm.kvLen() * d, 1.5);
        Twin v = random(dm.batch() * dm.kvLen() * d, 1);
        Twin out = zeros(dm.batch() * dm.qLen() * d);
        Twin probs = zeros((int) dm.probsSize());
        for (boolean f : new boolean[] {false, true}) {
            Attention.forward(products, pick(out, f), 0, d, pick(probs, f), 0, pick(q, f), 0, d, pick(k, f), 0, d,
                    pick(v, f), 0, d, kvLen, dm);
        }
        assertClose("attention", out);
        assertClose("probabilities", probs);
        Twin dOut = random(dm.batch() * dm.qLen() * d, 1);
        Twin dq = zeros(dm.batch() * dm.qLen() * d);
        Twin dk = zeros(dm.batch() * dm.kvLen() * d);
        Twin dv = zeros(dm.batch() * dm.kvLen() * d);
        Twin scratch = zeros(dm.qLen() * dm.kvLen());
        for (boolean f : new boolean[] {false, true}) {
            Attention.backward(products, pick(dq, f), 0, pick(dk, f), 0, pick(dv, f), 0, pick(scratch, f),
                    pick(dOut, f), 0, d, pick(probs, f), 0, pick(q, f), 0, d, pick(k, f), 0, d, pick(v, f), 0, d, dm);
        }
        assertClose("dQ", dq);
        assertClose("dK", dk);
        assertClose("dV", dv);
    }

    private static Buf pick(Twin t, boolean f32) {
        return f32 ? t.f() : t.d();
    }

    @Test
    void crossEntropy() {
        int rows = 5;
        int v = 301;
        Twin logits = random(rows * v, 6);
        // A row whose target is far below the maximum: its probability underflows in float, its loss must not.
        logits.d().set(2L * v + 9, -120);
        logits.f().set(2L * v + 9, -120);
        int[] targets = {4, 0, 9, 300, 17};
        CrossEntropy.Sums sd = CrossEntropy.forwardBackward(products, logits.d(), 0, targets, 0, 0.1, rows, v, 0.25);
        CrossEntropy.Sums sf = CrossEntropy.forwardBackward(products, logits.f(), 0, targets, 0, 0.1, rows, v, 0.25);
        assertEquals(4, sf.tokens());
        assertEquals(sd.correct(), sf.correct());
        assertEquals(sd.loss(), sf.loss(), 1e-5 * sd.loss(), "smoothed loss");
        assertEquals(sd.nll(), sf.nll(), 1e-5 * sd.nll(), "negative log-likelihood");
        assertTrue(sd.nll() > 120, "the underflowing row counts: " + sd.nll());
        assertClose("cross-entropy gradient", logits);
        for (int j = 0; j < v; j++) {
            assertEquals(0.0, logits.f().get(v + j), "the padding row's gradient is zero");
        }
    }
}

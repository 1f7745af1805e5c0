package dev.kawi.trainer.model;

import dev.kawi.trainer.data.Batch;
import dev.kawi.trainer.tensor.Buf;
import dev.kawi.trainer.tensor.Precision;
import dev.kawi.trainer.tensor.Products;
import dev.kawi.weights.ModelConfig;

/**
 * The activations one forward pass saves for its backward pass, and the backward pass's
 * temporaries, for one worker. Buffers are sized for the largest batch seen so far and reused;
 * every buffer's comment gives its shape (rows of the current batch times width).
 */
public final class Workspace {
    /** One residual sub-layer's saved state. */
    static final class Sub {
        Buf in;         // the sub-layer's input (the previous sub-layer's output; not owned)
        Buf ln;         // (R, d) pre: LN(in); post: LN(in + z), the output
        Buf mean;       // (R) layer-norm statistics
        Buf rstd;       // (R)
        Buf sum;        // (R, d) in + z: pre: the output; post: the layer norm's input

        Buf out(boolean pre) {
            return pre ? sum : ln;
        }
    }

    /** Saved state of one encoder layer. */
    static final class Enc {
        final Sub attn = new Sub();
        final Sub ffn = new Sub();
        Buf qkv;        // (R, 3d)
        Buf probs;      // (B, H, S, S)
        Buf att;        // (R, d) attention output before the out projection
        Buf f;          // (R, ffn) fc1 output before the activation
        Buf g;          // (R, ffn) after the activation
    }

    /** Saved state of one decoder layer. */
    static final class Dec {
        final Sub self = new Sub();
        final Sub cross = new Sub();
        final Sub ffn = new Sub();
        Buf qkv;        // (Rt, 3d)
        Buf selfProbs;  // (B, H, T, T)
        Buf selfAtt;    // (Rt, d)
        Buf q;          // (Rt, d) cross-attention queries
        Buf kv;         // (Rs, 2d) cross-attention keys | values of the encoder output
        Buf crossProbs; // (B, H, T, S)
        Buf crossAtt;   // (Rt, d)
        Buf f;          // (Rt, ffn)
        Buf g;          // (Rt, ffn)
    }

    final Precision precision;
    final Products products;
    final ModelConfig config;
    Enc[] enc;
    Dec[] dec;
    Buf encEmb;         // (Rs, d) embeddings + positions, after dropout
    Buf encFinal;       // (Rs, d) final encoder norm output (when configured)
    Buf encMean;        // (Rs)
    Buf encRstd;        // (Rs)
    Buf decEmb;         // (Rt, d)
    Buf decFinal;       // (Rt, d)
    Buf decMean;        // (Rt)
    Buf decRstd;        // (Rt)
    Buf logits;         // (Rt, V) logits, then their gradient
    // Backward temporaries.
    Buf z;              // (R, d) a sub-layer's core output
    Buf dx;             // (R, d) gradient of the residual stream
    Buf dt;             // (R, d) swap partner of dx
    Buf dz;             // (R, d)
    Buf du;             // (R, d)
    Buf datt;           // (R, d)
    Buf dqkv;           // (R, 3d)
    Buf dq;             // (Rt, d)
    Buf dkv;            // (Rs, 2d)
    Buf df;             // (R, ffn)
    Buf dg;             // (R, ffn)
    Buf dEnc;           // (Rs, d) gradient of the encoder output, summed over decoder layers
    Buf dProbs;         // (T, max(S, T)) one head's attention-score gradient
    int capRows = -1;
    long capEncProbs = -1;
    long capSelfProbs = -1;
    long capCrossProbs = -1;
    int capV = -1;
    int capRowsProbs = -1;

    /** Empty buffers for {@code config}, in {@code precision}, with products from {@code products}. */
    public Workspace(ModelConfig config, Precision precision, Products products) {
        this.config = config;
        this.precision = precision;
        this.products = products;
    }

    /** The products this workspace's passes use. */
    public Products products() {
        return products;
    }

    /** Grows the buffers to fit {@code b} (no-op when they already do). */
    void ensure(Batch b) {
        int rows = Math.max(b.size() * b.srcLen(), b.size() * b.tgtLen());
        int h = config.numHeads();
        long encProbs = (long) b.size() * h * b.srcLen() * b.srcLen();
        long selfProbs = (long) b.size() * h * b.tgtLen() * b.tgtLen();
        long crossProbs = (long) b.size() * h * b.tgtLen() * b.srcLen();
        int tmax = Math.max(b.srcLen(), b.tgtLen());
        if (rows <= capRows && encProbs <= capEncProbs && selfProbs <= capSelfProbs && crossProbs <= capCrossProbs
                && tmax <= capRowsProbs) {
            return;
        }
        // Grow with headroom so that slowly growing batches do not reallocate every step.
        capRows = (int) Math.max(rows, capRows * 5L / 4);
        capEncProbs = Math.max(encProbs, capEncProbs * 5 / 4);
        capSelfProbs = Math.max(selfProbs, capSelfProbs * 5 / 4);
        capCrossProbs = Math.max(crossProbs, capCrossProbs * 5 / 4);
        capRowsProbs = Math.max(tmax, capRowsProbs * 5 / 4);
        allocate();
    }

    private Buf buf(long n) {
        return Buf.allocate(precision, n);
    }

    private void sub(Sub s, long r, int d) {
        s.ln = buf(r * d);
        s.mean = buf(r);
        s.rstd = buf(r);
        s.sum = buf(r * d);
    }

    private void allocate() {
        int d = config.dModel();
        int ffn = config.ffnDim();
        long r = capRows;
        enc = new Enc[config.encoderLayers()];
        for (int l = 0; l < enc.length; l++) {
            Enc e = enc[l] = new Enc();
            sub(e.attn, r, d);
            sub(e.ffn, r, d);
            e.qkv = buf(r * 3 * d);
            e.probs = buf(capEncProbs);
            e.att = buf(r * d);
            e.f = buf(r * ffn);
            e.g = buf(r * ffn);
        }
        dec = new Dec[config.decoderLayers()];
        for (int l = 0; l < dec.length; l++) {
            Dec e = dec[l] = new Dec();
            sub(e.self, r, d);
            sub(e.cross, r, d);
            sub(e.ffn, r, d);
            e.qkv = buf(r * 3 * d);
            e.selfProbs = buf(capSelfProbs);
            e.selfAtt = buf(r * d);
            e.q = buf(r * d);
            e.kv = buf(r * 2 * d);
            e.crossProbs = buf(capCrossProbs);
            e.crossAtt = buf(r * d);
            e.f = buf(r * ffn);
            e.g = buf(r * ffn);
        }
        encEmb = buf(r * d);
        encFinal = buf(r * d);
        encMean = buf(r);
        encRstd = buf(r);
        decEmb = buf(r * d);
        decFinal = buf(r * d);
        decMean = buf(r);
        decRstd = buf(r);
        logits = buf(r * config.vocabSize());
        z = buf(r * d);
        dx = buf(r * d);
        dt = buf(r * d);
        dz = buf(r * d);
        du = buf(r * d);
        datt = buf(r * d);
        dqkv = buf(r * 3 * d);
        dq = buf(r * d);
        dkv = buf(r * 2 * d);
        df = buf(r * ffn);
        dg = buf(r * ffn);
        dEnc = buf(r * d);
        dProbs = buf((long) capRowsProbs * capRowsProbs);
    }

    /** The logits (or, after a backward pass, their gradient) of the last batch: (B·T, V). */
    public Buf logits() {
        return logits;
    }
}

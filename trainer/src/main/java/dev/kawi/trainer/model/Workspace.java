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

    /**
     * Grows the buffers to fit {@code b} (no-op when they already do). The row-sized buffers and
     * each attention-weight group grow separately, by half again, in their own arena that is
     * closed when replaced: length-sorted batches change shape every step, and reallocating (and
     * zeroing) everything for each new maximum cost a quarter of the first epoch's time.
     */
    void ensure(Batch b) {
        int rows = Math.max(b.size() * b.srcLen(), b.size() * b.tgtLen());
        int h = config.numHeads();
        long encProbs = (long) b.size() * h * b.srcLen() * b.srcLen();
        long selfProbs = (long) b.size() * h * b.tgtLen() * b.tgtLen();
        long crossProbs = (long) b.size() * h * b.tgtLen() * b.srcLen();
        int tmax = Math.max(b.srcLen(), b.tgtLen());
        if (rows > capRows) {
            capRows = (int) Math.max(rows, capRows * 3L / 2);
            rowsArena = renew(rowsArena);
            allocateRows();
        }
        if (encProbs > capEncProbs || selfProbs > capSelfProbs || crossProbs > capCrossProbs || tmax > capRowsProbs) {
            capEncProbs = Math.max(encProbs, capEncProbs * 3 / 2);
            capSelfProbs = Math.max(selfProbs, capSelfProbs * 3 / 2);
            capCrossProbs = Math.max(crossProbs, capCrossProbs * 3 / 2);
            capRowsProbs = Math.max(tmax, capRowsProbs * 3 / 2);
            probsArena = renew(probsArena);
            allocateProbs();
        }
    }

    /**
     * Allocates up front for batches of at most {@code maxRows} padded positions per side and
     * sequences of at most {@code maxLen}: a token-budget batcher's bound, so that training never
     * reallocates (each new maximum otherwise costs a zeroed reallocation).
     */
    public void reserve(int maxRows, int maxLen) {
        int h = config.numHeads();
        long probs = (long) maxRows * h * maxLen;
        ensureCapacity(maxRows, probs, probs, probs, maxLen);
    }

    private void ensureCapacity(int rows, long encProbs, long selfProbs, long crossProbs, int tmax) {
        if (rows > capRows) {
            capRows = rows;
            rowsArena = renew(rowsArena);
            allocateRows();
        }
        if (encProbs > capEncProbs || selfProbs > capSelfProbs || crossProbs > capCrossProbs || tmax > capRowsProbs) {
            capEncProbs = Math.max(encProbs, capEncProbs);
            capSelfProbs = Math.max(selfProbs, capSelfProbs);
            capCrossProbs = Math.max(crossProbs, capCrossProbs);
            capRowsProbs = Math.max(tmax, capRowsProbs);
            probsArena = renew(probsArena);
            allocateProbs();
        }
    }

    private java.lang.foreign.Arena rowsArena;
    private java.lang.foreign.Arena probsArena;

    private static java.lang.foreign.Arena renew(java.lang.foreign.Arena old) {
        if (old != null) {
            old.close();
        }
        return java.lang.foreign.Arena.ofShared();
    }

    private Buf buf(java.lang.foreign.Arena arena, long n) {
        return Buf.allocate(precision, n, arena);
    }

    private void sub(Sub s, long r, int d) {
        s.ln = buf(rowsArena, r * d);
        s.mean = buf(rowsArena, r);
        s.rstd = buf(rowsArena, r);
        s.sum = buf(rowsArena, r * d);
    }

    private void allocateRows() {
        int d = config.dModel();
        int ffn = config.ffnDim();
        long r = capRows;
        if (enc == null) {
            enc = new Enc[config.encoderLayers()];
            for (int l = 0; l < enc.length; l++) {
                enc[l] = new Enc();
            }
            dec = new Dec[config.decoderLayers()];
            for (int l = 0; l < dec.length; l++) {
                dec[l] = new Dec();
            }
        }
        for (Enc e : enc) {
            sub(e.attn, r, d);
            sub(e.ffn, r, d);
            e.qkv = buf(rowsArena, r * 3 * d);
            e.att = buf(rowsArena, r * d);
            e.f = buf(rowsArena, r * ffn);
            e.g = buf(rowsArena, r * ffn);
        }
        for (Dec e : dec) {
            sub(e.self, r, d);
            sub(e.cross, r, d);
            sub(e.ffn, r, d);
            e.qkv = buf(rowsArena, r * 3 * d);
            e.selfAtt = buf(rowsArena, r * d);
            e.q = buf(rowsArena, r * d);
            e.kv = buf(rowsArena, r * 2 * d);
            e.crossAtt = buf(rowsArena, r * d);
            e.f = buf(rowsArena, r * ffn);
            e.g = buf(rowsArena, r * ffn);
        }
        encEmb = buf(rowsArena, r * d);
        encFinal = buf(rowsArena, r * d);
        encMean = buf(rowsArena, r);
        encRstd = buf(rowsArena, r);
        decEmb = buf(rowsArena, r * d);
        decFinal = buf(rowsArena, r * d);
        decMean = buf(rowsArena, r);
        decRstd = buf(rowsArena, r);
        logits = buf(rowsArena, r * config.vocabSize());
        z = buf(rowsArena, r * d);
        dx = buf(rowsArena, r * d);
        dt = buf(rowsArena, r * d);
        dz = buf(rowsArena, r * d);
        du = buf(rowsArena, r * d);
        datt = buf(rowsArena, r * d);
        dqkv = buf(rowsArena, r * 3 * d);
        dq = buf(rowsArena, r * d);
        dkv = buf(rowsArena, r * 2 * d);
        df = buf(rowsArena, r * ffn);
        dg = buf(rowsArena, r * ffn);
        dEnc = buf(rowsArena, r * d);
    }

    private void allocateProbs() {
        if (enc == null) {
            allocateRows();
        }
        for (Enc e : enc) {
            e.probs = buf(probsArena, capEncProbs);
        }
        for (Dec e : dec) {
            e.selfProbs = buf(probsArena, capSelfProbs);
            e.crossProbs = buf(probsArena, capCrossProbs);
        }
        dProbs = buf(probsArena, (long) capRowsProbs * capRowsProbs);
    }

    /** The logits (or, after a backward pass, their gradient) of the last batch: (B·T, V). */
    public Buf logits() {
        return logits;
    }
}

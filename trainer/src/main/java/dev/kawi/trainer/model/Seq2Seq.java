package dev.kawi.trainer.model;

import dev.kawi.trainer.data.Batch;
import dev.kawi.trainer.nn.Act;
import dev.kawi.trainer.nn.Attention;
import dev.kawi.trainer.nn.CrossEntropy;
import dev.kawi.trainer.nn.Dropout;
import dev.kawi.trainer.nn.Embedding;
import dev.kawi.trainer.nn.LayerNorm;
import dev.kawi.trainer.nn.Linear;
import dev.kawi.trainer.tensor.Buf;
import dev.kawi.trainer.tensor.Ops;
import dev.kawi.trainer.tensor.Products;
import dev.kawi.weights.ModelConfig;

/**
 * The encoder-decoder's forward and backward passes over flat parameter and gradient buffers
 * laid out by {@link ParamLayout}. The forward pass computes exactly what the runtime computes
 * (same layer order, norm placement, scaling and masking), saving in a {@link Workspace} what the
 * backward pass needs; the backward pass is the forward in reverse and adds into the gradients.
 *
 * <p>Dimension letters: B sentences, S source and T target positions, Rs = B·S and Rt = B·T rows,
 * d model width, H heads, hd head width, F feed-forward width, V vocabulary.
 */
public final class Seq2Seq {
    /** A linear layer's weight offset, bias offset (-1 without bias) and dimensions. */
    record Lin(long w, long b, int in, int out) {
    }

    /** A layer norm's gain and bias offsets. */
    record Ln(long g, long b) {
    }

    record EncLayer(Lin qkv, Lin out, Ln attnNorm, Lin fc1, Lin fc2, Ln ffnNorm) {
    }

    record DecLayer(Lin qkv, Lin out, Ln selfNorm, Lin crossQ, Lin crossKv, Lin crossOut, Ln crossNorm,
                    Lin fc1, Lin fc2, Ln ffnNorm) {
    }

    private final ModelConfig c;
    private final ParamLayout layout;
    private final int d;
    private final int heads;
    private final int hd;
    private final int ffn;
    private final int vocab;
    private final boolean pre;
    private final double eps;
    private final ModelConfig.Activation act;
    private final double embScale;
    private final long encEmb;
    private final long decEmb;
    private final long outW;
    private final long outBias;
    private final long encPos;
    private final long decPos;
    private final EncLayer[] encLayers;
    private final DecLayer[] decLayers;
    private final Ln encFinal;
    private final Ln decFinal;
    private final double[] sinusoid;

    /** Binds the offsets of every tensor of {@code layout}. */
    public Seq2Seq(ParamLayout layout) {
        this.layout = layout;
        this.c = layout.config();
        d = c.dModel();
        heads = c.numHeads();
        hd = c.headDim();
        ffn = c.ffnDim();
        vocab = c.vocabSize();
        pre = c.norm() == ModelConfig.NormPlacement.PRE;
        eps = c.layerNormEps();
        act = c.activation();
        embScale = c.embeddingScale() == ModelConfig.EmbeddingScale.SQRT_D_MODEL ? (float) Math.sqrt(d) : 1.0;
        encEmb = layout.offset(c.sharedEmbeddings() ? "embed.weight" : "encoder.embed.weight");
        decEmb = layout.offset(c.sharedEmbeddings() ? "embed.weight" : "decoder.embed.weight");
        outW = c.tiedOutput() ? decEmb : layout.offset("output.weight");
        outBias = c.outputBias() ? layout.offset("output.bias") : -1;
        if (c.positions() == ModelConfig.Positions.SINUSOIDAL) {
            encPos = -1;
            decPos = -1;
            sinusoid = sinusoidal(c.maxPositions(), d);
        } else {
            encPos = layout.offset("encoder.positions");
            decPos = layout.offset("decoder.positions");
            sinusoid = null;
        }
        encLayers = new EncLayer[c.encoderLayers()];
        for (int i = 0; i < encLayers.length; i++) {
            String p = "encoder.layers." + i + ".";
            encLayers[i] = new EncLayer(lin(p + "self_attn.qkv"), lin(p + "self_attn.out"), ln(p + "self_attn_norm"),
                    lin(p + "ffn.fc1"), lin(p + "ffn.fc2"), ln(p + "ffn_norm"));
        }
        decLayers = new DecLayer[c.decoderLayers()];
        for (int i = 0; i < decLayers.length; i++) {
            String p = "decoder.layers." + i + ".";
            decLayers[i] = new DecLayer(lin(p + "self_attn.qkv"), lin(p + "self_attn.out"), ln(p + "self_attn_norm"),
                    lin(p + "cross_attn.q"), lin(p + "cross_attn.kv"), lin(p + "cross_attn.out"), ln(p + "cross_attn_norm"),
                    lin(p + "ffn.fc1"), lin(p + "ffn.fc2"), ln(p + "ffn_norm"));
        }
        encFinal = c.encoderFinalNorm() ? ln("encoder.final_norm") : null;
        decFinal = c.decoderFinalNorm() ? ln("decoder.final_norm") : null;
    }

    private Lin lin(String prefix) {
        ParamLayout.Entry w = layout.get(prefix + ".weight");
        long b = c.linearBias() ? layout.offset(prefix + ".bias") : -1;
        return new Lin(w.offset(), b, w.cols(), w.rows());
    }

    private Ln ln(String prefix) {
        return new Ln(layout.offset(prefix + ".weight"), layout.offset(prefix + ".bias"));
    }

    /** The paper's sinusoidal table, as the runtime computes it (double, rounded to float). */
    static double[] sinusoidal(int positions, int d) {
        double[] s = new double[positions * d];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < d; i += 2) {
                double angle = p / Math.pow(10000.0, (double) i / d);
                s[p * d + i] = (float) Math.sin(angle);
                if (i + 1 < d) {
                    s[p * d + i + 1] = (float) Math.cos(angle);
                }
            }
        }
        return s;
    }

    /** The parameter layout. */
    public ParamLayout layout() {
        return layout;
    }

    /** What one pass does besides the forward computation. */
    public record PassOptions(double dropout, double labelSmoothing, long seed) {
        /** Evaluation: no dropout, no smoothing. */
        public static final PassOptions EVAL = new PassOptions(0, 0, 0);
    }

    /**
     * Forward pass, loss, and (when {@code grad} is not null) the backward pass adding into
     * {@code grad}, with the loss scaled by {@code gradScale} (1 / target tokens of the whole
     * optimizer batch). {@code w} holds the parameters the pass computes with (the fake-quantized
     * copy under quantization-aware training). Returns the loss sums of this batch.
     */
    public CrossEntropy.Sums step(Workspace ws, Buf w, Buf grad, Batch b, PassOptions o, double gradScale) {
        ws.ensure(b);
        forward(ws, w, b, o);
        int rt = b.size() * b.tgtLen();
        CrossEntropy.Sums sums = CrossEntropy.forwardBackward(ws.products, ws.logits, 0, b.tgtOut(), c.padId(), o.labelSmoothing(),
                rt, vocab, grad == null ? 0 : gradScale);
        if (grad != null) {
            backward(ws, w, grad, b, o);
        }
        return sums;
    }

    /** Forward pass only: fills {@code ws.logits()} with (B·T, V) logits. */
    public void logits(Workspace ws, Buf w, Batch b) {
        ws.ensure(b);
        forward(ws, w, b, PassOptions.EVAL);
    }

    private long dropSeed(PassOptions o, int site) {
        return o.seed() * 0x9E3779B97F4A7C15L + site * 0xC2B2AE3D27D4EB4FL;
    }

    // ------------------------------------------------------------------ forward

    private void forward(Workspace ws, Buf w, Batch b, PassOptions o) {
        Products p = ws.products;
        int bs = b.size();
        int s = b.srcLen();
        int t = b.tgtLen();
        int rs = bs * s;
        int rt = bs * t;
        // Encoder.
        embed(ws.encEmb, b.src(), w, encEmb, w, encPos, bs, s);
        Dropout.forward(ws.encEmb, 0, (long) rs * d, o.dropout(), dropSeed(o, 1));
        Buf x = ws.encEmb;
        Attention.Dims selfDims = new Attention.Dims(bs, s, s, heads, hd, false);
        for (int l = 0; l < encLayers.length; l++) {
            EncLayer L = encLayers[l];
            Workspace.Enc a = ws.enc[l];
            // Self-attention sub-layer.
            Buf u = subIn(a.attn, x, w, L.attnNorm, rs);
            selfAttnForward(ws, w, u, a.qkv, a.probs, a.att, L.qkv, L.out, b.srcLens(), selfDims, rs);
            x = subOut(ws, a.attn, w, L.attnNorm, ws.z, rs, o, 100 + 4 * l);
            // Feed-forward sub-layer.
            u = subIn(a.ffn, x, w, L.ffnNorm, rs);
            ffnForward(ws, w, u, a.f, a.g, L.fc1, L.fc2, rs);
            x = subOut(ws, a.ffn, w, L.ffnNorm, ws.z, rs, o, 101 + 4 * l);
        }
        Buf enc = x;
        if (encFinal != null) {
            LayerNorm.forward(ws.encFinal, 0, ws.encMean, ws.encRstd, 0, x, 0, w, encFinal.g, w, encFinal.b, rs, d, eps);
            enc = ws.encFinal;
        }
        // Decoder.
        embed(ws.decEmb, b.tgtIn(), w, decEmb, w, decPos, bs, t);
        Dropout.forward(ws.decEmb, 0, (long) rt * d, o.dropout(), dropSeed(o, 2));
        x = ws.decEmb;
        Attention.Dims causal = new Attention.Dims(bs, t, t, heads, hd, true);
        Attention.Dims cross = new Attention.Dims(bs, t, s, heads, hd, false);
        for (int l = 0; l < decLayers.length; l++) {
            DecLayer L = decLayers[l];
            Workspace.Dec a = ws.dec[l];
            Buf u = subIn(a.self, x, w, L.selfNorm, rt);
            selfAttnForward(ws, w, u, a.qkv, a.selfProbs, a.selfAtt, L.qkv, L.out, b.tgtLens(), causal, rt);
            x = subOut(ws, a.self, w, L.selfNorm, ws.z, rt, o, 1000 + 4 * l);

            u = subIn(a.cross, x, w, L.crossNorm, rt);
            Linear.forward(p, a.q, 0, u, 0, w, L.crossQ.w, bias(w, L.crossQ), L.crossQ.b, rt, d, d);
            Linear.forward(p, a.kv, 0, enc, 0, w, L.crossKv.w, bias(w, L.crossKv), L.crossKv.b, rs, d, 2 * d);
            Attention.forward(p, a.crossAtt, 0, d, a.crossProbs, 0, a.q, 0, d, a.kv, 0, 2 * d, a.kv, d, 2 * d,
                    b.srcLens(), cross);
            Linear.forward(p, ws.z, 0, a.crossAtt, 0, w, L.crossOut.w, bias(w, L.crossOut), L.crossOut.b, rt, d, d);
            x = subOut(ws, a.cross, w, L.crossNorm, ws.z, rt, o, 1001 + 4 * l);

            u = subIn(a.ffn, x, w, L.ffnNorm, rt);
            ffnForward(ws, w, u, a.f, a.g, L.fc1, L.fc2, rt);
            x = subOut(ws, a.ffn, w, L.ffnNorm, ws.z, rt, o, 1002 + 4 * l);
        }
        Buf fin = x;
        if (decFinal != null) {
            LayerNorm.forward(ws.decFinal, 0, ws.decMean, ws.decRstd, 0, x, 0, w, decFinal.g, w, decFinal.b, rt, d, eps);
            fin = ws.decFinal;
        }
        Linear.forward(p, ws.logits, 0, fin, 0, w, outW, outBias >= 0 ? w : null, outBias, rt, d, vocab);
    }

    /** Self-attention core: {@code ws.z = attention(u·Wqkvᵀ) · Woutᵀ}, saving qkv, the weights and the attention output. */
    private void selfAttnForward(Workspace ws, Buf w, Buf u, Buf qkv, Buf probs, Buf att, Lin qkvLin, Lin outLin, int[] kvLen,
                                 Attention.Dims dims, int rows) {
        Products p = ws.products;
        Linear.forward(p, qkv, 0, u, 0, w, qkvLin.w, bias(w, qkvLin), qkvLin.b, rows, d, 3 * d);
        Attention.forward(p, att, 0, d, probs, 0, qkv, 0, 3 * d, qkv, d, 3 * d, qkv, 2 * d, 3 * d, kvLen, dims);
        Linear.forward(p, ws.z, 0, att, 0, w, outLin.w, bias(w, outLin), outLin.b, rows, d, d);
    }

    /** Feed-forward core: {@code ws.z = act(u·W1ᵀ + b1)·W2ᵀ + b2}, saving the pre- and post-activation values. */
    private void ffnForward(Workspace ws, Buf w, Buf u, Buf f, Buf g, Lin fc1, Lin fc2, int rows) {
        Products p = ws.products;
        Linear.forward(p, f, 0, u, 0, w, fc1.w, bias(w, fc1), fc1.b, rows, d, ffn);
        Act.forward(g, 0, f, 0, (long) rows * ffn, act);
        Linear.forward(p, ws.z, 0, g, 0, w, fc2.w, bias(w, fc2), fc2.b, rows, ffn, d);
    }

    private static Buf bias(Buf w, Lin l) {
        return l.b >= 0 ? w : null;
    }

    private void embed(Buf out, int[] ids, Buf w, long table, Buf posW, long pos, int bs, int len) {
        if (pos >= 0) {
            Embedding.forward(out, 0, ids, w, table, embScale, posW, pos, bs, len, d);
        } else {
            Embedding.forward(out, 0, ids, w, table, embScale, sinusoidBuf(w), 0, bs, len, d);
        }
    }

    private Buf sinusoidCache;

    /** The sinusoidal table in the precision of {@code like}, built once. */
    private synchronized Buf sinusoidBuf(Buf like) {
        if (sinusoidCache == null || sinusoidCache.precision() != like.precision()) {
            Buf s = like.like(sinusoid.length);
            for (int i = 0; i < sinusoid.length; i++) {
                s.set(i, sinusoid[i]);
            }
            sinusoidCache = s;
        }
        return sinusoidCache;
    }

    /** The input of a sub-layer's core: pre-norm LN(x), post-norm x itself. */
    private Buf subIn(Workspace.Sub sub, Buf x, Buf w, Ln norm, int rows) {
        sub.in = x;
        if (pre) {
            LayerNorm.forward(sub.ln, 0, sub.mean, sub.rstd, 0, x, 0, w, norm.g, w, norm.b, rows, d, eps);
            return sub.ln;
        }
        return x;
    }

    /** The end of a sub-layer: dropout on the core output z, the residual, and (post-norm) the norm. */
    private Buf subOut(Workspace ws, Workspace.Sub sub, Buf w, Ln norm, Buf z, int rows, PassOptions o, int site) {
        long n = (long) rows * d;
        Dropout.forward(z, 0, n, o.dropout(), dropSeed(o, site));
        Ops.add(ws.products, sub.sum, 0, sub.in, 0, z, 0, n);
        if (pre) {
            return sub.sum;
        }
        LayerNorm.forward(sub.ln, 0, sub.mean, sub.rstd, 0, sub.sum, 0, w, norm.g, w, norm.b, rows, d, eps);
        return sub.ln;
    }

    // ------------------------------------------------------------------ backward

    private void backward(Workspace ws, Buf w, Buf g, Batch b, PassOptions o) {
        Products p = ws.products;
        int bs = b.size();
        int s = b.srcLen();
        int t = b.tgtLen();
        int rs = bs * s;
        int rt = bs * t;
        Workspace.Dec[] dec = ws.dec;
        Buf lastDec = decLayers.length > 0 ? dec[decLayers.length - 1].ffn.out(pre) : ws.decEmb;
        Buf fin = decFinal != null ? ws.decFinal : lastDec;
        // Output projection: dFin = dLogits · Wout, dWout += dLogitsᵀ · fin.
        Linear.backward(p, ws.dx, 0, false, g, outW, outBias >= 0 ? g : null, outBias, ws.logits, 0, fin, 0, w, outW, rt, d, vocab);
        if (decFinal != null) {
            ws.dt.zero(0, (long) rt * d);
            LayerNorm.backward(ws.dt, 0, g, decFinal.g, g, decFinal.b, ws.dx, 0, lastDec, 0, ws.decMean, ws.decRstd, 0,
                    w, decFinal.g, rt, d);
            swap(ws);
        }
        ws.dEnc.zero(0, (long) rs * d);
        Buf enc = encFinal != null ? ws.encFinal : (encLayers.length > 0 ? ws.enc[encLayers.length - 1].ffn.out(pre) : ws.encEmb);
        Attention.Dims causal = new Attention.Dims(bs, t, t, heads, hd, true);
        Attention.Dims cross = new Attention.Dims(bs, t, s, heads, hd, false);
        for (int l = decLayers.length - 1; l >= 0; l--) {
            DecLayer L = decLayers[l];
            Workspace.Dec a = dec[l];
            // Feed-forward.
            Buf dz = subOutBack(ws, a.ffn, w, g, L.ffnNorm, rt, o, 1002 + 4 * l);
            ffnBack(ws, w, g, dz, a.ffn, a.f, a.g, L.fc1, L.fc2, rt);
            subInBack(ws, a.ffn, w, g, L.ffnNorm, rt);
            // Cross-attention.
            dz = subOutBack(ws, a.cross, w, g, L.crossNorm, rt, o, 1001 + 4 * l);
            Linear.backward(p, ws.datt, 0, false, g, L.crossOut.w, bias(g, L.crossOut), L.crossOut.b, dz, 0, a.crossAtt, 0,
                    w, L.crossOut.w, rt, d, d);
            ws.dq.zero(0, (long) rt * d);
            ws.dkv.zero(0, (long) rs * 2 * d);
            Attention.backward(p, ws.dq, 0, ws.dkv, 0, ws.dkv, d, ws.dProbs, ws.datt, 0, d, a.crossProbs, 0,
                    a.q, 0, d, a.kv, 0, 2 * d, a.kv, d, 2 * d, cross);
            Linear.backward(p, ws.dEnc, 0, g, L.crossKv.w, bias(g, L.crossKv), L.crossKv.b, ws.dkv, 0, enc, 0,
                    w, L.crossKv.w, rs, d, 2 * d);
            Linear.backward(p, ws.du, 0, false, g, L.crossQ.w, bias(g, L.crossQ), L.crossQ.b, ws.dq, 0, coreIn(a.cross), 0,
                    w, L.crossQ.w, rt, d, d);
            subInBack(ws, a.cross, w, g, L.crossNorm, rt);
            // Causal self-attention.
            dz = subOutBack(ws, a.self, w, g, L.selfNorm, rt, o, 1000 + 4 * l);
            selfAttnBack(ws, w, g, dz, a.self, a.qkv, a.selfProbs, a.selfAtt, L.qkv, L.out, rt, causal);
            subInBack(ws, a.self, w, g, L.selfNorm, rt);
        }
        Dropout.backward(ws.dx, 0, (long) rt * d, o.dropout(), dropSeed(o, 2));
        Embedding.backward(g, decEmb, decPos >= 0 ? g : null, decPos, ws.dx, 0, b.tgtIn(), embScale, bs, t, d);

        // Encoder: the residual stream's gradient starts as the decoder's gradient of the memory.
        Buf tmp = ws.dx;
        ws.dx = ws.dEnc;
        ws.dEnc = tmp;
        if (encFinal != null) {
            Buf last = encLayers.length > 0 ? ws.enc[encLayers.length - 1].ffn.out(pre) : ws.encEmb;
            ws.dt.zero(0, (long) rs * d);
            LayerNorm.backward(ws.dt, 0, g, encFinal.g, g, encFinal.b, ws.dx, 0, last, 0, ws.encMean, ws.encRstd, 0,
                    w, encFinal.g, rs, d);
            swap(ws);
        }
        Attention.Dims selfDims = new Attention.Dims(bs, s, s, heads, hd, false);
        for (int l = encLayers.length - 1; l >= 0; l--) {
            EncLayer L = encLayers[l];
            Workspace.Enc a = ws.enc[l];
            Buf dz = subOutBack(ws, a.ffn, w, g, L.ffnNorm, rs, o, 101 + 4 * l);
            ffnBack(ws, w, g, dz, a.ffn, a.f, a.g, L.fc1, L.fc2, rs);
            subInBack(ws, a.ffn, w, g, L.ffnNorm, rs);
            dz = subOutBack(ws, a.attn, w, g, L.attnNorm, rs, o, 100 + 4 * l);
            selfAttnBack(ws, w, g, dz, a.attn, a.qkv, a.probs, a.att, L.qkv, L.out, rs, selfDims);
            subInBack(ws, a.attn, w, g, L.attnNorm, rs);
        }
        Dropout.backward(ws.dx, 0, (long) rs * d, o.dropout(), dropSeed(o, 1));
        Embedding.backward(g, encEmb, encPos >= 0 ? g : null, encPos, ws.dx, 0, b.src(), embScale, bs, s, d);
    }

    private static void swap(Workspace ws) {
        Buf x = ws.dx;
        ws.dx = ws.dt;
        ws.dt = x;
    }

    /** The core's input of a sub-layer: pre-norm its layer norm's output, post-norm its input. */
    private Buf coreIn(Workspace.Sub sub) {
        return pre ? sub.ln : sub.in;
    }

    /**
     * Backward through the end of a sub-layer. On entry {@code ws.dx} is the gradient of the
     * sub-layer's output; on return it is the gradient of its input through the residual path
     * only, and the returned buffer (dz) holds the gradient of the core output. The core's
     * backward then overwrites {@code ws.du} with the gradient of the core input.
     */
    private Buf subOutBack(Workspace ws, Workspace.Sub sub, Buf w, Buf g, Ln norm, int rows, PassOptions o, int site) {
        long n = (long) rows * d;
        if (!pre) {
            ws.dt.zero(0, n);
            LayerNorm.backward(ws.dt, 0, g, norm.g, g, norm.b, ws.dx, 0, sub.sum, 0, sub.mean, sub.rstd, 0, w, norm.g, rows, d);
            swap(ws);
        }
        ws.dz.copyFrom(0, ws.dx, 0, n);
        Dropout.backward(ws.dz, 0, n, o.dropout(), dropSeed(o, site));
        return ws.dz;
    }

    /** Adds the core input's gradient ({@code ws.du}) to the residual stream's, through the pre-norm when there is one. */
    private void subInBack(Workspace ws, Workspace.Sub sub, Buf w, Buf g, Ln norm, int rows) {
        if (pre) {
            LayerNorm.backward(ws.dx, 0, g, norm.g, g, norm.b, ws.du, 0, sub.in, 0, sub.mean, sub.rstd, 0, w, norm.g, rows, d);
        } else {
            Ops.addInto(ws.products, ws.dx, 0, ws.du, 0, (long) rows * d);
        }
    }

    /** Feed-forward core backward: from dz to {@code ws.du}. */
    private void ffnBack(Workspace ws, Buf w, Buf g, Buf dz, Workspace.Sub sub, Buf f, Buf gAct, Lin fc1, Lin fc2, int rows) {
        Products p = ws.products;
        long nf = (long) rows * ffn;
        Linear.backward(p, ws.dg, 0, false, g, fc2.w, bias(g, fc2), fc2.b, dz, 0, gAct, 0, w, fc2.w, rows, ffn, d);
        Act.backward(ws.df, 0, ws.dg, 0, f, 0, nf, act, false);
        Linear.backward(p, ws.du, 0, false, g, fc1.w, bias(g, fc1), fc1.b, ws.df, 0, coreIn(sub), 0, w, fc1.w, rows, d, ffn);
    }

    /** Self-attention core backward: from dz to {@code ws.du}. */
    private void selfAttnBack(Workspace ws, Buf w, Buf g, Buf dz, Workspace.Sub sub, Buf qkv, Buf probs, Buf att,
                              Lin qkvLin, Lin outLin, int rows, Attention.Dims dims) {
        Products p = ws.products;
        Linear.backward(p, ws.datt, 0, false, g, outLin.w, bias(g, outLin), outLin.b, dz, 0, att, 0, w, outLin.w, rows, d, d);
        ws.dqkv.zero(0, (long) rows * 3 * d);
        Attention.backward(p, ws.dqkv, 0, ws.dqkv, d, ws.dqkv, 2 * d, ws.dProbs, ws.datt, 0, d, probs, 0,
                qkv, 0, 3 * d, qkv, d, 3 * d, qkv, 2 * d, 3 * d, dims);
        Linear.backward(p, ws.du, 0, false, g, qkvLin.w, bias(g, qkvLin), qkvLin.b, ws.dqkv, 0, coreIn(sub), 0, w, qkvLin.w,
                rows, d, 3 * d);
    }
}

package dev.kawi.trainer.nn;

import dev.kawi.trainer.tensor.Buf;
import dev.kawi.trainer.tensor.F32Buf;
import dev.kawi.trainer.tensor.F32Lanes;
import dev.kawi.trainer.tensor.Products;

/**
 * Multi-head scaled dot-product attention over a padded batch, given projected queries, keys
 * and values: {@code out_h = softmax(scale · Q_h K_hᵀ + mask) V_h} for each head h (columns
 * {@code [h·hd, (h+1)·hd)}). Row {@code b·T + t} holds position t of sentence b. Keys at or past
 * {@code kvLen[b]} are masked, and with {@code causal} so are keys after the query's position.
 * The probabilities are saved for the backward pass, laid out (B, H, Tq, Tk).
 */
public final class Attention {
    private Attention() {
    }

    /** Dimensions of one attention call. */
    public record Dims(int batch, int qLen, int kvLen, int heads, int headDim, boolean causal) {
        /** Elements of the saved probabilities. */
        public long probsSize() {
            return (long) batch * heads * qLen * kvLen;
        }
    }

    /** Forward. {@code out} (ld {@code ldo}) is overwritten; {@code probs} receives the attention weights. */
    public static void forward(Products p, Buf out, long outOff, int ldo, Buf probs, long probsOff,
                               Buf q, long qOff, int ldq, Buf k, long kOff, int ldk, Buf v, long vOff, int ldv,
                               int[] kvLen, Dims dm) {
        int tq = dm.qLen();
        int tk = dm.kvLen();
        int hd = dm.headDim();
        double scale = (float) (1.0 / Math.sqrt(hd));
        int[] valid = new int[tq];
        for (int b = 0; b < dm.batch(); b++) {
            for (int h = 0; h < dm.heads(); h++) {
                long pOff = probsOff + ((long) b * dm.heads() + h) * tq * tk;
                long qb = qOff + (long) b * tq * ldq + (long) h * hd;
                long kb = kOff + (long) b * tk * ldk + (long) h * hd;
                long vb = vOff + (long) b * tk * ldv + (long) h * hd;
                p.abT(tq, tk, hd, q, qb, ldq, k, kb, ldk, probs, pOff, tk, false);
                if (probs instanceof F32Buf pf) {
                    for (int t = 0; t < tq; t++) {
                        valid[t] = Math.min(kvLen[b], dm.causal() ? t + 1 : tk);
                    }
                    p.kernels().scale(pf.segment(), pOff, (long) tq * tk, (float) scale);
                    p.kernels().softmax(pf.segment(), pOff, tq, tk, tk, valid);
                } else {
                    softmaxRows(probs, pOff, kvLen[b], dm, scale);
                }
                p.ab(tq, hd, tk, probs, pOff, tk, v, vb, ldv, out, outOff + (long) b * tq * ldo + (long) h * hd, ldo, false);
            }
        }
    }

    /** The double-precision softmax of one (sentence, head) block of scores, scaled and masked. */
    private static void softmaxRows(Buf probs, long pOff, int kvLen, Dims dm, double scale) {
        int tq = dm.qLen();
        int tk = dm.kvLen();
        for (int t = 0; t < tq; t++) {
            int valid = Math.min(kvLen, dm.causal() ? t + 1 : tk);
            long row = pOff + (long) t * tk;
            double max = Double.NEGATIVE_INFINITY;
            for (int s = 0; s < valid; s++) {
                max = Math.max(max, probs.get(row + s) * scale);
            }
            double sum = 0;
            for (int s = 0; s < valid; s++) {
                double e = Math.exp(probs.get(row + s) * scale - max);
                probs.set(row + s, e);
                sum += e;
            }
            for (int s = 0; s < valid; s++) {
                probs.set(row + s, probs.get(row + s) / sum);
            }
            for (int s = valid; s < tk; s++) {
                probs.set(row + s, 0);
            }
        }
    }

    /**
     * Backward: accumulates into dQ, dK, dV (which may share one buffer, as the packed q/k/v of
     * self-attention do). {@code scratch} holds at least {@code qLen · kvLen} elements.
     */
    public static void backward(Products p, Buf dq, long dqOff, Buf dk, long dkOff, Buf dv, long dvOff, Buf scratch,
                                Buf dOut, long dOutOff, int ldo, Buf probs, long probsOff,
                                Buf q, long qOff, int ldq, Buf k, long kOff, int ldk, Buf v, long vOff, int ldv,
                                Dims dm) {
        int tq = dm.qLen();
        int tk = dm.kvLen();
        int hd = dm.headDim();
        double scale = (float) (1.0 / Math.sqrt(hd));
        for (int b = 0; b < dm.batch(); b++) {
            for (int h = 0; h < dm.heads(); h++) {
                long pOff = probsOff + ((long) b * dm.heads() + h) * tq * tk;
                long col = (long) h * hd;
                long qb = (long) b * tq * ldq + col;
                long kb = (long) b * tk * ldk + col;
                long vb = (long) b * tk * ldv + col;
                long ob = dOutOff + (long) b * tq * ldo + col;
                // dP = dO · Vᵀ, then the softmax backward: dS = P ⊙ (dP - rowsum(P ⊙ dP)), times the scale.
                p.abT(tq, tk, hd, dOut, ob, ldo, v, vOff + vb, ldv, scratch, 0, tk, false);
                if (probs instanceof F32Buf pf && scratch instanceof F32Buf sf) {
                    F32Lanes.softmaxBackward(pf.segment(), pOff, sf.segment(), 0, tq, tk, (float) scale);
                } else {
                    softmaxBackward(probs, pOff, scratch, tq, tk, scale);
                }
                p.ab(tq, hd, tk, scratch, 0, tk, k, kOff + kb, ldk, dq, dqOff + qb, ldq, true);
                p.aTb(tk, hd, tq, scratch, 0, tk, q, qOff + qb, ldq, dk, dkOff + kb, ldk, true);
                p.aTb(tk, hd, tq, probs, pOff, tk, dOut, ob, ldo, dv, dvOff + vb, ldv, true);
            }
        }
    }

    /** The double-precision softmax backward of one block: {@code dS = P ⊙ (dP - rowsum(P ⊙ dP))}, times the scale. */
    private static void softmaxBackward(Buf probs, long pOff, Buf scratch, int tq, int tk, double scale) {
        for (int t = 0; t < tq; t++) {
            long row = pOff + (long) t * tk;
            long srow = (long) t * tk;
            double dot = 0;
            for (int s = 0; s < tk; s++) {
                dot += probs.get(row + s) * scratch.get(srow + s);
            }
            for (int s = 0; s < tk; s++) {
                scratch.set(srow + s, probs.get(row + s) * (scratch.get(srow + s) - dot) * scale);
            }
        }
    }
}

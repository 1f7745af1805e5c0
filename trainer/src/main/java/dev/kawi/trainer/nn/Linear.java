package dev.kawi.trainer.nn;

import dev.kawi.trainer.tensor.Buf;
import dev.kawi.trainer.tensor.F32Buf;
import dev.kawi.trainer.tensor.F32Lanes;
import dev.kawi.trainer.tensor.Products;
import dev.kawi.trainer.tensor.Scratch;

/** A linear layer {@code out = inp · Wᵀ + b} with W stored (outDim, inDim), as in the model file. */
public final class Linear {
    private Linear() {
    }

    /** Forward over N rows; {@code bias} may be null. {@code out} has row stride {@code outDim}. */
    public static void forward(Products p, Buf out, long outOff, Buf inp, long inpOff, Buf w, long wOff, Buf bias, long biasOff,
                               int n, int inDim, int outDim) {
        p.abT(n, outDim, inDim, inp, inpOff, inDim, w, wOff, inDim, out, outOff, outDim, false);
        if (bias != null && out instanceof F32Buf o && bias instanceof F32Buf bb) {
            F32Lanes.addToRows(p.kernels(), o.segment(), outOff, n, outDim, bb.segment(), biasOff);
        } else if (bias != null) {
            double[] b = Scratch.get(0, outDim);
            double[] row = Scratch.get(1, outDim);
            bias.read(biasOff, b, 0, outDim);
            for (int r = 0; r < n; r++) {
                long o = outOff + (long) r * outDim;
                out.read(o, row, 0, outDim);
                for (int j = 0; j < outDim; j++) {
                    row[j] += b[j];
                }
                out.write(o, row, 0, outDim);
            }
        }
    }

    /**
     * Backward: {@code dInp += dOut · W} (skipped when dInp is null), {@code dW += dOutᵀ · inp},
     * {@code dBias += Σ_rows dOut} (skipped when dBias is null).
     */
    public static void backward(Products p, Buf dInp, long dInpOff, Buf dW, long dwOff, Buf dBias, long dbOff,
                                Buf dOut, long dOutOff, Buf inp, long inpOff, Buf w, long wOff, int n, int inDim, int outDim) {
        backward(p, dInp, dInpOff, true, dW, dwOff, dBias, dbOff, dOut, dOutOff, inp, inpOff, w, wOff, n, inDim, outDim);
    }

    /**
     * As above, but {@code dInp = dOut · W} when {@code addInp} is false: the caller's buffer is
     * overwritten, so it needs no zeroing first (and the product reads nothing of it).
     */
    public static void backward(Products p, Buf dInp, long dInpOff, boolean addInp, Buf dW, long dwOff, Buf dBias, long dbOff,
                                Buf dOut, long dOutOff, Buf inp, long inpOff, Buf w, long wOff, int n, int inDim, int outDim) {
        if (dInp != null) {
            p.ab(n, inDim, outDim, dOut, dOutOff, outDim, w, wOff, inDim, dInp, dInpOff, inDim, addInp);
        }
        p.aTb(outDim, inDim, n, dOut, dOutOff, outDim, inp, inpOff, inDim, dW, dwOff, inDim, true);
        if (dBias != null && dBias instanceof F32Buf db && dOut instanceof F32Buf dy) {
            F32Lanes.addColumnSums(p.kernels(), db.segment(), dbOff, dy.segment(), dOutOff, n, outDim);
        } else if (dBias != null) {
            double[] sum = Scratch.get(0, outDim);
            double[] row = Scratch.get(1, outDim);
            dBias.read(dbOff, sum, 0, outDim);
            for (int r = 0; r < n; r++) {
                dOut.read(dOutOff + (long) r * outDim, row, 0, outDim);
                for (int j = 0; j < outDim; j++) {
                    sum[j] += row[j];
                }
            }
            dBias.write(dbOff, sum, 0, outDim);
        }
    }
}

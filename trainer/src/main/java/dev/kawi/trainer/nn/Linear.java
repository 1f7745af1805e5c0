package dev.kawi.trainer.nn;

import dev.kawi.trainer.tensor.Buf;
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
        if (bias != null) {
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
        if (dInp != null) {
            p.ab(n, inDim, outDim, dOut, dOutOff, outDim, w, wOff, inDim, dInp, dInpOff, inDim, true);
        }
        p.aTb(outDim, inDim, n, dOut, dOutOff, outDim, inp, inpOff, inDim, dW, dwOff, inDim, true);
        if (dBias != null) {
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

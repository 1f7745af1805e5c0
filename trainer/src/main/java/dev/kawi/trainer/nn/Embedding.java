package dev.kawi.trainer.nn;

import dev.kawi.trainer.tensor.Buf;
import dev.kawi.trainer.tensor.Precision;

/**
 * Token embedding plus positions: row {@code b·T + t} is {@code table[ids[b·T + t]] · scale + pos[t]}.
 * The position table is either a parameter (learned or stored) or the fixed sinusoidal table.
 */
public final class Embedding {
    private Embedding() {
    }

    /** Forward for {@code batch} sequences of {@code seqLen} ids (padding included). */
    public static void forward(Buf out, long outOff, int[] ids, Buf table, long tableOff, double scale, Buf pos, long posOff,
                               int batch, int seqLen, int d) {
        boolean f32 = out.precision() == Precision.F32;
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seqLen; t++) {
                int r = b * seqLen + t;
                long o = outOff + (long) r * d;
                long e = tableOff + (long) ids[r] * d;
                long p = posOff + (long) t * d;
                for (int i = 0; i < d; i++) {
                    // In F32, rounded as the runtime does: the scaled embedding first, then the position added.
                    double x = table.get(e + i) * scale;
                    if (f32) {
                        x = (float) x;
                    }
                    out.set(o + i, x + pos.get(p + i));
                }
            }
        }
    }

    /**
     * Backward: {@code dTable[id] += scale · dOut}; {@code dPos[t] += dOut} unless dPos is null
     * (sinusoidal positions have no parameters). Padding rows carry zero gradient and add nothing.
     */
    public static void backward(Buf dTable, long dTableOff, Buf dPos, long dPosOff, Buf dOut, long dOutOff, int[] ids,
                                double scale, int batch, int seqLen, int d) {
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seqLen; t++) {
                int r = b * seqLen + t;
                long g = dOutOff + (long) r * d;
                long e = dTableOff + (long) ids[r] * d;
                for (int i = 0; i < d; i++) {
                    double v = dOut.get(g + i);
                    dTable.add(e + i, scale * v);
                    if (dPos != null) {
                        dPos.add(dPosOff + (long) t * d + i, v);
                    }
                }
            }
        }
    }
}

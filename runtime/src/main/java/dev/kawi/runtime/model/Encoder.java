package dev.kawi.runtime.model;

import dev.kawi.runtime.kernels.Epilogue;
import dev.kawi.runtime.kernels.Kernels;
import dev.kawi.weights.ModelConfig;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The encoder stack over a padded batch. Padding never changes a sentence's result: every
 * product computes each row on its own (see the kernels' canonical arithmetic) and attention
 * masks the padded keys, so a sentence alone and inside any batch gives the same bits.
 */
public final class Encoder {
    private Encoder() {
    }

    /**
     * Encodes {@code ids[b]} (each of length >= 1, at most max_positions) and returns the
     * memory, allocated in {@code arena} (which must be shared when kernels use threads).
     */
    public static EncoderOutput encode(TransformerModel m, Kernels k, Arena arena, int[][] ids) {
        ModelConfig c = m.config();
        int batch = ids.length;
        int srcLen = 0;
        int[] lengths = new int[batch];
        for (int b = 0; b < batch; b++) {
            lengths[b] = ids[b].length;
            srcLen = Math.max(srcLen, ids[b].length);
        }
        if (srcLen > c.maxPositions()) {
            throw new IllegalArgumentException("source of " + srcLen + " tokens exceeds max_positions " + c.maxPositions());
        }
        int d = c.dModel();
        int rows = batch * srcLen;
        int[] flat = new int[rows];
        for (int b = 0; b < batch; b++) {
            // Padding rows embed the pad token; their values are masked everywhere they could matter.
            java.util.Arrays.fill(flat, b * srcLen, (b + 1) * srcLen, c.padId());
            System.arraycopy(ids[b], 0, flat, b * srcLen, ids[b].length);
        }
        MemorySegment x = arena.allocate(4L * rows * d, 64);        // (B*S, d) residual stream
        MemorySegment h = arena.allocate(4L * rows * d, 64);        // (B*S, d) normed input / pre-norm sum
        MemorySegment qkv = arena.allocate(4L * rows * 3 * d, 64);  // (B*S, 3d)
        MemorySegment att = arena.allocate(4L * rows * d, 64);      // (B*S, d) attention output
        MemorySegment ffn = arena.allocate(4L * rows * c.ffnDim(), 64); // (B*S, ffn)

        k.embedding(m.encoderEmbed(), flat, 0, rows, m.embeddingScale(), x, 0, d);
        for (int b = 0; b < batch; b++) {
            k.add(x, (long) b * srcLen * d, x, (long) b * srcLen * d, m.encoderPositions(srcLen), 0, (long) srcLen * d);
        }
        boolean pre = c.norm() == ModelConfig.NormPlacement.PRE;
        float eps = c.layerNormEps();
        int heads = c.numHeads();
        int hd = c.headDim();
        float scale = (float) (1.0 / Math.sqrt(hd));
        for (TransformerModel.EncoderLayer l : m.encoderLayers()) {
            // Self-attention block.
            MemorySegment in = x;
            if (pre) {
                k.layerNorm(h, 0, d, x, 0, d, rows, d, l.selfAttnNorm().gamma(), l.selfAttnNorm().beta(), eps, null, null);
                in = h;
            }
            k.gemm(rows, in, 0, d, l.qkv().w(), qkv, 0, 3 * d, Epilogue.of(l.qkv().bias(), null));
            k.attention(batch, heads, hd, srcLen, srcLen, lengths, false, scale,
                    qkv, 0, 3 * d, qkv, d, 3 * d, qkv, 2 * d, 3 * d, att, 0, d, null, 0);
            residual(k, pre, rows, d, att, l.out(), x, h, l.selfAttnNorm(), eps);
            // Feed-forward block.
            in = x;
            if (pre) {
                k.layerNorm(h, 0, d, x, 0, d, rows, d, l.ffnNorm().gamma(), l.ffnNorm().beta(), eps, null, null);
                in = h;
            }
            k.gemm(rows, in, 0, d, l.fc1().w(), ffn, 0, c.ffnDim(), Epilogue.of(l.fc1().bias(), m.activation()));
            residual(k, pre, rows, d, ffn, l.fc2(), x, h, l.ffnNorm(), eps);
        }
        if (m.encoderFinalNorm() != null) {
            k.layerNorm(x, 0, d, x, 0, d, rows, d, m.encoderFinalNorm().gamma(), m.encoderFinalNorm().beta(), eps, null, null);
        }
        return new EncoderOutput(x, batch, srcLen, lengths);
    }

    /**
     * The end of a sub-layer: pre-norm {@code x += in·Wᵀ + b}; post-norm
     * {@code x = norm(x + in·Wᵀ + b)} (through {@code tmp}).
     */
    static void residual(Kernels k, boolean pre, int rows, int d, MemorySegment in, TransformerModel.Linear proj,
                         MemorySegment x, MemorySegment tmp, TransformerModel.Norm norm, float eps) {
        residual(k, pre, rows, d, in, proj, Epilogue.withResidual(proj.bias(), x, 0, d), x, tmp, norm, eps);
    }

    /** As above with the epilogue {@code + bias + x} built once by the caller (decoding steps reuse theirs). */
    static void residual(Kernels k, boolean pre, int rows, int d, MemorySegment in, TransformerModel.Linear proj, Epilogue plusX,
                         MemorySegment x, MemorySegment tmp, TransformerModel.Norm norm, float eps) {
        int kdim = proj.w().cols();
        if (pre) {
            k.gemm(rows, in, 0, kdim, proj.w(), x, 0, d, plusX);
        } else {
            k.gemm(rows, in, 0, kdim, proj.w(), tmp, 0, d, plusX);
            k.layerNorm(x, 0, d, tmp, 0, d, rows, d, norm.gamma(), norm.beta(), eps, null, null);
        }
    }
}

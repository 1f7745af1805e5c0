package dev.kawi.weights;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The architecture of an encoder-decoder Transformer, as stored in the file's {@code config}
 * object. Immutable; validated on construction. JSON keys are the snake_case of the components.
 *
 * @param encoderLayers    encoder layer count (0 or more)
 * @param decoderLayers    decoder layer count (1 or more)
 * @param dModel           model width
 * @param numHeads         attention heads; divides dModel
 * @param ffnDim           inner width of the feed-forward blocks
 * @param vocabSize        size of the joint source/target vocabulary
 * @param maxPositions     longest sequence the position encoding covers
 * @param norm             where layer norms sit: after each residual (post, the paper) or before each sub-layer (pre)
 * @param encoderFinalNorm a layer norm after the last encoder layer
 * @param decoderFinalNorm a layer norm after the last decoder layer
 * @param layerNormEps     epsilon inside every layer norm
 * @param activation       feed-forward activation
 * @param embeddingScale   factor on token embeddings: sqrt(dModel) or 1
 * @param positions        sinusoidal (computed, as in the paper), learned or a stored table (both stored as tensors)
 * @param sharedEmbeddings encoder and decoder use one token embedding table
 * @param tiedOutput       the output projection is the decoder's token embedding table
 * @param outputBias       a bias over the vocabulary after the output projection
 * @param linearBias       attention and feed-forward projections have biases
 * @param padId            padding token id
 * @param bosId            beginning-of-sentence id
 * @param eosId            end-of-sentence id
 * @param unkId            unknown-token id
 * @param decoderStartId   the first decoder input token
 */
public record ModelConfig(
        int encoderLayers,
        int decoderLayers,
        int dModel,
        int numHeads,
        int ffnDim,
        int vocabSize,
        int maxPositions,
        NormPlacement norm,
        boolean encoderFinalNorm,
        boolean decoderFinalNorm,
        float layerNormEps,
        Activation activation,
        EmbeddingScale embeddingScale,
        Positions positions,
        boolean sharedEmbeddings,
        boolean tiedOutput,
        boolean outputBias,
        boolean linearBias,
        int padId,
        int bosId,
        int eosId,
        int unkId,
        int decoderStartId) {

    /** The only architecture name of format 1.x. */
    public static final String ARCHITECTURE = "transformer";
    /** Upper bound on widths and counts, far above any real model; rejects absurd configs before any allocation. */
    public static final int MAX_DIM = 1 << 20;

    /** Layer-norm placement. */
    public enum NormPlacement { POST, PRE }

    /** Feed-forward activation; GELU is the exact (erf) form. */
    public enum Activation { RELU, GELU, SWISH }

    /** Embedding scale factor. */
    public enum EmbeddingScale { SQRT_D_MODEL, ONE }

    /** Position encoding. */
    public enum Positions { SINUSOIDAL, LEARNED, TABLE }

    /** Validates every field. */
    public ModelConfig {
        check("encoder_layers", encoderLayers, 0, 1024);
        check("decoder_layers", decoderLayers, 1, 1024);
        check("d_model", dModel, 1, MAX_DIM);
        check("num_heads", numHeads, 1, dModel);
        if (dModel % numHeads != 0) {
            throw new MetadataException("config.num_heads", "must divide d_model (" + dModel + "), was " + numHeads);
        }
        check("ffn_dim", ffnDim, 1, MAX_DIM);
        check("vocab_size", vocabSize, 1, 1 << 24);
        check("max_positions", maxPositions, 1, MAX_DIM);
        if (!(layerNormEps > 0f) || !Float.isFinite(layerNormEps)) {
            throw new MetadataException("config.layer_norm_eps", "must be a positive finite number, was " + layerNormEps);
        }
        if (norm == null || activation == null || embeddingScale == null || positions == null) {
            throw new MetadataException("config", "norm, activation, embedding_scale and positions are required");
        }
        check("pad_id", padId, 0, vocabSize - 1);
        check("bos_id", bosId, 0, vocabSize - 1);
        check("eos_id", eosId, 0, vocabSize - 1);
        check("unk_id", unkId, 0, vocabSize - 1);
        check("decoder_start_id", decoderStartId, 0, vocabSize - 1);
    }

    private static void check(String key, long v, long min, long max) {
        if (v < min || v > max) {
            throw new MetadataException("config." + key, "must be in [" + min + ", " + max + "], was " + v);
        }
    }

    /** Width of one attention head. */
    public int headDim() {
        return dModel / numHeads;
    }

    /** The paper's base model (6+6 layers, 512 wide, 8 heads, FFN 2048), with the given vocabulary size. */
    public static ModelConfig base(int vocabSize) {
        return new ModelConfig(6, 6, 512, 8, 2048, vocabSize, 1024, NormPlacement.POST, false, false, 1e-5f,
                Activation.RELU, EmbeddingScale.SQRT_D_MODEL, Positions.SINUSOIDAL, true, true, false, true,
                0, 1, 2, 3, 1);
    }

    /** Kawi's small model: 6 encoder and 2 decoder layers, 256 wide, 4 heads, FFN 1024, pre-norm. */
    public static ModelConfig tiny(int vocabSize) {
        return new ModelConfig(6, 2, 256, 4, 1024, vocabSize, 512, NormPlacement.PRE, true, true, 1e-5f,
                Activation.RELU, EmbeddingScale.SQRT_D_MODEL, Positions.SINUSOIDAL, true, true, false, true,
                0, 1, 2, 3, 1);
    }

    /** Reads the {@code config} object; throws {@link MetadataException} naming the first bad field. */
    public static ModelConfig fromJson(Map<String, Object> m) {
        String p = "config";
        String arch = Fields.stringField(m, p, "architecture");
        if (!ARCHITECTURE.equals(arch)) {
            throw new MetadataException("config.architecture", "unknown architecture \"" + arch + "\" (this reader knows \"" + ARCHITECTURE + "\")");
        }
        return new ModelConfig(
                Fields.intField(m, p, "encoder_layers", 0, 1024),
                Fields.intField(m, p, "decoder_layers", 1, 1024),
                Fields.intField(m, p, "d_model", 1, MAX_DIM),
                Fields.intField(m, p, "num_heads", 1, MAX_DIM),
                Fields.intField(m, p, "ffn_dim", 1, MAX_DIM),
                Fields.intField(m, p, "vocab_size", 1, 1 << 24),
                Fields.intField(m, p, "max_positions", 1, MAX_DIM),
                Fields.enumField(m, p, "norm", NormPlacement.class),
                Fields.boolField(m, p, "encoder_final_norm"),
                Fields.boolField(m, p, "decoder_final_norm"),
                (float) Fields.doubleField(m, p, "layer_norm_eps"),
                Fields.enumField(m, p, "activation", Activation.class),
                Fields.enumField(m, p, "embedding_scale", EmbeddingScale.class),
                Fields.enumField(m, p, "positions", Positions.class),
                Fields.boolField(m, p, "shared_embeddings"),
                Fields.boolField(m, p, "tied_output"),
                Fields.boolField(m, p, "output_bias"),
                Fields.boolField(m, p, "linear_bias"),
                Fields.intField(m, p, "pad_id", 0, Integer.MAX_VALUE),
                Fields.intField(m, p, "bos_id", 0, Integer.MAX_VALUE),
                Fields.intField(m, p, "eos_id", 0, Integer.MAX_VALUE),
                Fields.intField(m, p, "unk_id", 0, Integer.MAX_VALUE),
                Fields.intField(m, p, "decoder_start_id", 0, Integer.MAX_VALUE));
    }

    /** The {@code config} object as written to the file. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architecture", ARCHITECTURE);
        m.put("encoder_layers", (long) encoderLayers);
        m.put("decoder_layers", (long) decoderLayers);
        m.put("d_model", (long) dModel);
        m.put("num_heads", (long) numHeads);
        m.put("ffn_dim", (long) ffnDim);
        m.put("vocab_size", (long) vocabSize);
        m.put("max_positions", (long) maxPositions);
        m.put("norm", lower(norm));
        m.put("encoder_final_norm", encoderFinalNorm);
        m.put("decoder_final_norm", decoderFinalNorm);
        m.put("layer_norm_eps", (double) layerNormEps);
        m.put("activation", lower(activation));
        m.put("embedding_scale", lower(embeddingScale));
        m.put("positions", lower(positions));
        m.put("shared_embeddings", sharedEmbeddings);
        m.put("tied_output", tiedOutput);
        m.put("output_bias", outputBias);
        m.put("linear_bias", linearBias);
        m.put("pad_id", (long) padId);
        m.put("bos_id", (long) bosId);
        m.put("eos_id", (long) eosId);
        m.put("unk_id", (long) unkId);
        m.put("decoder_start_id", (long) decoderStartId);
        return m;
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    /**
     * Every tensor this architecture needs, in file order, with its shape. Weights of linear
     * layers are (out, in): the reduction dimension is last, so quantization blocks run along it.
     */
    public Map<String, long[]> expectedTensors() {
        Map<String, long[]> t = new LinkedHashMap<>();
        long d = dModel;
        long v = vocabSize;
        if (sharedEmbeddings) {
            t.put("embed.weight", new long[] {v, d});
        } else {
            t.put("encoder.embed.weight", new long[] {v, d});
            t.put("decoder.embed.weight", new long[] {v, d});
        }
        if (positions != Positions.SINUSOIDAL) {
            t.put("encoder.positions", new long[] {maxPositions, d});
            t.put("decoder.positions", new long[] {maxPositions, d});
        }
        for (int i = 0; i < encoderLayers; i++) {
            String p = "encoder.layers." + i + ".";
            attention(t, p + "self_attn", true);
            norm(t, p + "self_attn_norm");
            ffn(t, p + "ffn");
            norm(t, p + "ffn_norm");
        }
        if (encoderFinalNorm) {
            norm(t, "encoder.final_norm");
        }
        for (int i = 0; i < decoderLayers; i++) {
            String p = "decoder.layers." + i + ".";
            attention(t, p + "self_attn", true);
            norm(t, p + "self_attn_norm");
            attention(t, p + "cross_attn", false);
            norm(t, p + "cross_attn_norm");
            ffn(t, p + "ffn");
            norm(t, p + "ffn_norm");
        }
        if (decoderFinalNorm) {
            norm(t, "decoder.final_norm");
        }
        if (!tiedOutput) {
            t.put("output.weight", new long[] {v, d});
        }
        if (outputBias) {
            t.put("output.bias", new long[] {v});
        }
        return t;
    }

    private void attention(Map<String, long[]> t, String p, boolean self) {
        long d = dModel;
        if (self) {
            // q, k and v fused: rows [0,d) are q, [d,2d) k, [2d,3d) v; one GEMM computes all three.
            linear(t, p + ".qkv", 3 * d, d);
        } else {
            linear(t, p + ".q", d, d);
            // k and v of the encoder output, fused: computed once per source sentence.
            linear(t, p + ".kv", 2 * d, d);
        }
        linear(t, p + ".out", d, d);
    }

    private void ffn(Map<String, long[]> t, String p) {
        linear(t, p + ".fc1", ffnDim, dModel);
        linear(t, p + ".fc2", dModel, ffnDim);
    }

    private void linear(Map<String, long[]> t, String p, long out, long in) {
        t.put(p + ".weight", new long[] {out, in});
        if (linearBias) {
            t.put(p + ".bias", new long[] {out});
        }
    }

    private void norm(Map<String, long[]> t, String p) {
        t.put(p + ".weight", new long[] {dModel});
        t.put(p + ".bias", new long[] {dModel});
    }
}

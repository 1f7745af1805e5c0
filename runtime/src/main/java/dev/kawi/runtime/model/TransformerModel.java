package dev.kawi.runtime.model;

import dev.kawi.runtime.kernels.Activation;
import dev.kawi.runtime.kernels.Weights;
import dev.kawi.weights.DType;
import dev.kawi.weights.KawiFile;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The weights of an encoder-decoder Transformer, bound once to the mapped file: matrices are
 * read in place in their stored dtype; F32 vectors (biases, norms) are slices of the mapping.
 * Immutable and shared by every request; the {@link KawiFile} must stay open while it is used.
 */
public final class TransformerModel {
    /** A linear layer y = x·Wᵀ + b; bias is null without linear biases. */
    public record Linear(Weights w, MemorySegment bias) {
    }

    /** A layer norm's gain and bias, F32 [d]. */
    public record Norm(MemorySegment gamma, MemorySegment beta) {
    }

    /** One encoder layer. */
    public record EncoderLayer(Linear qkv, Linear out, Norm selfAttnNorm, Linear fc1, Linear fc2, Norm ffnNorm) {
    }

    /** One decoder layer. */
    public record DecoderLayer(Linear qkv, Linear out, Norm selfAttnNorm, Linear crossQ, Linear crossKv, Linear crossOut,
                               Norm crossAttnNorm, Linear fc1, Linear fc2, Norm ffnNorm) {
    }

    private static final boolean NATIVE_ACCESS = TransformerModel.class.getModule().isNativeAccessEnabled();

    private final ModelConfig config;
    private final Weights encoderEmbed;
    private final Weights decoderEmbed;
    private final Weights output;
    private final MemorySegment outputBias;
    private final MemorySegment encoderPositions;
    private final MemorySegment decoderPositions;
    /** The sinusoidal table, filled up to the longest position asked for; null with stored positions. */
    private final Sinusoids sinusoids;
    private final EncoderLayer[] encoder;
    private final DecoderLayer[] decoder;
    private final Norm encoderFinalNorm;
    private final Norm decoderFinalNorm;
    private final Activation activation;
    private final float embeddingScale;

    /**
     * Binds the tensors of an open file. Vectors stored in another dtype than F32 and the
     * sinusoidal table are materialized in {@code arena} (small); nothing else is copied. The
     * arena must be closed before the file, and the model not used after that.
     */
    public TransformerModel(KawiFile file, Arena arena) {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("Kawi reads little-endian tensors in place and needs a little-endian CPU");
        }
        this.config = file.config();
        ModelConfig c = config;
        Binder b = new Binder(file, arena);
        encoderEmbed = b.matrix(c.sharedEmbeddings() ? "embed.weight" : "encoder.embed.weight");
        decoderEmbed = b.matrix(c.sharedEmbeddings() ? "embed.weight" : "decoder.embed.weight");
        output = c.tiedOutput() ? decoderEmbed : b.matrix("output.weight");
        outputBias = c.outputBias() ? b.vector("output.bias") : null;
        if (c.positions() == ModelConfig.Positions.SINUSOIDAL) {
            sinusoids = new Sinusoids(arena, c.maxPositions(), c.dModel());
            encoderPositions = sinusoids.table;
            decoderPositions = encoderPositions;
        } else {
            sinusoids = null;
            encoderPositions = b.vectorRows("encoder.positions");
            decoderPositions = b.vectorRows("decoder.positions");
        }
        encoder = new EncoderLayer[c.encoderLayers()];
        for (int i = 0; i < encoder.length; i++) {
            String p = "encoder.layers." + i + ".";
            encoder[i] = new EncoderLayer(b.linear(p + "self_attn.qkv"), b.linear(p + "self_attn.out"), b.norm(p + "self_attn_norm"),
                    b.linear(p + "ffn.fc1"), b.linear(p + "ffn.fc2"), b.norm(p + "ffn_norm"));
        }
        decoder = new DecoderLayer[c.decoderLayers()];
        for (int i = 0; i < decoder.length; i++) {
            String p = "decoder.layers." + i + ".";
            decoder[i] = new DecoderLayer(b.linear(p + "self_attn.qkv"), b.linear(p + "self_attn.out"), b.norm(p + "self_attn_norm"),
                    b.linear(p + "cross_attn.q"), b.linear(p + "cross_attn.kv"), b.linear(p + "cross_attn.out"), b.norm(p + "cross_attn_norm"),
                    b.linear(p + "ffn.fc1"), b.linear(p + "ffn.fc2"), b.norm(p + "ffn_norm"));
        }
        encoderFinalNorm = c.encoderFinalNorm() ? b.norm("encoder.final_norm") : null;
        decoderFinalNorm = c.decoderFinalNorm() ? b.norm("decoder.final_norm") : null;
        activation = Activation.of(c.activation());
        embeddingScale = c.embeddingScale() == ModelConfig.EmbeddingScale.SQRT_D_MODEL ? (float) Math.sqrt(c.dModel()) : 1f;
    }

    /** Resolves tensor names to kernel-ready views. */
    private static final class Binder {
        private final KawiFile file;
        private final Arena arena;
        private final boolean bias;

        Binder(KawiFile file, Arena arena) {
            this.file = file;
            this.arena = arena;
            this.bias = file.config().linearBias();
        }

        Weights matrix(String name) {
            Weights w = Weights.of(file.tensor(name));
            return new Weights(w.dtype(), w.rows(), w.cols(), rebase(w.data()), w.scales() == null ? null : rebase(w.scales()));
        }

        /**
         * The same mapped memory seen as an ordinary native segment of this model's arena. The
         * JIT profiles segment classes inside the JDK's shared access code: mapped weights next to
         * arena-allocated activations made those sites polymorphic and halved the speed of the
         * quantized GEMV (measured: 40 against 22 GFLOP/s). Needs native access (the launchers
         * grant it); without it the mapped segment is used as is, slower but correct. Access
         * after the arena closes still fails cleanly.
         */
        MemorySegment rebase(MemorySegment s) {
            if (!NATIVE_ACCESS) {
                return s;
            }
            return MemorySegment.ofAddress(s.address()).reinterpret(s.byteSize(), arena, null);
        }

        /** An F32 view of a tensor of any dtype (copied to the arena unless it is F32 already). */
        MemorySegment vectorRows(String name) {
            Tensor t = file.tensor(name);
            if (t.dtype() == DType.F32) {
                return rebase(t.data());
            }
            float[] v = t.toFloats();
            MemorySegment s = arena.allocate(4L * v.length, 64);
            MemorySegment.copy(v, 0, s, ValueLayout.JAVA_FLOAT, 0, v.length);
            return s;
        }

        MemorySegment vector(String name) {
            return vectorRows(name);
        }

        Linear linear(String prefix) {
            return new Linear(matrix(prefix + ".weight"), bias ? vector(prefix + ".bias") : null);
        }

        Norm norm(String prefix) {
            return new Norm(vector(prefix + ".weight"), vector(prefix + ".bias"));
        }
    }

    /**
     * The paper's sinusoidal table [positions, d]: PE(p, 2i) = sin(p / 10000^(2i/d)),
     * PE(p, 2i+1) = cos(p / 10000^(2i/d)), computed in double and rounded to float. Rows are
     * computed when first needed: a short sentence needs a few of the hundreds, and the whole table
     * (a sine and a cosine per element, mostly interpreted at start-up) cost tens of milliseconds.
     */
    static final class Sinusoids {
        final MemorySegment table;
        private final int positions;
        private final int d;
        private final double[] div;
        private volatile int ready;

        Sinusoids(Arena arena, int positions, int d) {
            this.table = arena.allocate(4L * positions * d, 64);
            this.positions = positions;
            this.d = d;
            this.div = new double[(d + 1) / 2];
            for (int i = 0; i < d; i += 2) {
                div[i / 2] = Math.pow(10000.0, (double) i / d);
            }
        }

        /** The table, with at least its first {@code rows} rows computed. */
        MemorySegment rows(int rows) {
            if (rows > ready) {
                fill(rows);
            }
            return table;
        }

        private synchronized void fill(int rows) {
            int from = ready;
            // Ahead by doubling, so decoding one position at a time locks only a few times.
            int to = Math.min(positions, Math.max(rows, Math.max(32, 2 * from)));
            if (to <= from) {
                return;
            }
            float[] row = new float[d];
            for (int p = from; p < to; p++) {
                for (int i = 0; i < d; i += 2) {
                    double angle = p / div[i / 2];
                    row[i] = (float) Math.sin(angle);
                    if (i + 1 < d) {
                        row[i + 1] = (float) Math.cos(angle);
                    }
                }
                MemorySegment.copy(row, 0, table, ValueLayout.JAVA_FLOAT, 4L * p * d, d);
            }
            ready = to;
        }
    }

    /** The architecture. */
    public ModelConfig config() {
        return config;
    }

    Weights encoderEmbed() {
        return encoderEmbed;
    }

    Weights decoderEmbed() {
        return decoderEmbed;
    }

    Weights output() {
        return output;
    }

    MemorySegment outputBias() {
        return outputBias;
    }

    /** The encoder's position table, valid for its first {@code rows} rows at least. */
    MemorySegment encoderPositions(int rows) {
        return sinusoids != null ? sinusoids.rows(rows) : encoderPositions;
    }

    /** The decoder's position table, valid for its first {@code rows} rows at least. */
    MemorySegment decoderPositions(int rows) {
        return sinusoids != null ? sinusoids.rows(rows) : decoderPositions;
    }

    EncoderLayer[] encoderLayers() {
        return encoder;
    }

    DecoderLayer[] decoderLayers() {
        return decoder;
    }

    Norm encoderFinalNorm() {
        return encoderFinalNorm;
    }

    Norm decoderFinalNorm() {
        return decoderFinalNorm;
    }

    Activation activation() {
        return activation;
    }

    float embeddingScale() {
        return embeddingScale;
    }
}

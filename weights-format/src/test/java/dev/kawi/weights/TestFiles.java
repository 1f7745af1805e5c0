package dev.kawi.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.function.UnaryOperator;

/** Builds valid and deliberately broken files for tests. */
final class TestFiles {
    private TestFiles() {
    }

    /** A small config that still has every kind of tensor: 1+1 layers, learned positions, separate embeddings. */
    static ModelConfig smallConfig() {
        return new ModelConfig(1, 1, 64, 2, 96, 260, 16, ModelConfig.NormPlacement.PRE, true, true, 1e-5f,
                ModelConfig.Activation.GELU, ModelConfig.EmbeddingScale.SQRT_D_MODEL, ModelConfig.Positions.LEARNED,
                false, false, true, true, 0, 1, 2, 3, 1);
    }

    static byte[] small(Path dir, DType dtype) throws Exception {
        Path p = dir.resolve("small-" + dtype + ".kawi");
        RandomModels.write(p, smallConfig(), dtype, 42);
        return Files.readAllBytes(p);
    }

    static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Recomputes the header CRC after a header edit. */
    static byte[] fixHeaderCrc(byte[] file) {
        le(file).putInt(60, (int) Checksums.crc32c(file, 0, 60));
        return file;
    }

    static String metadataText(byte[] file) {
        ByteBuffer h = le(file);
        int off = (int) h.getLong(24);
        int len = (int) h.getLong(32);
        return new String(file, off, len, StandardCharsets.UTF_8);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> metadata(byte[] file) throws Exception {
        return (Map<String, Object>) Json.parse(metadataText(file));
    }

    /** Replaces the metadata by {@code text} (raw bytes), fixing sizes and checksums so that only the content is wrong. */
    static byte[] withMetadataBytes(byte[] file, byte[] meta) {
        ByteBuffer h = le(file);
        int off = (int) h.getLong(24);
        byte[] out = Arrays.copyOf(file, off + meta.length);
        System.arraycopy(meta, 0, out, off, meta.length);
        ByteBuffer o = le(out);
        o.putLong(16, out.length);
        o.putLong(32, meta.length);
        o.putInt(56, (int) Checksums.crc32c(meta, 0, meta.length));
        return fixHeaderCrc(out);
    }

    static byte[] withMetadataText(byte[] file, String text) {
        return withMetadataBytes(file, text.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] withMetadata(byte[] file, UnaryOperator<Map<String, Object>> edit) throws Exception {
        return withMetadataText(file, Json.write(edit.apply(metadata(file))));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> tensor(Map<String, Object> meta, int i) {
        return (Map<String, Object>) ((java.util.List<Object>) meta.get("tensors")).get(i);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> config(Map<String, Object> meta) {
        return (Map<String, Object>) meta.get("config");
    }
}

package dev.kawi.trainer;

import dev.kawi.trainer.data.Batcher;
import dev.kawi.trainer.tensor.F32Buf;
import dev.kawi.weights.DType;
import dev.kawi.weights.Json;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.TempFiles;
import dev.kawi.weights.TokenizerSpec;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * A training checkpoint: everything a resumed run needs to repeat an uninterrupted one bit for
 * bit (parameters, AdamW moments, step, data position; batch order and dropout masks are
 * functions of the seed and step), plus the config, options and tokenizer.
 *
 * <p>Layout (little-endian): the 8 bytes {@code KAWICKPT}, u32 version (1), u32 metadata length,
 * the metadata as UTF-8 JSON, u64 element count n, then three F32 arrays of n elements
 * (parameters, first moments, second moments), then the CRC-32C of every preceding byte as u64.
 * Written to a temporary file and renamed into place.
 */
public final class Checkpoint {
    private static final byte[] MAGIC = "KAWICKPT".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;

    private Checkpoint() {
    }

    /** What a checkpoint holds besides the arrays. */
    public record Meta(ModelConfig config, TrainOptions options, TokenizerSpec tokenizer, int step, int epoch, int position,
                       Map<String, Object> extra) {
    }

    /** Writes {@code trainer}'s state atomically to {@code file}; {@code extra} is kept as is (e.g. the best dev score). */
    public static void save(Path file, Trainer trainer, TokenizerSpec tokenizer, Map<String, Object> extra) throws IOException {
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("config", trainer.config().toJson());
        meta.put("options", optionsJson(trainer.options()));
        meta.put("tokenizer", tokenizer.toJson());
        meta.put("step", trainer.completedSteps());
        meta.put("epoch", trainer.epoch());
        meta.put("position", trainer.position());
        meta.put("extra", extra == null ? Map.of() : extra);
        byte[] json = Json.write(meta).getBytes(StandardCharsets.UTF_8);
        Path abs = file.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        Path tmp = TempFiles.besides(abs);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                CRC32C crc = new CRC32C();
                ByteBuffer head = ByteBuffer.allocate(16 + json.length + 8).order(ByteOrder.LITTLE_ENDIAN);
                head.put(MAGIC).putInt(VERSION).putInt(json.length).put(json).putLong(trainer.layout().total()).flip();
                write(ch, head, crc);
                for (F32Buf b : new F32Buf[] {trainer.parameters(), trainer.optimizer().firstMoments(), trainer.optimizer().secondMoments()}) {
                    MemorySegment s = b.segment().asSlice(0, 4 * b.size());
                    long chunk = 1 << 24;
                    for (long off = 0; off < s.byteSize(); off += chunk) {
                        write(ch, s.asSlice(off, Math.min(chunk, s.byteSize() - off)).asByteBuffer(), crc);
                    }
                }
                ByteBuffer tail = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(crc.getValue()).flip();
                while (tail.hasRemaining()) {
                    ch.write(tail);
                }
                ch.force(true);
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void write(FileChannel ch, ByteBuffer b, CRC32C crc) throws IOException {
        crc.update(b.duplicate());
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Reads only the metadata of a checkpoint (validating magic, version and sizes, not the checksum). */
    public static Meta readMeta(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return meta(file, m);
        }
    }

    private static Meta meta(Path file, MemorySegment m) {
        long size = m.byteSize();
        if (size < 16 || MemorySegment.ofArray(MAGIC).mismatch(m.asSlice(0, 8)) != -1) {
            throw bad(file, "not a Kawi checkpoint (magic KAWICKPT missing)");
        }
        int version = m.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8);
        if (version != VERSION) {
            throw bad(file, "checkpoint version " + version + ", this build reads version " + VERSION);
        }
        int len = m.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 12);
        if (len < 2 || 16L + len + 8 > size) {
            throw bad(file, "metadata length " + len + " does not fit in a file of " + size + " bytes");
        }
        Object parsed;
        try {
            parsed = Json.parse(new String(m.asSlice(16, len).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
        } catch (Json.ParseException e) {
            throw bad(file, "metadata: " + e.getMessage());
        }
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> j = (Map<String, Object>) parsed;
            @SuppressWarnings("unchecked")
            Map<String, Object> extra = (Map<String, Object>) j.get("extra");
            @SuppressWarnings("unchecked")
            ModelConfig config = ModelConfig.fromJson((Map<String, Object>) j.get("config"));
            @SuppressWarnings("unchecked")
            TokenizerSpec tok = TokenizerSpec.fromJson((Map<String, Object>) j.get("tokenizer"));
            @SuppressWarnings("unchecked")
            TrainOptions options = optionsFromJson((Map<String, Object>) j.get("options"));
            return new Meta(config, options, tok, num(j, "step"), num(j, "epoch"), num(j, "position"), extra);
        } catch (RuntimeException e) {
            throw bad(file, "metadata: " + e.getMessage());
        }
    }

    /**
     * Resumes a run: a trainer over {@code data} in the checkpoint's state. The checksum is checked
     * first; the data must be the one the run was started with (same batch count).
     */
    public static Trainer resume(Path file, Batcher data) throws IOException {
        return resume(file, data, -1);
    }

    /**
     * As {@link #resume(Path, Batcher)}, running to {@code maxSteps} instead of the stored step
     * count when it is not negative (the only option that can change without changing results).
     */
    public static Trainer resume(Path file, Batcher data, int maxSteps) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            Meta meta = meta(file, m);
            int len = m.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 12);
            long at = 16L + len;
            long n = m.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at);
            at += 8;
            if (n < 0 || at + 12 * n + 8 != m.byteSize()) {
                throw bad(file, "size " + m.byteSize() + " does not match " + n + " parameters (truncated or damaged?)");
            }
            CRC32C crc = new CRC32C();
            long chunk = 1 << 24;
            for (long off = 0; off < m.byteSize() - 8; off += chunk) {
                crc.update(m.asSlice(off, Math.min(chunk, m.byteSize() - 8 - off)).asByteBuffer());
            }
            long stored = m.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), m.byteSize() - 8);
            if (stored != crc.getValue()) {
                throw bad(file, "checksum mismatch (stored " + Long.toHexString(stored) + ", computed "
                        + Long.toHexString(crc.getValue()) + ")");
            }
            if (meta.position() >= data.size() && data.size() > 0) {
                throw bad(file, "data position " + meta.position() + " is beyond the " + data.size()
                        + " batches of this data: resume with the training data and options the run started with");
            }
            TrainOptions o = meta.options();
            if (maxSteps >= 0) {
                o = o.withSchedule(maxSteps, o.warmup(), o.lrScale());
            }
            Trainer t = new Trainer(meta.config(), o, data, null);
            if (t.layout().total() != n) {
                throw bad(file, "holds " + n + " parameters, its config needs " + t.layout().total());
            }
            F32Buf[] dst = {t.parameters(), t.optimizer().firstMoments(), t.optimizer().secondMoments()};
            for (F32Buf b : dst) {
                MemorySegment.copy(m, at, b.segment(), 0, 4 * n);
                at += 4 * n;
            }
            t.restore(meta.step(), meta.epoch(), meta.position());
            return t;
        }
    }

    private static TrainingException bad(Path file, String problem) {
        return new TrainingException(file + ": " + problem);
    }

    private static int num(Map<String, Object> j, String key) {
        Object v = j.get(key);
        if (!(v instanceof Number n)) {
            throw new IllegalArgumentException("\"" + key + "\" is missing or not a number");
        }
        return n.intValue();
    }

    private static double dbl(Map<String, Object> j, String key) {
        Object v = j.get(key);
        if (!(v instanceof Number n)) {
            throw new IllegalArgumentException("options." + key + " is missing or not a number");
        }
        return n.doubleValue();
    }

    static Map<String, Object> optionsJson(TrainOptions o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("max_steps", o.maxSteps());
        m.put("warmup", o.warmup());
        m.put("lr_scale", o.lrScale());
        m.put("beta1", o.beta1());
        m.put("beta2", o.beta2());
        m.put("adam_eps", o.adamEps());
        m.put("weight_decay", o.weightDecay());
        m.put("clip_norm", o.clipNorm());
        m.put("label_smoothing", o.labelSmoothing());
        m.put("dropout", o.dropout());
        m.put("max_tokens", o.maxTokens());
        m.put("accumulation", o.accumulation());
        m.put("threads", o.threads());
        m.put("seed", o.seed());
        m.put("max_length", o.maxLength());
        m.put("qat", o.qat() == null ? "none" : o.qat().name());
        m.put("qat_start", o.qatStart());
        return m;
    }

    static TrainOptions optionsFromJson(Map<String, Object> j) {
        if (j == null) {
            throw new IllegalArgumentException("\"options\" is missing");
        }
        Object q = j.get("qat");
        DType qat = q == null || "none".equals(q) ? null : DType.fromName(q.toString());
        return new TrainOptions((int) dbl(j, "max_steps"), (int) dbl(j, "warmup"), dbl(j, "lr_scale"), dbl(j, "beta1"),
                dbl(j, "beta2"), dbl(j, "adam_eps"), dbl(j, "weight_decay"), dbl(j, "clip_norm"), dbl(j, "label_smoothing"),
                dbl(j, "dropout"), (int) dbl(j, "max_tokens"), (int) dbl(j, "accumulation"), (int) dbl(j, "threads"),
                ((Number) j.get("seed")).longValue(), (int) dbl(j, "max_length"), qat, (int) dbl(j, "qat_start"));
    }
}

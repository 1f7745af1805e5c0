package dev.kawi.weights;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Writes a {@code .kawi} file by streaming tensors to a temporary file beside the target, then
 * renaming it into place atomically: readers see the old file or the complete new one, never a
 * partial one. Tensors are converted or quantized row by row, so the model is never held twice.
 *
 * <pre>{@code
 * try (KawiWriter w = KawiWriter.create(out)) {
 *     w.writeFloats("embed.weight", DType.Q8, new long[] {vocab, d}, rows);
 *     ...
 *     w.finish(config, tokenizer, provenance);   // metadata, header, fsync, rename
 * }                                              // closing without finish() deletes the temp file
 * }</pre>
 */
public final class KawiWriter implements AutoCloseable {
    private static final int BUFFER = 1 << 20;

    private final Path target;
    private final Path temp;
    private final FileChannel ch;
    private final List<TensorInfo> tensors = new ArrayList<>();
    private final Map<String, TensorInfo> names = new LinkedHashMap<>();
    private long position = KawiFile.HEADER_SIZE;
    private boolean finished;

    /** Source of float rows for {@link #writeFloats}: fills {@code dst[0, cols)} with row {@code row}. */
    @FunctionalInterface
    public interface FloatRows {
        /** Writes row {@code row} into {@code dst}. */
        void read(long row, float[] dst);
    }

    private KawiWriter(Path target, Path temp, FileChannel ch) {
        this.target = target;
        this.temp = temp;
        this.ch = ch;
    }

    /** Starts a file that will replace {@code target} when {@link #finish} succeeds. */
    public static KawiWriter create(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path temp = TempFiles.besides(abs);
        FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        return new KawiWriter(abs, temp, ch);
    }

    /** Writes a tensor whose bytes are already in {@code dtype}'s layout (e.g. copied from another file). */
    public void writeTensor(String name, DType dtype, long[] shape, MemorySegment bytes) throws IOException {
        long size = checkNew(name, dtype, shape);
        if (bytes.byteSize() != size) {
            throw new IllegalArgumentException(name + ": " + bytes.byteSize() + " bytes given, " + dtype + " " + java.util.Arrays.toString(shape) + " needs " + size);
        }
        CRC32C crc = new CRC32C();
        long start = position;
        long chunk = 1L << 24;
        for (long off = 0; off < size; off += chunk) {
            ByteBuffer b = bytes.asSlice(off, Math.min(chunk, size - off)).asByteBuffer();
            crc.update(b.duplicate());
            writeFully(b);
        }
        finishTensor(name, dtype, shape, start, size, crc.getValue());
    }

    /** Writes a tensor given as F32 values (row-major), converting or quantizing to {@code dtype}. */
    public void writeFloats(String name, DType dtype, long[] shape, float[] values) throws IOException {
        long cols = shape.length == 0 ? 1 : shape[shape.length - 1];
        if (values.length != elementCount(shape)) {
            throw new IllegalArgumentException(name + ": " + values.length + " values given for shape " + java.util.Arrays.toString(shape));
        }
        writeFloats(name, dtype, shape, (row, dst) -> System.arraycopy(values, (int) (row * cols), dst, 0, (int) cols));
    }

    /** Writes a tensor whose rows (last dimension) come from {@code source}, converting or quantizing each. */
    public void writeFloats(String name, DType dtype, long[] shape, FloatRows source) throws IOException {
        long size = checkNew(name, dtype, shape);
        long cols = shape.length == 0 ? 1 : shape[shape.length - 1];
        long rows = elementCount(shape) / cols;
        int n = Math.toIntExact(cols);
        float[] row = new float[n];
        CRC32C crc = new CRC32C();
        long start = position;
        ByteBuffer buf = ByteBuffer.allocate(Math.max(BUFFER, n * 4)).order(ByteOrder.LITTLE_ENDIAN);
        if (!dtype.isQuantized()) {
            for (long r = 0; r < rows; r++) {
                source.read(r, row);
                if (buf.remaining() < n * 4) {
                    flush(buf, crc);
                }
                for (int i = 0; i < n; i++) {
                    switch (dtype) {
                        case F32 -> buf.putFloat(row[i]);
                        case F16 -> buf.putShort(Float.floatToFloat16(row[i]));
                        case BF16 -> buf.putShort(QuantCodec.floatToBf16(row[i]));
                        default -> throw new AssertionError(dtype);
                    }
                }
            }
        } else {
            int qBytes = (int) dtype.quantRowBytes(cols);
            int blocks = n / QuantCodec.BLOCK;
            byte[] q = new byte[qBytes];
            // The scales plane follows all values, so it is kept until the values are written: 1/32 of the F32 size.
            float[] scales = new float[Math.toIntExact(Math.multiplyExact(rows, blocks))];
            for (long r = 0; r < rows; r++) {
                source.read(r, row);
                try {
                    if (dtype == DType.Q8) {
                        QuantCodec.quantizeRowQ8(row, 0, n, q, 0, scales, (int) (r * blocks));
                    } else {
                        QuantCodec.quantizeRowQ4(row, 0, n, q, 0, scales, (int) (r * blocks));
                    }
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(name + " row " + r + ": " + e.getMessage(), e);
                }
                if (buf.remaining() < qBytes) {
                    flush(buf, crc);
                }
                buf.put(q);
            }
            long pad = dtype.scalesOffset(rows, cols) - rows * qBytes;
            for (long i = 0; i < pad; i++) {
                if (!buf.hasRemaining()) {
                    flush(buf, crc);
                }
                buf.put((byte) 0);
            }
            for (float s : scales) {
                if (buf.remaining() < 4) {
                    flush(buf, crc);
                }
                buf.putFloat(s);
            }
        }
        flush(buf, crc);
        if (position - start != size) {
            throw new IllegalStateException(name + ": wrote " + (position - start) + " bytes, expected " + size);
        }
        finishTensor(name, dtype, shape, start, size, crc.getValue());
    }

    private void flush(ByteBuffer buf, CRC32C crc) throws IOException {
        buf.flip();
        crc.update(buf.duplicate());
        writeFully(buf);
        buf.clear();
    }

    private long checkNew(String name, DType dtype, long[] shape) {
        if (finished) {
            throw new IllegalStateException("writer already finished");
        }
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("tensor name is empty");
        }
        if (names.containsKey(name)) {
            throw new IllegalArgumentException("duplicate tensor name \"" + name + "\"");
        }
        if (shape.length > KawiFile.MAX_RANK) {
            throw new IllegalArgumentException(name + ": rank " + shape.length + " exceeds " + KawiFile.MAX_RANK);
        }
        for (long d : shape) {
            if (d < 1) {
                throw new IllegalArgumentException(name + ": dimensions must be >= 1, shape " + java.util.Arrays.toString(shape));
            }
        }
        long cols = shape.length == 0 ? 1 : shape[shape.length - 1];
        try {
            return dtype.byteSize(elementCount(shape) / cols, cols);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + dtype + " " + e.getMessage(), e);
        }
    }

    private static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private void finishTensor(String name, DType dtype, long[] shape, long start, long size, long crc) throws IOException {
        TensorInfo t = new TensorInfo(name, dtype, shape, start, size, crc);
        tensors.add(t);
        names.put(name, t);
        padTo(DType.align64(position));
    }

    private void padTo(long target) throws IOException {
        if (target > position) {
            writeFully(ByteBuffer.allocate((int) (target - position)));
        }
    }

    private void writeFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            position += ch.write(b, position);
        }
    }

    /**
     * Writes the metadata and header, syncs, checks the result by opening it, and renames it over
     * the target. The tensors must be exactly those {@code config.expectedTensors()} lists.
     */
    public void finish(ModelConfig config, TokenizerSpec tokenizer, Map<String, Object> provenance) throws IOException {
        if (finished) {
            throw new IllegalStateException("writer already finished");
        }
        long dataEnd = position;
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("config", config.toJson());
        meta.put("tokenizer", tokenizer.toJson());
        meta.put("provenance", provenance == null ? Map.of() : provenance);
        List<Object> table = new ArrayList<>(tensors.size());
        for (TensorInfo t : tensors) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", t.name());
            e.put("dtype", t.dtype().name());
            List<Object> shape = new ArrayList<>();
            for (long d : t.shape()) {
                shape.add(d);
            }
            e.put("shape", shape);
            e.put("offset", t.offset());
            e.put("size", t.size());
            e.put("crc32c", t.crc32c());
            table.add(e);
        }
        meta.put("tensors", table);
        byte[] json = Json.write(meta).getBytes(StandardCharsets.UTF_8);
        long metaOffset = dataEnd;
        writeFully(ByteBuffer.wrap(json));
        long fileSize = position;

        ByteBuffer h = ByteBuffer.allocate(KawiFile.HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        h.put(KawiFile.MAGIC);
        h.putShort((short) KawiFile.VERSION_MAJOR);
        h.putShort((short) KawiFile.VERSION_MINOR);
        h.putInt(KawiFile.HEADER_SIZE);
        h.putLong(fileSize);
        h.putLong(metaOffset);
        h.putLong(json.length);
        h.putLong(KawiFile.HEADER_SIZE);
        h.putLong(dataEnd - KawiFile.HEADER_SIZE);
        h.putInt((int) Checksums.crc32c(json, 0, json.length));
        h.putInt((int) Checksums.crc32c(h.array(), 0, 60));
        h.flip();
        long end = position;
        position = 0;
        writeFully(h);
        position = end;
        ch.force(true);
        ch.close();
        // Validate what was written before it replaces anything (structure only, no checksum pass).
        try (KawiFile check = KawiFile.open(temp)) {
            if (check.tensors().size() != tensors.size()) {
                throw new IllegalStateException("written file lists " + check.tensors().size() + " tensors, expected " + tensors.size());
            }
        }
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        finished = true;
    }

    /** The tensors written so far. */
    public List<TensorInfo> tensors() {
        return List.copyOf(tensors);
    }

    /** Deletes the temporary file unless {@link #finish} succeeded. */
    @Override
    public void close() throws IOException {
        if (!finished) {
            ch.close();
            Files.deleteIfExists(temp);
            finished = true;
        }
    }
}

package dev.kawi.weights;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code .kawi} model file, memory-mapped and validated. See {@code weights-format/FORMAT.md}.
 *
 * <p>{@link #open} maps the whole file into a shared {@link Arena}, reads the 64-byte header and
 * the JSON metadata, and checks every structural rule; tensor bytes are not touched, so opening
 * costs the same for 4 MB and 4 GB. Tensor checksums are checked by {@link #verifyChecksums()}.
 * Every problem is a {@link WeightFileException} naming the file, the problem and the offset or
 * field. The instance is immutable and safe to share between threads; {@link #close()} unmaps it.
 */
public final class KawiFile implements AutoCloseable {
    /** Format major version written and read by this code; a newer major is refused. */
    public static final int VERSION_MAJOR = 1;
    /** Format minor version written by this code; readers accept any minor of their major. */
    public static final int VERSION_MINOR = 0;
    /** The first 8 bytes of every file: "KAWI" CR LF SUB LF (catches text-mode transfers, like PNG's). */
    static final byte[] MAGIC = {'K', 'A', 'W', 'I', 0x0D, 0x0A, 0x1A, 0x0A};
    /** Size of the fixed header. */
    public static final int HEADER_SIZE = 64;
    /** Alignment of the data section, every tensor and every plane inside a quantized tensor. */
    public static final int ALIGNMENT = 64;
    /** Largest metadata block accepted (the metadata is read onto the heap, so it is bounded). */
    public static final long MAX_METADATA_BYTES = 1L << 30;
    /** Most tensors accepted in one file. */
    public static final int MAX_TENSORS = 1 << 20;
    /** Most dimensions of one tensor. */
    public static final int MAX_RANK = 8;

    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapped;
    private final Header header;
    private final ModelConfig config;
    private final TokenizerSpec tokenizer;
    private final Map<String, Object> provenance;
    private final List<TensorInfo> tensors;
    private final Map<String, TensorInfo> byName;

    /** The fixed header fields (all offsets absolute, in bytes). */
    record Header(int major, int minor, long headerSize, long fileSize, long metadataOffset, long metadataSize,
                  long dataOffset, long dataSize, long metadataCrc) {
    }

    private KawiFile(Path path, Arena arena, MemorySegment mapped, Header header, ModelConfig config,
                     TokenizerSpec tokenizer, Map<String, Object> provenance, List<TensorInfo> tensors) {
        this.path = path;
        this.arena = arena;
        this.mapped = mapped;
        this.header = header;
        this.config = config;
        this.tokenizer = tokenizer;
        this.provenance = provenance;
        this.tensors = Collections.unmodifiableList(tensors);
        Map<String, TensorInfo> m = new HashMap<>(tensors.size() * 2);
        for (TensorInfo t : tensors) {
            m.put(t.name(), t);
        }
        this.byName = m;
    }

    /** Maps and validates {@code path}. Cost does not depend on tensor sizes. */
    public static KawiFile open(Path path) throws WeightFileException {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new WeightFileException(path, "cannot open: " + describe(e), null, e);
        }
        Arena arena = Arena.ofShared();
        boolean ok = false;
        try (ch) {
            long size = ch.size();
            if (size < HEADER_SIZE) {
                checkMagicPrefix(path, ch, size);
                throw new WeightFileException(path, "truncated: the file has " + size + " bytes, less than the " + HEADER_SIZE + "-byte header", "offset " + size);
            }
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            // The header through a heap buffer: the first typed access to a memory segment
            // builds var handles, which costs more at start-up than the whole header check.
            byte[] head = new byte[HEADER_SIZE];
            MemorySegment.copy(mapped, ValueLayout.JAVA_BYTE, 0, head, 0, HEADER_SIZE);
            Header h = readHeader(path, head, size);
            byte[] metaBytes = new byte[(int) h.metadataSize];
            MemorySegment.copy(mapped, ValueLayout.JAVA_BYTE, h.metadataOffset, metaBytes, 0, metaBytes.length);
            long crc = Checksums.crc32c(metaBytes, 0, metaBytes.length);
            if (crc != h.metadataCrc) {
                throw new WeightFileException(path, String.format("metadata checksum mismatch: CRC-32C is %08x, header says %08x", crc, h.metadataCrc),
                        "metadata at offset " + h.metadataOffset);
            }
            KawiFile f = parseMetadata(path, arena, mapped, h, metaBytes);
            ok = true;
            return f;
        } catch (IOException e) {
            if (e instanceof WeightFileException w) {
                throw w;
            }
            throw new WeightFileException(path, "cannot read: " + describe(e), null, e);
        } finally {
            if (!ok) {
                arena.close();
            }
        }
    }

    private static void checkMagicPrefix(Path path, FileChannel ch, long size) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(size, MAGIC.length));
        ch.read(b, 0);
        for (int i = 0; i < b.position(); i++) {
            if (b.get(i) != MAGIC[i]) {
                throw new WeightFileException(path, "not a .kawi file: wrong magic bytes", "offset " + i);
            }
        }
    }

    private static Header readHeader(Path path, byte[] head, long size) throws WeightFileException {
        ByteBuffer m = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < MAGIC.length; i++) {
            if (head[i] != MAGIC[i]) {
                throw new WeightFileException(path, "not a .kawi file: wrong magic bytes", "offset " + i);
            }
        }
        int major = Short.toUnsignedInt(m.getShort(8));
        int minor = Short.toUnsignedInt(m.getShort(10));
        if (major > VERSION_MAJOR) {
            throw new WeightFileException(path, "format version " + major + "." + minor + " is newer than this reader ("
                    + VERSION_MAJOR + "." + VERSION_MINOR + "); upgrade Kawi to read it", "offset 8");
        }
        if (major < 1) {
            throw new WeightFileException(path, "invalid format major version " + major, "offset 8");
        }
        long headerCrc = Integer.toUnsignedLong(m.getInt(60));
        long actualCrc = Checksums.crc32c(head, 0, 60);
        if (headerCrc != actualCrc) {
            throw new WeightFileException(path, String.format("header checksum mismatch: CRC-32C is %08x, header says %08x", actualCrc, headerCrc), "offset 60");
        }
        long headerSize = Integer.toUnsignedLong(m.getInt(12));
        long fileSize = m.getLong(16);
        long metaOff = m.getLong(24);
        long metaSize = m.getLong(32);
        long dataOff = m.getLong(40);
        long dataSize = m.getLong(48);
        long metaCrc = Integer.toUnsignedLong(m.getInt(56));
        if (headerSize < HEADER_SIZE) {
            throw new WeightFileException(path, "header size " + headerSize + " is below " + HEADER_SIZE, "offset 12");
        }
        if (fileSize != size) {
            if (Long.compareUnsigned(fileSize, size) > 0) {
                throw new WeightFileException(path, "truncated: the file has " + size + " bytes, the header declares " + Long.toUnsignedString(fileSize), "offset " + size);
            }
            throw new WeightFileException(path, "the file has " + size + " bytes but the header declares " + fileSize + " (trailing data)", "offset 16");
        }
        checkRange(path, "metadata", metaOff, metaSize, headerSize, size, "offset 24");
        checkRange(path, "data section", dataOff, dataSize, headerSize, size, "offset 40");
        if (dataOff % ALIGNMENT != 0) {
            throw new WeightFileException(path, "data section offset " + dataOff + " is not a multiple of " + ALIGNMENT, "offset 40");
        }
        if (metaOff < dataOff + dataSize && dataOff < metaOff + metaSize) {
            throw new WeightFileException(path, "metadata [" + metaOff + ", " + (metaOff + metaSize) + ") overlaps the data section ["
                    + dataOff + ", " + (dataOff + dataSize) + ")", "offset 24");
        }
        if (metaSize > MAX_METADATA_BYTES) {
            throw new WeightFileException(path, "metadata of " + metaSize + " bytes exceeds the limit of " + MAX_METADATA_BYTES, "offset 32");
        }
        return new Header(major, minor, headerSize, fileSize, metaOff, metaSize, dataOff, dataSize, metaCrc);
    }

    /** Checks that [off, off+len) lies inside [min, size), without overflow. */
    private static void checkRange(Path path, String what, long off, long len, long min, long size, String where) throws WeightFileException {
        if (off < min || len < 0 || off > size || len > size - off) {
            throw new WeightFileException(path, what + " [" + Long.toUnsignedString(off) + ", +" + Long.toUnsignedString(len)
                    + ") lies outside the file's " + size + " bytes", where);
        }
    }

    private static KawiFile parseMetadata(Path path, Arena arena, MemorySegment mapped, Header h, byte[] metaBytes) throws WeightFileException {
        String where = "metadata at offset " + h.metadataOffset;
        // The String constructor's decoder is several times faster than a CharsetDecoder at start-up,
        // but replaces malformed input with U+FFFD: only text that contains one needs the strict check.
        String text = new String(metaBytes, StandardCharsets.UTF_8);
        if (text.indexOf('\uFFFD') >= 0) {
            try {
                StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(metaBytes));
            } catch (CharacterCodingException e) {
                throw new WeightFileException(path, "metadata is not valid UTF-8", where, e);
            }
        }
        Object root;
        try {
            root = Json.parse(text);
        } catch (Json.ParseException e) {
            throw new WeightFileException(path, "metadata is not valid JSON: " + e.getMessage(), where, e);
        }
        try {
            Map<String, Object> m = Fields.object(root, "metadata");
            ModelConfig config = ModelConfig.fromJson(Fields.object(m, "", "config"));
            TokenizerSpec tokenizer = TokenizerSpec.fromJson(Fields.object(m, "", "tokenizer"));
            if (tokenizer.size() != config.vocabSize()) {
                throw new MetadataException("tokenizer.pieces", "has " + tokenizer.size() + " pieces, config.vocab_size is " + config.vocabSize());
            }
            Map<String, Object> provenance = Fields.object(m, "", "provenance");
            List<TensorInfo> tensors = parseTensors(Fields.array(m, "", "tensors"), h);
            checkTensorSet(config, tensors);
            return new KawiFile(path, arena, mapped, h, config, tokenizer, Collections.unmodifiableMap(provenance), tensors);
        } catch (MetadataException e) {
            throw new WeightFileException(path, "invalid metadata: " + e.getMessage(), "field " + e.field(), e);
        }
    }

    /** Tensors by offset: a class rather than a lambda, so that opening a model links no call site. */
    private static final Comparator<TensorInfo> BY_OFFSET = new ByOffset();

    private static final class ByOffset implements Comparator<TensorInfo> {
        @Override
        public int compare(TensorInfo a, TensorInfo b) {
            return Long.compare(a.offset(), b.offset());
        }
    }

    private static List<TensorInfo> parseTensors(List<Object> raw, Header h) {
        if (raw.size() > MAX_TENSORS) {
            throw new MetadataException("tensors", "has " + raw.size() + " entries, more than " + MAX_TENSORS);
        }
        List<TensorInfo> out = new ArrayList<>(raw.size());
        Map<String, Integer> names = new HashMap<>();
        for (int i = 0; i < raw.size(); i++) {
            String f = "tensors[" + i + "]";
            Map<String, Object> t = Fields.object(raw.get(i), f);
            String name = Fields.stringField(t, f, "name");
            if (name.isEmpty()) {
                throw new MetadataException(f + ".name", "is empty");
            }
            Integer prev = names.put(name, i);
            if (prev != null) {
                throw new MetadataException(f + ".name", "duplicate tensor name \"" + name + "\" (also tensors[" + prev + "])");
            }
            f = "tensors[" + i + "] (\"" + name + "\")";
            String dtypeName = Fields.stringField(t, f, "dtype");
            DType dtype = DType.fromName(dtypeName);
            if (dtype == null) {
                throw new MetadataException(f + ".dtype", "unknown dtype \"" + dtypeName + "\" (known: " + Arrays.toString(DType.values()) + ")");
            }
            List<Object> rawShape = Fields.array(t, f, "shape");
            if (rawShape.size() > MAX_RANK) {
                throw new MetadataException(f + ".shape", "has " + rawShape.size() + " dimensions, more than " + MAX_RANK);
            }
            long[] shape = new long[rawShape.size()];
            for (int d = 0; d < shape.length; d++) {
                Object v = rawShape.get(d);
                shape[d] = v instanceof Long l && l >= 1 ? l : Fields.longValue(v, f + ".shape[" + d + "]", 1, Long.MAX_VALUE);
            }
            long offset = Fields.longField(t, f, "offset", 0, Long.MAX_VALUE);
            long size = Fields.longField(t, f, "size", 0, Long.MAX_VALUE);
            long crc = Fields.longField(t, f, "crc32c", 0, 0xFFFFFFFFL);
            long expected;
            try {
                long cols = shape.length == 0 ? 1 : shape[shape.length - 1];
                long rows = 1;
                for (int d = 0; d < shape.length - 1; d++) {
                    rows = Math.multiplyExact(rows, shape[d]);
                }
                expected = dtype.byteSize(rows, cols);
            } catch (ArithmeticException e) {
                throw new MetadataException(f + ".shape", "element count overflows: " + Arrays.toString(shape));
            } catch (IllegalArgumentException e) {
                throw new MetadataException(f + ".shape", dtype + " " + e.getMessage());
            }
            if (size != expected) {
                throw new MetadataException(f + ".size", "is " + size + " bytes, but " + dtype + " " + Arrays.toString(shape) + " needs " + expected);
            }
            if (offset % ALIGNMENT != 0) {
                throw new MetadataException(f + ".offset", "offset " + offset + " is not a multiple of " + ALIGNMENT);
            }
            if (offset < h.dataOffset || size > h.dataOffset + h.dataSize - offset || offset > h.dataOffset + h.dataSize) {
                throw new MetadataException(f + ".offset", "bytes [" + offset + ", +" + size + ") lie outside the data section ["
                        + h.dataOffset + ", " + (h.dataOffset + h.dataSize) + ")");
            }
            out.add(new TensorInfo(name, dtype, shape, offset, size, crc));
        }
        List<TensorInfo> sorted = new ArrayList<>(out);
        sorted.sort(BY_OFFSET);
        for (int i = 1; i < sorted.size(); i++) {
            TensorInfo a = sorted.get(i - 1);
            TensorInfo b = sorted.get(i);
            if (a.offset() + a.size() > b.offset()) {
                throw new MetadataException("tensors", "\"" + a.name() + "\" [" + a.offset() + ", " + (a.offset() + a.size())
                        + ") overlaps \"" + b.name() + "\" at offset " + b.offset());
            }
        }
        return out;
    }

    /** The tensors must be exactly those the config calls for, with the expected shapes. */
    private static void checkTensorSet(ModelConfig config, List<TensorInfo> tensors) {
        Map<String, long[]> expected = config.expectedTensors();
        for (int i = 0; i < tensors.size(); i++) {
            TensorInfo t = tensors.get(i);
            long[] shape = expected.get(t.name());
            if (shape == null) {
                throw new MetadataException("tensors[" + i + "].name", "unexpected tensor \"" + t.name() + "\" for this config");
            }
            if (!Arrays.equals(shape, t.shape())) {
                throw new MetadataException("tensors[" + i + "].shape", "\"" + t.name() + "\" has shape " + t.shapeString()
                        + ", the config needs " + Arrays.toString(shape));
            }
        }
        if (tensors.size() != expected.size()) {
            Map<String, long[]> missing = new LinkedHashMap<>(expected);
            for (TensorInfo t : tensors) {
                missing.remove(t.name());
            }
            throw new MetadataException("tensors", "missing " + missing.size() + " tensor(s) the config needs, first \"" + missing.keySet().iterator().next() + "\"");
        }
    }

    /** Checks every tensor's CRC-32C; reads the whole file. */
    public void verifyChecksums() throws WeightFileException {
        for (TensorInfo t : tensors) {
            long crc = Checksums.crc32c(mapped.asSlice(t.offset(), t.size()));
            if (crc != t.crc32c()) {
                throw new WeightFileException(path, String.format("checksum mismatch in tensor \"%s\": CRC-32C is %08x, the table says %08x",
                        t.name(), crc, t.crc32c()), "offset " + t.offset());
            }
        }
    }

    /** The file's path. */
    public Path path() {
        return path;
    }

    /** Format version, e.g. "1.0". */
    public String version() {
        return header.major() + "." + header.minor();
    }

    /** Size of the file in bytes. */
    public long fileSize() {
        return header.fileSize();
    }

    /** The model architecture. */
    public ModelConfig config() {
        return config;
    }

    /** The tokenizer. */
    public TokenizerSpec tokenizer() {
        return tokenizer;
    }

    /** Free-form training provenance (unmodifiable JSON object). */
    public Map<String, Object> provenance() {
        return provenance;
    }

    /** The tensor table, in file order. */
    public List<TensorInfo> tensors() {
        return tensors;
    }

    /** True when a tensor of that name exists. */
    public boolean has(String name) {
        return byName.containsKey(name);
    }

    /** The named tensor, its bytes a zero-copy slice of the mapping. */
    public Tensor tensor(String name) {
        TensorInfo t = byName.get(name);
        if (t == null) {
            throw new IllegalArgumentException(path + ": no tensor named \"" + name + "\"");
        }
        return new Tensor(t, mapped.asSlice(t.offset(), t.size()));
    }

    /** Unmaps the file; tensor segments handed out become inaccessible. */
    @Override
    public void close() {
        arena.close();
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : " (" + m + ")");
    }
}

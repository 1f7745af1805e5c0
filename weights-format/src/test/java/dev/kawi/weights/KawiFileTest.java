package dev.kawi.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KawiFileTest {
    @TempDir
    Path dir;

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    /** Opens bytes that must be refused; returns the message. */
    private String refused(byte[] bytes) throws IOException {
        Path p = write("bad.kawi", bytes);
        WeightFileException e = assertThrows(WeightFileException.class, () -> {
            try (KawiFile f = KawiFile.open(p)) {
                f.verifyChecksums();
            }
        });
        assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
        return e.getMessage();
    }

    private static void assertContains(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), () -> "expected \"" + part + "\" in: " + message);
        }
    }

    @Test
    void roundTripIsBitExactForEveryDtype() throws Exception {
        ModelConfig cfg = TestFiles.smallConfig();
        SplittableRandom rnd = new SplittableRandom(7);
        Map<String, long[]> shapes = cfg.expectedTensors();
        DType[] types = DType.values();
        Map<String, float[]> values = new java.util.HashMap<>();
        Map<String, DType> dtypes = new java.util.HashMap<>();
        Path out = dir.resolve("rt.kawi");
        try (KawiWriter w = KawiWriter.create(out)) {
            int i = 0;
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                long[] shape = e.getValue();
                DType t = types[i++ % types.length];
                if (t.isQuantized() && shape[shape.length - 1] % 32 != 0) {
                    t = DType.F32;
                }
                int n = (int) java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact);
                float[] v = new float[n];
                for (int k = 0; k < n; k++) {
                    // F16 and BF16 values chosen on their grids, so the round trip must be exact.
                    v[k] = switch (t) {
                        case F16 -> Float.float16ToFloat((short) rnd.nextInt(0, 0x7C00));
                        case BF16 -> QuantCodec.bf16ToFloat((short) rnd.nextInt(0, 0x7F80));
                        default -> (float) rnd.nextGaussian();
                    };
                }
                w.writeFloats(e.getKey(), t, shape, v);
                values.put(e.getKey(), v);
                dtypes.put(e.getKey(), t);
            }
            w.finish(cfg, RandomModels.byteTokenizer(260), Map.of("note", "round trip", "steps", 12L));
        }
        try (KawiFile f = KawiFile.open(out)) {
            f.verifyChecksums();
            assertEquals(cfg, f.config());
            assertEquals(RandomModels.byteTokenizer(260), f.tokenizer());
            assertEquals(Map.of("note", "round trip", "steps", 12L), f.provenance());
            assertEquals(shapes.size(), f.tensors().size());
            for (TensorInfo info : f.tensors()) {
                Tensor t = f.tensor(info.name());
                assertEquals(dtypes.get(info.name()), t.dtype());
                assertEquals(0, info.offset() % 64, "alignment of " + info.name());
                assertEquals(0, t.data().address() % 64, "address alignment of " + info.name());
                float[] expected = values.get(info.name());
                if (t.dtype().isQuantized()) {
                    expected = QuantCodec.roundTrip(t.dtype(), expected, (int) info.rows(), (int) info.cols(), new float[expected.length]);
                }
                float[] actual = t.toFloats();
                for (int k = 0; k < expected.length; k++) {
                    assertEquals(Float.floatToRawIntBits(expected[k]), Float.floatToRawIntBits(actual[k]),
                            info.name() + "[" + k + "] " + expected[k] + " vs " + actual[k]);
                }
            }
        }
    }

    @Test
    void copyingRawTensorsReproducesTheFileByteForByte() throws Exception {
        byte[] original = TestFiles.small(dir, DType.Q4);
        Path src = write("src.kawi", original);
        Path copy = dir.resolve("copy.kawi");
        try (KawiFile f = KawiFile.open(src); KawiWriter w = KawiWriter.create(copy)) {
            for (TensorInfo t : f.tensors()) {
                w.writeTensor(t.name(), t.dtype(), t.shape(), f.tensor(t.name()).data());
            }
            w.finish(f.config(), f.tokenizer(), f.provenance());
        }
        assertArrayEquals(original, Files.readAllBytes(copy));
    }

    @Test
    void sameSeedSameBytes() throws Exception {
        byte[] a = TestFiles.small(dir, DType.Q8);
        byte[] b = TestFiles.small(dir.resolve("again"), DType.Q8);
        assertArrayEquals(a, b);
    }

    @Test
    void quantizedPlanesAreWhereTheSpecSays() throws Exception {
        Path p = write("q8.kawi", TestFiles.small(dir, DType.Q8));
        try (KawiFile f = KawiFile.open(p)) {
            Tensor t = f.tensor("encoder.layers.0.ffn.fc1.weight"); // (96, 64)
            assertEquals(96 * 64, t.quants().byteSize());
            assertEquals(96 * 2 * 4, t.scales().byteSize());
            assertEquals(0, (t.scales().address() - t.data().address()) % 64);
            float[] row = new float[64];
            t.readRow(5, row);
            byte q = t.quants().get(ValueLayout.JAVA_BYTE, 5 * 64 + 33);
            float s = t.scales().get(ValueLayout.JAVA_FLOAT_UNALIGNED, (5 * 2 + 1) * 4L);
            assertEquals(q * s, row[33]);
        }
    }

    @Test
    void unfinishedWriterLeavesNothingAndKeepsTheOldFile() throws Exception {
        Path target = write("keep.kawi", new byte[] {1, 2, 3});
        try (KawiWriter w = KawiWriter.create(target)) {
            w.writeFloats("embed.weight", DType.F32, new long[] {2, 2}, new float[4]);
        }
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(target));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(target), s.toList());
        }
    }

    @Test
    void writerRefusesATensorSetThatDoesNotMatchTheConfig() throws Exception {
        Path target = dir.resolve("incomplete.kawi");
        try (KawiWriter w = KawiWriter.create(target)) {
            w.writeFloats("embed.weight", DType.F32, new long[] {260, 64}, new float[260 * 64]);
            assertThrows(WeightFileException.class, () -> w.finish(TestFiles.smallConfig(), RandomModels.byteTokenizer(260), Map.of()));
        }
        assertFalse(Files.exists(target));
    }

    @Test
    void wrongMagic() throws Exception {
        byte[] b = TestFiles.small(dir, DType.F32);
        b[2] = 'X';
        assertContains(refused(b), "not a .kawi file", "offset 2");
        assertContains(refused("hello".getBytes()), "not a .kawi file");
    }

    @Test
    void newerMajorVersion() throws Exception {
        byte[] b = TestFiles.small(dir, DType.F32);
        TestFiles.le(b).putShort(8, (short) 2);
        assertContains(refused(b), "version 2.0 is newer than this reader (1.0)", "upgrade");
        // Refused for its version even though the rest of a 2.x header may mean something else.
        b = TestFiles.small(dir, DType.F32);
        TestFiles.le(b).putShort(8, (short) 7).putShort(10, (short) 3);
        assertContains(refused(b), "7.3 is newer");
    }

    @Test
    void newerMinorVersionIsRead() throws Exception {
        byte[] b = TestFiles.small(dir, DType.F32);
        TestFiles.le(b).putShort(10, (short) 9);
        try (KawiFile f = KawiFile.open(write("minor.kawi", TestFiles.fixHeaderCrc(b)))) {
            assertEquals("1.9", f.version());
        }
    }

    @Test
    void truncationAtEveryByte() throws Exception {
        byte[] b = TestFiles.small(dir, DType.Q8);
        Path p = write("trunc.kawi", b);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            for (long len = b.length - 1; len >= 0; len--) {
                ch.truncate(len);
                WeightFileException e = assertThrows(WeightFileException.class, () -> KawiFile.open(p).close(), "length " + len);
                String m = e.getMessage();
                assertTrue(m.contains("truncated") || (len < 8 && m.contains("magic")) || (len == 0), m);
            }
        }
    }

    @Test
    void trailingBytes() throws Exception {
        byte[] b = TestFiles.small(dir, DType.F32);
        byte[] longer = java.util.Arrays.copyOf(b, b.length + 3);
        assertContains(refused(longer), "trailing data");
    }

    @Test
    void headerAndMetadataChecksums() throws Exception {
        byte[] b = TestFiles.small(dir, DType.F32);
        b[20] ^= 1;
        assertContains(refused(b), "header checksum mismatch", "offset 60");
        b = TestFiles.small(dir, DType.F32);
        int metaOff = (int) TestFiles.le(b).getLong(24);
        b[metaOff + 10] ^= 0x20;
        assertContains(refused(b), "metadata checksum mismatch", "offset " + metaOff);
    }

    @Test
    void tensorChecksumMismatchNamesTheTensor() throws Exception {
        byte[] b = TestFiles.small(dir, DType.F32);
        Map<String, Object> t0 = TestFiles.tensor(TestFiles.metadata(b), 3);
        long off = (Long) t0.get("offset");
        b[(int) off + 5] ^= 0x40;
        Path p = write("crc.kawi", b);
        try (KawiFile f = KawiFile.open(p)) { // opening does not read tensors
            WeightFileException e = assertThrows(WeightFileException.class, f::verifyChecksums);
            assertContains(e.getMessage(), "checksum mismatch in tensor \"" + t0.get("name") + "\"", "offset " + off);
        }
    }

    @Test
    void metadataThatIsNotJsonOrNotUtf8() throws Exception {
        byte[] b = TestFiles.small(dir, DType.F32);
        assertContains(refused(TestFiles.withMetadataText(b, "{\"config\": ")), "not valid JSON", "unexpected end");
        assertContains(refused(TestFiles.withMetadataText(b, "[]")), "metadata: must be a JSON object");
        assertContains(refused(TestFiles.withMetadataBytes(b, new byte[] {'"', (byte) 0xC3, (byte) 0x28, '"'})), "not valid UTF-8");
    }

    private byte[] edit(UnaryOperator<Map<String, Object>> f) throws Exception {
        return TestFiles.withMetadata(TestFiles.small(dir, DType.F32), f);
    }

    @Test
    void missingOrInvalidFields() throws Exception {
        assertContains(refused(edit(m -> {
            TestFiles.config(m).remove("d_model");
            return m;
        })), "field config.d_model", "missing");
        assertContains(refused(edit(m -> {
            TestFiles.config(m).put("num_heads", 5L);
            return m;
        })), "config.num_heads", "must divide d_model");
        assertContains(refused(edit(m -> {
            TestFiles.config(m).put("activation", "tanh");
            return m;
        })), "config.activation", "unknown value \"tanh\"");
        assertContains(refused(edit(m -> {
            m.remove("tokenizer");
            return m;
        })), "field tokenizer", "missing");
        assertContains(refused(edit(m -> {
            TestFiles.tensor(m, 0).put("shape", List.of(260L, "64"));
            return m;
        })), "tensors[0] (\"encoder.embed.weight\").shape[1]", "must be an integer");
    }

    @Test
    void unknownDtype() throws Exception {
        assertContains(refused(edit(m -> {
            TestFiles.tensor(m, 2).put("dtype", "Q3");
            return m;
        })), "unknown dtype \"Q3\"", "tensors[2]");
    }

    @Test
    void shapeSizeMismatch() throws Exception {
        assertContains(refused(edit(m -> {
            Map<String, Object> t = TestFiles.tensor(m, 0);
            t.put("size", (Long) t.get("size") - 4);
            return m;
        })), "tensors[0]", ".size", "needs");
        assertContains(refused(edit(m -> {
            TestFiles.tensor(m, 0).put("shape", List.of(64L, 260L));
            return m;
        })), "has shape [64, 260], the config needs [260, 64]");
    }

    @Test
    void offsetsOutOfBoundsMisalignedOrOverlapping() throws Exception {
        assertContains(refused(edit(m -> {
            TestFiles.tensor(m, 1).put("offset", 1L << 40);
            return m;
        })), "tensors[1]", "outside the data section");
        assertContains(refused(edit(m -> {
            Map<String, Object> t = TestFiles.tensor(m, 1);
            t.put("offset", (Long) t.get("offset") + 4);
            return m;
        })), "not a multiple of 64");
        assertContains(refused(edit(m -> {
            TestFiles.tensor(m, 1).put("offset", TestFiles.tensor(m, 0).get("offset"));
            return m;
        })), "overlaps");
        assertContains(refused(edit(m -> {
            TestFiles.tensor(m, 1).put("offset", -64L);
            return m;
        })), "tensors[1]", ".offset");
    }

    @Test
    void duplicateAndUnexpectedNames() throws Exception {
        assertContains(refused(edit(m -> {
            TestFiles.tensor(m, 1).put("name", TestFiles.tensor(m, 0).get("name"));
            return m;
        })), "duplicate tensor name \"encoder.embed.weight\"");
        assertContains(refused(edit(m -> {
            TestFiles.tensor(m, 1).put("name", "mystery");
            return m;
        })), "unexpected tensor \"mystery\"");
        assertContains(refused(edit(m -> {
            ((List<?>) m.get("tensors")).remove(4);
            return m;
        })), "missing 1 tensor");
    }

    @Test
    void absurdSizesAllocateNothing() throws Exception {
        // 2^31 x 2^31 F32 = 2^64 bytes: overflow is caught.
        assertContains(refused(edit(m -> {
            Map<String, Object> t = TestFiles.tensor(m, 0);
            t.put("shape", List.of(1L << 31, 1L << 31));
            return m;
        })), "overflows");
        // A 2^62-byte tensor with a consistent size field: refused as outside the file.
        assertContains(refused(edit(m -> {
            Map<String, Object> t = TestFiles.tensor(m, 0);
            t.put("shape", List.of(1L << 30, 1L << 30));
            t.put("size", 1L << 62);
            return m;
        })), "outside the data section");
        byte[] b = TestFiles.small(dir, DType.F32);
        TestFiles.le(b).putLong(32, 1L << 62);
        assertContains(refused(TestFiles.fixHeaderCrc(b)), "metadata", "outside the file");
        b = TestFiles.small(dir, DType.F32);
        TestFiles.le(b).putLong(16, -1L);
        assertContains(refused(TestFiles.fixHeaderCrc(b)), "truncated", "18446744073709551615");
    }

    @Test
    void vocabularyMustMatchTheConfig() throws Exception {
        assertContains(refused(edit(m -> {
            TestFiles.config(m).put("vocab_size", 300L);
            return m;
        })), "300");
    }

    @Test
    void missingFileIsAWeightFileException() {
        WeightFileException e = assertThrows(WeightFileException.class, () -> KawiFile.open(dir.resolve("nope.kawi")));
        assertContains(e.getMessage(), "nope.kawi", "cannot open");
    }
}

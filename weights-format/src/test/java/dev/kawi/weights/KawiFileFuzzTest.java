package dev.kawi.weights;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutates and truncates a valid file many times; each outcome must be a successful open (and
 * checksum pass, and reading every tensor) or a {@link WeightFileException}: never another
 * exception, a hang or an OutOfMemoryError. Half the cases edit the metadata and fix the
 * checksums, so the structural validation behind them is exercised too.
 */
class KawiFileFuzzTest {
    private static final long SEED = 20261127L;
    private static final int CASES = 12_000;

    @TempDir
    Path dir;

    @Test
    void everyMutationOpensOrFailsCleanly() throws Exception {
        byte[] valid = TestFiles.small(dir, DType.Q4);
        String meta = TestFiles.metadataText(valid);
        SplittableRandom rnd = new SplittableRandom(SEED);
        Path p = dir.resolve("fuzz.kawi");
        int opened = 0;
        for (int c = 0; c < CASES; c++) {
            byte[] b = switch (rnd.nextInt(6)) {
                case 0 -> flipBytes(valid, rnd);
                case 1 -> java.util.Arrays.copyOf(valid, rnd.nextInt(valid.length));
                case 2 -> headerField(valid, rnd);
                case 3 -> TestFiles.withMetadataText(valid, mutateText(meta, rnd));
                case 4 -> TestFiles.withMetadataText(valid, Json.write(mutateJson(meta, rnd)));
                default -> TestFiles.withMetadataBytes(valid, flipBytes(meta.getBytes(java.nio.charset.StandardCharsets.UTF_8), rnd));
            };
            Files.write(p, b);
            try (KawiFile f = KawiFile.open(p)) {
                f.verifyChecksums();
                float[] row = new float[4096];
                for (TensorInfo t : f.tensors()) {
                    f.tensor(t.name()).readRow(t.rows() - 1, row);
                }
                opened++;
            } catch (WeightFileException expected) {
                // the one allowed failure
            } catch (Throwable t) {
                fail("seed " + SEED + " case " + c + ": " + t, t);
            }
        }
        if (opened == 0) {
            fail("no mutated file opened: the mutations never kept a file valid, so the fuzzer is not reaching success paths");
        }
    }

    private static byte[] flipBytes(byte[] in, SplittableRandom rnd) {
        byte[] b = in.clone();
        int n = 1 + rnd.nextInt(4);
        for (int i = 0; i < n; i++) {
            b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
        }
        return b;
    }

    /** Sets one header field to an interesting value and fixes the header checksum. */
    private static byte[] headerField(byte[] in, SplittableRandom rnd) {
        byte[] b = in.clone();
        long[] values = {0, 1, 63, 64, 65, in.length, in.length - 1, in.length + 1, 1L << 31, 1L << 62, -1L, Long.MIN_VALUE};
        int[] fields = {16, 24, 32, 40, 48};
        var bb = TestFiles.le(b);
        switch (rnd.nextInt(3)) {
            case 0 -> bb.putLong(fields[rnd.nextInt(fields.length)], values[rnd.nextInt(values.length)]);
            case 1 -> bb.putShort(8 + 2 * rnd.nextInt(2), (short) rnd.nextInt(4));
            default -> bb.putInt(12, (int) values[rnd.nextInt(values.length)]);
        }
        return TestFiles.fixHeaderCrc(b);
    }

    private static String mutateText(String s, SplittableRandom rnd) {
        StringBuilder sb = new StringBuilder(s);
        int n = 1 + rnd.nextInt(3);
        String alphabet = "{}[]\",:0123456789-.eE truefalsn\\u";
        for (int i = 0; i < n && !sb.isEmpty(); i++) {
            int at = rnd.nextInt(sb.length());
            switch (rnd.nextInt(3)) {
                case 0 -> sb.deleteCharAt(at);
                case 1 -> sb.insert(at, alphabet.charAt(rnd.nextInt(alphabet.length())));
                default -> sb.setCharAt(at, alphabet.charAt(rnd.nextInt(alphabet.length())));
            }
        }
        return sb.toString();
    }

    /** Replaces one value somewhere in the parsed metadata by a random JSON value. */
    @SuppressWarnings("unchecked")
    private static Object mutateJson(String meta, SplittableRandom rnd) {
        Object root;
        try {
            root = Json.parse(meta);
        } catch (Json.ParseException e) {
            throw new AssertionError(e);
        }
        Object node = root;
        Object parent = null;
        Object key = null;
        int depth = 1 + rnd.nextInt(5);
        for (int d = 0; d < depth; d++) {
            if (node instanceof Map<?, ?> m && !m.isEmpty()) {
                List<Object> keys = List.copyOf(((Map<Object, Object>) m).keySet());
                parent = node;
                key = keys.get(rnd.nextInt(keys.size()));
                node = m.get(key);
            } else if (node instanceof List<?> l && !l.isEmpty()) {
                parent = node;
                key = rnd.nextInt(l.size());
                node = l.get((Integer) key);
            } else {
                break;
            }
        }
        Object[] replacements = {null, 0L, -1L, 1L << 62, 3.5, "", "Q8", "F16", "x", true, List.of(), Map.of(),
            List.of(1L, 1L), List.of(1L << 40, 1L << 40), Long.MAX_VALUE};
        Object value = replacements[rnd.nextInt(replacements.length)];
        if (parent == null) {
            return value;
        }
        if (parent instanceof Map<?, ?> m) {
            if (rnd.nextInt(4) == 0) {
                ((Map<Object, Object>) m).remove(key);
            } else {
                ((Map<Object, Object>) m).put(key, value);
            }
        } else {
            List<Object> l = (List<Object>) parent;
            if (rnd.nextInt(4) == 0) {
                l.remove((int) (Integer) key);
            } else {
                l.set((Integer) key, value);
            }
        }
        return root;
    }
}

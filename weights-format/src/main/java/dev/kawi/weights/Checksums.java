package dev.kawi.weights;

import java.lang.foreign.MemorySegment;
import java.util.zip.CRC32C;

/** CRC-32C over off-heap memory, in chunks (a ByteBuffer view is limited to 2 GiB). */
public final class Checksums {
    private static final long CHUNK = 1L << 26;

    private Checksums() {
    }

    /** CRC-32C of all bytes of {@code seg}, as an unsigned 32-bit value. */
    public static long crc32c(MemorySegment seg) {
        CRC32C crc = new CRC32C();
        update(crc, seg);
        return crc.getValue();
    }

    /** Feeds all bytes of {@code seg} to {@code crc}. */
    public static void update(CRC32C crc, MemorySegment seg) {
        long n = seg.byteSize();
        for (long off = 0; off < n; off += CHUNK) {
            crc.update(seg.asSlice(off, Math.min(CHUNK, n - off)).asByteBuffer());
        }
    }

    /** CRC-32C of {@code len} bytes of an array. */
    public static long crc32c(byte[] b, int off, int len) {
        CRC32C crc = new CRC32C();
        crc.update(b, off, len);
        return crc.getValue();
    }
}

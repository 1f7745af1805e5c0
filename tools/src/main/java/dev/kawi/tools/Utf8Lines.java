package dev.kawi.tools;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads a UTF-8 text file (or standard input) one line at a time, strictly: lines end at {@code '\n'} only (a
 * {@code '\r'} before it stays in the line, as in Python's {@code open(..., newline="\n")}), a last
 * line without {@code '\n'} counts, and a malformed byte sequence is a {@link BadInputException}
 * naming the file, the line and the byte offset. I/O failures are reported the same way.
 */
final class Utf8Lines implements Closeable {
    private final String name;
    private final InputStream in;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    private byte[] buf = new byte[256];
    private long lineNumber;
    private long offset;

    private Utf8Lines(String name, InputStream in) {
        this.name = name;
        this.in = in;
    }

    /** Opens a file, answering a missing, unreadable or directory path with a one-line error. */
    static Utf8Lines open(Path path) {
        if (Files.isDirectory(path)) {
            throw new BadInputException(path + ": is a directory, not a text file");
        }
        try {
            return new Utf8Lines(path.toString(), new BufferedInputStream(Files.newInputStream(path), 1 << 16));
        } catch (NoSuchFileException e) {
            throw new BadInputException(path + ": no such file");
        } catch (AccessDeniedException e) {
            throw new BadInputException(path + ": permission denied");
        } catch (IOException e) {
            throw new BadInputException(path + ": cannot read: " + e.getMessage());
        }
    }

    /** Reads a stream (standard input), naming it {@code name} in errors; closing this closes the stream. */
    static Utf8Lines of(InputStream in, String name) {
        return new Utf8Lines(name, new BufferedInputStream(in, 1 << 16));
    }

    /** Whether more bytes can be read now without blocking (a line may still be incomplete); false on an I/O error. */
    boolean ready() {
        try {
            return in.available() > 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** Lines returned so far. */
    long lineNumber() {
        return lineNumber;
    }

    /** The next line without its {@code '\n'}, or null at the end of the file. */
    String next() {
        int len = 0;
        boolean sawNewline = false;
        try {
            for (int b; (b = in.read()) >= 0; ) {
                if (b == '\n') {
                    sawNewline = true;
                    break;
                }
                if (len == buf.length) {
                    buf = Arrays.copyOf(buf, buf.length * 2);
                }
                buf[len++] = (byte) b;
            }
        } catch (IOException e) {
            throw new BadInputException(name + ": line " + (lineNumber + 1) + ": cannot read: " + e.getMessage());
        }
        if (len == 0 && !sawNewline) {
            return null;
        }
        lineNumber++;
        String line = decode(len);
        offset += len + (sawNewline ? 1 : 0);
        return line;
    }

    /** Reads (and checks) the remaining lines, so that {@link #lineNumber()} is the file's line count. */
    void skipRest() {
        String line = next();
        while (line != null) {
            line = next();
        }
    }

    private String decode(int len) {
        ByteBuffer bytes = ByteBuffer.wrap(buf, 0, len);
        CharBuffer chars = CharBuffer.allocate(len); // UTF-8 never gives more chars than bytes
        decoder.reset();
        CoderResult r = decoder.decode(bytes, chars, true);
        if (!r.isError()) {
            r = decoder.flush(chars);
        }
        if (r.isError()) {
            throw new BadInputException(name + ": line " + lineNumber + ": invalid UTF-8 at byte offset "
                    + (offset + bytes.position()) + " of the file");
        }
        return chars.flip().toString();
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}

package dev.kawi.trainer.vocab;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a file of sentence pairs, one {@code SOURCE<TAB>TARGET} per line in UTF-8 (LF or CRLF
 * line ends; a byte-order mark at the start is ignored). A line is malformed when it has no tab
 * or more than one, is not valid UTF-8, has a side that is empty after normalization (blank), or
 * is longer than {@value #MAX_LINE_BYTES} bytes; {@link BadLines} says whether that stops the read
 * or skips the line.
 */
public final class TsvReader {
    /** Longest line accepted, in bytes; guards against reading a binary file as one line. */
    public static final int MAX_LINE_BYTES = 1 << 20;

    /** How many skipped lines a {@link Report} describes (all are counted). */
    public static final int MAX_REPORTED_PROBLEMS = 10;

    /** Receives each well-formed pair, as decoded (not normalized). */
    @FunctionalInterface
    public interface PairSink {
        /** One pair; line is its 1-based line number. */
        void accept(String source, String target, long line);
    }

    /**
     * What a read saw.
     *
     * @param file     the file read
     * @param lines    lines in the file
     * @param pairs    well-formed pairs passed on
     * @param skipped  malformed lines skipped (0 with {@link BadLines#FAIL})
     * @param problems the first {@value #MAX_REPORTED_PROBLEMS} skipped lines, each {@code FILE:LINE: problem}
     */
    public record Report(Path file, long lines, long pairs, long skipped, List<String> problems) {
        /** Freezes the problem list. */
        public Report {
            problems = List.copyOf(problems);
        }
    }

    private final Path file;
    private final BadLines policy;
    private final PairSink sink;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    private final List<String> problems = new ArrayList<>();
    private long pairs;
    private long skipped;
    private int badByte; // set by decode on failure: offset of the first invalid byte in the line

    private TsvReader(Path file, BadLines policy, PairSink sink) {
        this.file = file;
        this.policy = policy;
        this.sink = sink;
    }

    /**
     * Reads every line of file, passing each well-formed pair to sink.
     *
     * @throws TsvFormatException at the first malformed line when policy is {@link BadLines#FAIL}
     * @throws IOException        if the file cannot be read
     */
    public static Report read(Path file, BadLines policy, PairSink sink) throws IOException {
        TsvReader r = new TsvReader(file, policy, sink);
        return r.readAll();
    }

    private Report readAll() throws IOException {
        byte[] buf = new byte[1 << 16];
        byte[] line = new byte[256];
        int len = 0;            // bytes of the current line kept in `line`
        boolean tooLong = false; // the current line passed MAX_LINE_BYTES; its bytes are dropped
        long lineNo = 0;
        boolean pending = false; // the current line has at least one byte (or the file ended right after a newline)
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                for (int i = 0; i < n; i++) {
                    byte b = buf[i];
                    if (b == '\n') {
                        handle(line, len, tooLong, ++lineNo);
                        len = 0;
                        tooLong = false;
                        pending = false;
                        continue;
                    }
                    pending = true;
                    if (len == MAX_LINE_BYTES) {
                        tooLong = true;
                        continue;
                    }
                    if (len == line.length) {
                        line = Arrays.copyOf(line, Math.min(MAX_LINE_BYTES, 2 * len));
                    }
                    line[len++] = b;
                }
            }
        }
        if (pending) { // a last line without a newline
            handle(line, len, tooLong, ++lineNo);
        }
        return new Report(file, lineNo, pairs, skipped, problems);
    }

    private void handle(byte[] line, int len, boolean tooLong, long lineNo) {
        String problem = parse(line, len, tooLong, lineNo);
        if (problem == null) {
            return;
        }
        if (policy == BadLines.FAIL) {
            throw new TsvFormatException(file, lineNo, problem);
        }
        skipped++;
        if (problems.size() < MAX_REPORTED_PROBLEMS) {
            problems.add(file + ":" + lineNo + ": " + problem);
        }
    }

    /** Passes the pair on, or returns what is wrong with the line. */
    private String parse(byte[] line, int len, boolean tooLong, long lineNo) {
        if (tooLong) {
            return "line longer than " + MAX_LINE_BYTES + " bytes";
        }
        int from = 0;
        if (lineNo == 1 && len >= 3 && (line[0] & 0xFF) == 0xEF && (line[1] & 0xFF) == 0xBB && (line[2] & 0xFF) == 0xBF) {
            from = 3; // UTF-8 byte-order mark
        }
        if (len > from && line[len - 1] == '\r') {
            len--;
        }
        int tab = -1;
        int tabs = 0;
        for (int i = from; i < len; i++) {
            if (line[i] == '\t') {
                tabs++;
                if (tab < 0) {
                    tab = i;
                }
            }
        }
        if (tabs == 0) {
            return len == from ? "empty line (expected SOURCE<TAB>TARGET)" : "no tab (expected SOURCE<TAB>TARGET)";
        }
        if (tabs > 1) {
            return tabs + " tabs (expected exactly one: SOURCE<TAB>TARGET)";
        }
        String source = decode(line, from, tab);
        if (source == null) {
            return "invalid UTF-8 at byte " + (badByte + 1);
        }
        String target = decode(line, tab + 1, len);
        if (target == null) {
            return "invalid UTF-8 at byte " + (badByte + 1);
        }
        if (TextNormalization.nfc(source).isEmpty()) {
            return "empty source side (before the tab)";
        }
        if (TextNormalization.nfc(target).isEmpty()) {
            return "empty target side (after the tab)";
        }
        pairs++;
        sink.accept(source, target, lineNo);
        return null;
    }

    /** Strictly decodes line[from, to) as UTF-8; null (with badByte set) if it is malformed. */
    private String decode(byte[] line, int from, int to) {
        boolean ascii = true;
        for (int i = from; i < to && ascii; i++) {
            ascii = line[i] >= 0;
        }
        if (ascii) {
            return new String(line, from, to - from, StandardCharsets.ISO_8859_1);
        }
        ByteBuffer in = ByteBuffer.wrap(line, from, to - from);
        CharBuffer out = CharBuffer.allocate(to - from); // UTF-8 never has fewer bytes than UTF-16 chars
        decoder.reset();
        CoderResult r = decoder.decode(in, out, true);
        if (!r.isError()) {
            r = decoder.flush(out);
        }
        if (r.isError()) {
            badByte = in.position();
            return null;
        }
        return out.flip().toString();
    }
}

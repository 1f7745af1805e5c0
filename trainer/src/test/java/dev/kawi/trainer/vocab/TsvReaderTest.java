package dev.kawi.trainer.vocab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TsvReaderTest {
    @TempDir
    Path dir;

    private Path file(byte[]... parts) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.write(p);
        }
        Path f = dir.resolve("pairs.tsv");
        Files.write(f, out.toByteArray());
        return f;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Line 1 good, then one malformed line of each kind, then a good last line without a newline. */
    private Path mixed() throws Exception {
        return file(utf8("Guten Morgen.\tGood morning.\n"),                // 1
                utf8("kein Tab hier\n"),                                     // 2 no tab
                utf8("a\tb\tc\n"),                                           // 3 two tabs
                utf8("ung\u00fcltig \t"), new byte[] {'x', (byte) 0xC3, '(', '\n'}, // 4 invalid UTF-8 at byte 13
                utf8("\n"),                                                  // 5 empty
                utf8(" \u00a0\tnur rechts\n"),                               // 6 blank source
                utf8("Hallo\tHello\r\n"),                                    // 7 good, CRLF
                utf8("Tsch\u00fcss\tBye"));                                  // 8 good, no newline
    }

    @Test
    void failStopsAtTheFirstBadLineNamingFileAndLine() throws Exception {
        Path f = mixed();
        List<String> seen = new ArrayList<>();
        TsvFormatException e = assertThrows(TsvFormatException.class,
                () -> TsvReader.read(f, BadLines.FAIL, (s, t, line) -> seen.add(s)));
        assertEquals(f + ":2: no tab (expected SOURCE<TAB>TARGET)", e.getMessage());
        assertEquals(2, e.line());
        assertEquals(f, e.file());
        assertEquals(List.of("Guten Morgen."), seen);
    }

    @Test
    void skipCountsAndDescribesEveryKindOfBadLine() throws Exception {
        Path f = mixed();
        List<String> seen = new ArrayList<>();
        TsvReader.Report r = TsvReader.read(f, BadLines.SKIP, (s, t, line) -> seen.add(line + ":" + s + "|" + t));
        assertEquals(List.of("1:Guten Morgen.|Good morning.", "7:Hallo|Hello", "8:Tsch\u00fcss|Bye"), seen);
        assertEquals(8, r.lines());
        assertEquals(3, r.pairs());
        assertEquals(5, r.skipped());
        assertEquals(List.of(
                f + ":2: no tab (expected SOURCE<TAB>TARGET)",
                f + ":3: 2 tabs (expected exactly one: SOURCE<TAB>TARGET)",
                f + ":4: invalid UTF-8 at byte 13",
                f + ":5: empty line (expected SOURCE<TAB>TARGET)",
                f + ":6: empty source side (before the tab)"), r.problems());
    }

    @Test
    void eachSideIsCheckedForUtf8AndBlankness() throws Exception {
        Path f = file(new byte[] {(byte) 0xFF, '\t', 'x', '\n'}, utf8("x\t \n"),
                new byte[] {'a', '\t', 'b', (byte) 0xE2, (byte) 0x82}); // truncated 3-byte sequence at the end
        TsvReader.Report r = TsvReader.read(f, BadLines.SKIP, (s, t, line) -> { });
        assertEquals(List.of(f + ":1: invalid UTF-8 at byte 1", f + ":2: empty target side (after the tab)",
                f + ":3: invalid UTF-8 at byte 4"), r.problems());
    }

    @Test
    void onlyTheFirstProblemsAreKeptButAllAreCounted() throws Exception {
        Path f = file(utf8("bad\n".repeat(25) + "gut\tgood\n"));
        TsvReader.Report r = TsvReader.read(f, BadLines.SKIP, (s, t, line) -> { });
        assertEquals(25, r.skipped());
        assertEquals(1, r.pairs());
        assertEquals(TsvReader.MAX_REPORTED_PROBLEMS, r.problems().size());
        assertEquals(f + ":10: no tab (expected SOURCE<TAB>TARGET)", r.problems().get(9));
    }

    @Test
    void byteOrderMarkIsIgnoredAndTextIsPassedAsDecoded() throws Exception {
        Path f = file(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, utf8("Caf\u00e9  x\t\ud83d\ude00\n"));
        List<String> seen = new ArrayList<>();
        TsvReader.Report r = TsvReader.read(f, BadLines.FAIL, (s, t, line) -> seen.add(s + "|" + t));
        assertEquals(List.of("Caf\u00e9  x|\ud83d\ude00"), seen);
        assertEquals(1, r.lines());
    }

    @Test
    void overlongLinesAreMalformedAndTheNextLineStillReads() throws Exception {
        byte[] longLine = new byte[TsvReader.MAX_LINE_BYTES + 10];
        java.util.Arrays.fill(longLine, (byte) 'a');
        longLine[5] = '\t';
        Path f = file(longLine, utf8("\nok\tok\n"));
        List<Long> lines = new ArrayList<>();
        TsvReader.Report r = TsvReader.read(f, BadLines.SKIP, (s, t, line) -> lines.add(line));
        assertEquals(List.of(2L), lines);
        assertTrue(r.problems().get(0).endsWith(":1: line longer than " + TsvReader.MAX_LINE_BYTES + " bytes"), r.problems().toString());
    }

    @Test
    void emptyFileHasNoLines() throws Exception {
        TsvReader.Report r = TsvReader.read(file(), BadLines.FAIL, (s, t, line) -> { throw new AssertionError(); });
        assertEquals(0, r.lines());
        assertEquals(0, r.pairs());
    }
}

package dev.kawi.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** When the progress line shows, and what it says, on a fake clock. */
class ProgressBarTest {
    @Test
    void shownOnlyOnATerminalUnlessForced() {
        assertFalse(ProgressBar.shouldShow(null, false, true), "stderr is a pipe or file: off, whatever the console says");
        assertTrue(ProgressBar.shouldShow(null, true, false), "stderr is a tty: on, even with stdout redirected");
        assertFalse(ProgressBar.shouldShow(null, null, false), "no /proc and no console: off");
        assertTrue(ProgressBar.shouldShow(null, null, true), "no /proc, a terminal console: on");
        assertFalse(ProgressBar.shouldShow(false, true, true), "--no-progress wins");
        assertTrue(ProgressBar.shouldShow(true, false, false), "--progress wins");
        assertTrue(ProgressBar.isTtyDevice("/dev/pts/3"));
        assertTrue(ProgressBar.isTtyDevice("/dev/tty1"));
        assertFalse(ProgressBar.isTtyDevice("pipe:[123456]"));
        assertFalse(ProgressBar.isTtyDevice("/tmp/log.txt"));
        assertFalse(ProgressBar.isTtyDevice("/dev/null"));
        // This test JVM's standard error is surefire's pipe.
        assertNotEquals(Boolean.TRUE, ProgressBar.stderrIsTty());
        assertFalse(ProgressBar.shouldShow(null));
    }

    @Test
    void rendersCountRateEtaAndBar() {
        long[] now = {1_000_000_000L};
        StringWriter sw = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(sw), 200, "lines", () -> now[0]);
        assertEquals("[#####...............] 50/200 lines (25%)  5.0 lines/s  ETA 0:30", bar.render(50, 10_000_000_000L));
        assertEquals("[####################] 200/200 lines (100%)  20.0 lines/s  0:10", bar.render(200, 10_000_000_000L));
        assertEquals("[....................] 0/200 lines (0%)  0.0 lines/s  ETA ?", bar.render(0, 0));
        ProgressBar open = new ProgressBar(new PrintWriter(sw), -1, "lines", () -> now[0]);
        assertEquals("1,234 lines  123.4 lines/s  0:10", open.render(1234, 10_000_000_000L));
        assertEquals("1:01:01", ProgressBar.duration(3661));
    }

    @Test
    void redrawsAtMostEveryFifthOfASecondAndClears() {
        long[] now = {0};
        StringWriter sw = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(sw), 10, "lines", () -> now[0]);
        bar.update(0);
        now[0] += ProgressBar.REDRAW_NANOS / 2;
        bar.update(5); // too soon: not drawn
        assertFalse(sw.toString().contains("5/10"), sw.toString());
        now[0] += ProgressBar.REDRAW_NANOS;
        bar.update(6);
        assertTrue(sw.toString().contains("\r[############........] 6/10 lines (60%)"), sw.toString());
        int len = sw.toString().length();
        bar.clear();
        String cleared = sw.toString().substring(len);
        assertTrue(cleared.matches("\r +\r"), cleared);
        bar.update(7); // after clear: drawn at once
        assertTrue(sw.toString().endsWith("7/10 lines (70%)  23.3 lines/s  ETA 0:00"), sw.toString());
        now[0] += 1_200_000_000L;
        bar.finish(10);
        String end = sw.toString();
        assertTrue(end.endsWith(System.lineSeparator()), "the final state ends the line");
        assertTrue(end.stripTrailing().endsWith("\r[####################] 10/10 lines (100%)  6.7 lines/s  0:02"), end);
    }
}

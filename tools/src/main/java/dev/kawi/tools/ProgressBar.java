package dev.kawi.tools;

import java.io.Console;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A one-line progress display on standard error: lines done (of the total when known), lines per
 * second, the ETA and a bar, redrawn in place with {@code '\r'} at most every {@link #REDRAW_NANOS}.
 * It is only for people: {@link #shouldShow} keeps it off when standard error is not a terminal.
 */
final class ProgressBar {
    /** Least time between two redraws. */
    static final long REDRAW_NANOS = 200_000_000L;
    private static final int BAR_WIDTH = 20;

    private final PrintWriter err;
    private final long total;
    private final String unit;
    private final LongSupplier nanoTime;
    private final long start;
    private long lastDraw = Long.MIN_VALUE;
    private int lastWidth;

    /** A display of {@code total} items ({@code -1}: unknown) named {@code unit}, timed by {@code nanoTime}. */
    ProgressBar(PrintWriter err, long total, String unit, LongSupplier nanoTime) {
        this.err = err;
        this.total = total;
        this.unit = unit;
        this.nanoTime = nanoTime;
        this.start = nanoTime.getAsLong();
    }

    /**
     * Whether to show progress: {@code forced} (the {@code --progress}/{@code --no-progress} flags)
     * when given, else only when standard error is a terminal. Where the system says what fd 2 is
     * ({@code stderrIsTty} not null, from /proc on Linux) that decides; elsewhere the JDK's console,
     * which is there only when the standard input and output are terminals.
     */
    static boolean shouldShow(Boolean forced, Boolean stderrIsTty, boolean consoleIsTerminal) {
        if (forced != null) {
            return forced;
        }
        return stderrIsTty != null ? stderrIsTty : consoleIsTerminal;
    }

    /** {@link #shouldShow} for this process. */
    static boolean shouldShow(Boolean forced) {
        if (forced != null) {
            return forced;
        }
        Console c = System.console();
        return shouldShow(null, stderrIsTty(), c != null && c.isTerminal());
    }

    /** Whether file descriptor 2 is a terminal, or null when the system cannot say. */
    static Boolean stderrIsTty() {
        return fdIsTty(2);
    }

    /** Whether file descriptor {@code fd} of this process is a terminal, from /proc/self/fd (Linux), or null when that cannot be read. */
    static Boolean fdIsTty(int fd) {
        try {
            return isTtyDevice(Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString());
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return null;
        }
    }

    /** Whether a device path names a terminal: a pseudo-terminal, a console or a serial line. */
    static boolean isTtyDevice(String path) {
        return path.startsWith("/dev/pts/") || path.startsWith("/dev/tty") || path.equals("/dev/console");
    }

    /** Redraws with {@code done} items finished, unless the last redraw was less than {@link #REDRAW_NANOS} ago. */
    void update(long done) {
        long now = nanoTime.getAsLong();
        if (lastDraw != Long.MIN_VALUE && now - lastDraw < REDRAW_NANOS) {
            return;
        }
        lastDraw = now;
        draw(render(done, now - start));
    }

    /** Blanks the line (before other output goes to the same terminal); the next {@link #update} redraws at once. */
    void clear() {
        if (lastWidth > 0) {
            err.print("\r" + " ".repeat(lastWidth) + "\r");
            err.flush();
            lastWidth = 0;
        }
        lastDraw = Long.MIN_VALUE;
    }

    /** Draws the final state and ends the line. */
    void finish(long done) {
        draw(render(done, nanoTime.getAsLong() - start));
        err.println();
        err.flush();
    }

    private void draw(String line) {
        // Blank out what is left of a longer previous line.
        String pad = line.length() < lastWidth ? " ".repeat(lastWidth - line.length()) : "";
        err.print("\r" + line + pad);
        err.flush();
        lastWidth = line.length();
    }

    /** The text of the display after {@code elapsedNanos} with {@code done} items finished. */
    String render(long done, long elapsedNanos) {
        double seconds = elapsedNanos / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        StringBuilder b = new StringBuilder();
        if (total >= 0) {
            double frac = total == 0 ? 1 : Math.min(1, (double) done / total);
            int filled = (int) Math.round(frac * BAR_WIDTH);
            b.append('[').append("#".repeat(filled)).append(".".repeat(BAR_WIDTH - filled)).append("] ");
            b.append(Format.count(done)).append('/').append(Format.count(total)).append(' ').append(unit);
            b.append(String.format(Locale.ROOT, " (%d%%)", (int) Math.floor(frac * 100)));
        } else {
            b.append(Format.count(done)).append(' ').append(unit);
        }
        b.append(String.format(Locale.ROOT, "  %.1f %s/s", rate, unit));
        if (total >= 0 && done < total) {
            b.append("  ETA ").append(rate > 0 ? duration((total - done) / rate) : "?");
        } else {
            b.append("  ").append(duration(seconds));
        }
        return b.toString();
    }

    /** Seconds as m:ss, or h:mm:ss from an hour on. */
    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
        }
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}

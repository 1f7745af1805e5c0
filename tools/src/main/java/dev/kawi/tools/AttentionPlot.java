package dev.kawi.tools;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Locale;
import java.util.function.ToIntFunction;

/**
 * Draws an attention matrix as a heatmap: source tokens along the x axis (labels on top, rotated),
 * target tokens down the y axis (labels on the left), each cell shaded from white (0) to dark blue
 * (the largest weight of the matrix), with a colour bar. As SVG text, as an image (for PNG), or as
 * characters for a terminal.
 */
final class AttentionPlot {
    /** Terminal shades from no attention to the largest weight. */
    static final String SHADES = " .:-=+*#%@";
    /** Longest label drawn; longer ones end with an ellipsis. */
    static final int MAX_LABEL = 24;
    private static final int CELL = 26;
    private static final int FONT_SIZE = 12;
    private static final double CHAR_WIDTH = 7.2; // sans-serif at 12 px, an upper estimate for SVG layout
    private static final int PAD = 12;
    private static final int BAR_WIDTH = 14;
    private static final int[] LOW = {255, 255, 255};
    private static final int[] HIGH = {8, 48, 107};

    /**
     * An attention matrix with its labels.
     *
     * @param title   one line above the plot
     * @param source  x-axis labels, one per column
     * @param target  y-axis labels, one per row
     * @param weights (target, source) weights in [0, 1]
     */
    record Heatmap(String title, List<String> source, List<String> target, float[][] weights) {
        /** Checks the shape. */
        Heatmap {
            source = List.copyOf(source);
            target = List.copyOf(target);
            if (weights.length != target.size()) {
                throw new IllegalArgumentException(weights.length + " rows for " + target.size() + " target labels");
            }
            for (float[] row : weights) {
                if (row.length != source.size()) {
                    throw new IllegalArgumentException(row.length + " columns for " + source.size() + " source labels");
                }
            }
        }

        /** The largest weight, or 1 when all are 0 (so that shading divides by something). */
        float max() {
            float m = 0;
            for (float[] row : weights) {
                for (float v : row) {
                    m = Math.max(m, v);
                }
            }
            return m > 0 ? m : 1;
        }
    }

    private AttentionPlot() {
    }

    /** A label as drawn: control characters as \xNN, cut to {@link #MAX_LABEL} characters. */
    static String label(String piece) {
        StringBuilder b = new StringBuilder();
        piece.codePoints().forEach(cp -> {
            if (cp < 0x20 || cp == 0x7F || cp >= 0xD800 && cp <= 0xDFFF || cp == 0xFFFE || cp == 0xFFFF) {
                b.append(String.format(Locale.ROOT, "\\x%02X", cp));
            } else {
                b.appendCodePoint(cp);
            }
        });
        if (b.codePointCount(0, b.length()) > MAX_LABEL) {
            return b.substring(0, b.offsetByCodePoints(0, MAX_LABEL - 1)) + "\u2026";
        }
        return b.toString();
    }

    private static int width(String s) {
        return s.codePointCount(0, s.length());
    }

    /** The colour of a weight {@code t} in [0, 1] of the largest: white to dark blue. */
    static int[] colour(double t) {
        double u = Math.max(0, Math.min(1, t));
        int[] c = new int[3];
        for (int i = 0; i < 3; i++) {
            c[i] = (int) Math.round(LOW[i] + (HIGH[i] - LOW[i]) * u);
        }
        return c;
    }

    // ------------------------------------------------------------------ layout shared by SVG and PNG

    /** Where things go; label extents come from a width function (estimated for SVG, measured for PNG). */
    private record Layout(int left, int top, int gridW, int gridH, int width, int height) {
        static Layout of(Heatmap h, ToIntFunction<String> textWidth) {
            int maxTarget = 0;
            for (String t : h.target()) {
                maxTarget = Math.max(maxTarget, textWidth.applyAsInt(label(t)));
            }
            int maxSource = 0;
            for (String s : h.source()) {
                maxSource = Math.max(maxSource, textWidth.applyAsInt(label(s)));
            }
            int titleH = FONT_SIZE + 2 * PAD;
            int left = PAD + Math.max(maxTarget, textWidth.applyAsInt("target")) + PAD;
            int top = titleH + maxSource + PAD;
            int gridW = CELL * h.source().size();
            int gridH = CELL * h.target().size();
            int legend = 3 * PAD + BAR_WIDTH + textWidth.applyAsInt("0.000") + PAD;
            int width = Math.max(left + gridW + legend, PAD + textWidth.applyAsInt(h.title()) + PAD);
            int height = top + Math.max(gridH, 4 * CELL) + PAD + FONT_SIZE + PAD;
            return new Layout(left, top, gridW, gridH, width, height);
        }
    }

    // ------------------------------------------------------------------ SVG

    /** The heatmap as a standalone SVG document (UTF-8 text); each cell has a tooltip with its tokens and weight. */
    static String svg(Heatmap h) {
        Layout l = Layout.of(h, s -> (int) Math.ceil(width(s) * CHAR_WIDTH));
        float max = h.max();
        StringBuilder b = new StringBuilder();
        b.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                + "font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\" font-size=\"%d\">%n", l.width, l.height, l.width, l.height, FONT_SIZE));
        b.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s</text>%n", PAD, PAD + FONT_SIZE, xml(h.title())));
        // Source labels: vertical, reading upwards, one above each column.
        b.append("<g id=\"source\">\n");
        for (int j = 0; j < h.source().size(); j++) {
            int x = l.left + j * CELL + CELL / 2 + FONT_SIZE / 3;
            int y = l.top - PAD / 2;
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" transform=\"rotate(-90 %d %d)\">%s</text>%n", x, y, x, y,
                    xml(label(h.source().get(j)))));
        }
        b.append("</g>\n<g id=\"target\">\n");
        for (int i = 0; i < h.target().size(); i++) {
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>%n", l.left - PAD / 2,
                    l.top + i * CELL + CELL / 2 + FONT_SIZE / 3, xml(label(h.target().get(i)))));
        }
        b.append("</g>\n<g id=\"cells\" stroke=\"#d0d0d0\" stroke-width=\"0.5\">\n");
        for (int i = 0; i < h.target().size(); i++) {
            for (int j = 0; j < h.source().size(); j++) {
                float w = h.weights()[i][j];
                int[] c = colour(w / max);
                b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"rgb(%d,%d,%d)\">"
                                + "<title>%s \u2192 %s: %.4f</title></rect>%n", l.left + j * CELL, l.top + i * CELL, CELL, CELL, c[0], c[1], c[2],
                        xml(label(h.target().get(i))), xml(label(h.source().get(j))), w));
            }
        }
        b.append("</g>\n");
        // Axis names: "source" under the grid, "target" under the target labels.
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">source</text>%n",
                l.left + l.gridW / 2, l.top + l.gridH + PAD + FONT_SIZE));
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#555\">target</text>%n",
                l.left - PAD / 2, l.top - PAD / 2));
        // Colour bar: 0 at the bottom, the largest weight at the top.
        int bx = l.left + l.gridW + 2 * PAD;
        int bh = Math.max(l.gridH, 4 * CELL);
        b.append("<defs><linearGradient id=\"shade\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">");
        b.append(String.format(Locale.ROOT, "<stop offset=\"0\" stop-color=\"rgb(%d,%d,%d)\"/><stop offset=\"1\" stop-color=\"rgb(%d,%d,%d)\"/>",
                LOW[0], LOW[1], LOW[2], HIGH[0], HIGH[1], HIGH[2]));
        b.append("</linearGradient></defs>\n");
        b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"url(#shade)\" stroke=\"#888\" stroke-width=\"0.5\"/>%n",
                bx, l.top, BAR_WIDTH, bh));
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%.3f</text>%n", bx + BAR_WIDTH + PAD / 2, l.top + FONT_SIZE, max));
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">0</text>%n", bx + BAR_WIDTH + PAD / 2, l.top + bh));
        b.append("</svg>\n");
        return b.toString();
    }

    /** Text escaped for XML content and attribute values. */
    static String xml(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&apos;");
                default -> b.append(ch);
            }
        }
        return b.toString();
    }

    // ------------------------------------------------------------------ PNG

    /** The heatmap drawn with Java2D, for {@code ImageIO.write(image, "png", ...)}. */
    static BufferedImage image(Heatmap h) {
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, FONT_SIZE);
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D pg = probe.createGraphics();
        FontMetrics fm = pg.getFontMetrics(font);
        Layout l = Layout.of(h, fm::stringWidth);
        pg.dispose();
        BufferedImage img = new BufferedImage(l.width, l.height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, l.width, l.height);
            g.setFont(font.deriveFont(Font.BOLD));
            g.setColor(Color.BLACK);
            g.drawString(h.title(), PAD, PAD + FONT_SIZE);
            g.setFont(font);
            float max = h.max();
            for (int i = 0; i < h.target().size(); i++) {
                for (int j = 0; j < h.source().size(); j++) {
                    int[] c = colour(h.weights()[i][j] / max);
                    g.setColor(new Color(c[0], c[1], c[2]));
                    g.fillRect(l.left + j * CELL, l.top + i * CELL, CELL, CELL);
                    g.setColor(new Color(0xd0, 0xd0, 0xd0));
                    g.setStroke(new BasicStroke(0.5f));
                    g.drawRect(l.left + j * CELL, l.top + i * CELL, CELL, CELL);
                }
            }
            g.setColor(Color.BLACK);
            for (int i = 0; i < h.target().size(); i++) {
                String s = label(h.target().get(i));
                g.drawString(s, l.left - PAD / 2 - fm.stringWidth(s), l.top + i * CELL + CELL / 2 + FONT_SIZE / 3);
            }
            for (int j = 0; j < h.source().size(); j++) {
                AffineTransform saved = g.getTransform();
                g.translate(l.left + j * CELL + CELL / 2 + FONT_SIZE / 3, l.top - PAD / 2);
                g.rotate(-Math.PI / 2);
                g.drawString(label(h.source().get(j)), 0, 0);
                g.setTransform(saved);
            }
            g.setColor(new Color(0x55, 0x55, 0x55));
            g.drawString("source", l.left + l.gridW / 2 - fm.stringWidth("source") / 2, l.top + l.gridH + PAD + FONT_SIZE);
            g.drawString("target", l.left - PAD / 2 - fm.stringWidth("target"), l.top - PAD / 2);
            int bx = l.left + l.gridW + 2 * PAD;
            int bh = Math.max(l.gridH, 4 * CELL);
            for (int y = 0; y < bh; y++) {
                int[] c = colour(1 - (double) y / Math.max(1, bh - 1));
                g.setColor(new Color(c[0], c[1], c[2]));
                g.fillRect(bx, l.top + y, BAR_WIDTH, 1);
            }
            g.setColor(Color.BLACK);
            g.drawString(String.format(Locale.ROOT, "%.3f", max), bx + BAR_WIDTH + PAD / 2, l.top + FONT_SIZE);
            g.drawString("0", bx + BAR_WIDTH + PAD / 2, l.top + bh);
        } finally {
            g.dispose();
        }
        return img;
    }

    // ------------------------------------------------------------------ terminal

    /**
     * The heatmap as text: one row per target token (its label, then one cell per source token,
     * {@link #SHADES} from none to the largest weight), a header of source column numbers, and a
     * key from column numbers to source tokens.
     */
    static String text(Heatmap h) {
        float max = h.max();
        int cols = h.source().size();
        int cw = Math.max(2, String.valueOf(Math.max(0, cols - 1)).length());
        int lw = 0;
        for (String t : h.target()) {
            lw = Math.max(lw, width(label(t)));
        }
        StringBuilder b = new StringBuilder();
        b.append(h.title()).append('\n');
        b.append(String.format(Locale.ROOT, "shades \"%s\" from 0 to the largest weight, %.3f%n", SHADES, max));
        b.append(" ".repeat(lw));
        for (int j = 0; j < cols; j++) {
            String n = String.valueOf(j);
            b.append(' ').append(" ".repeat(cw - n.length())).append(n);
        }
        b.append('\n');
        for (int i = 0; i < h.target().size(); i++) {
            String t = label(h.target().get(i));
            b.append(t).append(" ".repeat(lw - width(t)));
            for (int j = 0; j < cols; j++) {
                char c = shade(h.weights()[i][j] / max);
                b.append(' ').append(String.valueOf(c).repeat(cw));
            }
            // No trailing spaces: strip what blank cells left at the end of the row.
            int end = b.length();
            while (end > 0 && b.charAt(end - 1) == ' ') {
                end--;
            }
            b.setLength(end);
            b.append('\n');
        }
        StringBuilder key = new StringBuilder("source:");
        int lineStart = 0;
        for (int j = 0; j < cols; j++) {
            String item = " " + j + " " + label(h.source().get(j));
            if (key.length() - lineStart + item.length() > 100) {
                key.append("\n       ");
                lineStart = key.length() - 7;
            }
            key.append(item);
        }
        b.append(key).append('\n');
        return b.toString();
    }

    /** The shade of a weight {@code t} in [0, 1] of the largest. */
    static char shade(double t) {
        int n = SHADES.length();
        int k = (int) Math.round(Math.max(0, Math.min(1, t)) * (n - 1));
        return SHADES.charAt(k);
    }
}

package dev.kawi.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

/** The heatmap renderers on hand-made matrices. */
class AttentionPlotTest {
    private static final AttentionPlot.Heatmap SMALL = new AttentionPlot.Heatmap("t", List.of("a", "<b>", "c&d"), List.of("x", "long"),
            new float[][] {{0.8f, 0.2f, 0f}, {0.4f, 0.1f, 0.5f}});

    @Test
    void textShadesRelativeToTheLargestWeight() {
        String[] lines = AttentionPlot.text(SMALL).split("\n");
        assertEquals("t", lines[0]);
        assertEquals("shades \" .:-=+*#%@\" from 0 to the largest weight, 0.800", lines[1]);
        assertEquals("      0  1  2", lines[2]);
        // 0.8 -> '@', 0.2/0.8 = 0.25 -> round(2.25) = 2 ':', 0 -> ' '; 0.5 -> '+', 0.125 -> '.', 0.625 -> round(5.625) = 6 '*'.
        assertEquals("x    @@ ::", lines[3]);
        assertEquals("long ++ .. **", lines[4]);
        assertEquals("source: 0 a 1 <b> 2 c&d", lines[5]);
        assertEquals(6, lines.length);
    }

    @Test
    void svgEscapesLabelsAndParses() throws Exception {
        String svg = AttentionPlot.svg(SMALL);
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertEquals("svg", doc.getDocumentElement().getTagName());
        assertTrue(svg.contains(">&lt;b&gt;</text>"), svg);
        assertTrue(svg.contains(">c&amp;d</text>"), svg);
        assertTrue(svg.contains("<title>long \u2192 c&amp;d: 0.5000</title>"), svg);
        assertTrue(svg.contains("fill=\"rgb(8,48,107)\""), "the largest weight is the darkest colour");
        assertTrue(svg.contains(">0.800</text>"), "the colour bar's top label");
    }

    @Test
    void labelsAreMadeSafeAndShort() {
        assertEquals("a\\x0Ab\\x01", AttentionPlot.label("a\nb\u0001"));
        String cut = AttentionPlot.label("x".repeat(40));
        assertEquals(AttentionPlot.MAX_LABEL, cut.codePointCount(0, cut.length()));
        assertTrue(cut.endsWith("\u2026"));
        assertEquals("\u2581Guten", AttentionPlot.label("\u2581Guten"));
        assertEquals("&lt;&amp;&gt;&quot;&apos;", AttentionPlot.xml("<&>\"'"));
    }

    @Test
    void coloursAndShadesSpanTheScale() {
        assertArrayEquals(new int[] {255, 255, 255}, AttentionPlot.colour(0));
        assertArrayEquals(new int[] {8, 48, 107}, AttentionPlot.colour(1));
        assertArrayEquals(new int[] {8, 48, 107}, AttentionPlot.colour(1.5));
        assertEquals(' ', AttentionPlot.shade(0));
        assertEquals('@', AttentionPlot.shade(1));
        assertEquals('=', AttentionPlot.shade(0.45));
        float[][] zeros = {{0f}};
        assertEquals(1f, new AttentionPlot.Heatmap("z", List.of("a"), List.of("b"), zeros).max(), "all zero: divide by 1");
        assertThrows(IllegalArgumentException.class, () -> new AttentionPlot.Heatmap("bad", List.of("a", "b"), List.of("x"), new float[][] {{1f}}));
    }
}

package dev.kawi.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kawi.runtime.CrossAttention;
import dev.kawi.runtime.Translator;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** {@code kawi attention}: the SVG, the PNG, the terminal heatmap, and the range errors. */
class AttentionCommandTest {
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void setUp() throws Exception {
        model = TestModels.small(dir);
    }

    private static List<String> texts(Element group) {
        List<String> out = new ArrayList<>();
        NodeList nodes = group.getElementsByTagName("text");
        for (int i = 0; i < nodes.getLength(); i++) {
            out.add(nodes.item(i).getTextContent());
        }
        return out;
    }

    private static Element group(Document doc, String id) {
        NodeList gs = doc.getElementsByTagName("g");
        for (int i = 0; i < gs.getLength(); i++) {
            Element g = (Element) gs.item(i);
            if (g.getAttribute("id").equals(id)) {
                return g;
            }
        }
        throw new AssertionError("no <g id=\"" + id + "\">");
    }

    @Test
    void svgIsWellFormedWithEveryTokenLabelAndCell() throws Exception {
        Path svg = dir.resolve("a.svg");
        CliTest.Run r = CliTest.kawi("attention", "-m", model.toString(), "--max-length", "5", "-o", svg.toString(), "Guten", "Morgen.");
        assertEquals(0, r.code(), r.err());
        CrossAttention a;
        try (Translator t = Translator.open(model)) {
            a = t.crossAttention("Guten Morgen.", null, -1, 5);
        }
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(svg.toFile());
        assertEquals("svg", doc.getDocumentElement().getTagName());
        // The byte tokenizer's pieces look like "<0x47>": they must come back unescaped from the XML.
        assertEquals(a.sourceTokens(), texts(group(doc, "source")));
        assertTrue(a.sourceTokens().contains("<0x47>"), a.sourceTokens().toString());
        assertEquals(a.targetTokens(), texts(group(doc, "target")));
        NodeList cells = group(doc, "cells").getElementsByTagName("rect");
        assertEquals(a.sourceTokens().size() * a.targetTokens().size(), cells.getLength());
        // Cell (0, 0)'s tooltip holds its averaged weight.
        String tip = ((Element) cells.item(0)).getElementsByTagName("title").item(0).getTextContent();
        assertEquals(String.format(java.util.Locale.ROOT, "%s \u2192 %s: %.4f", a.targetTokens().get(0), a.sourceTokens().get(0),
                a.average()[0][0]), tip);
        assertTrue(r.out().contains("wrote " + svg + " (" + a.sourceTokens().size() + " source x " + a.targetTokens().size() + " target tokens)"),
                r.out());
    }

    @Test
    void terminalHeatmapHasOneRowPerTargetToken() throws Exception {
        CliTest.Run r = CliTest.kawi("attention", "-m", model.toString(), "--target", "Good morning.", "--layer", "0", "--head", "2", "Guten Morgen.");
        assertEquals(0, r.code(), r.err());
        CrossAttention a;
        try (Translator t = Translator.open(model)) {
            a = t.crossAttention("Guten Morgen.", "Good morning.", 0, 256);
        }
        List<String> lines = r.out().lines().toList();
        assertEquals("source: Guten Morgen.", lines.get(0));
        assertEquals("target: Good morning.", lines.get(1));
        assertEquals("cross-attention, decoder layer 0 of 2, head 2 of 4 (forced target)", lines.get(2));
        assertTrue(lines.get(3).startsWith("shades \" .:-=+*#%@\" from 0 to the largest weight"), lines.get(3));
        int rows = a.targetTokens().size();
        assertEquals("</s>", a.targetTokens().get(rows - 1), "the forced end token has a row");
        float[][] w = a.head(2);
        float max = 0;
        for (float[] row : w) {
            for (float v : row) {
                max = Math.max(max, v);
            }
        }
        for (int i = 0; i < rows; i++) {
            String line = lines.get(5 + i);
            assertTrue(line.startsWith(a.targetTokens().get(i)), line);
            String cells = line.substring(a.targetTokens().get(i).length());
            // Every cell is two copies of the shade of its weight.
            StringBuilder want = new StringBuilder();
            int pad = lines.get(4).indexOf('0') - 2 - a.targetTokens().get(i).length();
            want.append(" ".repeat(pad));
            for (float v : w[i]) {
                char c = AttentionPlot.shade(v / max);
                want.append(' ').append(c).append(c);
            }
            assertEquals(want.toString().stripTrailing(), cells);
        }
        assertTrue(lines.get(5 + rows).startsWith("source: 0 <0x"), lines.get(5 + rows));
        assertTrue(r.out().contains("@@"), "the largest weight has the darkest shade");
    }

    @Test
    void pngIsAnImageOfTheLayout() throws Exception {
        Path png = dir.resolve("a.png");
        CliTest.Run r = CliTest.kawi("attention", "-m", model.toString(), "--max-length", "4", "-o", png.toString(), "Hallo");
        assertEquals(0, r.code(), r.err());
        BufferedImage img = ImageIO.read(png.toFile());
        assertTrue(img.getWidth() > 26 * 9 && img.getHeight() > 26 * 4, img.getWidth() + "x" + img.getHeight());
        boolean dark = false;
        for (int x = 0; x < img.getWidth() && !dark; x++) {
            for (int y = 0; y < img.getHeight(); y++) {
                int rgb = img.getRGB(x, y);
                // The largest weight's cell is the dark blue end of the scale.
                if ((rgb & 0xFFFFFF) == 0x08306B) {
                    dark = true;
                    break;
                }
            }
        }
        assertTrue(dark, "a cell of the largest weight is dark blue");
    }

    @Test
    void rangeErrorsNameTheValidRange() {
        String m = model.toString();
        CliTest.Run layer = CliTest.kawi("attention", "-m", m, "--layer", "2", "Hallo");
        assertEquals(2, layer.code());
        assertEquals("kawi attention: error: --layer 2 is out of range: the model has 2 decoder layers, 0..1 (or -2..-1 from the end)",
                layer.err().strip());
        assertEquals(2, CliTest.kawi("attention", "-m", m, "--layer", "-3", "Hallo").code());
        assertEquals(0, CliTest.kawi("attention", "-m", m, "--layer", "-2", "--max-length", "2", "Hallo").code());
        CliTest.Run head = CliTest.kawi("attention", "-m", m, "--head", "4", "Hallo");
        assertEquals(2, head.code());
        assertEquals("kawi attention: error: --head 4 is out of range: the model has 4 heads, 0..3 (leave --head out for their average)",
                head.err().strip());
        CliTest.Run missing = CliTest.kawi("attention", "-m", dir.resolve("nope.kawi").toString(), "Hallo");
        assertEquals(2, missing.code());
        assertEquals(1, missing.err().lines().count(), missing.err());
        assertTrue(missing.err().contains("nope.kawi"), missing.err());
        CliTest.Run ext = CliTest.kawi("attention", "-m", m, "-o", dir.resolve("a.jpg").toString(), "Hallo");
        assertEquals(2, ext.code());
        assertTrue(ext.err().contains("must end with .svg or .png"), ext.err());
        assertFalse(Files.exists(dir.resolve("a.jpg")));
        CliTest.Run longTarget = CliTest.kawi("attention", "-m", m, "--target", "y".repeat(80), "Hallo");
        assertEquals(2, longTarget.code());
        assertTrue(longTarget.err().contains("exceeds the model's 64 positions"), longTarget.err());
        CliTest.Run noText = CliTest.kawi("attention", "-m", m);
        assertEquals(2, noText.code());
        assertTrue(noText.err().lines().findFirst().orElseThrow().startsWith("Missing required parameter"), noText.err());
        assertEquals(0, CliTest.kawi("attention", "--help").code());
    }
}

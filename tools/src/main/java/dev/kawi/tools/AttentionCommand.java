package dev.kawi.tools;

import dev.kawi.runtime.CrossAttention;
import dev.kawi.runtime.Translator;
import dev.kawi.runtime.TranslatorOptions;
import dev.kawi.runtime.kernels.KernelProvider;
import dev.kawi.weights.ModelConfig;
import java.awt.AWTError;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kawi attention}: a decoder layer's cross-attention for one sentence, as a picture and as a terminal heatmap. */
@Command(name = "attention", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Show the cross-attention of a decoder layer (one head, or the average of all) while a sentence is translated: "
                + "the model's own greedy translation, or a given --target forced token by token.",
                "Prints a character heatmap (target tokens down, source tokens across) and, with -o, writes an SVG or PNG picture."})
final class AttentionCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "TEXT", description = "The source sentence; several arguments are joined by spaces.")
    List<String> text;

    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "The .kawi model. Default: -Dkawi.model, else $KAWI_MODEL, else the bundled models/de-en.kawi.")
    Path model;

    @Option(names = {"-t", "--target"}, paramLabel = "TEXT", description = "Target sentence to force (default: the greedy translation).")
    String target;

    @Option(names = "--layer", defaultValue = "-1", paramLabel = "N",
            description = "Decoder layer, from 0; negative counts from the end. Default: ${DEFAULT-VALUE} (the last).")
    int layer;

    @Option(names = "--head", paramLabel = "H", description = "Attention head, from 0. Default: the average of all heads.")
    Integer head;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the heatmap to FILE: SVG, or PNG when FILE ends with .png.")
    Path output;

    @Option(names = "--max-length", defaultValue = "256", paramLabel = "N", description = "Most tokens of the greedy translation. Default: ${DEFAULT-VALUE}.")
    int maxLength;

    @Option(names = "--threads", paramLabel = "N", description = "Kernel threads. Default: all cores.")
    Integer threads;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        model = ModelLocator.ofProcess().resolve(model);
        String source = String.join(" ", text);
        if (source.isBlank()) {
            throw new BadInputException("TEXT is blank: give a sentence to translate");
        }
        if (target != null && target.isBlank()) {
            throw new BadInputException("--target is blank");
        }
        if (maxLength < 1) {
            throw new BadInputException("--max-length must be >= 1, was " + maxLength);
        }
        boolean png = output != null && output.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png");
        if (output != null && !png && !output.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".svg")) {
            throw new BadInputException("-o " + output + ": the name must end with .svg or .png");
        }
        int t = threads == null ? KernelProvider.defaultThreads() : threads;
        if (t < 1) {
            throw new BadInputException("--threads must be >= 1, was " + t);
        }
        PrintWriter out = spec.commandLine().getOut();
        try (Translator tr = Translator.open(model, new TranslatorOptions(t, 1, TranslatorOptions.Warmup.DEFERRED))) {
            ModelConfig c = tr.config();
            int layers = c.decoderLayers();
            if (layer < -layers || layer >= layers) {
                throw new BadInputException("--layer " + layer + " is out of range: the model has " + layers + " decoder layers, 0.." + (layers - 1)
                        + " (or -" + layers + "..-1 from the end)");
            }
            if (head != null && (head < 0 || head >= c.numHeads())) {
                throw new BadInputException("--head " + head + " is out of range: the model has " + c.numHeads() + " heads, 0.."
                        + (c.numHeads() - 1) + " (leave --head out for their average)");
            }
            CrossAttention a;
            try {
                a = tr.crossAttention(source, target, layer, maxLength);
            } catch (IllegalArgumentException e) {
                throw new BadInputException(e.getMessage());
            }
            float[][] weights = head == null ? a.average() : a.head(head);
            String which = head == null ? "average of " + a.heads() + " heads" : "head " + head + " of " + a.heads();
            String title = "cross-attention, decoder layer " + a.layer() + " of " + layers + ", " + which
                    + (target == null ? " (greedy translation)" : " (forced target)");
            AttentionPlot.Heatmap h = new AttentionPlot.Heatmap(title, a.sourceTokens(), a.targetTokens(), weights);
            out.println("source: " + source);
            out.println("target: " + targetText(tr, a));
            out.print(AttentionPlot.text(h));
            if (output != null) {
                write(h, png);
                out.println("wrote " + output + " (" + a.sourceTokens().size() + " source x " + a.targetTokens().size() + " target tokens)");
            }
        }
        return Main.OK;
    }

    /** The target's text: the given one, or the greedy translation decoded from its pieces. */
    private String targetText(Translator tr, CrossAttention a) {
        if (target != null) {
            return target;
        }
        int eos = tr.config().eosId();
        int[] ids = a.targetTokens().stream().mapToInt(p -> tr.tokenizer().id(p)).filter(id -> id >= 0 && id != eos).toArray();
        return tr.tokenizer().decode(ids);
    }

    private void write(AttentionPlot.Heatmap h, boolean png) throws IOException {
        try (AtomicFile f = AtomicFile.create(output)) {
            if (png) {
                BufferedImage img;
                try {
                    img = AttentionPlot.image(h);
                } catch (AWTError | LinkageError | InternalError e) {
                    // Java2D needs the system's font libraries; the SVG path needs nothing.
                    throw new IOException("cannot draw a PNG here (" + e + "); write an .svg instead", e);
                }
                if (!ImageIO.write(img, "png", f.stream())) {
                    throw new IOException("no PNG writer in this JDK; write an .svg instead");
                }
            } else {
                f.stream().write(AttentionPlot.svg(h).getBytes(StandardCharsets.UTF_8));
            }
            f.commit();
        }
    }
}

package dev.kawi.tools;

import dev.kawi.trainer.eval.Bleu;
import dev.kawi.trainer.eval.BleuAccumulator;
import dev.kawi.trainer.eval.BleuOptions;
import dev.kawi.trainer.eval.BleuScore;
import dev.kawi.trainer.eval.Chrf;
import dev.kawi.trainer.eval.ChrfAccumulator;
import dev.kawi.trainer.eval.ChrfScore;
import dev.kawi.weights.Json;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kawi score}: corpus BLEU and chrF of a hypothesis file against a reference file, as sacreBLEU computes them. */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = {"Score hypotheses against references, one segment per line (UTF-8), with corpus BLEU and chrF "
                + "computed exactly as sacreBLEU 2.x does by default (13a tokenizer, exp smoothing; chrF2).",
                "Prints one line per metric in sacreBLEU's short form, or JSON with every number unrounded."})
final class ScoreCommand implements Callable<Integer> {
    /** A metric the command can compute. */
    enum Metric {
        BLEU, CHRF
    }

    /** Parses one metric name, case-insensitively. */
    static final class MetricConverter implements CommandLine.ITypeConverter<Metric> {
        @Override
        public Metric convert(String value) {
            return switch (value.trim().toLowerCase(Locale.ROOT)) {
                case "bleu" -> Metric.BLEU;
                case "chrf" -> Metric.CHRF;
                default -> throw new CommandLine.TypeConversionException("unknown metric \"" + value + "\" (expected bleu or chrf)");
            };
        }
    }

    @Parameters(index = "0", paramLabel = "REF", description = "The reference file, one segment per line.")
    Path ref;

    @Parameters(index = "1", paramLabel = "HYP", description = "The hypothesis file, as many lines as REF.")
    Path hyp;

    @Option(names = "--metric", split = ",", paramLabel = "METRIC", converter = MetricConverter.class,
            description = "bleu, chrf, or both separated by a comma. Default: bleu,chrf.")
    List<Metric> metrics;

    @Option(names = "--json", description = "Print one JSON object with the unrounded numbers and sacreBLEU's signature.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Set<Metric> chosen = new LinkedHashSet<>(metrics == null || metrics.isEmpty() ? List.of(Metric.BLEU, Metric.CHRF) : metrics);
        BleuAccumulator bleu = new Bleu().accumulator();
        ChrfAccumulator chrf = new Chrf().accumulator();
        long segments;
        try (Utf8Lines refs = Utf8Lines.open(ref); Utf8Lines hyps = Utf8Lines.open(hyp)) {
            while (true) {
                String r = refs.next();
                String h = hyps.next();
                if (r == null || h == null) {
                    if (r != null || h != null) {
                        throw mismatch(refs, hyps);
                    }
                    break;
                }
                // sacreBLEU's command line also strips each line's trailing whitespace: with the default
                // options neither metric sees it (BLEU strips it again, chrF drops all whitespace).
                if (chosen.contains(Metric.BLEU)) {
                    bleu.add(h, r);
                }
                if (chosen.contains(Metric.CHRF)) {
                    chrf.add(h, r);
                }
            }
            segments = refs.lineNumber();
        }
        PrintWriter out = spec.commandLine().getOut();
        List<Object> scores = new ArrayList<>();
        for (Metric m : chosen) {
            if (m == Metric.BLEU) {
                BleuScore s = bleu.score();
                if (json) {
                    scores.add(bleuJson(s));
                } else {
                    out.println(s.format());
                }
            } else {
                ChrfScore s = chrf.score();
                if (json) {
                    Map<String, Object> e = new LinkedHashMap<>();
                    e.put("name", s.name());
                    e.put("score", s.score());
                    e.put("signature", s.options().signature());
                    e.put("formatted", s.format());
                    scores.add(e);
                } else {
                    out.println(s.format());
                }
            }
        }
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("ref", ref.toString());
            doc.put("hyp", hyp.toString());
            doc.put("segments", segments);
            doc.put("scores", scores);
            out.println(Json.writePretty(doc));
        }
        return Main.OK;
    }

    private static Map<String, Object> bleuJson(BleuScore s) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("name", "BLEU");
        e.put("score", s.score());
        e.put("signature", BleuOptions.corpus().signature());
        e.put("formatted", s.format());
        e.put("precisions", new ArrayList<Object>(s.precisions()));
        e.put("bp", s.bp());
        e.put("ratio", s.ratio());
        e.put("hyp_len", s.hypLen());
        e.put("ref_len", s.refLen());
        e.put("counts", new ArrayList<Object>(s.stats().counts()));
        e.put("totals", new ArrayList<Object>(s.stats().totals()));
        return e;
    }

    private BadInputException mismatch(Utf8Lines refs, Utf8Lines hyps) {
        // Read the rest of the longer file (checking its UTF-8 too) so the message gives both sizes.
        refs.skipRest();
        hyps.skipRest();
        return new BadInputException("REF and HYP differ in length: " + ref + " has " + refs.lineNumber() + " lines, "
                + hyp + " has " + hyps.lineNumber());
    }
}

package dev.kawi.tools;

import dev.kawi.runtime.TranslationOptions;
import dev.kawi.runtime.Translator;
import dev.kawi.runtime.TranslatorOptions;
import dev.kawi.runtime.search.DecodingOptions;
import dev.kawi.runtime.kernels.KernelProvider;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kawi translate}: text from arguments, or one sentence per line from stdin. */
@Command(name = "translate", mixinStandardHelpOptions = true,
        description = {"Translate text given as arguments, or each line of standard input (output in input order)."})
final class TranslateCommand implements Callable<Integer> {
    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "Text to translate; several arguments are joined by spaces. None: read stdin.")
    List<String> text;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "The .kawi model.")
    Path model;

    @Option(names = "--beam", defaultValue = "1", paramLabel = "N", description = "Beam size (1 = greedy). Default: ${DEFAULT-VALUE}.")
    int beam;

    @Option(names = "--nbest", defaultValue = "1", paramLabel = "N", description = "Hypotheses to print per input (<= beam). Default: ${DEFAULT-VALUE}.")
    int nBest;

    @Option(names = "--max-length", defaultValue = "256", paramLabel = "N", description = "Most target tokens. Default: ${DEFAULT-VALUE}.")
    int maxLength;

    @Option(names = "--length-penalty", defaultValue = "1.0", paramLabel = "A", description = "Beam length penalty alpha. Default: ${DEFAULT-VALUE}.")
    float lengthPenalty;

    @Option(names = "--threads", paramLabel = "N", description = "Kernel threads. Default: all cores.")
    Integer threads;

    @Option(names = "--batch-size", defaultValue = "32", paramLabel = "N", description = "Sentences per batch. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        DecodingOptions d;
        try {
            d = DecodingOptions.builder().beamSize(beam).nBest(nBest).lengthPenalty(lengthPenalty).maxLength(maxLength).returnScores(nBest > 1).build();
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
        TranslationOptions opts = TranslationOptions.defaults().with(d);
        PrintWriter out = spec.commandLine().getOut();
        List<String> inputs = new ArrayList<>();
        if (text != null && !text.isEmpty()) {
            inputs.add(String.join(" ", text));
        } else {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    inputs.add(line);
                }
            }
        }
        int t = threads == null ? KernelProvider.defaultThreads() : threads;
        try (Translator tr = Translator.open(model, new TranslatorOptions(t, batchSize))) {
            var results = tr.translate(inputs, opts);
            for (var res : results) {
                if (nBest > 1) {
                    for (var alt : res.alternatives()) {
                        out.printf("%.4f\t%s%n", alt.normalizedScore(), alt.text());
                    }
                } else {
                    out.println(res.text());
                }
            }
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
        return Main.OK;
    }
}

package dev.kawi.tools;

import dev.kawi.weights.DType;
import dev.kawi.weights.KawiFile;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.RandomModels;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kawi random-model}: writes a model with seeded random weights (benchmarks, tests, demos). */
@Command(name = "random-model", mixinStandardHelpOptions = true,
        description = "Write a model with seeded random weights: the paper's 'base' or Kawi's 'tiny' architecture.")
final class RandomModelCommand implements Callable<Integer> {
    @Parameters(paramLabel = "OUT", description = "Output .kawi file.")
    Path out;

    @Option(names = "--preset", defaultValue = "tiny", paramLabel = "NAME",
            description = "tiny (6+2 layers, d_model 256, vocab 8000) or base (6+6 layers, d_model 512, vocab 32000). Default: ${DEFAULT-VALUE}.")
    String preset;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "TYPE",
            description = "Type of the weight matrices: f32, f16, bf16, q8 or q4. Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Option(names = "--vocab", paramLabel = "N", description = "Vocabulary size (at least 260). Default: the preset's.")
    Integer vocab;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "N", description = "Random seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        DType t = DType.fromName(dtype.toUpperCase(Locale.ROOT));
        if (t == null) {
            throw new BadInputException("--dtype: unknown type \"" + dtype + "\" (use f32, f16, bf16, q8 or q4)");
        }
        if (vocab != null && vocab < 260) {
            throw new BadInputException("--vocab: " + vocab + " is below 260 (4 special tokens and 256 bytes)");
        }
        ModelConfig config = switch (preset) {
            case "tiny" -> ModelConfig.tiny(vocab == null ? 8000 : vocab);
            case "base" -> ModelConfig.base(vocab == null ? 32000 : vocab);
            default -> throw new BadInputException("--preset: unknown preset \"" + preset + "\" (use tiny or base)");
        };
        RandomModels.write(out, config, t, seed);
        PrintWriter pw = spec.commandLine().getOut();
        try (KawiFile f = KawiFile.open(out)) {
            pw.printf("wrote %s: %s preset, %s weights, seed %d, %s%n", out, preset, t, seed, Format.bytes(f.fileSize()));
        }
        return Main.OK;
    }
}

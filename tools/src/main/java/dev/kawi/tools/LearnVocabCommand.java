package dev.kawi.tools;

import dev.kawi.runtime.tokenizer.Tokenizer;
import dev.kawi.trainer.vocab.BadLines;
import dev.kawi.trainer.vocab.BpeLearner;
import dev.kawi.trainer.vocab.LearnedVocab;
import dev.kawi.trainer.vocab.TsvFormatException;
import dev.kawi.trainer.vocab.TsvReader;
import dev.kawi.trainer.vocab.VocabFiles;
import dev.kawi.trainer.vocab.VocabOptions;
import dev.kawi.trainer.vocab.WordCounts;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kawi learn-vocab}: learns a joint BPE vocabulary from TSV sentence pairs and writes it as JSON. */
@Command(name = "learn-vocab", mixinStandardHelpOptions = true,
        description = {"Learn one joint subword vocabulary (SentencePiece-style BPE: NFC, \u2581 word marker, byte fallback)",
            "from SOURCE<TAB>TARGET lines, and write it as JSON in the shape of a .kawi file's tokenizer object.",
            "Ids 0-3 are <pad> <s> </s> <unk>, then the 256 byte pieces, the characters and the merged pieces."})
final class LearnVocabCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "TSV", description = "Training pairs, one SOURCE<TAB>TARGET per line (UTF-8).")
    List<Path> inputs;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT", description = "Vocabulary file to write (JSON, written atomically).")
    Path out;

    @Option(names = "--size", defaultValue = "8000", paramLabel = "N",
            description = "Total pieces, counting the 4 special and 256 byte pieces. Default: ${DEFAULT-VALUE}.")
    int size;

    @Option(names = "--min-frequency", defaultValue = "2", paramLabel = "N",
            description = "Never merge a pair seen fewer times (learning then stops short of --size). Default: ${DEFAULT-VALUE}.")
    int minFrequency;

    @Option(names = "--max-piece-length", defaultValue = "16", paramLabel = "N",
            description = "Longest piece, in characters. Default: ${DEFAULT-VALUE}.")
    int maxPieceLength;

    @Option(names = "--character-coverage", defaultValue = "0.99995", paramLabel = "X",
            description = "Fraction of character occurrences given a character piece, most frequent first; rarer characters become bytes. Default: ${DEFAULT-VALUE}.")
    double characterCoverage;

    @Option(names = "--no-split-by-script", negatable = false,
            description = "Allow pieces that mix scripts, or digits with other characters (such as 'te.' or 'x86'). By default they are split, as in SentencePiece.")
    boolean noSplitByScript;

    @Option(names = "--bad-lines", defaultValue = "fail", paramLabel = "fail|skip",
            description = "A malformed line (no tab, several tabs, invalid UTF-8, a blank side) stops with an error naming it, or is skipped and counted. Default: ${DEFAULT-VALUE}.")
    String badLines;

    @Option(names = "--eval", paramLabel = "TSV",
            description = "Afterwards, encode these pairs with the new vocabulary and print the average tokens per sentence of each side.")
    Path eval;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        BadLines policy = switch (badLines.toLowerCase(Locale.ROOT)) {
            case "fail" -> BadLines.FAIL;
            case "skip" -> BadLines.SKIP;
            default -> throw new BadInputException("--bad-lines: unknown value \"" + badLines + "\" (use fail or skip)");
        };
        VocabOptions options = options();
        for (Path p : eval == null ? inputs : concat(inputs, eval)) {
            if (!Files.isRegularFile(p)) {
                throw new BadInputException(p + ": no such file");
            }
        }
        PrintWriter pw = spec.commandLine().getOut();
        long start = System.nanoTime();
        WordCounts words = new WordCounts();
        for (Path p : inputs) {
            TsvReader.Report r = read(p, policy, (source, target, line) -> {
                words.addText(source);
                words.addText(target);
            });
            pw.printf("read %s: %s pairs%s%n", p, Format.count(r.pairs()), r.skipped() == 0 ? ""
                    : ", skipped " + Format.count(r.skipped()) + " malformed line" + (r.skipped() == 1 ? "" : "s"));
            for (String problem : r.problems()) {
                pw.println("  skipped " + problem);
            }
            if (r.skipped() > r.problems().size()) {
                pw.println("  ... and " + Format.count(r.skipped() - r.problems().size()) + " more");
            }
        }
        long counted = System.nanoTime();
        LearnedVocab v = BpeLearner.learn(words, options);
        long learned = System.nanoTime();
        VocabFiles.write(v.spec(), out);
        pw.printf(Locale.ROOT, "learned %s pieces (%d special, 256 byte, %d character, %s merged) from %s words (%s distinct)"
                        + " in %.1f s (counting %.1f s, merging %.1f s)%n",
                Format.count(v.size()), v.specials(), v.characters(), Format.count(v.merges()), Format.count(v.words()),
                Format.count(v.distinctWords()), (learned - start) / 1e9, (counted - start) / 1e9, (learned - counted) / 1e9);
        if (v.droppedCharacters() > 0) {
            pw.printf("%d rare characters have no piece and are encoded as bytes%n", v.droppedCharacters());
        }
        if (v.stopReason() != null) {
            pw.printf("note: stopped at %s of the %s pieces asked for: %s%n", Format.count(v.size()), Format.count(v.requestedSize()), v.stopReason());
        }
        pw.printf("wrote %s%n", out);
        if (eval != null) {
            evaluate(Tokenizer.create(v.spec()), eval, policy, pw);
        }
        return Main.OK;
    }

    private VocabOptions options() {
        try {
            return new VocabOptions(size, minFrequency, maxPieceLength, characterCoverage, !noSplitByScript, VocabOptions.DEFAULT_SPECIALS);
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            String flag = m.startsWith("vocabSize") ? "--size" : m.startsWith("minFrequency") ? "--min-frequency"
                    : m.startsWith("maxPieceLength") ? "--max-piece-length" : "--character-coverage";
            throw new BadInputException(flag + ": " + m.substring(m.indexOf(' ') + 1));
        }
    }

    private static TsvReader.Report read(Path p, BadLines policy, TsvReader.PairSink sink) throws IOException {
        try {
            return TsvReader.read(p, policy, sink);
        } catch (TsvFormatException e) {
            throw new BadInputException(e.getMessage() + " (--bad-lines skip skips such lines)");
        }
    }

    /** Prints the average number of tokens per sentence on each side of file. */
    private static void evaluate(Tokenizer tokenizer, Path file, BadLines policy, PrintWriter pw) throws IOException {
        long[] sums = new long[4]; // pairs, source tokens, target tokens, characters
        read(file, policy, (source, target, line) -> {
            sums[0]++;
            sums[1] += tokenizer.encode(source).length;
            sums[2] += tokenizer.encode(target).length;
            sums[3] += source.length() + target.length();
        });
        double n = Math.max(1, sums[0]);
        pw.printf(Locale.ROOT, "%s: %s pairs, tokens per sentence: source %.2f, target %.2f (%.2f characters per token)%n",
                file, Format.count(sums[0]), sums[1] / n, sums[2] / n, sums[3] / (double) Math.max(1, sums[1] + sums[2]));
    }

    private static List<Path> concat(List<Path> a, Path b) {
        return java.util.stream.Stream.concat(a.stream(), java.util.stream.Stream.of(b)).toList();
    }
}

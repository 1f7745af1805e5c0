package dev.kawi.trainer.data;

import dev.kawi.trainer.vocab.BadLines;
import dev.kawi.trainer.vocab.TsvReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Tokenized sentence pairs from a {@code source<TAB>target} file, read by {@link TsvReader}
 * (malformed lines are reported with file and line number, and skipped or fatal by
 * {@link BadLines}).
 */
public final class TsvCorpus {
    /** The pairs read and what was left out. */
    public record Result(List<Batch.Pair> pairs, long lines, long malformed, int tooLong, List<String> firstProblems) {
    }

    private TsvCorpus() {
    }

    /** The (source, target) text pairs of {@code file}. */
    public static List<String[]> readText(Path file, BadLines onBad) throws IOException {
        List<String[]> out = new ArrayList<>();
        TsvReader.read(file, onBad, (s, t, line) -> out.add(new String[] {s, t}));
        return out;
    }

    /**
     * Reads and tokenizes {@code file}; pairs with a side longer than {@code maxLength} tokens
     * (end of sentence included) are left out and counted.
     */
    public static Result read(Path file, Function<String, int[]> tokenizer, int maxLength, BadLines onBad) throws IOException {
        List<Batch.Pair> pairs = new ArrayList<>();
        int[] tooLong = {0};
        TsvReader.Report r = TsvReader.read(file, onBad, (s, t, line) -> {
            int[] x = tokenizer.apply(s);
            int[] y = tokenizer.apply(t);
            if (x.length + 1 > maxLength || y.length + 1 > maxLength) {
                tooLong[0]++;
            } else {
                pairs.add(new Batch.Pair(x, y));
            }
        });
        return new Result(pairs, r.lines(), r.skipped(), tooLong[0], r.problems());
    }
}

package dev.kawi.trainer.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Reads sentence pairs from a UTF-8 file with one {@code source<TAB>target} pair per line and
 * tokenizes them. A malformed line (no tab, more than one tab, an empty side, invalid UTF-8) is
 * reported with its file and line number: skipped and counted, or fatal, as the caller chooses.
 */
public final class TsvCorpus {
    /** The pairs read and what was left out. */
    public record Result(List<Batch.Pair> pairs, int lines, int malformed, int tooLong, List<String> firstProblems) {
    }

    /** What to do with a malformed line. */
    public enum OnBadLine { SKIP, FAIL }

    private TsvCorpus() {
    }

    /** Splits a file into (source, target) text pairs; see the class comment for bad lines. */
    public static List<String[]> readText(Path file, OnBadLine onBad, List<String> problems) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        List<String[]> out = new ArrayList<>();
        int start = 0;
        int line = 0;
        while (start < bytes.length) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') {
                end++;
            }
            line++;
            int stop = end > start && bytes[end - 1] == '\r' ? end - 1 : end;
            String problem = null;
            String text = null;
            try {
                text = dec.decode(ByteBuffer.wrap(bytes, start, stop - start)).toString();
            } catch (CharacterCodingException e) {
                problem = "invalid UTF-8";
            }
            String[] pair = null;
            if (text != null) {
                int tab = text.indexOf('\t');
                if (text.isBlank()) {
                    problem = "empty line";
                } else if (tab < 0) {
                    problem = "no tab between source and target";
                } else if (text.indexOf('\t', tab + 1) >= 0) {
                    problem = "more than one tab";
                } else if (text.substring(0, tab).isBlank() || text.substring(tab + 1).isBlank()) {
                    problem = "empty " + (text.substring(0, tab).isBlank() ? "source" : "target");
                } else {
                    pair = new String[] {text.substring(0, tab), text.substring(tab + 1)};
                }
            }
            if (problem != null) {
                String msg = file + ":" + line + ": " + problem;
                if (onBad == OnBadLine.FAIL) {
                    throw new CorpusException(msg + " (use --skip-bad-lines to skip such lines)");
                }
                problems.add(msg);
            } else {
                out.add(pair);
            }
            start = end + 1;
        }
        return out;
    }

    /**
     * Reads and tokenizes {@code file}; pairs with a side longer than {@code maxLength} tokens are
     * left out and counted.
     */
    public static Result read(Path file, Function<String, int[]> tokenizer, int maxLength, OnBadLine onBad) throws IOException {
        List<String> problems = new ArrayList<>();
        List<String[]> text = readText(file, onBad, problems);
        List<Batch.Pair> pairs = new ArrayList<>(text.size());
        int tooLong = 0;
        for (String[] t : text) {
            int[] s = tokenizer.apply(t[0]);
            int[] y = tokenizer.apply(t[1]);
            if (s.length + 1 > maxLength || y.length + 1 > maxLength) {
                tooLong++;
                continue;
            }
            pairs.add(new Batch.Pair(s, y));
        }
        int lines = text.size() + problems.size();
        return new Result(pairs, lines, problems.size(), tooLong, problems.subList(0, Math.min(10, problems.size())));
    }
}

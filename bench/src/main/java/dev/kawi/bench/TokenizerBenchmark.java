package dev.kawi.bench;

import dev.kawi.runtime.tokenizer.Tokenizer;
import dev.kawi.weights.TokenizerSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Tokenizer throughput on one thread: encode and decode the German side of the dev set
 * ({@code ../shared/data/dev.de-en.tsv}, relative to the worktree root; {@code -p corpus=PATH}
 * for another file). One operation is one pass over all lines; the {@code chars} counter is the
 * rate in UTF-16 chars per second (input chars for encode, output chars for decode).
 *
 * <p>The vocabulary is built in the setup, deterministically, to about 8000 pieces: the four
 * specials, the 256 byte pieces, every character of the corpus, then the most frequent
 * substrings (2..8 code points, within ▁-prefixed words, counted by word frequency), each added
 * as the merge (its prefix, its last character). This only approximates a learned BPE
 * vocabulary (its merges are left-branching chains, so words split into somewhat more pieces
 * than real BPE would give), but the work per word is of the same kind. The unigram variant uses
 * the same pieces scored by log relative frequency.
 *
 * <p>{@code encode} runs with the default word cache (warm after the first pass: the realistic
 * case for repeated text); {@code encodeNoCache} segments every word every time.
 * Run: {@code java -jar bench/target/benchmarks.jar Tokenizer -f 1 -wi 2 -i 3}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class TokenizerBenchmark {
    /** Target vocabulary size. */
    static final int VOCAB_SIZE = 8000;
    /** Longest substring, in code points, considered as a piece. */
    static final int MAX_PIECE = 8;
    private static final String BOUNDARY = "\u2581";
    private static final Pattern WHITESPACE = Pattern.compile("[\\p{IsWhite_Space}\u2581]+");

    /** The tab-separated corpus; its first column is tokenized. */
    @Param({"../shared/data/dev.de-en.tsv"})
    public String corpus;

    /** Segmentation algorithm. */
    @Param({"bpe", "unigram"})
    public String type;

    private String[] lines;
    private int[][] encoded;
    private long inputChars;
    private long outputChars;
    private Tokenizer cached;
    private Tokenizer uncached;

    /** Chars processed; JMH reports it as a rate (chars/s). */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Chars {
        /** UTF-16 chars encoded or decoded. */
        public long chars;

        /** Zeroed before each iteration, so the rate is per iteration. */
        @Setup(Level.Iteration)
        public void reset() {
            chars = 0;
        }
    }

    /** Reads the corpus and builds the vocabulary and the tokenizers. */
    @Setup(Level.Trial)
    public void setup() throws IOException {
        Path path = Path.of(corpus);
        if (!Files.isRegularFile(path)) {
            throw new IllegalStateException("TokenizerBenchmark: corpus file " + path.toAbsolutePath()
                    + " not found; run from the worktree root or pass -p corpus=PATH");
        }
        List<String> german = new ArrayList<>();
        for (String line : Files.readAllLines(path, StandardCharsets.UTF_8)) {
            int tab = line.indexOf('\t');
            german.add(tab < 0 ? line : line.substring(0, tab));
        }
        if (german.isEmpty()) {
            throw new IllegalStateException("TokenizerBenchmark: corpus file " + path.toAbsolutePath() + " is empty");
        }
        lines = german.toArray(new String[0]);
        TokenizerSpec spec = buildSpec(lines, "unigram".equals(type) ? TokenizerSpec.Type.UNIGRAM : TokenizerSpec.Type.BPE);
        cached = Tokenizer.create(spec);
        uncached = Tokenizer.create(spec, new Tokenizer.Options(0));
        encoded = new int[lines.length][];
        long tokens = 0;
        for (int i = 0; i < lines.length; i++) {
            encoded[i] = cached.encode(lines[i]);
            inputChars += lines[i].length();
            outputChars += cached.decode(encoded[i]).length();
            tokens += encoded[i].length;
        }
        System.out.printf("%n%s: %d lines, %d chars, %d pieces, %d tokens (%.2f chars/token)%n",
                cached, lines.length, inputChars, cached.size(), tokens, (double) inputChars / tokens);
    }

    /** The approximate vocabulary described in the class comment. */
    static TokenizerSpec buildSpec(String[] lines, TokenizerSpec.Type type) {
        Map<String, Long> words = new HashMap<>();
        for (String line : lines) {
            for (String w : WHITESPACE.split(Normalizer.normalize(line, Normalizer.Form.NFC))) {
                if (!w.isEmpty()) {
                    words.merge(BOUNDARY + w, 1L, Long::sum);
                }
            }
        }
        Map<String, Long> chars = new HashMap<>();
        Map<String, Long> substrings = new HashMap<>();
        for (Map.Entry<String, Long> e : words.entrySet()) {
            int[] cps = e.getKey().codePoints().toArray();
            for (int i = 0; i < cps.length; i++) {
                chars.merge(new String(cps, i, 1), e.getValue(), Long::sum);
                for (int len = 2; len <= MAX_PIECE && i + len <= cps.length; len++) {
                    substrings.merge(new String(cps, i, len), e.getValue(), Long::sum);
                }
            }
        }
        Comparator<Map.Entry<String, Long>> byFrequency = Map.Entry.<String, Long>comparingByValue().reversed()
                .thenComparingInt(e -> e.getKey().length()).thenComparing(Map.Entry::getKey);
        List<String> pieces = new ArrayList<>(List.of("<pad>", "<s>", "</s>", "<unk>"));
        List<Float> scores = new ArrayList<>(List.of(0f, 0f, 0f, 0f));
        for (int b = 0; b < 256; b++) {
            pieces.add(TokenizerSpec.bytePiece(b));
            scores.add(0f);
        }
        double total = words.values().stream().mapToLong(Long::longValue).sum() * 8.0;
        Map<String, Integer> ids = new HashMap<>();
        for (Map.Entry<String, Long> e : chars.entrySet().stream().sorted(byFrequency).toList()) {
            ids.put(e.getKey(), pieces.size());
            pieces.add(e.getKey());
            scores.add((float) Math.log(e.getValue() / total));
        }
        List<Integer> merges = new ArrayList<>();
        for (Map.Entry<String, Long> e : substrings.entrySet().stream().filter(e -> e.getValue() >= 2).sorted(byFrequency).toList()) {
            if (pieces.size() >= VOCAB_SIZE) {
                break;
            }
            String s = e.getKey();
            int cut = s.offsetByCodePoints(s.length(), -1);
            Integer left = ids.get(s.substring(0, cut));
            Integer right = ids.get(s.substring(cut));
            if (left == null || right == null || ids.containsKey(s)) {
                continue;
            }
            merges.add(left);
            merges.add(right);
            ids.put(s, pieces.size());
            pieces.add(s);
            scores.add((float) Math.log(e.getValue() / total));
        }
        float[] sc = new float[scores.size()];
        for (int i = 0; i < sc.length; i++) {
            sc[i] = scores.get(i);
        }
        return type == TokenizerSpec.Type.BPE
                ? new TokenizerSpec(type, TokenizerSpec.Normalization.NFC, true, true, pieces, null,
                        merges.stream().mapToInt(Integer::intValue).toArray())
                : new TokenizerSpec(type, TokenizerSpec.Normalization.NFC, true, true, pieces, sc, null);
    }

    /** Encode every line, word cache on (warm). */
    @Benchmark
    public void encode(Blackhole bh, Chars c) {
        for (String line : lines) {
            bh.consume(cached.encode(line));
        }
        c.chars += inputChars;
    }

    /** Encode every line with no word cache: every word is segmented. */
    @Benchmark
    public void encodeNoCache(Blackhole bh, Chars c) {
        for (String line : lines) {
            bh.consume(uncached.encode(line));
        }
        c.chars += inputChars;
    }

    /** Decode every line's ids. */
    @Benchmark
    public void decode(Blackhole bh, Chars c) {
        for (int[] ids : encoded) {
            bh.consume(cached.decode(ids));
        }
        c.chars += outputChars;
    }
}

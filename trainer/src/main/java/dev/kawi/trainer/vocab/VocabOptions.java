package dev.kawi.trainer.vocab;

import dev.kawi.weights.TokenizerSpec;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What {@link BpeLearner} learns.
 *
 * @param vocabSize         total number of pieces, counting the special pieces, the 256 byte pieces,
 *                          the character pieces and the merged pieces
 * @param minFrequency      a pair seen fewer times than this is never merged; learning stops early
 *                          (with a smaller vocabulary) when no pair is that frequent
 * @param maxPieceLength    longest piece a merge may create, in code points (the marker ▁ counts)
 * @param characterCoverage fraction of the character occurrences in the data that get a character
 *                          piece, the most frequent characters first (1 = every character seen); the
 *                          rarest characters are left to byte fallback, as in SentencePiece
 * @param splitByScript     never merge characters of different Unicode scripts into one piece, nor
 *                          digits with non-digits (SentencePiece's default): {@code te.} or
 *                          {@code a1} never become pieces; combining marks and the leading ▁ go
 *                          with anything; Han, Hiragana and Katakana count as one script
 * @param specials          the special pieces, at ids 0, 1, ... in this order; each of the reserved form
 *                          {@code <...>} (and not a byte piece {@code <0xHH>})
 */
public record VocabOptions(int vocabSize, int minFrequency, int maxPieceLength, double characterCoverage, boolean splitByScript,
                           List<String> specials) {
    /** The special pieces at the ids {@code ModelConfig}'s presets use: pad 0, bos 1, eos 2, unk 3. */
    public static final List<String> DEFAULT_SPECIALS = List.of("<pad>", "<s>", "</s>", "<unk>");

    /**
     * The defaults: 8000 pieces, pairs seen at least twice, pieces of up to 16 code points (as
     * SentencePiece), character coverage 0.99995: on the 13M characters of the German-English
     * training set that gives a piece to the 111 characters seen 55 times or more, and leaves 102
     * (seen 48 times or fewer) to byte fallback, whose byte embeddings are better trained than
     * those of a piece seen a few times (0.9999 would also drop {@code $}, {@code é} and {@code ”}).
     * Pieces split by script, as SentencePiece's: vocabulary goes to words and word parts rather
     * than to word-plus-punctuation variants such as {@code ▁menu.}.
     */
    public static final VocabOptions DEFAULTS = new VocabOptions(8000, 2, 16, 0.99995, true, DEFAULT_SPECIALS);

    /** Largest vocabulary accepted (ids must stay far inside an int and tables reasonable). */
    public static final int MAX_VOCAB_SIZE = 1 << 20;

    /** Validates the options. */
    public VocabOptions {
        if (specials == null) {
            throw new IllegalArgumentException("specials must not be null");
        }
        specials = List.copyOf(specials);
        Set<String> seen = new HashSet<>();
        for (String s : specials) {
            if (!isReserved(s) || isBytePiece(s)) {
                throw new IllegalArgumentException("special piece \"" + s + "\" must have the form <...> and not be a byte piece <0xHH>");
            }
            if (!seen.add(s)) {
                throw new IllegalArgumentException("special piece \"" + s + "\" is listed twice");
            }
        }
        int min = specials.size() + 256;
        if (vocabSize < min || vocabSize > MAX_VOCAB_SIZE) {
            throw new IllegalArgumentException("vocabSize must be in [" + min + ", " + MAX_VOCAB_SIZE + "] ("
                    + specials.size() + " special and 256 byte pieces), was " + vocabSize);
        }
        if (minFrequency < 1) {
            throw new IllegalArgumentException("minFrequency must be >= 1, was " + minFrequency);
        }
        if (maxPieceLength < 1) {
            throw new IllegalArgumentException("maxPieceLength must be >= 1, was " + maxPieceLength);
        }
        if (!(characterCoverage > 0 && characterCoverage <= 1)) {
            throw new IllegalArgumentException("characterCoverage must be in (0, 1], was " + characterCoverage);
        }
    }

    /** These options with another vocabulary size. */
    public VocabOptions withVocabSize(int n) {
        return new VocabOptions(n, minFrequency, maxPieceLength, characterCoverage, splitByScript, specials);
    }

    /** These options with another minimum pair frequency. */
    public VocabOptions withMinFrequency(int n) {
        return new VocabOptions(vocabSize, n, maxPieceLength, characterCoverage, splitByScript, specials);
    }

    /** These options with another maximum piece length. */
    public VocabOptions withMaxPieceLength(int n) {
        return new VocabOptions(vocabSize, minFrequency, n, characterCoverage, splitByScript, specials);
    }

    /** These options with another character coverage. */
    public VocabOptions withCharacterCoverage(double c) {
        return new VocabOptions(vocabSize, minFrequency, maxPieceLength, c, splitByScript, specials);
    }

    /** These options with script splitting on or off. */
    public VocabOptions withSplitByScript(boolean split) {
        return new VocabOptions(vocabSize, minFrequency, maxPieceLength, characterCoverage, split, specials);
    }

    /** These options with other special pieces. */
    public VocabOptions withSpecials(List<String> s) {
        return new VocabOptions(vocabSize, minFrequency, maxPieceLength, characterCoverage, splitByScript, s);
    }

    /**
     * Whether the runtime tokenizer reserves this piece (never produces it from text): the form
     * {@code <...>} of at least three characters, which covers special and byte pieces (see the
     * package documentation of {@code dev.kawi.runtime.tokenizer}).
     */
    static boolean isReserved(String piece) {
        return piece.length() >= 3 && piece.charAt(0) == '<' && piece.charAt(piece.length() - 1) == '>';
    }

    private static boolean isBytePiece(String piece) {
        for (int b = 0; b < 256; b++) {
            if (piece.equals(TokenizerSpec.bytePiece(b))) {
                return true;
            }
        }
        return false;
    }
}

package dev.kawi.runtime.tokenizer;

import dev.kawi.weights.TokenizerSpec;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Text to token ids and back, built once from a {@link TokenizerSpec}: SentencePiece-style BPE
 * or unigram segmentation with byte fallback. Immutable and safe to share between threads.
 * The exact behaviour (normalization, whitespace, unknown characters, special pieces, what
 * round-trips) is specified in the {@linkplain dev.kawi.runtime.tokenizer package documentation}.
 */
public final class Tokenizer {
    /** The word-boundary marker ▁ (U+2581). */
    public static final char WORD_BOUNDARY = '\u2581';

    /** The piece whose id encodes characters without a piece when there is no byte fallback. */
    public static final String UNK_PIECE = "<unk>";

    /** What {@link #decode(int[], int, int, Specials)} does with special pieces. */
    public enum Specials {
        /** Special pieces produce no text (the default). */
        SKIP,
        /** Special pieces produce their own text, e.g. {@code <unk>}. */
        KEEP
    }

    /**
     * Construction options.
     *
     * @param wordCacheCapacity how many word segmentations to remember (0 disables the cache;
     *                          it changes speed, never results)
     */
    public record Options(int wordCacheCapacity) {
        /** The defaults: a cache of 32768 words (a few MB for typical words; words over 64 chars are not cached). */
        public static final Options DEFAULTS = new Options(1 << 15);

        /** Validates the options. */
        public Options {
            if (wordCacheCapacity < 0) {
                throw new IllegalArgumentException("wordCacheCapacity must be >= 0, was " + wordCacheCapacity);
            }
        }
    }

    private final TokenizerSpec.Type type;
    private final boolean nfc;
    private final boolean addDummyPrefix;
    private final boolean byteFallback;
    private final String[] pieces;      // id -> piece
    private final String[] surfaces;    // id -> decoded text of a non-byte piece (▁ as space)
    private final int[] byteValues;     // id -> byte of a byte piece <0xHH>, or -1
    private final boolean[] special;    // id -> special piece (<...>, not a byte piece)
    private final Map<String, Integer> idOf;
    private final int unkId;
    private final Segmenter segmenter;
    private final WordCache cache;

    private Tokenizer(TokenizerSpec spec, Options options) {
        type = spec.type();
        nfc = spec.normalization() == TokenizerSpec.Normalization.NFC;
        addDummyPrefix = spec.addDummyPrefix();
        byteFallback = spec.byteFallback();
        int n = spec.size();
        pieces = spec.pieces().toArray(new String[0]);
        surfaces = new String[n];
        byteValues = new int[n];
        special = new boolean[n];
        boolean[] textual = new boolean[n];
        idOf = new HashMap<>(2 * n);
        int[] byteIds = new int[256];
        Arrays.fill(byteIds, -1);
        for (int id = 0; id < n; id++) {
            String p = pieces[id];
            idOf.put(p, id);
            byteValues[id] = parseBytePiece(p);
            special[id] = byteValues[id] < 0 && isSpecialPiece(p);
            textual[id] = byteValues[id] < 0 && !special[id];
            surfaces[id] = p.replace(WORD_BOUNDARY, ' ');
            if (byteValues[id] >= 0) {
                byteIds[byteValues[id]] = id;
            }
        }
        unkId = idOf.getOrDefault(UNK_PIECE, -1);
        // TokenizerSpec guarantees all 256 byte pieces when byte_fallback is on.
        CharFallback fallback = new CharFallback(byteFallback ? byteIds : null, unkId);
        segmenter = switch (type) {
            case BPE -> new BpeSegmenter(pieces, textual, idOf, spec.merges(), fallback);
            case UNIGRAM -> new UnigramSegmenter(pieces, textual, spec.scores(), fallback);
        };
        cache = new WordCache(options.wordCacheCapacity());
    }

    /** A tokenizer for spec with the default options. */
    public static Tokenizer create(TokenizerSpec spec) {
        return create(spec, Options.DEFAULTS);
    }

    /** A tokenizer for spec. */
    public static Tokenizer create(TokenizerSpec spec, Options options) {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(options, "options");
        return new Tokenizer(spec, options);
    }

    /** The byte of a byte piece {@code <0xHH>} (upper-case hex, as FORMAT.md specifies), else -1. */
    static int parseBytePiece(String p) {
        if (p.length() != 6 || !p.startsWith("<0x") || p.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(p.charAt(3), 16);
        int lo = Character.digit(p.charAt(4), 16);
        if (hi < 0 || lo < 0 || Character.isLowerCase(p.charAt(3)) || Character.isLowerCase(p.charAt(4))) {
            return -1;
        }
        return hi * 16 + lo;
    }

    /** A special piece: {@code <}, at least one character, {@code >}. (Byte pieces are excluded by the caller.) */
    static boolean isSpecialPiece(String p) {
        return p.length() >= 3 && p.charAt(0) == '<' && p.charAt(p.length() - 1) == '>';
    }

    /**
     * The normalized form of text that {@link #encode} segments and that {@code decode(encode(text))}
     * returns when every character has a piece or byte fallback is on: unpaired surrogates become
     * U+FFFD, NFC if the spec asks for it, whitespace runs become one space, no leading or
     * trailing whitespace.
     *
     * @throws NullPointerException if text is null
     */
    public String normalize(String text) {
        Objects.requireNonNull(text, "text must not be null");
        return TextNormalizer.normalize(text, nfc);
    }

    /**
     * The ids of text. Never contains a special or byte-piece id except by byte fallback or
     * {@code <unk>} for characters without a piece.
     *
     * @throws NullPointerException     if text is null
     * @throws IllegalArgumentException if a character has no piece and there is neither byte fallback nor {@code <unk>}
     */
    public int[] encode(String text) {
        String s = normalize(text);
        int n = s.length();
        IntList out = new IntList(n / 3 + 4);
        StringBuilder word = new StringBuilder(32);
        boolean marked = addDummyPrefix;
        for (int start = 0; start < n; ) {
            int end = s.indexOf(' ', start);
            if (end < 0) {
                end = n;
            }
            word.setLength(0);
            if (marked) {
                word.append(WORD_BOUNDARY);
            }
            word.append(s, start, end);
            segmentWord(word.toString(), out);
            marked = true;
            start = end + 1;
        }
        return out.toArray();
    }

    private void segmentWord(String word, IntList out) {
        int[] ids = cache.get(word);
        if (ids == null) {
            IntList w = new IntList(word.length() + 4);
            segmenter.segment(word, w);
            ids = w.toArray();
            cache.put(word, ids);
        }
        out.addAll(ids);
    }

    /** The text of ids, skipping special pieces. */
    public String decode(int[] ids) {
        return decode(ids, 0, ids.length, Specials.SKIP);
    }

    /** The text of {@code ids[offset, offset+length)}, skipping special pieces. */
    public String decode(int[] ids, int offset, int length) {
        return decode(ids, offset, length, Specials.SKIP);
    }

    /**
     * The text of {@code ids[offset, offset+length)}: piece texts concatenated; each run of
     * consecutive byte pieces decoded as UTF-8 (a malformed sequence becomes U+FFFD as the JDK's
     * decoder replaces it); ▁ becomes a space; with a dummy prefix, one leading space is removed.
     * Skipped special pieces are invisible: byte pieces on both sides form one run.
     *
     * @throws IllegalArgumentException  naming the id and its position if an id is not in [0, size())
     * @throws IndexOutOfBoundsException if the range is not inside ids
     */
    public String decode(int[] ids, int offset, int length, Specials specials) {
        Objects.checkFromIndexSize(offset, length, ids.length);
        Objects.requireNonNull(specials, "specials");
        boolean skip = specials == Specials.SKIP;
        StringBuilder sb = new StringBuilder(length * 4);
        byte[] bytes = null;
        int nb = 0;
        for (int k = offset, end = offset + length; k < end; k++) {
            int id = ids[k];
            if (id < 0 || id >= pieces.length) {
                throw new IllegalArgumentException("token id " + id + " at position " + k + " is out of range [0, " + pieces.length + ")");
            }
            int b = byteValues[id];
            if (b >= 0) {
                if (bytes == null) {
                    bytes = new byte[16];
                } else if (nb == bytes.length) {
                    bytes = Arrays.copyOf(bytes, 2 * nb);
                }
                bytes[nb++] = (byte) b;
                continue;
            }
            if (skip && special[id]) {
                continue;
            }
            if (nb > 0) {
                appendBytes(sb, bytes, nb);
                nb = 0;
            }
            sb.append(surfaces[id]);
        }
        if (nb > 0) {
            appendBytes(sb, bytes, nb);
        }
        int from = addDummyPrefix && !sb.isEmpty() && sb.charAt(0) == ' ' ? 1 : 0;
        return sb.substring(from);
    }

    private static void appendBytes(StringBuilder sb, byte[] bytes, int n) {
        // new String replaces malformed input with U+FFFD; the bytes may spell ▁, which is a space too.
        sb.append(new String(bytes, 0, n, StandardCharsets.UTF_8).replace(WORD_BOUNDARY, ' '));
    }

    /** The piece with this id. */
    public String piece(int id) {
        Objects.checkIndex(id, pieces.length);
        return pieces[id];
    }

    /** The id of this piece, or -1. */
    public int id(String piece) {
        return idOf.getOrDefault(piece, -1);
    }

    /** Number of pieces (the vocabulary size). */
    public int size() {
        return pieces.length;
    }

    /** The id of {@code <unk>}, or -1 when the vocabulary has none. */
    public int unkId() {
        return unkId;
    }

    /** Whether id is a special piece ({@code <...>} that is not a byte piece), which decode skips by default. */
    public boolean isSpecial(int id) {
        Objects.checkIndex(id, pieces.length);
        return special[id];
    }

    /** The byte a byte piece {@code <0xHH>} stands for, or -1 for other pieces. */
    public int byteValue(int id) {
        Objects.checkIndex(id, pieces.length);
        return byteValues[id];
    }

    /** BPE or unigram. */
    public TokenizerSpec.Type type() {
        return type;
    }

    @Override
    public String toString() {
        return "Tokenizer[" + type + ", " + pieces.length + " pieces" + (nfc ? ", nfc" : "")
                + (byteFallback ? ", byte_fallback" : "") + (addDummyPrefix ? ", dummy prefix" : "") + "]";
    }
}

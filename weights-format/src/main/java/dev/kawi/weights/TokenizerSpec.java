package dev.kawi.weights;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The subword tokenizer stored in the file's {@code tokenizer} object: the vocabulary and what
 * the encoder needs to reproduce the segmentation the model was trained with.
 *
 * @param type           BPE (merges applied by rank) or UNIGRAM (Viterbi over piece scores)
 * @param normalization  text normalization before encoding
 * @param byteFallback   unknown characters become their UTF-8 bytes, as pieces {@code <0x00>}..{@code <0xFF>}
 * @param addDummyPrefix a word-boundary marker {@code ▁} is added before the first word, as SentencePiece does
 * @param pieces         the vocabulary; index is the token id; no duplicates
 * @param scores         one score per piece (log-probabilities for unigram), or null
 * @param merges         BPE merges as pairs of ids, flattened {@code [l0, r0, l1, r1, ...]}, first = highest priority; or null
 */
public record TokenizerSpec(
        Type type,
        Normalization normalization,
        boolean byteFallback,
        boolean addDummyPrefix,
        List<String> pieces,
        float[] scores,
        int[] merges) {

    /** The word-boundary marker (U+2581), as in SentencePiece. */
    public static final String WORD_BOUNDARY = "\u2581";

    /** Segmentation algorithm. */
    public enum Type { BPE, UNIGRAM }

    /** Normalization applied to input text. */
    public enum Normalization { NFC, NONE }

    /** Validates and freezes the components. */
    public TokenizerSpec {
        if (type == null || normalization == null || pieces == null) {
            throw new MetadataException("tokenizer", "type, normalization and pieces are required");
        }
        pieces = List.copyOf(pieces);
        if (pieces.isEmpty()) {
            throw new MetadataException("tokenizer.pieces", "is empty");
        }
        Map<String, Integer> seen = new HashMap<>(pieces.size() * 2);
        for (int i = 0; i < pieces.size(); i++) {
            String p = pieces.get(i);
            if (p.isEmpty()) {
                throw new MetadataException("tokenizer.pieces[" + i + "]", "is an empty string");
            }
            Integer prev = seen.put(p, i);
            if (prev != null) {
                throw new MetadataException("tokenizer.pieces[" + i + "]", "duplicates piece " + prev + " \"" + p + "\"");
            }
        }
        if (byteFallback) {
            for (int b = 0; b < 256; b++) {
                if (!seen.containsKey(bytePiece(b))) {
                    throw new MetadataException("tokenizer.pieces", "byte_fallback needs the piece " + bytePiece(b));
                }
            }
        }
        if (scores != null) {
            if (scores.length != pieces.size()) {
                throw new MetadataException("tokenizer.scores", "has " + scores.length + " entries for " + pieces.size() + " pieces");
            }
            for (int i = 0; i < scores.length; i++) {
                if (!Float.isFinite(scores[i])) {
                    throw new MetadataException("tokenizer.scores[" + i + "]", "is not finite");
                }
            }
            scores = scores.clone();
        } else if (type == Type.UNIGRAM) {
            throw new MetadataException("tokenizer.scores", "missing (a unigram tokenizer needs a score per piece)");
        }
        if (merges != null) {
            if (merges.length % 2 != 0) {
                throw new MetadataException("tokenizer.merges", "odd number of ids");
            }
            // Field names are built only for an error: this loop runs at every model load.
            for (int i = 0; i < merges.length; i += 2) {
                int l = merges[i];
                int r = merges[i + 1];
                if (l < 0 || l >= pieces.size() || r < 0 || r >= pieces.size()) {
                    throw new MetadataException("tokenizer.merges[" + (i / 2) + "]", "id out of range [0, " + pieces.size() + ")");
                }
                if (!seen.containsKey(pieces.get(l).concat(pieces.get(r)))) {
                    throw new MetadataException("tokenizer.merges[" + (i / 2) + "]",
                            "merged piece \"" + pieces.get(l) + pieces.get(r) + "\" is not in the vocabulary");
                }
            }
            merges = merges.clone();
        } else if (type == Type.BPE) {
            throw new MetadataException("tokenizer.merges", "missing (a BPE tokenizer needs its merges)");
        }
    }

    /** The piece naming byte b in byte fallback, e.g. {@code <0x0A>}. */
    public static String bytePiece(int b) {
        // Not String.format: this runs 256 times at every model load, and a cold Formatter costs milliseconds.
        final String hex = "0123456789ABCDEF";
        return new String(new char[] {'<', '0', 'x', hex.charAt((b >> 4) & 0xF), hex.charAt(b & 0xF), '>'});
    }

    /** Number of pieces (the vocabulary size). */
    public int size() {
        return pieces.size();
    }

    /** Number of BPE merges (0 for unigram). */
    public int mergeCount() {
        return merges == null ? 0 : merges.length / 2;
    }

    /** The defensive copy contract of records does not cover arrays; expose copies. */
    @Override
    public float[] scores() {
        return scores == null ? null : scores.clone();
    }

    /** A copy of the flattened merge pairs, or null. */
    @Override
    public int[] merges() {
        return merges == null ? null : merges.clone();
    }

    /** Reads the {@code tokenizer} object; throws {@link MetadataException} naming the first bad field. */
    public static TokenizerSpec fromJson(Map<String, Object> m) {
        String p = "tokenizer";
        Type type = Fields.enumField(m, p, "type", Type.class);
        Normalization norm = Fields.enumField(m, p, "normalization", Normalization.class);
        boolean byteFallback = Fields.boolField(m, p, "byte_fallback");
        boolean prefix = Fields.boolField(m, p, "add_dummy_prefix");
        List<Object> rawPieces = Fields.array(m, p, "pieces");
        List<String> pieces = new ArrayList<>(rawPieces.size());
        for (int i = 0; i < rawPieces.size(); i++) {
            Object v = rawPieces.get(i);
            pieces.add(v instanceof String str ? str : Fields.stringValue(v, "tokenizer.pieces[" + i + "]"));
        }
        float[] scores = null;
        if (m.get("scores") != null) {
            List<Object> raw = Fields.array(m, p, "scores");
            scores = new float[raw.size()];
            for (int i = 0; i < scores.length; i++) {
                Object v = raw.get(i);
                if (v instanceof Long l) {
                    scores[i] = l;
                } else if (v instanceof Double d) {
                    scores[i] = d.floatValue();
                } else {
                    throw new MetadataException("tokenizer.scores[" + i + "]", "must be a number, was " + Fields.describe(v));
                }
            }
        }
        int[] merges = null;
        if (m.get("merges") != null) {
            List<Object> raw = Fields.array(m, p, "merges");
            merges = new int[raw.size() * 2];
            for (int i = 0; i < raw.size(); i++) {
                // The common case checked inline; the field name is built only for an error.
                if (raw.get(i) instanceof List<?> pair && pair.size() == 2 && pair.get(0) instanceof Long l && pair.get(1) instanceof Long r
                        && l >= 0 && l <= Integer.MAX_VALUE && r >= 0 && r <= Integer.MAX_VALUE) {
                    merges[2 * i] = (int) (long) l;
                    merges[2 * i + 1] = (int) (long) r;
                    continue;
                }
                String f = "tokenizer.merges[" + i + "]";
                List<Object> pair = Fields.array(raw.get(i), f);
                if (pair.size() != 2) {
                    throw new MetadataException(f, "must be a pair [left_id, right_id]");
                }
                merges[2 * i] = (int) Fields.longValue(pair.get(0), f + "[0]", 0, Integer.MAX_VALUE);
                merges[2 * i + 1] = (int) Fields.longValue(pair.get(1), f + "[1]", 0, Integer.MAX_VALUE);
            }
        }
        return new TokenizerSpec(type, norm, byteFallback, prefix, pieces, scores, merges);
    }

    /** The {@code tokenizer} object as written to the file. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", type.name().toLowerCase(Locale.ROOT));
        m.put("normalization", normalization.name().toLowerCase(Locale.ROOT));
        m.put("byte_fallback", byteFallback);
        m.put("add_dummy_prefix", addDummyPrefix);
        m.put("pieces", new ArrayList<Object>(pieces));
        if (scores != null) {
            List<Object> s = new ArrayList<>(scores.length);
            for (float f : scores) {
                s.add(f);
            }
            m.put("scores", s);
        }
        if (merges != null) {
            List<Object> pairs = new ArrayList<>(merges.length / 2);
            for (int i = 0; i < merges.length; i += 2) {
                pairs.add(List.of((long) merges[i], (long) merges[i + 1]));
            }
            m.put("merges", pairs);
        }
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenizerSpec t && type == t.type && normalization == t.normalization
                && byteFallback == t.byteFallback && addDummyPrefix == t.addDummyPrefix
                && pieces.equals(t.pieces) && Arrays.equals(scores, t.scores) && Arrays.equals(merges, t.merges);
    }

    @Override
    public int hashCode() {
        return pieces.hashCode() * 31 + Arrays.hashCode(merges);
    }

    @Override
    public String toString() {
        return "TokenizerSpec[" + type + ", " + pieces.size() + " pieces, " + mergeCount() + " merges]";
    }
}

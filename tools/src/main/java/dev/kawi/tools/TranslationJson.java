package dev.kawi.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kawi.runtime.Translation;
import java.util.List;

/**
 * One {@link Translation} as a JSON object, the same for {@code kawi translate --json} and
 * {@code kawi serve}: {@code text} and {@code tokens}; {@code score} when scored; {@code token_scores};
 * {@code alternatives} (each with text, tokens, score, normalized_score); {@code source_tokens} and
 * {@code alignments} (per target token, its attention over the source tokens). JSON has no
 * infinity: a score of an alternative that never finished is null.
 */
public final class TranslationJson {
    private TranslationJson() {
    }

    /** Which optional parts to include. */
    public record Parts(boolean tokenScores, boolean alternatives, boolean alignments) {
    }

    /** The object for {@code t}. */
    public static ObjectNode toJson(ObjectMapper json, Translation t, Parts parts) {
        ObjectNode n = json.createObjectNode();
        n.put("text", t.text());
        strings(n.putArray("tokens"), t.tokens());
        if (!Float.isNaN(t.score())) {
            putScore(n, "score", t.score());
        }
        if (parts.tokenScores() && t.tokenScores() != null) {
            ArrayNode s = n.putArray("token_scores");
            for (float v : t.tokenScores()) {
                s.add(v);
            }
        }
        if (parts.alternatives()) {
            ArrayNode alts = n.putArray("alternatives");
            for (Translation.Alternative a : t.alternatives()) {
                ObjectNode x = alts.addObject();
                x.put("text", a.text());
                strings(x.putArray("tokens"), a.tokens());
                putScore(x, "score", a.score());
                putScore(x, "normalized_score", a.normalizedScore());
            }
        }
        if (parts.alignments()) {
            strings(n.putArray("source_tokens"), t.sourceTokens());
            ArrayNode al = n.putArray("alignments");
            if (t.alignments() != null) {
                for (float[] row : t.alignments()) {
                    ArrayNode r = al.addArray();
                    for (float v : row) {
                        r.add(v);
                    }
                }
            }
        }
        return n;
    }

    private static void strings(ArrayNode a, List<String> values) {
        values.forEach(a::add);
    }

    private static void putScore(ObjectNode n, String name, float v) {
        if (Float.isFinite(v)) {
            n.put(name, v);
        } else {
            n.putNull(name);
        }
    }
}

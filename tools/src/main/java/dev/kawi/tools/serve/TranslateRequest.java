package dev.kawi.tools.serve;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kawi.runtime.tokenizer.Tokenizer;
import dev.kawi.weights.ModelConfig;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A parsed and validated {@code POST /translate} body: the texts and their options.
 *
 * <p>The body is a JSON object with either {@code "text": "..."} or {@code "texts": ["...", ...]}
 * and any of the option fields in {@link #OPTION_FIELDS}; an unknown field is refused, so a typo
 * never passes silently. Every refusal names the field and the problem.
 *
 * @param texts   the texts, in request order
 * @param options their decoding options
 */
record TranslateRequest(List<String> texts, RequestOptions options) {
    /** Largest beam accepted: beyond it a request costs far more than any quality it buys. */
    static final int MAX_BEAM = 32;

    /** The option fields and the type each needs, for error messages. */
    static final Map<String, String> OPTION_FIELDS = Map.ofEntries(
            Map.entry("beam_size", "an integer"), Map.entry("nbest", "an integer"), Map.entry("max_length", "an integer"),
            Map.entry("min_length", "an integer"), Map.entry("length_penalty", "a number"), Map.entry("coverage_penalty", "a number"),
            Map.entry("repetition_penalty", "a number"), Map.entry("no_repeat_ngram_size", "an integer"),
            Map.entry("sampling_topk", "an integer"), Map.entry("sampling_topp", "a number"), Map.entry("sampling_temperature", "a number"),
            Map.entry("seed", "an integer"), Map.entry("return_scores", "a boolean"), Map.entry("return_alignments", "a boolean"),
            Map.entry("alignment_layer", "an integer"), Map.entry("max_input_length", "an integer"), Map.entry("truncate_input", "a boolean"));

    private static final Set<String> TEXT_FIELDS = Set.of("text", "texts");

    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /**
     * Parses and validates a body. Size limits give 413, everything else 400.
     *
     * @param body      the raw request body
     * @param limits    the server's limits (texts, characters)
     * @param config    the model, for the limits of lengths and layers
     * @param tokenizer counts source tokens, so that an input over the token limit is refused here and not in a batch
     */
    static TranslateRequest parse(byte[] body, ServerOptions limits, ModelConfig config, Tokenizer tokenizer) throws HttpError {
        JsonNode root;
        try {
            root = JSON.readTree(decodeUtf8(body));
        } catch (JsonProcessingException e) {
            var loc = e.getLocation();
            String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
            throw new HttpError(400, "malformed JSON" + where + ": " + firstLine(e.getOriginalMessage()));
        }
        if (root == null || root.isMissingNode()) {
            throw new HttpError(400, "the request body is empty; send a JSON object with \"text\" or \"texts\"");
        }
        if (!root.isObject()) {
            throw new HttpError(400, "the request body must be a JSON object, was " + kind(root));
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!TEXT_FIELDS.contains(f) && !OPTION_FIELDS.containsKey(f)) {
                throw new HttpError(400, "unknown field \"" + f + "\"");
            }
        }
        List<String> texts = texts(root, limits);
        RequestOptions o = options(root, config);
        int tokenLimit = Math.min(o.maxInputLength(), config.maxPositions() - 1);
        if (!o.truncateInput()) {
            for (int i = 0; i < texts.size(); i++) {
                String t = texts.get(i);
                if (!t.isBlank()) {
                    int n = tokenizer.encode(t).length;
                    if (n > tokenLimit) {
                        throw new HttpError(400, "text " + i + " has " + n + " tokens, more than the limit of " + tokenLimit
                                + " (max_input_length " + o.maxInputLength() + ", model positions " + config.maxPositions()
                                + "); shorten it or set \"truncate_input\": true");
                    }
                }
            }
        }
        return new TranslateRequest(texts, o);
    }

    /** Strict UTF-8: a malformed or truncated sequence is refused with its byte offset. */
    static String decodeUtf8(byte[] body) throws HttpError {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(body);
        CharBuffer out = CharBuffer.allocate(body.length);
        CoderResult r = dec.decode(in, out, true);
        if (r.isError()) {
            throw new HttpError(400, "the request body is not valid UTF-8: bad byte 0x" + String.format("%02x", body[in.position()] & 0xff)
                    + " at offset " + in.position());
        }
        r = dec.flush(out);
        if (r.isError()) {
            throw new HttpError(400, "the request body is not valid UTF-8: truncated sequence at the end");
        }
        return out.flip().toString();
    }

    private static List<String> texts(JsonNode root, ServerOptions limits) throws HttpError {
        JsonNode one = root.get("text");
        JsonNode many = root.get("texts");
        if (one != null && many != null) {
            throw new HttpError(400, "give either \"text\" or \"texts\", not both");
        }
        List<String> texts = new ArrayList<>();
        if (one != null) {
            if (!one.isTextual()) {
                throw new HttpError(400, "field \"text\" must be a string, was " + kind(one));
            }
            texts.add(one.textValue());
        } else if (many != null) {
            if (!many.isArray()) {
                throw new HttpError(400, "field \"texts\" must be an array of strings, was " + kind(many));
            }
            if (many.size() > limits.maxTexts()) {
                throw new HttpError(413, "too many texts: " + many.size() + ", the limit is " + limits.maxTexts());
            }
            for (int i = 0; i < many.size(); i++) {
                JsonNode t = many.get(i);
                if (!t.isTextual()) {
                    throw new HttpError(400, "texts[" + i + "] must be a string, was " + kind(t));
                }
                texts.add(t.textValue());
            }
        } else {
            throw new HttpError(400, "missing field \"text\" (a string) or \"texts\" (an array of strings)");
        }
        for (int i = 0; i < texts.size(); i++) {
            String t = texts.get(i);
            int chars = t.codePointCount(0, t.length());
            if (chars > limits.maxInputChars()) {
                throw new HttpError(413, "text " + i + " has " + chars + " characters, more than the limit of " + limits.maxInputChars());
            }
            int bad = unpairedSurrogate(t);
            if (bad >= 0) {
                throw new HttpError(400, "text " + i + " has an unpaired surrogate \\u" + String.format("%04x", (int) t.charAt(bad))
                        + " at character " + bad);
            }
        }
        return texts;
    }

    private static RequestOptions options(JsonNode root, ModelConfig config) throws HttpError {
        RequestOptions d = RequestOptions.defaults();
        int beam = intField(root, "beam_size", d.beamSize(), 1, MAX_BEAM);
        int nBest = intField(root, "nbest", d.nBest(), 1, beam);
        int maxLength = intField(root, "max_length", d.maxLength(), 1, Integer.MAX_VALUE);
        int minLength = intField(root, "min_length", d.minLength(), 0, maxLength);
        float lengthPenalty = floatField(root, "length_penalty", d.lengthPenalty(), 0, Float.MAX_VALUE, false);
        float coveragePenalty = floatField(root, "coverage_penalty", d.coveragePenalty(), 0, Float.MAX_VALUE, false);
        float repetitionPenalty = floatField(root, "repetition_penalty", d.repetitionPenalty(), 0, Float.MAX_VALUE, true);
        int noRepeat = intField(root, "no_repeat_ngram_size", d.noRepeatNgramSize(), 0, Integer.MAX_VALUE);
        int topK = intField(root, "sampling_topk", d.samplingTopK(), 0, Integer.MAX_VALUE);
        float topP = floatField(root, "sampling_topp", d.samplingTopP(), 0, 1, true);
        float temperature = floatField(root, "sampling_temperature", d.samplingTemperature(), 0, Float.MAX_VALUE, true);
        long seed = longField(root, "seed", d.seed());
        boolean scores = boolField(root, "return_scores", d.returnScores());
        boolean alignments = boolField(root, "return_alignments", d.returnAlignments());
        int layers = config.decoderLayers();
        int layer = intField(root, "alignment_layer", d.alignmentLayer(), -layers, layers - 1);
        int maxInput = intField(root, "max_input_length", d.maxInputLength(), 1, Integer.MAX_VALUE);
        boolean truncate = boolField(root, "truncate_input", d.truncateInput());
        if (topK != 1 && beam != 1) {
            throw new HttpError(400, "sampling (sampling_topk " + topK + ") needs beam_size 1, was " + beam);
        }
        RequestOptions o = new RequestOptions(beam, nBest, maxLength, minLength, lengthPenalty, coveragePenalty, repetitionPenalty,
                noRepeat, topK, topP, temperature, seed, scores, alignments, layer, maxInput, truncate);
        try {
            o.toTranslationOptions();
        } catch (IllegalArgumentException e) {
            throw new HttpError(400, "invalid options: " + e.getMessage());
        }
        return o;
    }

    private static int intField(JsonNode root, String name, int dflt, int min, int max) throws HttpError {
        long v = longField(root, name, dflt);
        if (v < min || v > max) {
            throw new HttpError(400, "field \"" + name + "\" must be in [" + min + ", " + max + "], was " + v);
        }
        return (int) v;
    }

    private static long longField(JsonNode root, String name, long dflt) throws HttpError {
        JsonNode n = root.get(name);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw new HttpError(400, "field \"" + name + "\" must be an integer, was " + kind(n));
        }
        return n.longValue();
    }

    /** A finite number in [min, max], or in (min, max] when minExclusive. */
    private static float floatField(JsonNode root, String name, float dflt, float min, float max, boolean minExclusive) throws HttpError {
        JsonNode n = root.get(name);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isNumber()) {
            throw new HttpError(400, "field \"" + name + "\" must be a number, was " + kind(n));
        }
        float v = (float) n.doubleValue();
        boolean ok = Float.isFinite(v) && (minExclusive ? v > min : v >= min) && v <= max;
        if (!ok) {
            String range = (minExclusive ? "(" : "[") + fmt(min) + ", " + (max == Float.MAX_VALUE ? "inf)" : fmt(max) + "]");
            throw new HttpError(400, "field \"" + name + "\" must be in " + range + ", was " + n.asText());
        }
        return v;
    }

    private static boolean boolField(JsonNode root, String name, boolean dflt) throws HttpError {
        JsonNode n = root.get(name);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw new HttpError(400, "field \"" + name + "\" must be a boolean, was " + kind(n));
        }
        return n.booleanValue();
    }

    private static String fmt(float v) {
        return v == (int) v ? Integer.toString((int) v) : Float.toString(v);
    }

    /** The JSON kind of a node with its value when short, for messages: {@code a string "4"}. */
    private static String kind(JsonNode n) {
        String v = n.toString();
        String shown = v.length() <= 40 ? " " + v : "";
        return switch (n.getNodeType()) {
            case STRING -> "a string" + shown;
            case NUMBER -> (n.isIntegralNumber() ? "an integer" : "a number") + shown;
            case BOOLEAN -> "a boolean" + shown;
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NULL -> "null";
            default -> n.getNodeType().toString().toLowerCase();
        };
    }

    /** The index of the first unpaired UTF-16 surrogate in s, or -1. */
    private static int unpairedSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                } else {
                    return i;
                }
            } else if (Character.isLowSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}

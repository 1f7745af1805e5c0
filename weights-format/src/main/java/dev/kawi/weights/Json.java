package dev.kawi.weights;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON reader and writer for the file's metadata (RFC 8259).
 *
 * <p>The weights module has no dependencies, so that embedding it costs nothing and opening a
 * model does not load a general-purpose JSON library (a large part of cold start). Objects map to
 * {@link LinkedHashMap} (key order kept), arrays to {@link List}, integers that fit to {@link Long},
 * other numbers to {@link Double}, and {@code null} to {@code null}. Duplicate keys, trailing
 * content, nesting deeper than {@value #MAX_DEPTH} and lone surrogates in escapes are errors.
 */
public final class Json {
    /** Deepest nesting accepted; guards the recursive parser's stack against hostile input. */
    public static final int MAX_DEPTH = 64;

    private final String text;
    // The text as an array: parsing runs at every start-up, mostly interpreted, where each
    // String.charAt is several calls; an array access is one bytecode.
    private final char[] cs;
    private final int len;
    private int pos;

    private Json(String text) {
        this.text = text;
        this.cs = text.toCharArray();
        this.len = cs.length;
    }

    /** Thrown for malformed JSON; {@link #offset()} is the character index of the problem. */
    public static final class ParseException extends Exception {
        private final int offset;

        ParseException(String message, int offset) {
            super(message + " at character " + offset);
            this.offset = offset;
        }

        /** Character index in the parsed text where the problem was found. */
        public int offset() {
            return offset;
        }
    }

    /** Parses one JSON value that must span the whole text (surrounding whitespace allowed). */
    public static Object parse(String text) throws ParseException {
        Json p = new Json(text);
        p.skipWhitespace();
        Object value = p.readValue(0);
        p.skipWhitespace();
        if (p.pos != p.len) {
            throw new ParseException("unexpected content after the JSON value", p.pos);
        }
        return value;
    }

    private Object readValue(int depth) throws ParseException {
        if (depth > MAX_DEPTH) {
            throw new ParseException("nesting deeper than " + MAX_DEPTH, pos);
        }
        if (pos >= len) {
            throw new ParseException("unexpected end of JSON", pos);
        }
        char c = cs[pos];
        return switch (c) {
            case '{' -> readObject(depth);
            case '[' -> readArray(depth);
            case '"' -> readString();
            case 't' -> readLiteral("true", Boolean.TRUE);
            case 'f' -> readLiteral("false", Boolean.FALSE);
            case 'n' -> readLiteral("null", null);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield readNumber();
                }
                throw new ParseException("unexpected character '" + printable(c) + "'", pos);
            }
        };
    }

    private Map<String, Object> readObject(int depth) throws ParseException {
        pos++; // '{'
        Map<String, Object> map = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return map;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw new ParseException("expected a string key", pos);
            }
            int keyPos = pos;
            String key = readString();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            Object value = readValue(depth + 1);
            if (map.containsKey(key)) {
                throw new ParseException("duplicate key \"" + key + "\"", keyPos);
            }
            map.put(key, value);
            skipWhitespace();
            char c = peek();
            if (c == ',') {
                pos++;
            } else if (c == '}') {
                pos++;
                return map;
            } else {
                throw new ParseException("expected ',' or '}' in object", pos);
            }
        }
    }

    private List<Object> readArray(int depth) throws ParseException {
        pos++; // '['
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return list;
        }
        while (true) {
            skipWhitespace();
            list.add(readValue(depth + 1));
            skipWhitespace();
            char c = peek();
            if (c == ',') {
                pos++;
            } else if (c == ']') {
                pos++;
                return list;
            } else {
                throw new ParseException("expected ',' or ']' in array", pos);
            }
        }
    }

    private String readString() throws ParseException {
        int start = pos;
        pos++; // opening quote
        StringBuilder sb = null;
        int runStart = pos;
        while (true) {
            if (pos >= len) {
                throw new ParseException("unterminated string", start);
            }
            char c = cs[pos];
            if (c == '"') {
                String s = sb == null ? text.substring(runStart, pos) : sb.append(text, runStart, pos).toString();
                pos++;
                return s;
            }
            if (c < 0x20) {
                throw new ParseException("control character in string", pos);
            }
            if (c == '\\') {
                if (sb == null) {
                    sb = new StringBuilder();
                }
                sb.append(text, runStart, pos);
                pos++;
                if (pos >= len) {
                    throw new ParseException("unterminated escape", pos);
                }
                char e = cs[pos++];
                switch (e) {
                    case '"' -> sb.append('"');
                    case '\\' -> sb.append('\\');
                    case '/' -> sb.append('/');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        char u = readHex4();
                        if (Character.isHighSurrogate(u)) {
                            if (pos + 1 < len && cs[pos] == '\\' && cs[pos + 1] == 'u') {
                                pos += 2;
                                char low = readHex4();
                                if (!Character.isLowSurrogate(low)) {
                                    throw new ParseException("high surrogate not followed by a low surrogate", pos - 6);
                                }
                                sb.append(u).append(low);
                            } else {
                                throw new ParseException("lone high surrogate in \\u escape", pos - 6);
                            }
                        } else if (Character.isLowSurrogate(u)) {
                            throw new ParseException("lone low surrogate in \\u escape", pos - 6);
                        } else {
                            sb.append(u);
                        }
                    }
                    default -> throw new ParseException("invalid escape '\\" + printable(e) + "'", pos - 2);
                }
                runStart = pos;
            } else {
                pos++;
            }
        }
    }

    private char readHex4() throws ParseException {
        if (pos + 4 > len) {
            throw new ParseException("truncated \\u escape", pos);
        }
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(cs[pos + i], 16);
            if (d < 0) {
                throw new ParseException("invalid hex digit in \\u escape", pos + i);
            }
            v = (v << 4) | d;
        }
        pos += 4;
        return (char) v;
    }

    private Object readNumber() throws ParseException {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        if (peek() == '0') {
            pos++;
        } else if (isDigit(peek())) {
            while (isDigit(peek())) {
                pos++;
            }
        } else {
            throw new ParseException("invalid number", start);
        }
        boolean integral = true;
        if (peek() == '.') {
            integral = false;
            pos++;
            if (!isDigit(peek())) {
                throw new ParseException("digit expected after '.'", pos);
            }
            while (isDigit(peek())) {
                pos++;
            }
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            pos++;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (!isDigit(peek())) {
                throw new ParseException("digit expected in exponent", pos);
            }
            while (isDigit(peek())) {
                pos++;
            }
        }
        if (integral && pos - start <= 18) {
            // Up to 18 digits fit a long: no substring, no parse.
            boolean negative = cs[start] == '-';
            long v = 0;
            for (int i = negative ? start + 1 : start; i < pos; i++) {
                v = v * 10 + (cs[i] - '0');
            }
            return negative ? -v : v;
        }
        String s = text.substring(start, pos);
        if (integral && s.length() <= 20) {
            try {
                return Long.parseLong(s);
            } catch (NumberFormatException ignored) {
                // beyond the long range: fall through to double
            }
        }
        return Double.parseDouble(s);
    }

    private Object readLiteral(String word, Object value) throws ParseException {
        if (!text.startsWith(word, pos)) {
            throw new ParseException("invalid literal", pos);
        }
        pos += word.length();
        return value;
    }

    private void expect(char c) throws ParseException {
        if (peek() != c) {
            throw new ParseException("expected '" + c + "'", pos);
        }
        pos++;
    }

    private char peek() {
        return pos < len ? cs[pos] : '\0';
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private void skipWhitespace() {
        while (pos < len) {
            char c = cs[pos];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                pos++;
            } else {
                return;
            }
        }
    }

    private static String printable(char c) {
        return c < 0x20 || c > 0x7e ? String.format("\\u%04x", (int) c) : String.valueOf(c);
    }

    // ---------------------------------------------------------------- writing

    /** Writes a value as compact JSON. Doubles must be finite. */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, -1, 0);
        return sb.toString();
    }

    /** Writes a value as JSON indented by two spaces per level. */
    public static String writePretty(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, 2, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, int indent, int level) {
        switch (v) {
            case null -> sb.append("null");
            case String s -> writeString(sb, s);
            case Boolean b -> sb.append(b);
            case Long l -> sb.append(l);
            case Integer i -> sb.append(i);
            case Short s -> sb.append(s);
            case Double d -> writeDouble(sb, d);
            case Float f -> writeDouble(sb, Double.parseDouble(Float.toString(f)));
            case Map<?, ?> m -> {
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!first) {
                        sb.append(',');
                    }
                    first = false;
                    newline(sb, indent, level + 1);
                    writeString(sb, (String) e.getKey());
                    sb.append(indent >= 0 ? ": " : ":");
                    write(sb, e.getValue(), indent, level + 1);
                }
                if (!m.isEmpty()) {
                    newline(sb, indent, level);
                }
                sb.append('}');
            }
            case List<?> list -> {
                sb.append('[');
                // Arrays of scalars stay on one line: vocabularies and shapes would be unreadable otherwise.
                boolean nested = list.stream().anyMatch(x -> x instanceof Map || x instanceof List);
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) {
                        sb.append(indent >= 0 && !nested ? ", " : ",");
                    }
                    if (nested) {
                        newline(sb, indent, level + 1);
                    }
                    write(sb, list.get(i), indent, level + 1);
                }
                if (nested && !list.isEmpty()) {
                    newline(sb, indent, level);
                }
                sb.append(']');
            }
            default -> throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as JSON");
        }
    }

    private static void writeDouble(StringBuilder sb, double d) {
        if (!Double.isFinite(d)) {
            throw new IllegalArgumentException("JSON cannot represent " + d);
        }
        if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            sb.append((long) d).append(".0");
        } else {
            sb.append(d);
        }
    }

    private static void newline(StringBuilder sb, int indent, int level) {
        if (indent >= 0) {
            sb.append('\n');
            sb.append(" ".repeat(indent * level));
        }
    }

    private static void writeString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (Character.isSurrogate(c) && !validPair(s, i)) {
                        throw new IllegalArgumentException("string has a lone surrogate at index " + i
                                + ": not valid Unicode, cannot be stored as UTF-8");
                    }
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /** True when the surrogate at i is part of a well-formed pair (so it can be written as UTF-8). */
    private static boolean validPair(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }
}

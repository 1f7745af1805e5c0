package dev.kawi.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void parsesAllValueKinds() throws Exception {
        Object v = Json.parse(" {\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\n\\ud83d\\ude00\"], \"b\": {}} ");
        Map<?, ?> m = (Map<?, ?>) v;
        List<?> a = (List<?>) m.get("a");
        assertEquals(1L, a.get(0));
        assertEquals(-2500.0, a.get(1));
        assertEquals(true, a.get(2));
        assertEquals(false, a.get(3));
        assertEquals(null, a.get(4));
        assertEquals("x\u00e9\n\ud83d\ude00", a.get(5));
        assertEquals(Map.of(), m.get("b"));
    }

    @Test
    void writeThenParseIsIdentity() throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "tab\tquote\"back\\slash\u0001 \u2581w\ud83d\ude00");
        m.put("n", Long.MIN_VALUE);
        m.put("d", 1.0e-7);
        m.put("whole", 3.0);
        m.put("list", List.of(1L, List.of(), Map.of("k", false)));
        assertEquals(m, Json.parse(Json.write(m)));
        assertEquals(m, Json.parse(Json.writePretty(m)));
    }

    @Test
    void rejectsMalformedInputWithOffset() {
        String[] bad = {"", "{", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"abc", "\"\\x\"",
            "{\"a\":1}x", "\"\\ud800\"", "\"\\udc00\"", "{\"a\":1,\"a\":2}", "[\"\u0001\"]", "1e", "{1:2}"};
        for (String s : bad) {
            assertThrows(Json.ParseException.class, () -> Json.parse(s), () -> "accepted: " + s);
        }
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse("[1, 2, x]"));
        assertEquals(7, e.offset());
    }

    @Test
    void deepNestingIsAnErrorNotAStackOverflow() {
        String deep = "[".repeat(100_000);
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse(deep));
        assertTrue(e.getMessage().contains("nesting"), e.getMessage());
    }

    @Test
    void writerRefusesWhatJsonCannotHold() {
        assertThrows(IllegalArgumentException.class, () -> Json.write(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Json.write("\ud800"));
    }

    @Test
    void bigIntegersBecomeDoubles() throws Exception {
        assertEquals(1.0e20, Json.parse("100000000000000000000"));
        assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807"));
    }
}

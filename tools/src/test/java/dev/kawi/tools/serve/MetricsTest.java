package dev.kawi.tools.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricsTest {
    @Test
    void rendersCumulativeHistogramsAndCounters() {
        int[] depth = {7};
        Metrics m = new Metrics(() -> depth[0]);
        long ms = 1_000_000L;
        for (long nanos : new long[] {3 * ms, 3 * ms, 40 * ms, 2_000 * ms, 100_000 * ms}) {
            m.requestStarted();
            m.requestDone("/translate", 200, nanos);
        }
        m.requestStarted();
        m.requestDone("other", 404, ms);
        m.requestStarted(); // still in flight
        m.batchDone(3, 30, 500 * ms);
        m.batchDone(1, 10, 250 * ms);
        Map<String, Double> p = PrometheusText.parse(m.render());
        assertEquals(5.0, p.get("kawi_http_requests_total{endpoint=\"/translate\",status=\"200\"}"));
        assertEquals(1.0, p.get("kawi_http_requests_total{endpoint=\"other\",status=\"404\"}"));
        assertEquals(2.0, p.get("kawi_http_request_duration_seconds_bucket{endpoint=\"/translate\",le=\"0.005\"}"));
        assertEquals(3.0, p.get("kawi_http_request_duration_seconds_bucket{endpoint=\"/translate\",le=\"0.05\"}"));
        assertEquals(4.0, p.get("kawi_http_request_duration_seconds_bucket{endpoint=\"/translate\",le=\"2.5\"}"));
        assertEquals(4.0, p.get("kawi_http_request_duration_seconds_bucket{endpoint=\"/translate\",le=\"60\"}"));
        assertEquals(5.0, p.get("kawi_http_request_duration_seconds_bucket{endpoint=\"/translate\",le=\"+Inf\"}"));
        assertEquals(102.046, p.get("kawi_http_request_duration_seconds_sum{endpoint=\"/translate\"}"), 1e-9);
        assertEquals(1.0, p.get("kawi_http_requests_in_flight"));
        assertEquals(7.0, p.get("kawi_queue_depth"));
        assertEquals(1.0, p.get("kawi_batch_size_bucket{le=\"1\"}"));
        assertEquals(1.0, p.get("kawi_batch_size_bucket{le=\"2\"}"));
        assertEquals(2.0, p.get("kawi_batch_size_bucket{le=\"4\"}"));
        assertEquals(4.0, p.get("kawi_batch_size_sum"));
        assertEquals(40.0, p.get("kawi_translated_tokens_total"));
        assertEquals(4.0, p.get("kawi_translated_sentences_total"));
        assertEquals(0.75, p.get("kawi_translate_seconds_total"), 1e-12);
        assertEquals(40.0, p.get("kawi_translated_tokens_per_second"), 1e-9, "10 tokens in 0.25 s, the latest call");
    }

    @Test
    void labelValuesAndNumbersFollowTheFormat() {
        assertEquals("a\\\\b\\\"c\\nd", Metrics.escape("a\\b\"c\nd"));
        assertEquals("0.005", Metrics.number(0.005));
        assertEquals("60", Metrics.number(60));
        assertEquals("0.0000001", Metrics.number(1e-7));
        Map<String, Double> p = PrometheusText.parse("# TYPE x counter\nx{path=\"" + Metrics.escape("a\"\\\nb") + "\"} 1\n");
        assertEquals(1.0, p.get("x{path=\"a\"\\\nb\"}"));
    }

    @Test
    void theCheckingParserRejectsBrokenExpositions() {
        String ok = "# HELP h A histogram.\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n";
        assertEquals(2.0, PrometheusText.parse(ok).get("h_count"));
        for (String bad : new String[] {
                "x 1\n",                                                                          // no TYPE
                "# TYPE x counter\nx 1",                                                          // no final newline
                "# TYPE x counter\nx -1\n",                                                       // negative counter
                "# TYPE x counter\nx 1\nx 2\n",                                                   // duplicate series
                "# TYPE x gauge\nx{a=b} 1\n",                                                     // unquoted label value
                "# TYPE x gauge\nx 1,5\n",                                                        // bad number
                ok.replace("h_bucket{le=\"+Inf\"} 2", "h_bucket{le=\"+Inf\"} 0"),                  // not cumulative
                ok.replace("h_count 2", "h_count 3"),                                             // +Inf differs from count
                ok.replace("h_bucket{le=\"+Inf\"} 2\n", ""),                                      // no +Inf bucket
                "# TYPE x gauge\nx 1\n# TYPE x gauge\n"}) {                                       // second TYPE
            assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse(bad), bad);
        }
        assertTrue(PrometheusText.parse("").isEmpty());
    }
}

package dev.kawi.tools.serve;

import java.math.BigDecimal;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * The server's counters, rendered in the Prometheus text exposition format (version 0.0.4):
 * requests by endpoint and status, request latency by endpoint, translated sentences and tokens,
 * the time spent translating and the latest throughput, the queue depth, requests in flight, and
 * sentences per batch. Safe to update from any thread.
 */
final class Metrics {
    /** Content type of {@link #render()}. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    /** Latency bucket bounds, seconds. */
    private static final double[] LATENCY_BOUNDS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    /** Batch size bucket bounds, sentences. */
    private static final double[] BATCH_BOUNDS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

    private record Key(String endpoint, int status) {
    }

    private final ConcurrentHashMap<Key, LongAdder> requests = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Histogram> latency = new ConcurrentHashMap<>();
    private final Histogram batchSize = new Histogram(BATCH_BOUNDS);
    private final LongAdder sentences = new LongAdder();
    private final LongAdder tokens = new LongAdder();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final IntSupplier queueDepth;
    private volatile double translateSeconds;
    private volatile double tokensPerSecond;

    /** Metrics that read the queue depth from {@code queueDepth} when rendered. */
    Metrics(IntSupplier queueDepth) {
        this.queueDepth = queueDepth;
    }

    /** A request starts being handled. */
    void requestStarted() {
        inFlight.incrementAndGet();
    }

    /** A request was answered with {@code status} after {@code nanos}; endpoint is a known path or "other". */
    void requestDone(String endpoint, int status, long nanos) {
        inFlight.decrementAndGet();
        requests.computeIfAbsent(new Key(endpoint, status), k -> new LongAdder()).increment();
        latency.computeIfAbsent(endpoint, e -> new Histogram(LATENCY_BOUNDS)).observe(nanos / 1e9);
    }

    /** One {@code translate(List)} call of {@code n} sentences produced {@code targetTokens} tokens in {@code nanos}. */
    synchronized void batchDone(int n, long targetTokens, long nanos) {
        batchSize.observe(n);
        sentences.add(n);
        tokens.add(targetTokens);
        double s = nanos / 1e9;
        translateSeconds += s;
        tokensPerSecond = s > 0 ? targetTokens / s : 0;
    }

    /** The text exposition of every metric; ends with a newline. */
    String render() {
        StringBuilder b = new StringBuilder(4096);
        header(b, "kawi_http_requests_total", "counter", "HTTP requests answered, by endpoint and status code.");
        Map<Key, LongAdder> sorted = new TreeMap<>((x, y) -> x.endpoint.equals(y.endpoint)
                ? Integer.compare(x.status, y.status) : x.endpoint.compareTo(y.endpoint));
        sorted.putAll(requests);
        sorted.forEach((k, v) -> b.append("kawi_http_requests_total{endpoint=\"").append(escape(k.endpoint)).append("\",status=\"")
                .append(k.status).append("\"} ").append(v.sum()).append('\n'));
        header(b, "kawi_http_request_duration_seconds", "histogram", "Time from the start of handling to the response, by endpoint.");
        new TreeMap<>(latency).forEach((e, h) -> h.render(b, "kawi_http_request_duration_seconds", "endpoint=\"" + escape(e) + "\","));
        header(b, "kawi_http_requests_in_flight", "gauge", "Requests being handled now.");
        b.append("kawi_http_requests_in_flight ").append(inFlight.get()).append('\n');
        header(b, "kawi_queue_depth", "gauge", "Translate requests waiting for the batch dispatcher.");
        b.append("kawi_queue_depth ").append(queueDepth.getAsInt()).append('\n');
        synchronized (this) {
            header(b, "kawi_batch_size", "histogram", "Sentences per translate call of the dispatcher.");
            batchSize.render(b, "kawi_batch_size", "");
            header(b, "kawi_translated_sentences_total", "counter", "Sentences translated.");
            b.append("kawi_translated_sentences_total ").append(sentences.sum()).append('\n');
            header(b, "kawi_translated_tokens_total", "counter", "Target tokens of the best translations.");
            b.append("kawi_translated_tokens_total ").append(tokens.sum()).append('\n');
            header(b, "kawi_translate_seconds_total", "counter", "Time spent in translate calls.");
            b.append("kawi_translate_seconds_total ").append(number(translateSeconds)).append('\n');
            header(b, "kawi_translated_tokens_per_second", "gauge", "Target tokens per second of the latest translate call.");
            b.append("kawi_translated_tokens_per_second ").append(number(tokensPerSecond)).append('\n');
        }
        return b.toString();
    }

    private static void header(StringBuilder b, String name, String type, String help) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    /** A label value with backslash, double quote and newline escaped, as the format requires. */
    static String escape(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /** A finite double in plain decimal notation ("0.25", "3"). */
    static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    /** A histogram with fixed upper bounds; rendered cumulatively with a final +Inf bucket. */
    private static final class Histogram {
        private final double[] bounds;
        private final long[] counts;
        private long count;
        private double sum;

        Histogram(double[] bounds) {
            this.bounds = bounds;
            this.counts = new long[bounds.length + 1];
        }

        synchronized void observe(double v) {
            int i = 0;
            while (i < bounds.length && v > bounds[i]) {
                i++;
            }
            counts[i]++;
            count++;
            sum += v;
        }

        /** Appends the bucket, sum and count lines; {@code labels} is empty or ends with a comma. */
        synchronized void render(StringBuilder b, String name, String labels) {
            long cumulative = 0;
            for (int i = 0; i <= bounds.length; i++) {
                cumulative += counts[i];
                String le = i < bounds.length ? number(bounds[i]) : "+Inf";
                b.append(name).append("_bucket{").append(labels).append("le=\"").append(le).append("\"} ").append(cumulative).append('\n');
            }
            String plain = labels.isEmpty() ? "" : "{" + labels.substring(0, labels.length() - 1) + "}";
            b.append(name).append("_sum").append(plain).append(' ').append(number(sum)).append('\n');
            b.append(name).append("_count").append(plain).append(' ').append(count).append('\n');
        }
    }
}

package dev.kawi.tools.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kawi.runtime.Translation;
import dev.kawi.runtime.TranslationOptions;
import dev.kawi.runtime.Translator;
import dev.kawi.runtime.TranslatorOptions;
import dev.kawi.weights.DType;
import dev.kawi.weights.ModelConfig;
import dev.kawi.weights.RandomModels;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real server on a free port, a small random model, and java.net.http requests. */
class TranslationServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SEED = 20_261_127L;
    private static final String[] WORDS = {"Haus", "Baum", "gut", "und", "der", "Tag", "wir", "ja", "Zug", "neu", "See", "rot"};

    @TempDir
    Path dir;
    Path model;
    Translator oracle;
    HttpClient client;
    final List<TranslationServer> servers = new ArrayList<>();
    final List<String> log = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        model = dir.resolve("m.kawi");
        // 1+1 layers, d_model 64, vocabulary 300 (a byte tokenizer), 32 positions.
        ModelConfig c = new ModelConfig(1, 1, 64, 2, 128, 300, 32, ModelConfig.NormPlacement.POST, false, false, 1e-5f,
                ModelConfig.Activation.RELU, ModelConfig.EmbeddingScale.SQRT_D_MODEL, ModelConfig.Positions.SINUSOIDAL,
                true, false, true, true, 0, 1, 2, 3, 1);
        RandomModels.write(model, c, DType.F32, 3);
        oracle = Translator.open(model, new TranslatorOptions(1, 1)); // batches of one: every sentence alone
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(30)).build();
    }

    @AfterEach
    void tearDown() {
        servers.forEach(TranslationServer::close);
        oracle.close();
        client.close();
    }

    /** Holds every translate call until {@link #open()}; counts and sizes the calls. */
    static final class GatedEngine implements BatchDispatcher.Engine {
        final Translator translator;
        final CountDownLatch gate = new CountDownLatch(1);
        final Semaphore entered = new Semaphore(0);
        final List<Integer> sizes = new CopyOnWriteArrayList<>();

        GatedEngine(Translator translator) {
            this.translator = translator;
        }

        @Override
        public List<Translation> translate(List<String> texts, TranslationOptions options) {
            sizes.add(texts.size());
            entered.release();
            try {
                if (!gate.await(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the test never opened the gate");
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return translator.translate(texts, options);
        }

        void open() {
            gate.countDown();
        }

        void awaitEntered(int calls) throws InterruptedException {
            assertTrue(entered.tryAcquire(calls, 60, TimeUnit.SECONDS), "the dispatcher never called the engine");
        }
    }

    static ServerOptions options(int maxBatch, int batchWaitMs, int queueSize, int timeoutMs) {
        return new ServerOptions("127.0.0.1", 0, maxBatch, batchWaitMs, queueSize, 1 << 20, 4096, 64, timeoutMs);
    }

    TranslationServer start(ServerOptions o, GatedEngine engine) throws IOException {
        Translator t = Translator.open(model, new TranslatorOptions(2, o.maxBatch()));
        TranslationServer s = engine == null
                ? TranslationServer.start(t, "m.kawi", o, log::add)
                : TranslationServer.start(t, "m.kawi", o, engine, log::add);
        servers.add(s);
        return s;
    }

    GatedEngine gated() throws IOException {
        return new GatedEngine(Translator.open(model, new TranslatorOptions(2, 64)));
    }

    static URI uri(TranslationServer s, String path) {
        return URI.create(s.url() + path);
    }

    HttpResponse<String> post(TranslationServer s, String path, byte[] body) throws Exception {
        return client.send(HttpRequest.newBuilder(uri(s, path)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(TranslationServer s, String body) throws Exception {
        return post(s, "/translate", body.getBytes(StandardCharsets.UTF_8));
    }

    CompletableFuture<HttpResponse<String>> postAsync(TranslationServer s, String body) {
        return client.sendAsync(HttpRequest.newBuilder(uri(s, "/translate")).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> send(TranslationServer s, String method, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(uri(s, path)).method(method, HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                fail("gave up waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    /** A random request: one text or several, with one of a few option sets (greedy, beam n-best, sampling, alignments). */
    static String randomRequest(SplittableRandom rnd) {
        int n = rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(3) : 1;
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int words = 1 + rnd.nextInt(3);
            StringBuilder b = new StringBuilder();
            for (int w = 0; w < words; w++) {
                b.append(w == 0 ? "" : " ").append(WORDS[rnd.nextInt(WORDS.length)]);
            }
            texts.add(b.toString());
        }
        String t = n == 1 && rnd.nextBoolean() ? "\"text\":" + quote(texts.get(0)) : "\"texts\":" + texts.stream().map(x -> quote(x)).toList();
        String opts = switch (rnd.nextInt(4)) {
            case 0 -> "";
            case 1 -> ",\"beam_size\":2,\"nbest\":2,\"return_scores\":true";
            case 2 -> ",\"sampling_topk\":20,\"sampling_temperature\":0.8,\"seed\":" + rnd.nextInt(3);
            default -> ",\"return_alignments\":true,\"return_scores\":true";
        };
        return "{" + t + ",\"max_length\":" + (4 + rnd.nextInt(5)) + opts + "}";
    }

    static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Checks a 200 response's texts and tokens against the oracle translating each text alone. */
    void assertMatchesOracle(String request, HttpResponse<String> r) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        JsonNode req = JSON.readTree(request);
        List<String> texts = new ArrayList<>();
        if (req.has("text")) {
            texts.add(req.get("text").textValue());
        } else {
            req.get("texts").forEach(x -> texts.add(x.textValue()));
        }
        RequestOptions o = TranslateRequest.parse(request.getBytes(StandardCharsets.UTF_8), options(1, 0, 1, 1), oracle.config(),
                oracle.tokenizer()).options();
        JsonNode got = JSON.readTree(r.body()).get("translations");
        assertEquals(texts.size(), got.size(), r.body());
        for (int i = 0; i < texts.size(); i++) {
            Translation want = oracle.translate(texts.get(i), o.toTranslationOptions());
            assertEquals(want.text(), got.get(i).get("text").textValue(), request);
            List<String> tokens = new ArrayList<>();
            got.get(i).get("tokens").forEach(x -> tokens.add(x.textValue()));
            assertEquals(want.tokens(), tokens, request);
            if (o.returnScores() || o.beamSize() > 1) {
                assertEquals(want.score(), got.get(i).get("score").floatValue(), 0f, request);
            }
        }
    }

    @Test
    void parallelRequestsGiveTheSameResultsAsSequentialOnes() throws Exception {
        TranslationServer s = start(options(16, 5, 256, 120_000), null);
        SplittableRandom rnd = new SplittableRandom(SEED);
        List<String> requests = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            requests.add(randomRequest(rnd));
        }
        List<String> sequential = new ArrayList<>();
        for (String q : requests) {
            HttpResponse<String> r = post(s, q);
            assertEquals(200, r.statusCode(), "seed " + SEED + ": " + q + " -> " + r.body());
            sequential.add(r.body());
        }
        List<CompletableFuture<HttpResponse<String>>> futures = requests.stream().map(q -> postAsync(s, q)).toList();
        for (int i = 0; i < requests.size(); i++) {
            HttpResponse<String> r = futures.get(i).get(120, TimeUnit.SECONDS);
            assertEquals(sequential.get(i), r.body(), "seed " + SEED + ", request " + i + ": " + requests.get(i));
        }
        for (int i = 0; i < requests.size(); i += 7) {
            assertMatchesOracle(requests.get(i), post(s, requests.get(i)));
        }
        assertTrue(log.isEmpty(), log.toString());
    }

    @Test
    void queuedRequestsAreTranslatedInOneCallPerOptionSet() throws Exception {
        GatedEngine engine = gated();
        TranslationServer s = start(options(64, 0, 64, 120_000), engine);
        String first = "{\"text\":\"Haus\",\"max_length\":5}";
        CompletableFuture<HttpResponse<String>> a = postAsync(s, first);
        engine.awaitEntered(1);
        List<String> queued = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            queued.add("{\"texts\":[\"" + WORDS[i] + "\",\"" + WORDS[i + 4] + "\"],\"max_length\":5}");
        }
        queued.add(1, "{\"text\":\"See rot\",\"beam_size\":2,\"max_length\":5}");
        queued.add("{\"text\":\"ja\",\"beam_size\":2,\"max_length\":5}");
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        for (String q : queued) {
            futures.add(postAsync(s, q));
            int n = futures.size();
            waitFor(() -> s.queueDepth() == n, n + " queued requests"); // keeps the queue in list order
        }
        engine.open();
        assertMatchesOracle(first, a.get(60, TimeUnit.SECONDS));
        for (int i = 0; i < queued.size(); i++) {
            assertMatchesOracle(queued.get(i), futures.get(i).get(60, TimeUnit.SECONDS));
        }
        // The first alone, then one round: 4 greedy requests of 2 texts in one call, 2 beam requests in another.
        assertEquals(List.of(1, 8, 2), engine.sizes);
        engine.translator.close();
    }

    @Test
    void aRoundHoldsAtMostMaxBatchSentences() throws Exception {
        GatedEngine engine = gated();
        TranslationServer s = start(options(3, 0, 64, 120_000), engine);
        CompletableFuture<HttpResponse<String>> a = postAsync(s, "{\"text\":\"Haus\",\"max_length\":4}");
        engine.awaitEntered(1);
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            futures.add(postAsync(s, "{\"text\":\"" + WORDS[i] + "\",\"max_length\":4}"));
            int queued = i + 1;
            waitFor(() -> s.queueDepth() == queued, queued + " queued requests"); // keeps the queue in request order
        }
        engine.open();
        assertEquals(200, a.get(60, TimeUnit.SECONDS).statusCode());
        for (int i = 0; i < 4; i++) {
            assertMatchesOracle("{\"text\":\"" + WORDS[i] + "\",\"max_length\":4}", futures.get(i).get(60, TimeUnit.SECONDS));
        }
        assertEquals(List.of(1, 3, 1), engine.sizes);
        engine.translator.close();
    }

    @Test
    void overloadIsAnswered503AndTheServerRecovers() throws Exception {
        GatedEngine engine = gated();
        TranslationServer s = start(options(8, 0, 2, 120_000), engine);
        String q = "{\"text\":\"Baum\",\"max_length\":4}";
        CompletableFuture<HttpResponse<String>> a = postAsync(s, q);
        engine.awaitEntered(1);
        CompletableFuture<HttpResponse<String>> b = postAsync(s, q);
        CompletableFuture<HttpResponse<String>> c = postAsync(s, q);
        waitFor(() -> s.queueDepth() == 2, "a full queue");
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = post(s, q);
            assertEquals(503, r.statusCode(), r.body());
            assertEquals("1", r.headers().firstValue("Retry-After").orElse(null));
            assertTrue(JSON.readTree(r.body()).get("error").get("message").textValue().contains("queue is full"), r.body());
        }
        engine.open();
        for (var f : List.of(a, b, c)) {
            assertMatchesOracle(q, f.get(60, TimeUnit.SECONDS));
        }
        assertEquals(200, send(s, "GET", "/health").statusCode());
        assertMatchesOracle(q, post(s, q));
        Map<String, Double> m = PrometheusText.parse(send(s, "GET", "/metrics").body());
        assertEquals(5.0, m.get("kawi_http_requests_total{endpoint=\"/translate\",status=\"503\"}"));
        assertEquals(4.0, m.get("kawi_http_requests_total{endpoint=\"/translate\",status=\"200\"}"));
        engine.translator.close();
    }

    @Test
    void aRequestOverTheTimeoutIsAnswered504AndLeavesTheQueue() throws Exception {
        GatedEngine engine = gated();
        TranslationServer s = start(options(8, 0, 8, 2_000), engine);
        String q = "{\"text\":\"Zug\",\"max_length\":4}";
        CompletableFuture<HttpResponse<String>> a = postAsync(s, q);
        engine.awaitEntered(1);
        CompletableFuture<HttpResponse<String>> b = postAsync(s, q);
        waitFor(() -> s.queueDepth() == 1, "a queued request");
        for (var f : List.of(a, b)) {
            HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
            assertEquals(504, r.statusCode(), r.body());
            assertTrue(r.body().contains("timeout of 2000 ms"), r.body());
        }
        assertEquals(0, s.queueDepth(), "the timed-out request left the queue");
        engine.open();
        assertMatchesOracle(q, post(s, q));
        assertEquals(List.of(1, 1), engine.sizes, "the timed-out queued request was never translated");
        engine.translator.close();
    }

    /** One malformed request and what the answer must say. */
    record Bad(String what, byte[] body, int status, String message) {
        Bad(String what, String body, int status, String message) {
            this(what, body.getBytes(StandardCharsets.UTF_8), status, message);
        }
    }

    @Test
    void malformedRequestsAreRefusedWithTheRightCodeAndAClearMessage() throws Exception {
        TranslationServer s = start(new ServerOptions("127.0.0.1", 0, 8, 0, 16, 2000, 20, 3, 60_000), null);
        byte[] badUtf8 = "{\"text\":\"ab\"}".getBytes(StandardCharsets.UTF_8);
        badUtf8[10] = (byte) 0xC3; // a lead byte followed by a quote, not by a continuation byte
        List<Bad> cases = List.of(
                new Bad("trailing comma", "{\"text\":\"a\",}", 400, "malformed JSON at line 1, column 13"),
                new Bad("not JSON", "text=hello", 400, "malformed JSON at line 1"),
                new Bad("trailing tokens", "{\"text\":\"a\"} {}", 400, "malformed JSON"),
                new Bad("duplicate key", "{\"text\":\"a\",\"text\":\"b\"}", 400, "Duplicate field 'text'"),
                new Bad("invalid UTF-8", badUtf8, 400, "not valid UTF-8: bad byte 0xc3 at offset 10"),
                new Bad("empty body", "", 400, "the request body is empty"),
                new Bad("array root", "[\"a\"]", 400, "must be a JSON object, was an array"),
                new Bad("text not a string", "{\"text\":5}", 400, "field \"text\" must be a string, was an integer 5"),
                new Bad("texts not an array", "{\"texts\":\"a\"}", 400, "field \"texts\" must be an array of strings, was a string \"a\""),
                new Bad("texts element", "{\"texts\":[\"a\",true]}", 400, "texts[1] must be a string, was a boolean true"),
                new Bad("both", "{\"text\":\"a\",\"texts\":[\"b\"]}", 400, "either \"text\" or \"texts\", not both"),
                new Bad("neither", "{\"beam_size\":2}", 400, "missing field \"text\""),
                new Bad("unknown field", "{\"text\":\"a\",\"beam\":2}", 400, "unknown field \"beam\""),
                new Bad("option type", "{\"text\":\"a\",\"beam_size\":\"4\"}", 400, "field \"beam_size\" must be an integer, was a string \"4\""),
                new Bad("fractional int", "{\"text\":\"a\",\"max_length\":2.5}", 400, "field \"max_length\" must be an integer"),
                new Bad("bool type", "{\"text\":\"a\",\"return_scores\":1}", 400, "field \"return_scores\" must be a boolean"),
                new Bad("beam range", "{\"text\":\"a\",\"beam_size\":0}", 400, "field \"beam_size\" must be in [1, 32], was 0"),
                new Bad("nbest over beam", "{\"text\":\"a\",\"beam_size\":2,\"nbest\":3}", 400, "field \"nbest\" must be in [1, 2], was 3"),
                new Bad("topp range", "{\"text\":\"a\",\"sampling_topk\":0,\"sampling_topp\":1.5}", 400, "\"sampling_topp\" must be in (0, 1]"),
                new Bad("sampling with beam", "{\"text\":\"a\",\"sampling_topk\":0,\"beam_size\":2}", 400, "needs beam_size 1"),
                new Bad("alignment layer", "{\"text\":\"a\",\"alignment_layer\":1}", 400, "field \"alignment_layer\" must be in [-1, 0], was 1"),
                new Bad("unpaired surrogate", "{\"text\":\"a\\ud800b\"}", 400, "unpaired surrogate \\ud800 at character 1"),
                // 20 characters, 25 byte tokens (each word starts with the 3-byte marker U+2581).
                new Bad("too many tokens", "{\"text\":\"" + "x".repeat(15) + " " + "y".repeat(4) + "\",\"max_input_length\":20}", 400,
                        "text 0 has 25 tokens, more than the limit of 20 (max_input_length 20"),
                new Bad("too many texts", "{\"texts\":[\"a\",\"b\",\"c\",\"d\"]}", 413, "too many texts: 4, the limit is 3"),
                new Bad("text too long", "{\"texts\":[\"a\",\"" + "ü".repeat(21) + "\"]}", 413, "text 1 has 21 characters, more than the limit of 20"),
                new Bad("body too big", "{\"text\":\"" + " ".repeat(2000) + "\"}", 413, "exceeds the limit of 2000 bytes"));
        for (Bad bad : cases) {
            HttpResponse<String> r = post(s, "/translate", bad.body);
            assertEquals(bad.status, r.statusCode(), bad.what + ": " + r.body());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), bad.what);
            JsonNode e = JSON.readTree(r.body()).get("error");
            assertNotNull(e, bad.what + ": " + r.body());
            assertEquals(bad.status, e.get("status").intValue(), bad.what);
            assertTrue(e.get("message").textValue().contains(bad.message), bad.what + ": " + e.get("message").textValue());
            assertFalse(e.get("message").textValue().contains("\n\tat "), "no stack trace");
        }
        // A body streamed without Content-Length is cut off while reading.
        HttpResponse<String> chunked = client.send(HttpRequest.newBuilder(uri(s, "/translate"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(new byte[5000]))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(413, chunked.statusCode(), chunked.body());
        // The same text with truncation allowed is translated.
        assertEquals(200, post(s, "{\"text\":\"" + "x".repeat(15) + " " + "y".repeat(4) + "\",\"max_input_length\":20,\"truncate_input\":true}")
                .statusCode());

        HttpResponse<String> get = send(s, "GET", "/translate");
        assertEquals(405, get.statusCode());
        assertEquals("POST", get.headers().firstValue("Allow").orElse(null));
        HttpResponse<String> postHealth = post(s, "/health", "{}".getBytes(StandardCharsets.UTF_8));
        assertEquals(405, postHealth.statusCode());
        assertEquals("GET", postHealth.headers().firstValue("Allow").orElse(null));
        assertEquals(405, send(s, "DELETE", "/metrics").statusCode());
        HttpResponse<String> missing = send(s, "GET", "/translate/x");
        assertEquals(404, missing.statusCode());
        assertTrue(missing.body().contains("no such endpoint: /translate/x"), missing.body());
        assertEquals(404, send(s, "GET", "/").statusCode());

        HttpResponse<String> health = send(s, "GET", "/health");
        assertEquals(200, health.statusCode());
        JsonNode h = JSON.readTree(health.body());
        assertEquals("ok", h.get("status").textValue());
        assertEquals(64, h.get("model").get("d_model").intValue());
        assertEquals(300, h.get("model").get("vocab_size").intValue());
        assertEquals("m.kawi", h.get("model").get("name").textValue());
        assertTrue(log.isEmpty(), log.toString());
    }

    @Test
    void responsesCarryNBestScoresAndAlignmentsWhenAsked() throws Exception {
        TranslationServer s = start(options(8, 0, 8, 60_000), null);
        JsonNode plain = JSON.readTree(post(s, "{\"text\":\"Haus\",\"max_length\":4}").body()).get("translations").get(0);
        assertFalse(plain.has("score"), "greedy without return_scores has no score");
        assertFalse(plain.has("alternatives"));
        assertFalse(plain.has("alignments"));
        String q = "{\"text\":\"Haus\",\"max_length\":4,\"beam_size\":3,\"nbest\":3,\"return_alignments\":true,\"return_scores\":true}";
        JsonNode t = JSON.readTree(post(s, q).body()).get("translations").get(0);
        Translation want = oracle.translate("Haus", TranslateRequest.parse(q.getBytes(StandardCharsets.UTF_8), options(1, 0, 1, 1),
                oracle.config(), oracle.tokenizer()).options().toTranslationOptions());
        assertEquals(3, t.get("alternatives").size());
        for (int i = 0; i < 3; i++) {
            assertEquals(want.alternatives().get(i).text(), t.get("alternatives").get(i).get("text").textValue());
            assertEquals(want.alternatives().get(i).normalizedScore(), t.get("alternatives").get(i).get("normalized_score").floatValue(), 0f);
        }
        assertEquals(want.tokens().size(), t.get("alignments").size(), "one alignment row per target token");
        assertEquals(want.sourceTokens().size(), t.get("source_tokens").size());
        for (int i = 0; i < want.alignments().length; i++) {
            JsonNode row = t.get("alignments").get(i);
            assertEquals(want.sourceTokens().size(), row.size());
            for (int j = 0; j < row.size(); j++) {
                assertEquals(want.alignments()[i][j], row.get(j).floatValue(), 0f);
            }
        }
        assertEquals(want.tokens().size(), t.get("token_scores").size());
        JsonNode empty = JSON.readTree(post(s, "{\"texts\":[]}").body());
        assertEquals(0, empty.get("translations").size());
    }

    @Test
    void closeFinishesRequestsInFlightThenClosesTheTranslator() throws Exception {
        GatedEngine engine = gated();
        Translator served = Translator.open(model, new TranslatorOptions(2, 8));
        TranslationServer s = TranslationServer.start(served, "m.kawi", options(8, 0, 8, 120_000), engine, log::add);
        String qa = "{\"texts\":[\"Haus\",\"gut und\"],\"max_length\":5}";
        String qb = "{\"text\":\"See\",\"max_length\":5}";
        CompletableFuture<HttpResponse<String>> a = postAsync(s, qa);
        engine.awaitEntered(1);
        CompletableFuture<HttpResponse<String>> b = postAsync(s, qb);
        waitFor(() -> s.queueDepth() == 1, "a queued request");
        Thread closer = Thread.ofPlatform().start(s::close);
        int port = s.address().getPort();
        waitFor(() -> {
            try (Socket probe = new Socket("127.0.0.1", port)) {
                return false;
            } catch (ConnectException e) {
                return true;
            } catch (IOException e) {
                return false;
            }
        }, "the listener to close");
        assertTrue(closer.isAlive(), "close waits for the requests in flight");
        assertFalse(a.isDone());
        engine.open();
        closer.join(TimeUnit.SECONDS.toMillis(60));
        assertFalse(closer.isAlive(), "close returned");
        assertMatchesOracle(qa, a.get(60, TimeUnit.SECONDS));
        assertMatchesOracle(qb, b.get(60, TimeUnit.SECONDS));
        assertEquals("close", a.get().headers().firstValue("Connection").orElse(null), "no keep-alive while draining");
        assertThrows(IllegalStateException.class, () -> served.translate("Haus"), "the translator is closed after the requests");
        s.close(); // idempotent
        engine.translator.close();
    }

    @Test
    void metricsAreValidPrometheusTextAndCountTheRequests() throws Exception {
        TranslationServer s = start(options(8, 0, 8, 60_000), null);
        int tokens = 0;
        // The blank text first: the tokens-per-second gauge shows the latest call, which must have tokens.
        for (String q : List.of("{\"text\":\"\",\"max_length\":3}", "{\"text\":\"Haus\",\"max_length\":6}",
                "{\"texts\":[\"Baum\",\"rot\"],\"max_length\":3}")) {
            HttpResponse<String> r = post(s, q);
            assertEquals(200, r.statusCode(), r.body());
            for (JsonNode t : JSON.readTree(r.body()).get("translations")) {
                tokens += t.get("tokens").size();
            }
        }
        assertEquals(400, post(s, "{\"text\":1}").statusCode());
        assertEquals(404, send(s, "GET", "/nope").statusCode());
        assertEquals(200, send(s, "GET", "/health").statusCode());
        HttpResponse<String> r = send(s, "GET", "/metrics");
        assertEquals(200, r.statusCode());
        assertEquals(Metrics.CONTENT_TYPE, r.headers().firstValue("Content-Type").orElse(null));
        Map<String, Double> m = PrometheusText.parse(r.body());
        assertEquals(3.0, m.get("kawi_http_requests_total{endpoint=\"/translate\",status=\"200\"}"));
        assertEquals(1.0, m.get("kawi_http_requests_total{endpoint=\"/translate\",status=\"400\"}"));
        assertEquals(1.0, m.get("kawi_http_requests_total{endpoint=\"other\",status=\"404\"}"));
        assertEquals(1.0, m.get("kawi_http_requests_total{endpoint=\"/health\",status=\"200\"}"));
        assertEquals(4.0, m.get("kawi_http_request_duration_seconds_count{endpoint=\"/translate\"}"));
        assertTrue(m.get("kawi_http_request_duration_seconds_sum{endpoint=\"/translate\"}") > 0);
        assertEquals(tokens, m.get("kawi_translated_tokens_total"));
        assertTrue(tokens > 0);
        assertEquals(4.0, m.get("kawi_translated_sentences_total"));
        assertEquals(4.0, m.get("kawi_batch_size_sum"), "sentences over all batches");
        assertEquals(3.0, m.get("kawi_batch_size_count"), "one translate call per request, sent one at a time");
        assertEquals(2.0, m.get("kawi_batch_size_bucket{le=\"1\"}"));
        assertEquals(3.0, m.get("kawi_batch_size_bucket{le=\"2\"}"));
        assertEquals(0.0, m.get("kawi_queue_depth"));
        assertEquals(1.0, m.get("kawi_http_requests_in_flight"), "the /metrics request itself");
        assertTrue(m.get("kawi_translated_tokens_per_second") > 0);
        assertTrue(m.get("kawi_translate_seconds_total") > 0);
        assertFalse(m.containsKey("kawi_http_requests_total{endpoint=\"/metrics\",status=\"200\"}"), "counted once answered");
        Map<String, Double> again = PrometheusText.parse(send(s, "GET", "/metrics").body());
        assertEquals(1.0, again.get("kawi_http_requests_total{endpoint=\"/metrics\",status=\"200\"}"));
        assertEquals(Collections.emptyList(), log);
    }
}

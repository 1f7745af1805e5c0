package dev.kawi.tools.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.kawi.runtime.Translation;
import dev.kawi.runtime.Translator;
import dev.kawi.tools.TranslationJson;
import dev.kawi.weights.ModelConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * An HTTP JSON API over a {@link Translator}: {@code POST /translate}, {@code GET /health},
 * {@code GET /metrics} (Prometheus text). Concurrent requests are batched by a
 * {@link BatchDispatcher}; limits answer 413, 503 and 504; {@link #close()} stops accepting,
 * lets requests in flight finish, then closes the translator.
 *
 * <p>It runs on the JDK's own {@code com.sun.net.httpserver.HttpServer}: part of the JDK, so no
 * new dependency and no native code, and ample for a JSON API whose cost is the translation, not
 * the HTTP. Each exchange is handled on a virtual thread, which parks cheaply while the request
 * waits for its batch.
 */
public final class TranslationServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String JSON_TYPE = "application/json; charset=utf-8";

    private final Translator translator;
    private final String modelName;
    private final ServerOptions options;
    private final Metrics metrics;
    private final BatchDispatcher dispatcher;
    private final HttpServer http;
    private final ExecutorService handlers;
    private final Consumer<String> log;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Object closeLock = new Object();
    private volatile boolean closing;

    private TranslationServer(Translator translator, String modelName, ServerOptions options, BatchDispatcher.Engine engine,
                              Consumer<String> log) throws IOException {
        this.translator = translator;
        this.modelName = modelName;
        this.options = options;
        this.log = log;
        this.metrics = new Metrics(this::queueDepth); // read only when /metrics is served, after construction
        this.dispatcher = new BatchDispatcher(engine, options, metrics, log);
        InetSocketAddress addr = new InetSocketAddress(InetAddress.getByName(options.host()), options.port());
        this.http = HttpServer.create(addr, Math.max(128, options.queueSize()));
        this.handlers = Executors.newVirtualThreadPerTaskExecutor();
        http.setExecutor(handlers);
        http.createContext("/", this::handle);
    }

    /**
     * Starts serving {@code translator}, which the server then owns and closes in {@link #close()}.
     *
     * @param modelName shown by {@code /health} (the model file's name)
     * @param log       receives one line per server-side failure and on shutdown
     */
    public static TranslationServer start(Translator translator, String modelName, ServerOptions options, Consumer<String> log)
            throws IOException {
        return start(translator, modelName, options, translator::translate, log);
    }

    /** Starts serving with {@code engine} doing the translation (tests pass one they can hold back). */
    static TranslationServer start(Translator translator, String modelName, ServerOptions options, BatchDispatcher.Engine engine,
                                   Consumer<String> log) throws IOException {
        TranslationServer s = new TranslationServer(translator, modelName, options, engine, log);
        s.dispatcher.start();
        s.http.start();
        return s;
    }

    /** The address the server listens on (the actual port when 0 was asked). */
    public InetSocketAddress address() {
        return http.getAddress();
    }

    /** {@code http://host:port}, with an IPv6 host in brackets. */
    public String url() {
        InetSocketAddress a = address();
        String h = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        return "http://" + h + ":" + a.getPort();
    }

    /** Requests waiting for the dispatcher. */
    int queueDepth() {
        return dispatcher.depth();
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitClosed() throws InterruptedException {
        closed.await();
    }

    /**
     * Stops accepting connections, waits for the requests in flight (each ends within the
     * request timeout), lets the dispatcher finish what it holds, then closes the translator.
     * Idempotent; a second caller waits for the first to finish.
     */
    @Override
    public void close() {
        synchronized (closeLock) {
            if (closing) {
                try {
                    closed.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return;
            }
            closing = true;
        }
        try {
            log.accept("shutting down: finishing requests in flight");
            // stop() closes the listening socket at once, then returns as soon as every exchange
            // has ended; the bound is only for exchanges stuck on a client that stopped reading.
            int graceSeconds = (int) Math.min(Integer.MAX_VALUE, TimeUnit.MILLISECONDS.toSeconds(options.timeoutMs()) + 5);
            http.stop(graceSeconds);
            handlers.shutdown();
            dispatcher.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            translator.close();
            closed.countDown();
        }
    }

    // ---- HTTP ----

    /** One exchange being handled: where it went, when it started, and whether it was counted yet. */
    private static final class Call {
        final HttpExchange ex;
        final String endpoint;
        final long t0 = System.nanoTime();
        boolean counted;

        Call(HttpExchange ex, String endpoint) {
            this.ex = ex;
            this.endpoint = endpoint;
        }
    }

    private void handle(HttpExchange ex) {
        metrics.requestStarted();
        String path = ex.getRequestURI().getPath();
        Call call = new Call(ex, switch (path) {
            case "/translate", "/health", "/metrics" -> path;
            default -> "other";
        });
        try {
            switch (path) {
                case "/translate" -> {
                    requireMethod(ex, "POST");
                    respondJson(call, 200, translate(ex, call.t0));
                }
                case "/health" -> {
                    requireMethod(ex, "GET");
                    respondJson(call, 200, health());
                }
                case "/metrics" -> {
                    requireMethod(ex, "GET");
                    respond(call, 200, Metrics.CONTENT_TYPE, metrics.render().getBytes(StandardCharsets.UTF_8));
                }
                default -> throw new HttpError(404, "no such endpoint: " + path + " (try POST /translate, GET /health, GET /metrics)");
            }
        } catch (HttpError e) {
            error(call, e.status, e.getMessage());
        } catch (IOException e) {
            // The client went away mid-exchange; nothing to answer.
        } catch (RuntimeException e) {
            log.accept("internal error on " + path + ": " + e);
            error(call, 500, "internal error: " + e.getClass().getSimpleName());
        } finally {
            if (!call.counted) {
                // Counted as 499 (nginx's "client closed request"): no response could be sent.
                metrics.requestDone(call.endpoint, 499, System.nanoTime() - call.t0);
            }
            ex.close();
        }
    }

    private static void requireMethod(HttpExchange ex, String method) throws HttpError {
        if (!ex.getRequestMethod().equals(method)) {
            ex.getResponseHeaders().set("Allow", method);
            throw new HttpError(405, "method " + ex.getRequestMethod() + " not allowed on " + ex.getRequestURI().getPath() + "; use " + method);
        }
    }

    private ObjectNode translate(HttpExchange ex, long t0) throws HttpError, IOException {
        byte[] body = readBody(ex);
        ModelConfig config = translator.config();
        TranslateRequest req = TranslateRequest.parse(body, options, config, translator.tokenizer());
        List<Translation> results = req.texts().isEmpty() ? List.of() : await(req, t0);
        ObjectNode root = JSON.createObjectNode();
        ArrayNode arr = root.putArray("translations");
        for (Translation t : results) {
            arr.add(toJson(t, req.options()));
        }
        return root;
    }

    private List<Translation> await(TranslateRequest req, long t0) throws HttpError {
        BatchDispatcher.Job job = new BatchDispatcher.Job(req.texts(), req.options());
        switch (dispatcher.submit(job)) {
            case FULL -> throw retryLater("the translation queue is full (" + options.queueSize() + " requests); retry later");
            case CLOSED -> throw retryLater("the server is shutting down");
            case QUEUED -> {
            }
        }
        long left = TimeUnit.MILLISECONDS.toNanos(options.timeoutMs()) - (System.nanoTime() - t0);
        try {
            return job.result.get(Math.max(0, left), TimeUnit.NANOSECONDS);
        } catch (TimeoutException | CancellationException e) {
            dispatcher.cancel(job);
            throw new HttpError(504, "no translation within the timeout of " + options.timeoutMs() + " ms");
        } catch (InterruptedException e) {
            dispatcher.cancel(job);
            Thread.currentThread().interrupt();
            throw new HttpError(503, "the server is shutting down");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IllegalArgumentException) {
                throw new HttpError(400, c.getMessage());
            }
            throw new HttpError(500, "translation failed: " + c.getClass().getSimpleName());
        }
    }

    private static HttpError retryLater(String message) {
        return new HttpError(503, message);
    }

    /** The body, refused with 413 beyond the limit (by Content-Length before reading, or while reading). */
    private byte[] readBody(HttpExchange ex) throws HttpError, IOException {
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        int max = options.maxBodyBytes();
        if (declared != null) {
            long n;
            try {
                n = Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                throw new HttpError(400, "bad Content-Length: " + declared);
            }
            if (n > max) {
                throw new HttpError(413, "request body of " + n + " bytes exceeds the limit of " + max + " bytes");
            }
        }
        try (InputStream in = ex.getRequestBody()) {
            byte[] b = in.readNBytes(max + 1);
            if (b.length > max) {
                throw new HttpError(413, "request body exceeds the limit of " + max + " bytes");
            }
            return b;
        }
    }

    private ObjectNode health() {
        ModelConfig c = translator.config();
        ObjectNode root = JSON.createObjectNode();
        root.put("status", "ok");
        ObjectNode m = root.putObject("model");
        m.put("name", modelName);
        m.put("encoder_layers", c.encoderLayers());
        m.put("decoder_layers", c.decoderLayers());
        m.put("d_model", c.dModel());
        m.put("heads", c.numHeads());
        m.put("ffn_dim", c.ffnDim());
        m.put("vocab_size", c.vocabSize());
        m.put("max_positions", c.maxPositions());
        root.put("threads", translator.options().threads());
        root.put("max_batch", options.maxBatch());
        root.put("queue_depth", dispatcher.depth());
        return root;
    }

    private static ObjectNode toJson(Translation t, RequestOptions o) {
        return TranslationJson.toJson(JSON, t, new TranslationJson.Parts(o.returnScores(), o.nBest() > 1, o.returnAlignments()));
    }

    private void error(Call call, int status, String message) {
        if (call.counted) {
            return; // a response was already started
        }
        ObjectNode e = JSON.createObjectNode();
        ObjectNode inner = e.putObject("error");
        inner.put("status", status);
        inner.put("message", message);
        if (status == 503) {
            call.ex.getResponseHeaders().set("Retry-After", "1");
        }
        if (status == 413) {
            // The body may be unread: do not try to reuse the connection.
            call.ex.getResponseHeaders().set("Connection", "close");
        }
        try {
            respondJson(call, status, e);
        } catch (IOException ignored) {
            // The client went away; the status was counted by respond.
        }
    }

    private void respondJson(Call call, int status, ObjectNode body) throws IOException {
        respond(call, status, JSON_TYPE, JSON.writeValueAsBytes(body));
    }

    /** Counts the request (before sending, so a client that reads /metrics next sees it), then sends. */
    private void respond(Call call, int status, String type, byte[] body) throws IOException {
        metrics.requestDone(call.endpoint, status, System.nanoTime() - call.t0);
        call.counted = true;
        call.ex.getResponseHeaders().set("Content-Type", type);
        if (closing) {
            // A kept-alive connection may still bring requests while the server drains: tell the client to reconnect (and be refused).
            call.ex.getResponseHeaders().set("Connection", "close");
        }
        call.ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = call.ex.getResponseBody()) {
            out.write(body);
        }
    }
}

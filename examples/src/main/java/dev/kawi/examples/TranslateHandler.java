package dev.kawi.examples;

import dev.kawi.runtime.Translation;
import dev.kawi.runtime.Translator;
import dev.kawi.runtime.TranslatorOptions;
import dev.kawi.weights.Json;
import dev.kawi.weights.WeightFileException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * A serverless-style translation function: {@link #apply} takes a request and returns JSON, the
 * shape of a handler that a function platform calls (e.g. behind AWS Lambda's RequestHandler,
 * without depending on any platform's library).
 *
 * <p>Requests: a JSON object {@code {"text": "..."}} or {@code {"texts": ["...", ...]}}, or any
 * other string, which is translated as it is. Responses: {@code {"translation": "...",
 * "millis": 1.2}} or {@code {"translations": [...], "millis": ...}}; a bad request gets
 * {@code {"error": "..."}}.
 *
 * <p>The model is opened once per process, on the first request, and shared by every handler
 * instance and thread: from the system property {@code kawi.model}, else the environment
 * variable {@code KAWI_MODEL}, else the class path resource {@code /kawi/model.kawi} (packaged
 * with the function). It starts on the lane kernels, which are fast from the first call, and
 * switches to the vector kernels once they are compiled ({@link TranslatorOptions.Warmup#DEFERRED};
 * same results either way). See the README, "Embedding Kawi in a serverless function".
 */
public final class TranslateHandler implements Function<String, String> {
    /** System property naming the model file. */
    public static final String PROPERTY = "kawi.model";
    /** Environment variable naming the model file. */
    public static final String ENV = "KAWI_MODEL";
    /** Class path resource holding the model when neither names one. */
    public static final String RESOURCE = "/kawi/model.kawi";

    private static volatile Translator shared;

    /** Null: the process-wide translator. */
    private final Translator own;

    /** The handler a platform instantiates: it uses the process-wide translator, opened on the first request. */
    public TranslateHandler() {
        this.own = null;
    }

    /** A handler over a translator the caller opened (and closes). */
    public TranslateHandler(Translator translator) {
        if (translator == null) {
            throw new IllegalArgumentException("translator must not be null");
        }
        this.own = translator;
    }

    /** Translates the request; returns the JSON response (an {@code error} object for a bad request). */
    @Override
    public String apply(String request) {
        long start = System.nanoTime();
        List<String> texts = new ArrayList<>();
        boolean many;
        try {
            many = parse(request, texts);
        } catch (IllegalArgumentException e) {
            return error(e.getMessage());
        }
        Translator t = own != null ? own : shared();
        List<Translation> out;
        try {
            out = t.translate(texts);
        } catch (IllegalArgumentException e) {
            return error(e.getMessage());
        }
        StringBuilder b = new StringBuilder(64);
        if (many) {
            b.append("{\"translations\":[");
            for (int i = 0; i < out.size(); i++) {
                quote(b.append(i == 0 ? "" : ","), out.get(i).text());
            }
            b.append(']');
        } else {
            quote(b.append("{\"translation\":"), out.get(0).text());
        }
        // Not String.format: a first Formatter costs tens of milliseconds, a cold start's worth.
        b.append(",\"millis\":").append(Math.round((System.nanoTime() - start) / 1e5) / 10.0).append('}');
        return b.toString();
    }

    /** The texts of a request into {@code texts}; true for the {@code "texts"} form. */
    private static boolean parse(String request, List<String> texts) {
        if (request == null) {
            throw new IllegalArgumentException("the request is null");
        }
        String r = request.strip();
        if (!r.startsWith("{")) {
            texts.add(request);
            return false;
        }
        Object root;
        try {
            root = Json.parse(r);
        } catch (Json.ParseException e) {
            throw new IllegalArgumentException("the request is not valid JSON: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("the request must be a JSON object");
        }
        for (Object key : m.keySet()) {
            if (!key.equals("text") && !key.equals("texts")) {
                throw new IllegalArgumentException("unknown field \"" + key + "\" (expected \"text\" or \"texts\")");
            }
        }
        if (m.containsKey("text") == m.containsKey("texts")) {
            throw new IllegalArgumentException("give exactly one of \"text\" and \"texts\"");
        }
        if (m.containsKey("text")) {
            if (!(m.get("text") instanceof String s)) {
                throw new IllegalArgumentException("field \"text\" must be a string");
            }
            texts.add(s);
            return false;
        }
        if (!(m.get("texts") instanceof List<?> list)) {
            throw new IllegalArgumentException("field \"texts\" must be an array of strings");
        }
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof String s)) {
                throw new IllegalArgumentException("texts[" + i + "] must be a string");
            }
            texts.add(s);
        }
        return true;
    }

    /** Appends s as a JSON string. */
    static StringBuilder quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"');
    }

    private static String error(String message) {
        return quote(new StringBuilder("{\"error\":"), message).append('}').toString();
    }

    /** The process-wide translator, opened on first use. */
    static Translator shared() {
        Translator t = shared;
        if (t == null) {
            synchronized (TranslateHandler.class) {
                t = shared;
                if (t == null) {
                    Path model = locate();
                    try {
                        t = Translator.open(model, TranslatorOptions.defaults().withWarmup(TranslatorOptions.Warmup.DEFERRED));
                    } catch (WeightFileException e) {
                        throw new IllegalStateException(e.getMessage(), e);
                    }
                    shared = t;
                }
            }
        }
        return t;
    }

    /** The model file: the property, the variable, or the class path resource (copied out of a jar). */
    static Path locate() {
        String p = System.getProperty(PROPERTY);
        String source = "-D" + PROPERTY;
        if (p == null || p.isBlank()) {
            p = System.getenv(ENV);
            source = ENV;
        }
        if (p != null && !p.isBlank()) {
            Path path = Path.of(p.strip());
            if (!Files.isRegularFile(path)) {
                throw new IllegalStateException("no model at " + path + " (named by " + source + ")");
            }
            return path;
        }
        URL url = TranslateHandler.class.getResource(RESOURCE);
        if (url == null) {
            throw new IllegalStateException("no model: set -D" + PROPERTY + " or " + ENV + ", or package the model as the class path resource " + RESOURCE);
        }
        try {
            if (url.getProtocol().equals("file")) {
                return Path.of(url.toURI());
            }
            // Inside a jar: the model is memory-mapped, so it needs a file of its own.
            Path tmp = Files.createTempFile("kawi-model-", ".kawi");
            tmp.toFile().deleteOnExit();
            try (InputStream in = url.openStream()) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            return tmp;
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException("cannot read the model resource " + url + ": " + e.getMessage(), e);
        }
    }

    /**
     * Runs the handler once from the command line: the arguments joined by spaces, or standard
     * input when there are none, are the request; the response goes to standard output. Also the
     * training run for an AOT cache (see the README).
     */
    public static void main(String[] args) throws IOException {
        String request = args.length > 0 ? String.join(" ", args) : new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
        try {
            System.out.println(new TranslateHandler().apply(request));
        } catch (IllegalStateException e) {
            System.err.println("kawi handler: error: " + e.getMessage());
            System.exit(2);
        }
        System.exit(0);
    }
}

package dev.kawi.tools.serve;

import dev.kawi.runtime.Translator;
import dev.kawi.runtime.TranslatorOptions;
import dev.kawi.runtime.kernels.KernelProvider;
import dev.kawi.tools.BadInputException;
import dev.kawi.tools.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.BindException;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code kawi serve}: the HTTP JSON API of {@link TranslationServer}, until SIGTERM or Ctrl-C. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve translations over HTTP: POST /translate, GET /health, GET /metrics (Prometheus).",
                "Concurrent requests are translated together in batches; SIGTERM finishes the requests in flight, then exits."})
public final class ServeCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "The .kawi model. Default: -Dkawi.model, else $KAWI_MODEL, else the bundled models/de-en.kawi.")
    Path model;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "ADDR", description = "Address to listen on. Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(names = "--port", defaultValue = "8080", paramLabel = "N", description = "Port; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--threads", paramLabel = "N", description = "Kernel threads. Default: all cores.")
    Integer threads;

    @Option(names = "--max-batch", defaultValue = "32", paramLabel = "N", description = "Most sentences translated together. Default: ${DEFAULT-VALUE}.")
    int maxBatch;

    @Option(names = "--batch-wait-ms", defaultValue = "5", paramLabel = "MS",
            description = "How long to wait for more requests to fill a batch. Default: ${DEFAULT-VALUE}.")
    int batchWaitMs;

    @Option(names = "--queue-size", defaultValue = "256", paramLabel = "N",
            description = "Most requests waiting; beyond it the answer is 503 with Retry-After. Default: ${DEFAULT-VALUE}.")
    int queueSize;

    @Option(names = "--max-body-bytes", defaultValue = "1048576", paramLabel = "N", description = "Largest request body (413 beyond). Default: ${DEFAULT-VALUE}.")
    int maxBodyBytes;

    @Option(names = "--max-input-chars", defaultValue = "4096", paramLabel = "N", description = "Longest text (413 beyond). Default: ${DEFAULT-VALUE}.")
    int maxInputChars;

    @Option(names = "--max-texts", defaultValue = "64", paramLabel = "N", description = "Most texts per request (413 beyond). Default: ${DEFAULT-VALUE}.")
    int maxTexts;

    @Option(names = "--timeout-ms", defaultValue = "30000", paramLabel = "MS", description = "Per-request timeout (504 beyond). Default: ${DEFAULT-VALUE}.")
    int timeoutMs;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        model = dev.kawi.tools.ModelLocator.ofProcess().resolve(model);
        ServerOptions opts;
        int t = threads == null ? KernelProvider.defaultThreads() : threads;
        TranslatorOptions topts;
        try {
            opts = new ServerOptions(host, port, maxBatch, batchWaitMs, queueSize, maxBodyBytes, maxInputChars, maxTexts, timeoutMs);
            topts = new TranslatorOptions(t, maxBatch, TranslatorOptions.Warmup.BACKGROUND);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Translator translator = Translator.open(model, topts);
        TranslationServer server;
        try {
            server = TranslationServer.start(translator, model.getFileName().toString(), opts, line -> {
                err.println("kawi serve: " + line);
                err.flush();
            });
        } catch (UnknownHostException e) {
            translator.close();
            throw new BadInputException("--host " + host + ": unknown host");
        } catch (BindException e) {
            translator.close();
            throw new BadInputException("cannot listen on " + host + ":" + port + ": " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            translator.close();
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("kawi-serve-shutdown").unstarted(server::close));
        out.println("listening on " + server.url());
        out.flush();
        server.awaitClosed();
        return Main.OK;
    }
}

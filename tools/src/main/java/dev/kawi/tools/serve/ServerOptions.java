package dev.kawi.tools.serve;

/**
 * How a {@link TranslationServer} listens, batches and limits requests.
 *
 * @param host          address to bind (a name or a literal IP)
 * @param port          TCP port; 0 picks a free one
 * @param maxBatch      most sentences the dispatcher translates in one round
 * @param batchWaitMs   how long the dispatcher waits for more requests after the first of a round (0: take only what is queued)
 * @param queueSize     most requests waiting for the dispatcher; more are answered 503
 * @param maxBodyBytes  largest request body; larger ones are answered 413
 * @param maxInputChars most characters (code points) in one text; longer ones are answered 413
 * @param maxTexts      most texts in one request; more are answered 413
 * @param timeoutMs     a request not answered within this time is answered 504
 */
public record ServerOptions(String host, int port, int maxBatch, int batchWaitMs, int queueSize, int maxBodyBytes, int maxInputChars,
                            int maxTexts, int timeoutMs) {
    /** Validates; messages name the command-line option. */
    public ServerOptions {
        require(host != null && !host.isBlank(), "--host must not be empty");
        require(port >= 0 && port <= 65535, "--port must be in [0, 65535], was " + port);
        require(maxBatch >= 1, "--max-batch must be >= 1, was " + maxBatch);
        require(batchWaitMs >= 0, "--batch-wait-ms must be >= 0, was " + batchWaitMs);
        require(queueSize >= 1, "--queue-size must be >= 1, was " + queueSize);
        require(maxBodyBytes >= 2, "--max-body-bytes must be >= 2, was " + maxBodyBytes);
        require(maxInputChars >= 1, "--max-input-chars must be >= 1, was " + maxInputChars);
        require(maxTexts >= 1, "--max-texts must be >= 1, was " + maxTexts);
        require(timeoutMs >= 1, "--timeout-ms must be >= 1, was " + timeoutMs);
    }

    /** Loopback port 8080, batches of 32 sentences gathered for 5 ms, 256 queued requests, 1 MiB bodies, 64 texts of 4096 characters, 30 s timeout. */
    public static ServerOptions defaults() {
        return new ServerOptions("127.0.0.1", 8080, 32, 5, 256, 1 << 20, 4096, 64, 30_000);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}

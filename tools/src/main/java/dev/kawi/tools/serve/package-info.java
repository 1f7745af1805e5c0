/**
 * {@code kawi serve}: an HTTP JSON API over the runtime's {@code Translator}, on the JDK's built-in
 * {@code com.sun.net.httpserver} (no dependency, no native code), with request batching, limits,
 * Prometheus metrics and graceful shutdown. {@link dev.kawi.tools.serve.TranslationServer} is the
 * server, {@link dev.kawi.tools.serve.ServeCommand} the command.
 */
package dev.kawi.tools.serve;

package dev.kawi.tools.serve;

import dev.kawi.runtime.Translation;
import dev.kawi.runtime.TranslationOptions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Gathers the texts of concurrent requests into batches. Requests wait in a bounded FIFO queue;
 * one dispatcher thread takes the first, keeps taking until the round holds {@code maxBatch}
 * sentences or {@code batchWaitMs} have passed, then translates the round with one
 * {@code translate(List)} call per distinct option set and completes each request's future with
 * its own slice of the results. The runtime gives a sentence the same output alone or in any
 * batch, so batching changes speed, never results.
 */
final class BatchDispatcher {
    /** The translation function (the Translator's {@code translate(List, TranslationOptions)}; tests wrap it). */
    @FunctionalInterface
    interface Engine {
        /** Translates texts with options; results in input order. */
        List<Translation> translate(List<String> texts, TranslationOptions options);
    }

    /** Outcome of {@link #submit}. */
    enum Submitted {
        /** Queued; the future will be completed. */
        QUEUED,
        /** The queue is full. */
        FULL,
        /** The dispatcher is closing. */
        CLOSED
    }

    /** One request's texts, options and the future of its results. */
    static final class Job {
        final List<String> texts;
        final RequestOptions options;
        final CompletableFuture<List<Translation>> result = new CompletableFuture<>();

        Job(List<String> texts, RequestOptions options) {
            this.texts = List.copyOf(texts);
            this.options = options;
        }
    }

    private final Engine engine;
    private final int maxBatch;
    private final long batchWaitNanos;
    private final int capacity;
    private final Metrics metrics;
    private final Consumer<String> log;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Job> queue = new ArrayDeque<>();
    private final Thread thread;
    private boolean closed;

    BatchDispatcher(Engine engine, ServerOptions options, Metrics metrics, Consumer<String> log) {
        this.engine = engine;
        this.maxBatch = options.maxBatch();
        this.batchWaitNanos = TimeUnit.MILLISECONDS.toNanos(options.batchWaitMs());
        this.capacity = options.queueSize();
        this.metrics = metrics;
        this.log = log;
        this.thread = Thread.ofPlatform().daemon().name("kawi-serve-dispatcher").unstarted(this::run);
    }

    /** Starts the dispatcher thread. */
    void start() {
        thread.start();
    }

    /** Queues a job unless the queue is full or closed. */
    Submitted submit(Job job) {
        lock.lock();
        try {
            if (closed) {
                return Submitted.CLOSED;
            }
            if (queue.size() >= capacity) {
                return Submitted.FULL;
            }
            queue.addLast(job);
            changed.signalAll();
            return Submitted.QUEUED;
        } finally {
            lock.unlock();
        }
    }

    /** Gives up on a job (its request timed out): removed if still queued, its result discarded otherwise. */
    void cancel(Job job) {
        lock.lock();
        try {
            queue.remove(job);
        } finally {
            lock.unlock();
        }
        job.result.cancel(false);
    }

    /** Requests waiting in the queue. */
    int depth() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /** Refuses new jobs, translates those already queued, and returns when the dispatcher thread has ended. */
    void close() throws InterruptedException {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (thread.isAlive()) {
            thread.join();
        }
    }

    private void run() {
        try {
            for (List<Job> round; (round = nextRound()) != null; ) {
                translate(round);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The next round: the oldest live job, then whatever arrives within the batch wait as long as
     * it fits in {@code maxBatch} sentences (a job larger than that goes alone). Null once closed
     * and drained.
     */
    private List<Job> nextRound() throws InterruptedException {
        lock.lock();
        try {
            Job first = null;
            while (first == null) {
                while (queue.isEmpty()) {
                    if (closed) {
                        return null;
                    }
                    changed.await();
                }
                Job j = queue.pollFirst();
                if (!j.result.isDone()) {
                    first = j;
                }
            }
            List<Job> round = new ArrayList<>();
            round.add(first);
            int sentences = first.texts.size();
            long deadline = System.nanoTime() + batchWaitNanos;
            while (sentences < maxBatch) {
                Job next = queue.peekFirst();
                if (next == null) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || closed) {
                        break;
                    }
                    changed.awaitNanos(left);
                    continue;
                }
                if (next.result.isDone()) {
                    queue.pollFirst();
                    continue;
                }
                if (sentences + next.texts.size() > maxBatch) {
                    break;
                }
                round.add(queue.pollFirst());
                sentences += next.texts.size();
            }
            return round;
        } finally {
            lock.unlock();
        }
    }

    /** Translates a round, one engine call per option set, and completes every job. */
    private void translate(List<Job> round) {
        Map<RequestOptions, List<Job>> groups = new LinkedHashMap<>();
        for (Job j : round) {
            groups.computeIfAbsent(j.options, k -> new ArrayList<>()).add(j);
        }
        for (var e : groups.entrySet()) {
            List<Job> jobs = e.getValue();
            List<String> texts = new ArrayList<>();
            for (Job j : jobs) {
                texts.addAll(j.texts);
            }
            try {
                List<Translation> out = timed(texts, e.getKey().toTranslationOptions());
                int at = 0;
                for (Job j : jobs) {
                    j.result.complete(out.subList(at, at + j.texts.size()));
                    at += j.texts.size();
                }
            } catch (RuntimeException | Error failure) {
                if (jobs.size() == 1) {
                    fail(jobs.get(0), failure);
                } else {
                    // One request's problem must not fail the others: retry each alone.
                    for (Job j : jobs) {
                        try {
                            j.result.complete(timed(j.texts, e.getKey().toTranslationOptions()));
                        } catch (RuntimeException | Error alone) {
                            fail(j, alone);
                        }
                    }
                }
            }
        }
    }

    private List<Translation> timed(List<String> texts, TranslationOptions options) {
        long t0 = System.nanoTime();
        List<Translation> out = engine.translate(texts, options);
        long nanos = System.nanoTime() - t0;
        if (out.size() != texts.size()) {
            throw new IllegalStateException("engine returned " + out.size() + " translations for " + texts.size() + " texts");
        }
        long tokens = 0;
        for (Translation t : out) {
            tokens += t.tokens().size();
        }
        metrics.batchDone(texts.size(), tokens, nanos);
        return out;
    }

    private void fail(Job job, Throwable failure) {
        if (!(failure instanceof IllegalArgumentException)) {
            log.accept("translate failed: " + failure);
        }
        job.result.completeExceptionally(failure);
    }
}

package dev.kawi.runtime.kernels;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A long-lived pool for intra-op parallelism: {@link #run} executes tasks {@code 0..n-1} on the
 * calling thread plus {@code threads - 1} daemon workers and returns when all are done. No thread
 * is created per call. Workers spin briefly before parking, because kernels arrive back to back
 * during decoding and a park/unpark round trip costs more than a small GEMV.
 *
 * <p>A call allocates nothing: the pool keeps one set of call fields, reused call after call
 * (pass a reusable task object rather than a capturing lambda, and the whole call is free of
 * allocation). Which thread runs which task varies, so callers make each task compute a fixed
 * part of the output: results then do not depend on scheduling or thread count. When another
 * call is already using the pool, the caller runs all tasks itself instead of waiting (same
 * results, no deadlock between concurrent requests).
 */
public final class WorkerPool implements AutoCloseable {
    private static final long SPIN_NANOS = 50_000;
    /** Task index of a generation whose tasks are all handed out (no call may have this many tasks). */
    private static final int CLOSED = Integer.MAX_VALUE;
    private static final long INDEX_MASK = 0xFFFF_FFFFL;

    private final int threads;
    private final Thread[] workers;
    /** Held by the call using the workers; not reentrant, so a task that calls the pool again runs that call inline. */
    private final AtomicBoolean busy = new AtomicBoolean();
    /**
     * (generation << 32) | next task index. Each call is a new generation. A worker claims a task
     * by a compare-and-set of this word, which succeeds only if the generation (and so the call
     * fields it read) is still current: a worker late from an earlier call can never run a task of
     * the next one with stale fields. Between calls the index is {@link #CLOSED}.
     */
    private final AtomicLong ctl = new AtomicLong(CLOSED);
    // The current call's fields: written by the caller, holding the lock, before it publishes the
    // generation in ctl; stable until all its tasks are done.
    private volatile IntConsumer task;
    private volatile int count;
    private volatile Thread caller;
    private final AtomicInteger remaining = new AtomicInteger();
    private volatile Throwable failure;
    private volatile boolean closed;

    /** A pool that runs each call on {@code threads} threads (the caller included). */
    public WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, was " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            Thread t = new Thread(this::workerLoop, "kawi-kernel-" + (i + 1));
            t.setDaemon(true);
            workers[i] = t;
            t.start();
        }
    }

    /** Threads per call, the caller included. */
    public int threads() {
        return threads;
    }

    /** Runs {@code task.accept(i)} for i in [0, n) and returns when all are done; rethrows a task's failure. */
    public void run(int n, IntConsumer task) {
        if (n <= 0) {
            return;
        }
        if (n == 1 || workers.length == 0 || !busy.compareAndSet(false, true)) {
            for (int i = 0; i < n; i++) {
                task.accept(i);
            }
            return;
        }
        try {
            long gen = ((ctl.get() >>> 32) + 1) & INDEX_MASK;
            this.task = task;
            this.count = n;
            this.caller = Thread.currentThread();
            this.failure = null;
            remaining.set(n);
            ctl.set(gen << 32);
            for (Thread w : workers) {
                LockSupport.unpark(w);
            }
            work(gen);
            long start = System.nanoTime();
            while (remaining.get() > 0) {
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(this, 100_000);
                }
            }
            ctl.set(gen << 32 | CLOSED);
            this.task = null;   // do not keep the task (and what it references) alive between calls
            Throwable f = failure;
            if (f instanceof RuntimeException r) {
                throw r;
            }
            if (f instanceof Error e) {
                throw e;
            }
            if (f != null) {
                throw new IllegalStateException(f);
            }
        } finally {
            busy.set(false);
        }
    }

    /** Claims and runs tasks of generation {@code gen} until none is left. */
    private void work(long gen) {
        while (true) {
            long c = ctl.get();
            if (c >>> 32 != gen) {
                return;
            }
            int i = (int) (c & INDEX_MASK);
            // Read before the claim; a successful claim proves they belonged to this generation.
            IntConsumer t = task;
            int n = count;
            Thread who = caller;
            if (i >= n) {
                return;
            }
            if (!ctl.compareAndSet(c, c + 1)) {
                continue;
            }
            try {
                t.accept(i);
            } catch (Throwable e) {
                failure = e;
            }
            if (remaining.decrementAndGet() == 0 && who != Thread.currentThread()) {
                LockSupport.unpark(who);
            }
        }
    }

    private void workerLoop() {
        long seen = ctl.get() >>> 32;
        while (!closed) {
            long gen = ctl.get() >>> 32;
            if (gen != seen) {
                seen = gen;
                work(gen);
                continue;
            }
            long start = System.nanoTime();
            while (ctl.get() >>> 32 == seen && !closed) {
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
        }
    }

    /** Stops the workers. */
    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}

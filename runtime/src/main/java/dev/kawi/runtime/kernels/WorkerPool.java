package dev.kawi.runtime.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * A long-lived pool for intra-op parallelism: {@link #run} executes tasks {@code 0..n-1} on the
 * calling thread plus {@code threads - 1} daemon workers and returns when all are done. No thread
 * is created per call. Workers spin briefly before parking, because kernels arrive back to back
 * during decoding and a park/unpark round trip costs more than a small GEMV.
 *
 * <p>Which thread runs which task varies, so callers make each task compute a fixed part of the
 * output: results then do not depend on scheduling or thread count. When another call is already
 * using the pool, the caller runs all tasks itself instead of waiting (same results, no deadlock
 * between concurrent requests).
 */
public final class WorkerPool implements AutoCloseable {
    private static final long SPIN_NANOS = 50_000;

    private final int threads;
    private final Thread[] workers;
    private final ReentrantLock busy = new ReentrantLock();
    private volatile Job current;
    private volatile boolean closed;

    /** One call's tasks: immutable apart from its counters, so a late worker can only find it finished. */
    private static final class Job {
        final IntConsumer task;
        final int n;
        final Thread caller;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger remaining;
        volatile Throwable failure;

        Job(IntConsumer task, int n, Thread caller) {
            this.task = task;
            this.n = n;
            this.caller = caller;
            this.remaining = new AtomicInteger(n);
        }

        void work() {
            int i;
            while ((i = next.getAndIncrement()) < n) {
                try {
                    task.accept(i);
                } catch (Throwable e) {
                    failure = e;
                }
                if (remaining.decrementAndGet() == 0 && caller != Thread.currentThread()) {
                    LockSupport.unpark(caller);
                }
            }
        }
    }

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
        if (n == 1 || workers.length == 0 || !busy.tryLock()) {
            for (int i = 0; i < n; i++) {
                task.accept(i);
            }
            return;
        }
        try {
            Job job = new Job(task, n, Thread.currentThread());
            current = job;
            for (Thread w : workers) {
                LockSupport.unpark(w);
            }
            job.work();
            long start = System.nanoTime();
            while (job.remaining.get() > 0) {
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(this, 100_000);
                }
            }
            current = null;
            Throwable f = job.failure;
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
            busy.unlock();
        }
    }

    private void workerLoop() {
        Job seen = null;
        while (!closed) {
            Job j = current;
            if (j != null && j != seen) {
                seen = j;
                j.work();
                continue;
            }
            long start = System.nanoTime();
            while (current == seen && !closed) {
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            if (current == null) {
                seen = null;
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

package dev.kawi.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class WorkerPoolTest {
    @Test
    @Timeout(60)
    void everyTaskRunsExactlyOnceOverManyCalls() {
        try (WorkerPool pool = new WorkerPool(3)) {
            for (int call = 0; call < 20_000; call++) {
                int n = 1 + call % 17;
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                pool.run(n, hits::incrementAndGet);
                for (int i = 0; i < n; i++) {
                    assertEquals(1, hits.get(i), "call " + call + " task " + i);
                }
            }
        }
    }

    @Test
    @Timeout(60)
    void concurrentCallersDoNotDeadlockAndEachGetsAllItsTasks() throws Exception {
        try (WorkerPool pool = new WorkerPool(2); ExecutorService callers = Executors.newFixedThreadPool(4)) {
            Future<?>[] f = new Future<?>[4];
            for (int c = 0; c < f.length; c++) {
                f[c] = callers.submit(() -> {
                    for (int call = 0; call < 2000; call++) {
                        AtomicLong sum = new AtomicLong();
                        pool.run(10, i -> sum.addAndGet(i + 1));
                        assertEquals(55, sum.get());
                    }
                    return null;
                });
            }
            for (Future<?> x : f) {
                x.get(60, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    @Timeout(30)
    void aFailingTaskIsRethrownToTheCallerAndThePoolStaysUsable() {
        try (WorkerPool pool = new WorkerPool(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run(8, i -> {
                if (i == 5) {
                    throw new IllegalStateException("task 5 failed");
                }
            }));
            assertEquals("task 5 failed", e.getMessage());
            AtomicLong n = new AtomicLong();
            pool.run(8, i -> n.incrementAndGet());
            assertEquals(8, n.get());
        }
    }

    @Test
    void tasksRunOnMoreThanOneThreadWhenThereIsWork() throws Exception {
        try (WorkerPool pool = new WorkerPool(2)) {
            java.util.Set<Thread> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
            for (int call = 0; call < 200 && seen.size() < 2; call++) {
                pool.run(64, i -> {
                    seen.add(Thread.currentThread());
                    long t = System.nanoTime();
                    while (System.nanoTime() - t < 20_000) {
                        Thread.onSpinWait();
                    }
                });
            }
            assertTrue(seen.size() >= 2, "the worker never took a task");
        }
    }

    @Test
    @Timeout(60)
    void aTaskThatCallsThePoolAgainGetsThatCallRunInline() {
        try (WorkerPool pool = new WorkerPool(2)) {
            for (int call = 0; call < 500; call++) {
                AtomicIntegerArray outer = new AtomicIntegerArray(8);
                AtomicIntegerArray inner = new AtomicIntegerArray(8 * 5);
                pool.run(8, i -> {
                    pool.run(5, j -> inner.incrementAndGet(i * 5 + j));
                    outer.incrementAndGet(i);
                });
                for (int i = 0; i < 8; i++) {
                    assertEquals(1, outer.get(i), "call " + call + " outer task " + i);
                }
                for (int i = 0; i < 40; i++) {
                    assertEquals(1, inner.get(i), "call " + call + " inner task " + i);
                }
            }
        }
    }

    /** A reusable task: sums i * factor per index into a preallocated array. */
    private static final class Reusable implements IntConsumer {
        final AtomicLongArray out = new AtomicLongArray(16);
        long factor;

        @Override
        public void accept(int i) {
            out.addAndGet(i, i * factor);
            long t = System.nanoTime();
            while (System.nanoTime() - t < 2_000) {
                Thread.onSpinWait();
            }
        }
    }

    @Test
    @Timeout(120)
    void callsWithAReusableTaskAllocateNothing() throws Exception {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (WorkerPool pool = new WorkerPool(2)) {
            long[] workers = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("kawi-kernel-")).mapToLong(Thread::threadId).toArray();
            Reusable task = new Reusable();
            long expected = 0;
            long best = Long.MAX_VALUE;
            // Until the JIT has compiled the pool and the worker loop, the interpreter may
            // allocate; the allocation of a window of 2000 calls must reach 0.
            for (int attempt = 0; attempt < 50 && best > 0; attempt++) {
                long w0 = sum(mx.getThreadAllocatedBytes(workers));
                long start = mx.getCurrentThreadAllocatedBytes();
                for (int call = 0; call < 2000; call++) {
                    task.factor = call;
                    pool.run(16, task);
                    expected += call;
                }
                long self = mx.getCurrentThreadAllocatedBytes() - start;
                long w1 = sum(mx.getThreadAllocatedBytes(workers));
                // Reading the workers allocates the result array on this thread: it was read before start and after the end.
                best = Math.min(best, self + (w1 - w0));
            }
            assertEquals(0, best, "bytes allocated by 2000 pool calls with a reusable task (this thread and the worker)");
            for (int i = 0; i < 16; i++) {
                assertEquals(expected * i, task.out.get(i), "sum of task " + i + " over every call");
            }
        }
    }

    private static long sum(long[] a) {
        long s = 0;
        for (long x : a) {
            s += x;
        }
        return s;
    }
}

package dev.kawi.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
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
}

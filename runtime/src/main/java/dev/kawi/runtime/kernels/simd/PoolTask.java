package dev.kawi.runtime.kernels.simd;

import dev.kawi.runtime.kernels.WorkerPool;
import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;

/**
 * A reusable parallel task: a kernel keeps one instance per calling thread and sets its fields
 * before each call, instead of capturing its arguments in a new lambda, so that a kernel call
 * allocates nothing. Task i computes a fixed part of the output, whichever thread runs it.
 */
abstract class PoolTask implements IntConsumer {

    /** True when worker threads may access every segment of the current call (none is confined). */
    abstract boolean shareable();

    /** Forgets the current call's segments and arrays, so that they are not kept alive until the next call. */
    abstract void clear();

    /**
     * Runs tasks 0..n-1 of {@code task} on the pool, or all on the caller when there is one task,
     * the pool has one thread, or a segment is confined to the caller; then clears the task.
     */
    static void run(WorkerPool pool, int n, PoolTask task) {
        try {
            if (n == 1 || pool.threads() == 1 || !task.shareable()) {
                for (int i = 0; i < n; i++) {
                    task.accept(i);
                }
            } else {
                pool.run(n, task);
            }
        } finally {
            task.clear();
        }
    }

    /** True when worker threads may access {@code s} (null counts as accessible). */
    static boolean shareable(MemorySegment s) {
        return VectorMath.shareable(s);
    }
}

package dev.kawi.runtime.kernels;

import java.lang.System.Logger.Level;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Picks the kernel implementation once: the Vector API kernels when the {@code jdk.incubator.vector}
 * module is present (the JVM was started with {@code --add-modules jdk.incubator.vector}), else the
 * scalar ones, logging why. The system property {@code kawi.kernels} = {@code vector} | {@code scalar}
 * forces a choice ({@code vector} fails loudly when unavailable); {@code kawi.threads} sets the
 * default thread count (default: available processors). Nothing here sets JVM-wide flags.
 * {@link #warming} gives kernels that start with the bit-identical {@link LaneKernels}.
 */
public final class KernelProvider {
    /** System property forcing the implementation: "vector", "scalar" or "auto" (default). */
    public static final String KERNELS_PROPERTY = "kawi.kernels";
    /** System property with the default thread count. */
    public static final String THREADS_PROPERTY = "kawi.threads";
    private static final String VECTOR_CLASS = "dev.kawi.runtime.kernels.simd.VectorKernels";
    /** The logger, created on first use: creating one starts the logging framework, tens of milliseconds of a cold start. */
    private static final class Log {
        static final System.Logger LOG = System.getLogger(KernelProvider.class.getName());
    }

    private static final ConcurrentHashMap<Integer, Kernels> BY_THREADS = new ConcurrentHashMap<>();
    private static volatile String choice;
    private static volatile int vectorLanes = -1;

    private KernelProvider() {
    }

    /** The default kernels: the chosen implementation with the default thread count. */
    public static Kernels get() {
        return get(defaultThreads());
    }

    /** The chosen implementation with {@code threads} threads per call (instances are shared and cached). */
    public static Kernels get(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, was " + threads);
        }
        return BY_THREADS.computeIfAbsent(threads, KernelProvider::create);
    }

    /** What was chosen and why, e.g. "vector (256-bit)" or "scalar: jdk.incubator.vector is not in the module graph". */
    public static String description() {
        get();
        return choice;
    }

    /**
     * The float lanes of the vector kernels when {@link #get} gives them (the Vector API is
     * available and not forced off), else 0. Loads no kernel and starts no thread: the lane count
     * is all {@link LaneKernels} need to compute exactly what the vector kernels will.
     */
    public static int vectorLanes() {
        int l = vectorLanes;
        return l >= 0 ? l : findVectorLanes();
    }

    /**
     * Starts finding {@link #vectorLanes()} on a background thread, for a caller with other work
     * to do first: it loads and initializes the Vector API's classes, tens of milliseconds of a
     * cold start that can overlap with reading a model.
     */
    public static void prefetchVectorLanes() {
        if (vectorLanes < 0) {
            Thread t = new Thread(new LanesPrefetch(), "kawi-lanes");
            t.setDaemon(true);
            t.start();
        }
    }

    /** A class rather than a lambda: nothing to link at start-up. */
    private static final class LanesPrefetch implements Runnable {
        @Override
        public void run() {
            vectorLanes();
        }
    }

    private static synchronized int findVectorLanes() {
        int l = vectorLanes;
        if (l >= 0) {
            return l;
        }
        String forced = System.getProperty(KERNELS_PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        l = 0;
        if (!forced.equals("scalar") && vectorUnavailableReason() == null) {
            try {
                l = (Integer) Class.forName(VECTOR_CLASS).getMethod("lanes").invoke(null);
            } catch (ReflectiveOperationException | LinkageError e) {
                l = 0; // get() reports why when it falls back
            }
        }
        vectorLanes = l;
        return l;
    }

    /** Default threads: {@code kawi.threads} or the number of available processors. */
    public static int defaultThreads() {
        String p = System.getProperty(THREADS_PROPERTY);
        if (p != null) {
            try {
                int t = Integer.parseInt(p.trim());
                if (t >= 1) {
                    return t;
                }
            } catch (NumberFormatException ignored) {
                // fall through to the warning
            }
            Log.LOG.log(Level.WARNING, "ignoring -D" + THREADS_PROPERTY + "=" + p + ": not a positive integer");
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /**
     * Kernels that compute exactly what {@code get(threads)} computes but are fast from the first
     * call in a fresh JVM: a {@link WarmingKernels} that serves calls with {@link LaneKernels} until
     * it is promoted to {@code get(threads)}. When the vector kernels are not the choice, or are
     * forced ({@code -Dkawi.kernels=vector}: from the first call), simply {@code get(threads)}.
     */
    public static Kernels warming(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, was " + threads);
        }
        int lanes = vectorLanes();
        boolean forcedVector = System.getProperty(KERNELS_PROPERTY, "auto").trim().equalsIgnoreCase("vector");
        return lanes == 0 || forcedVector ? get(threads) : new WarmingKernels(new LaneKernels(lanes), threads);
    }

    private static Kernels create(int threads) {
        String forced = System.getProperty(KERNELS_PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        switch (forced) {
            case "scalar" -> {
                choice = "scalar (forced by -D" + KERNELS_PROPERTY + "=scalar)";
                Log.LOG.log(Level.DEBUG, "kernels: " + choice);
                return new ScalarKernels();
            }
            case "vector", "auto" -> {
                String why = vectorUnavailableReason();
                if (why == null) {
                    try {
                        Kernels k = (Kernels) Class.forName(VECTOR_CLASS).getConstructor(int.class).newInstance(threads);
                        choice = k.name();
                        Log.LOG.log(Level.DEBUG, "kernels: " + choice);
                        return k;
                    } catch (ReflectiveOperationException | LinkageError e) {
                        why = "cannot load the vector kernels: " + e;
                    }
                }
                if (forced.equals("vector")) {
                    throw new IllegalStateException("-D" + KERNELS_PROPERTY + "=vector, but " + why);
                }
                choice = "scalar: " + why;
                Log.LOG.log(Level.WARNING, "kernels: falling back to scalar code (slow): " + why
                        + "; start the JVM with --add-modules=jdk.incubator.vector");
                return new ScalarKernels();
            }
            default -> throw new IllegalArgumentException("-D" + KERNELS_PROPERTY + "=" + forced + ": use vector, scalar or auto");
        }
    }

    private static String vectorUnavailableReason() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return "jdk.incubator.vector is not in the module graph";
        }
        return null;
    }
}

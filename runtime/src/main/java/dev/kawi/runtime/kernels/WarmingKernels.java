package dev.kawi.runtime.kernels;


/**
 * Kernels for a fresh JVM: every call goes to the {@link LaneKernels} (fast from the first call)
 * until {@link #promote()}, then to the vector kernels of {@link KernelProvider#get(int)} (fast
 * once the JIT has compiled them). Both compute the same bits, so when the switch happens never
 * changes a result. Whoever owns this instance decides when to promote, typically after running
 * the {@link #target()} kernels on a background thread until they are compiled.
 */
public final class WarmingKernels extends ForwardingKernels {
    private final LaneKernels cold;
    private final int threads;
    private volatile Kernels target;
    private volatile Kernels current;

    /** Starts on {@code cold}; the target is {@code KernelProvider.get(threads)}, created when first asked for. */
    public WarmingKernels(LaneKernels cold, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, was " + threads);
        }
        super(cold);
        this.cold = cold;
        this.threads = threads;
        this.current = cold;
    }

    /** The kernels calls go to after promotion (created, with their worker threads, on the first call). */
    public Kernels target() {
        Kernels t = target;
        if (t == null) {
            synchronized (this) {
                t = target;
                if (t == null) {
                    t = KernelProvider.get(threads);
                    target = t;
                }
            }
        }
        return t;
    }

    /** The kernels calls go to until promotion. */
    public LaneKernels cold() {
        return cold;
    }

    /** From now on, calls go to {@link #target()}. */
    public void promote() {
        current = target();
    }

    /** True once {@link #promote()} was called. */
    public boolean promoted() {
        return current != cold;
    }

    @Override
    public String name() {
        return promoted() ? current.name() : cold.name() + ", until the vector kernels are warm";
    }

    /** Calls go to the lane kernels until promotion, then to the vector kernels. */
    @Override
    protected Kernels delegate() {
        return current;
    }
}

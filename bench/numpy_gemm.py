#!/usr/bin/env python3
"""OpenBLAS (through numpy) F32 GEMM at the shapes of GemmBenchmark: the peer Kawi is compared with.

    python3 bench/numpy_gemm.py --threads 1 [--quick] [--shapes 1x512x512,32x512x512]

Computes C[M, N] = A[M, K] @ W.T for W[N, K] (Kawi's weight layout), float32, in one process with
one BLAS thread count. The count must be fixed before numpy is imported (OpenBLAS reads its
environment when it loads), so --threads sets OPENBLAS_NUM_THREADS / OMP_NUM_THREADS /
MKL_NUM_THREADS before the import, and the script checks the count OpenBLAS reports when it can
(threadpoolctl, or OpenBLAS's own get_num_threads through ctypes). Run one process per count.

Layouts: "nt" is np.matmul(A, W.T, out=C) with W[N, K] C-contiguous: the very bytes Kawi reads;
W.T is a view, handed to BLAS as a transposed operand, never copied. "nn" is np.matmul(A, Wt,
out=C) with Wt = W.T made contiguous once, before timing. Neither is always faster (it depends on
the shape and on whether OpenBLAS picks gemv or gemm), so both are timed and the faster one is
marked "best": that is the fastest fair form, since a one-off transpose is a load-time cost that
Kawi never pays. A is always 2-D [M, K], as in Kawi; the output is preallocated (out=C), as in Kawi.

Statistic: each repeat times a batch of calls (enough for about 2 ms, so the timer's cost
vanishes; a single call for big shapes) and divides by the batch size; the result is the median
of these per-call times over the repeats, GFLOP/s = 2 M N K / median. Python's call overhead
(about a microsecond) is included, as it is in any numpy program.

Output: JSON lines on stdout: one "config" line (versions, BLAS, threads), then one "gemm" line
per shape and layout. Standard library and numpy only.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

SHAPES = ["1x512x512", "1x512x2048", "1x2048x512", "1x512x32000",
          "32x512x512", "64x512x2048", "512x512x512", "1024x1024x1024"]
THREAD_VARS = ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"]
SEED = 0x6B617769


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, help="BLAS threads (sets the *_NUM_THREADS variables before importing numpy)")
    p.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated MxKxN (default: GemmBenchmark's)")
    p.add_argument("--layouts", default="nt,nn", help="nt, nn or both (default nt,nn)")
    p.add_argument("--quick", action="store_true", help="short warm-up and fewer repeats, for checks")
    p.add_argument("--repeats", type=int, help="timed batches per shape (default 31, quick 7)")
    p.add_argument("--min-time", type=float, help="minimum timed seconds per shape and layout (default 2, quick 0.2)")
    return p.parse_args()


def blas_threads_reported():
    """The thread count the loaded BLAS reports, or None when it cannot be asked."""
    try:
        import threadpoolctl
        infos = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
        if infos:
            return infos[0]["num_threads"], "threadpoolctl"
    except ImportError:
        pass
    import ctypes
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1] for line in f if "openblas" in line.lower() and line.split()[-1].startswith("/")})
    except OSError:
        libs = []
    for path in libs:
        lib = ctypes.CDLL(path)
        # numpy's wheels ship a symbol-prefixed OpenBLAS (scipy_openblas64_); a system one has the plain name.
        for name in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads"):
            fn = getattr(lib, name, None)
            if fn is not None:
                return int(fn()), "ctypes " + name
    return None, "unknown"


def blas_corename():
    """OpenBLAS's kernel family for this CPU (e.g. Haswell, SkylakeX, Zen), or None."""
    import ctypes
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1] for line in f if "openblas" in line.lower() and line.split()[-1].startswith("/")})
    except OSError:
        return None
    for path in libs:
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_get_corename64_", "openblas_get_corename64_", "openblas_get_corename"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return None


def time_layout(np, fn, flops, repeats, min_time, warmup_time):
    """Median per-call seconds of fn() over `repeats` batches (at least min_time seconds in all)."""
    end = time.perf_counter() + warmup_time
    calls = 0
    while calls < 3 or time.perf_counter() < end:
        fn()
        calls += 1
    # Batch size: enough calls for ~2 ms. The fastest of a few single calls sets it, because on a
    # shared machine any one call may be descheduled for a whole time slice.
    per_call = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        fn()
        per_call = min(per_call, time.perf_counter() - t0)
    inner = max(1, int(0.002 / max(per_call, 1e-9)))
    samples = []
    spent = 0.0
    while len(samples) < repeats or spent < min_time:
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        dt = time.perf_counter() - t0
        spent += dt
        samples.append(dt / inner)
    med = statistics.median(samples)
    return {"median_s": med, "min_s": min(samples), "max_s": max(samples), "repeats": len(samples),
            "calls_per_repeat": inner, "gflops": flops / med / 1e9}


def main():
    args = parse_args()
    if args.threads is not None:
        if args.threads < 1:
            sys.exit("--threads must be >= 1")
        if "numpy" in sys.modules:
            sys.exit("numpy was imported before the thread count was set")
        for v in THREAD_VARS:
            os.environ[v] = str(args.threads)
    import numpy as np  # only now: OpenBLAS reads its thread count when it loads

    requested = args.threads if args.threads is not None else int(os.environ.get("OPENBLAS_NUM_THREADS", "0")) or None
    reported, how = blas_threads_reported()
    if requested is not None and reported is not None and reported != requested:
        sys.exit(f"BLAS reports {reported} threads ({how}), {requested} were requested")
    threads = reported if reported is not None else requested

    blas = {}
    try:
        cfg = np.show_config(mode="dicts")
        b = cfg.get("Build Dependencies", {}).get("blas", {})
        blas = {"name": b.get("name"), "version": b.get("version"), "config": b.get("openblas configuration")}
    except (TypeError, AttributeError):  # numpy < 1.26 has no mode="dicts"
        pass
    print(json.dumps({"kind": "config", "tool": "numpy_gemm.py", "numpy": np.__version__, "python": platform.python_version(),
                      "blas": blas, "blas_corename": blas_corename(), "threads": threads,
                      "threads_checked_by": how, "env": {v: os.environ.get(v) for v in THREAD_VARS},
                      "machine": platform.machine(), "cpus": os.cpu_count(),
                      "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}), flush=True)

    repeats = args.repeats or (7 if args.quick else 31)
    min_time = args.min_time if args.min_time is not None else (0.2 if args.quick else 2.0)
    warmup_time = 0.1 if args.quick else 1.0
    layouts = [x.strip() for x in args.layouts.split(",") if x.strip()]
    for layout in layouts:
        if layout not in ("nt", "nn"):
            sys.exit(f"unknown layout {layout!r}: use nt or nn")
    rng = np.random.default_rng(SEED)
    for shape in [s.strip() for s in args.shapes.split(",") if s.strip()]:
        m, k, n = (int(x) for x in shape.split("x"))
        a = rng.uniform(-1, 1, size=(m, k)).astype(np.float32)      # (M, K)
        w = rng.uniform(-1, 1, size=(n, k)).astype(np.float32)      # (N, K): Kawi's layout
        c = np.empty((m, n), dtype=np.float32)                      # (M, N)
        flops = 2.0 * m * n * k
        rows = []
        for layout in layouts:
            if layout == "nt":
                wt = w.T                                            # (K, N) view, no copy
            else:
                wt = np.ascontiguousarray(w.T)                      # (K, N) contiguous, copied once here
            fn = (lambda wt=wt: np.matmul(a, wt, out=c))
            r = time_layout(np, fn, flops, repeats, min_time, warmup_time)
            # The product must be right, or the timing means nothing.
            ref = a[:1].astype(np.float64) @ w[:4].astype(np.float64).T
            if not np.allclose(c[:1, :4], ref, rtol=1e-3, atol=1e-3):
                sys.exit(f"{shape} {layout}: wrong result")
            rows.append(dict({"kind": "gemm", "shape": shape, "m": m, "k": k, "n": n, "dtype": "F32",
                              "layout": layout, "threads": threads}, **r))
        best = max(rows, key=lambda x: x["gflops"])
        for row in rows:
            row["best"] = row is best
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()

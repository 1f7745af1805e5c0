#!/usr/bin/env python3
"""Markdown table of Kawi GEMM GFLOP/s against OpenBLAS and against the machine's peak FMA rate.

    python3 bench/kernels_report.py --gemm gemm.json [--peak peak.json] [--numpy numpy-t1.jsonl ...] [--info info.jsonl]

Inputs: JMH JSON results (-rf json) of GemmBenchmark and PeakFmaBenchmark, the JSON lines of
numpy_gemm.py, and KernelsInfo's line. bench/run-kernels.sh makes all of them and calls this.
Standard library only.

Statistics (every number is a median, so one stall on a shared machine does not move it):
- Kawi: GemmBenchmark runs in SampleTime mode; JMH times individual calls and the median is the
  p50 of all measured call times (pooled over iterations and forks); GFLOP/s = 2 M N K / p50.
  (Results of an AverageTime or Throughput run are accepted too: then the median is over the
  per-iteration scores, and the table says so.)
- OpenBLAS: numpy_gemm.py's median per-call time over its repeats, for the faster of its two
  weight layouts (the line marked "best"); GFLOP/s = 2 M N K / median.
- Peak: PeakFmaBenchmark's throughput (ops/ns = GFLOP/s, summed over its threads), the median of
  its per-iteration scores; when it ran more than once (run-kernels.sh measures it before and
  after the GEMMs) the highest, since a lower one shared the cores. "% of peak" divides by the
  peak of the same thread count.
"""
import argparse
import json
import re
import statistics
import sys

SHAPE_ORDER = ["1x512x512", "1x512x2048", "1x2048x512", "1x512x32000",
               "32x512x512", "64x512x2048", "512x512x512", "1024x1024x1024"]  # GemmBenchmark's
DTYPE_ORDER = ["F32", "F16", "BF16", "Q8", "Q4"]
SECONDS = {"s/op": 1.0, "ms/op": 1e-3, "us/op": 1e-6, "ns/op": 1e-9}
NOISY = 1.5  # median / fastest call time at or above this marks a number as noisy
NOISY_MARK = " †"
PER_SECOND = {"ops/s": 1.0, "ops/ms": 1e3, "ops/us": 1e6, "ops/ns": 1e9}


def flat(raw):
    return [x for fork in raw for x in fork]


def seconds_per_call(pm, mode):
    """(median seconds per call, fastest seconds per call, description of the statistic) of a JMH primary metric."""
    unit = pm["scoreUnit"]
    if mode == "sample":
        p = pm["scorePercentiles"]
        return p["50.0"] * SECONDS[unit], p["0.0"] * SECONDS[unit], "p50 of sampled call times"
    if mode == "avgt":
        raw = flat(pm["rawData"])
        return statistics.median(raw) * SECONDS[unit], min(raw) * SECONDS[unit], "median of per-iteration average times"
    if mode == "thrpt":
        raw = flat(pm["rawData"])
        return (1.0 / (statistics.median(raw) * PER_SECOND[unit]), 1.0 / (max(raw) * PER_SECOND[unit]),
                "median of per-iteration throughputs")
    raise ValueError(f"JMH mode {mode} is not supported")


def shape_key(shape):
    return tuple(int(x) for x in shape.split("x"))


def load_json(path):
    with open(path) as f:
        return json.load(f)


def load_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip().startswith("{")]


def fmt(x, digits=1):
    return "n/a" if x is None else f"{x:.{digits}f}"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--gemm", required=True, nargs="+", help="JMH JSON of GemmBenchmark")
    p.add_argument("--peak", nargs="*", default=[], help="JMH JSON of PeakFmaBenchmark")
    p.add_argument("--numpy", nargs="*", default=[], help="numpy_gemm.py JSON lines (one file per thread count)")
    p.add_argument("--info", nargs="*", default=[], help="KernelsInfo / run metadata JSON lines")
    args = p.parse_args()

    # Peak FMA: threads -> median GFLOP/s, the highest of the runs given (a lower one had company).
    peak = {}
    peak_runs = {}
    for path in args.peak:
        for b in load_json(path):
            if not b["benchmark"].endswith(("PeakFmaBenchmark.threads1", "PeakFmaBenchmark.threads2")):
                continue
            pm = b["primaryMetric"]
            if pm["scoreUnit"] != "ops/ns":
                sys.exit(f"{path}: PeakFma score unit is {pm['scoreUnit']}, expected ops/ns (= GFLOP/s)")
            med = statistics.median(flat(pm["rawData"]))
            peak_runs.setdefault(b["threads"], []).append(med)
            peak[b["threads"]] = max(peak.get(b["threads"], 0.0), med)

    # OpenBLAS: (shape, threads) -> (GFLOP/s, layout).
    blas = {}
    blas_config = []
    for path in args.numpy:
        for row in load_lines(path):
            if row.get("kind") == "config":
                blas_config.append(row)
            elif row.get("kind") == "gemm" and row.get("best"):
                blas[(row["shape"], int(row["threads"]))] = (row["gflops"], row["layout"], row["median_s"] / row["min_s"])

    # Kawi: one row per (shape, dtype, threads).
    rows = []
    statistic = set()
    jvm = set()
    for path in args.gemm:
        for b in load_json(path):
            if not b["benchmark"].endswith("GemmBenchmark.gemm"):
                continue
            prm = b["params"]
            m, k, n = shape_key(prm["shape"])
            secs, fastest, stat = seconds_per_call(b["primaryMetric"], b["mode"])
            statistic.add(stat)
            jvm.add(f"JDK {b.get('jdkVersion')}, {' '.join(b.get('jvmArgs', []))}")
            rows.append({"shape": prm["shape"], "dtype": prm["dtype"], "threads": int(prm["threads"]),
                         "gflops": 2.0 * m * n * k / secs / 1e9, "spread": secs / fastest})
    if not rows:
        sys.exit("no GemmBenchmark results in " + ", ".join(args.gemm))
    rows.sort(key=lambda r: (SHAPE_ORDER.index(r["shape"]) if r["shape"] in SHAPE_ORDER else len(SHAPE_ORDER),
                             shape_key(r["shape"]),
                             DTYPE_ORDER.index(r["dtype"]) if r["dtype"] in DTYPE_ORDER else 99, r["threads"]))

    print("| shape (MxKxN) | dtype | threads | Kawi GFLOP/s (median) | OpenBLAS F32 GFLOP/s | Kawi/OpenBLAS | Kawi % of peak FMA |")
    print("|---|---|---:|---:|---:|---:|---:|")
    kawi_by_key = {(r["shape"], r["dtype"], r["threads"]): r["gflops"] for r in rows}
    layouts = {}
    noisy = 0
    for r in rows:
        ob = blas.get((r["shape"], r["threads"]))
        ob_gflops = ob[0] if ob else None
        if ob:
            layouts[(r["shape"], r["threads"])] = ob[1]
        ratio = r["gflops"] / ob_gflops if ob_gflops else None
        pk = peak.get(r["threads"])
        pct = 100.0 * r["gflops"] / pk if pk else None
        # Noisy: a wide spread of call times, or more threads being over 2x slower than one thread.
        kawi_one = kawi_by_key.get((r["shape"], r["dtype"], 1))
        blas_one = blas.get((r["shape"], 1))
        kawi_mark = NOISY_MARK if r["spread"] >= NOISY or (kawi_one and r["gflops"] < 0.5 * kawi_one) else ""
        ob_mark = NOISY_MARK if ob and (ob[2] >= NOISY or (blas_one and ob[0] < 0.5 * blas_one[0])) else ""
        noisy += bool(kawi_mark or ob_mark)
        print(f"| {r['shape']} | {r['dtype']} | {r['threads']} | {fmt(r['gflops'], 2)}{kawi_mark} | {fmt(ob_gflops)}{ob_mark} | "
              f"{fmt(ratio, 3)} | {fmt(pct, 2)} |")

    print()
    if noisy:
        print(f"- {NOISY_MARK.strip()} noisy ({noisy} row(s)): the median call took at least {NOISY}x the fastest one, or more "
              "threads ran at under half the 1-thread speed; on a shared machine other processes took the cores. "
              "Rerun those on a quiet machine before quoting them.")
    for t in sorted(peak):
        runs = ", ".join(f"{x:.1f}" for x in peak_runs[t])
        print(f"- Peak FMA ({t} thread{'s' if t > 1 else ''}, PeakFma, median of iterations): {peak[t]:.1f} GFLOP/s"
              + (f" (highest of the runs before and after: {runs})" if len(peak_runs[t]) > 1 else ""))
    if 1 in peak and 2 in peak and peak[2] < 1.6 * peak[1]:
        print(f"- {NOISY_MARK.strip()} the 2-thread peak is only {peak[2] / peak[1]:.2f}x the 1-thread one: another process "
              "was using a core during the run, so 2-thread numbers (Kawi's and OpenBLAS's) are suspect.")
    info = [row for path in args.info for row in load_lines(path)]
    for row in info:
        if row.get("kind") == "kawi_info":
            name = re.sub(r" \(\d+ threads?\)$", "", row["kernels"])
            print(f"- Kawi: {name} kernels; PeakFma vector width {row['vector_bits']} bits ({row['lanes']} floats); "
                  f"Java {row['java']}; {row['cpus']} CPUs")
        elif row.get("kind") == "run":
            print(f"- Run: {row.get('date')}, mode {row.get('mode')}, host {row.get('host')}, CPU {row.get('cpu')}")
    for j in sorted(jvm):
        print(f"- JMH forks: {j}")
    print(f"- Kawi statistic: {'; '.join(sorted(statistic))}; GFLOP/s = 2 M N K / median time per call")
    for c in blas_config:
        b = c.get("blas") or {}
        print(f"- OpenBLAS peer ({c.get('threads')} thread{'s' if c.get('threads') != 1 else ''}, checked by "
              f"{c.get('threads_checked_by')}): numpy {c.get('numpy')}, {b.get('name')} {b.get('version')}, "
              f"kernels {c.get('blas_corename')}; median per-call time over repeats, faster of the two weight layouts")
    if layouts:
        by_layout = {}
        for (shape, t), lay in sorted(layouts.items(), key=lambda x: (shape_key(x[0][0]), x[0][1])):
            by_layout.setdefault(lay, []).append(f"{shape}/{t}t")
        print("- OpenBLAS layout used (nt: A @ W.T on W[N,K] as Kawi stores it; nn: W pre-transposed once): "
              + "; ".join(f"{lay}: {', '.join(v)}" for lay, v in sorted(by_layout.items())))


if __name__ == "__main__":
    main()

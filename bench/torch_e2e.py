#!/usr/bin/python3
"""PyTorch peer of Kawi's end-to-end benchmark: the same .kawi files, greedy translation of random sources.

Commands (from the repository root; PyTorch 1.13 from Debian, hence /usr/bin/python3, not the
python3 on PATH, which has no torch):

    /usr/bin/python3 bench/torch_e2e.py --quick     # short check: tiny F32/Q8/Q4 + base F32, 3 rounds (~4 min)
    /usr/bin/python3 bench/torch_e2e.py             # full run: tiny and base x F32/Q8/Q4, 1 and 2 threads (~25 min)
    /usr/bin/python3 bench/torch_e2e.py --models /tmp/kawi-models --out e2e.jsonl
    /usr/bin/python3 bench/torch_e2e.py --presets tiny --dtypes f32 --threads 1 --variants eager-kv,jit-kv
    /usr/bin/python3 bench/torch_e2e.py --report e2e.jsonl   # the markdown tables of an earlier run

Models: <DIR>/<preset>-<dtype>.kawi, preset tiny or base, dtype f32, q8 or q4 (DIR: --models,
default bench/target/torch-e2e-models). Missing files are written first with Kawi's CLI,
`./kawi random-model --preset PRESET --dtype DTYPE FILE` (seed 1), so every later run reuses them.
They are read by the golden reference's reader (runtime/src/test/golden/make_golden.py, imported,
not copied), which decodes every tensor to float32: Q8/Q4 weights are dequantized per FORMAT.md
(blocks of 32 along the last dimension, values plane then float32 scales plane, Q4 nibbles q + 8,
value = q * scale). PyTorch therefore computes the F32, Q8 and Q4 files in float32 alike (same
speed, different values), except in the int8 variants below, which requantize with PyTorch's own
dynamic int8 scheme.

What is measured (the benchmark of Kawi's end-to-end issue):
  encoder    the encoder alone: one 20-token source (encoder_b1_ms), and 32 of them (encoder_b32_ms)
  batch-1    encoder + EXACTLY 20 greedy decoder steps for one 20-token source (eos suppressed:
             its logit is set to -inf before the argmax, so decoding never stops early):
             batch1_ms_per_sentence, batch1_ms_per_token (= / 20)
  batch-32   32 sources of 20 tokens, encoded together, 20 greedy steps each, together:
             batch32_sentences_per_s (= 32 / time), batch32_ms
Sources: random.Random(SOURCE_SEED), ids in [4, vocab), the last token eos (2); the batch-1
source is the first of the 32. The cross-attention keys/values are computed in the timed region
(once per source, in the KV-cache variants).

Threads: a budget n (--threads 1,2) is given to two pools that Debian's torch does not tie
together (it is built with BLAS_INFO=generic, so torch.set_num_threads does not reach OpenBLAS):
torch's intra-op OpenMP pool (torch.set_num_threads) and OpenBLAS's own pthread pool
(openblas_set_num_threads through ctypes; both counts are checked). For n > 1 two splits are
measured (--splits): torch n + OpenBLAS n (variant name as is), and torch 1 + OpenBLAS n (variant
name + "/intra1"): with 2 cores, the two pools' busy-waiting threads fight over the second core
(10x slowdowns seen), so letting only BLAS go parallel is often the faster peer. OMP_WAIT_POLICY
is set to PASSIVE before torch loads (--omp-wait-policy) for the same reason.

Variants (all float32 ones under torch.inference_mode(); weights as the file holds them):
  ref-nocache   the golden reference's Model as is: explicit ops (x @ W.T + b, a hand-written layer
                norm), and every step re-runs the decoder over the whole prefix (no KV cache).
                Shown to size the cache's effect; not a fair peer.
  ref-kv        the same explicit ops with the reference's incremental decoder (KV cache:
                self-attention keys/values of earlier positions cached, cross-attention keys/values
                computed once per source).
  eager-kv      incremental decoder with PyTorch's fused ops: F.linear (addmm, bias fused, weight
                [out, in] passed transposed to BLAS), F.layer_norm, F.relu/gelu/silu.
  eager-kv-nn   as eager-kv, with every weight pre-transposed once to [in, out] (torch.addmm, BLAS
                "NN" layout; OpenBLAS's GEMV path is faster that way for several shapes).
  jit-kv        eager-kv-nn traced with torch.jit.trace (encoder, and one decoder step with the
                caches as inputs/outputs), then torch.jit.freeze.
  int8dyn-kv    eager-kv with every nn.Linear (all projections and the output projection; not
                the embedding gather) replaced by torch.ao.quantization.quantize_dynamic(...,
                {nn.Linear}, dtype=torch.qint8): int8 weights (per tensor), activations quantized
                per call; engine torch.backends.quantized.engine (onednn here: no fbgemm in
                Debian's build). Requantizes the file's (dequantized) weights: not the file's Q8.
  int8dyn-jit-kv  int8dyn-kv traced and frozen like jit-kv.
Every variant's greedy tokens are compared with ref-kv's (tokens_agree_with_ref_kv): the float32
variants should agree, int8 ones may drift. The best variant per case is the fastest float32 or
int8 one; both kinds are reported.

Statistic: every configuration (variant x thread split x case) is warmed up (--warmup runs),
then timed in rounds that interleave all configurations of a model file (one run each per round),
so slow periods of the shared machine spread over all of them. Each JSON line holds the median
over the rounds (time.perf_counter, wall clock), min, max, every value, the median process CPU
time (cpu_ms_median: all threads, spinning BLAS workers included; for 1 thread, a wall time well
above it means the process was descheduled), and "disturbed": median at least 1.5x the best run.

Output: JSON lines (--out FILE, default bench/target/torch-e2e-DATE.jsonl, also echoed to
stdout): one "config" line (torch, BLAS and threading configuration, CPU, arguments), then one
line per measurement: model, dtype, variant, threads, metric, median, repeats, plus unit, min,
max, values, disturbed, base_variant, torch_threads, blas_threads, int8, file, cpu_ms_median and
tokens_agree_with_ref_kv. Then markdown tables on stdout: the best variant per case, then every
variant.

OpenBLAS kernels: --openblas-coretype auto (default) removes OPENBLAS_CORETYPE from the
environment before torch loads, so OpenBLAS picks its kernels for this CPU (on the development
machine Cooperlake: AVX-512; the environment there forces Haswell, AVX2, which is 2x slower on
large GEMMs); "keep" leaves the environment alone; any other value is set as OPENBLAS_CORETYPE.
"""

import argparse
import datetime
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import warnings

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
GOLDEN = os.path.join(ROOT, "runtime", "src", "test", "golden")
DEFAULT_MODELS = os.path.join(ROOT, "bench", "target", "torch-e2e-models")

PRESETS = ["tiny", "base"]
DTYPES = ["f32", "q8", "q4"]
VARIANTS = ["ref-nocache", "ref-kv", "eager-kv", "eager-kv-nn", "jit-kv", "int8dyn-kv", "int8dyn-jit-kv"]
INT8_VARIANTS = {"int8dyn-kv", "int8dyn-jit-kv"}
SRC_LEN = 20          # source tokens, the last one eos
STEPS = 20            # greedy decoder steps, exactly
BATCH = 32
SOURCE_SEED = 20261127
FIRST_ID = 4          # random ids in [FIRST_ID, vocab)
DISTURBED = 1.5


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="short check: tiny f32/q8/q4 and base f32, 3 rounds, 1 warm-up")
    p.add_argument("--models", default=DEFAULT_MODELS,
                   help="directory of <preset>-<dtype>.kawi files (missing ones are generated there)")
    p.add_argument("--presets", help="comma-separated, from tiny,base (default both)")
    p.add_argument("--dtypes", help="comma-separated, from f32,q8,q4 (default all; quick: base f32 only)")
    p.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated, default all: " + ",".join(VARIANTS))
    p.add_argument("--threads", default="1,2", help="comma-separated thread budgets (default 1,2)")
    p.add_argument("--splits", default="both", choices=["both", "same", "blas"],
                   help="thread budget n > 1: 'same' = torch intra-op n + OpenBLAS n, 'blas' = torch 1 + "
                        "OpenBLAS n, 'both' (default) measures both")
    p.add_argument("--omp-wait-policy", default="passive",
                   help="OMP_WAIT_POLICY for torch's OpenMP pool, set before torch loads: passive (default), "
                        "active, or keep (leave the environment alone)")
    p.add_argument("--rounds", type=int, help="timed rounds per configuration (default 9 for base, 15 for tiny; quick 3)")
    p.add_argument("--warmup", type=int, help="untimed runs per configuration first (default 2; quick 1)")
    p.add_argument("--out", help="JSON lines file (default bench/target/torch-e2e-DATE.jsonl)")
    p.add_argument("--verify", action="store_true", help="check every tensor's CRC-32C when reading (slow: pure Python)")
    p.add_argument("--report", metavar="JSONL", help="only print the markdown tables of an earlier run's JSON lines")
    p.add_argument("--openblas-coretype", default="auto",
                   help="auto (unset OPENBLAS_CORETYPE: OpenBLAS detects the CPU), keep, or a core name")
    a = p.parse_args()
    a.presets = (a.presets or ",".join(PRESETS)).split(",")
    a.threads = [int(t) for t in a.threads.split(",")]
    a.variants = a.variants.split(",")
    for v in a.variants:
        if v not in VARIANTS:
            p.error("unknown variant %r" % v)
    for pr in a.presets:
        if pr not in PRESETS:
            p.error("unknown preset %r" % pr)
    if a.dtypes:
        dts = a.dtypes.split(",")
        a.files = [(pr, dt) for pr in a.presets for dt in dts]
    elif a.quick:
        a.files = [(pr, dt) for pr in a.presets for dt in (DTYPES if pr == "tiny" else ["f32"])]
    else:
        a.files = [(pr, dt) for pr in a.presets for dt in DTYPES]
    for _, dt in a.files:
        if dt not in DTYPES:
            p.error("unknown dtype %r" % dt)
    if a.warmup is None:
        a.warmup = 1 if a.quick else 2
    return a


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

def fmt(rec):
    if rec is None:
        return "-"
    v = rec["median"]
    s = ("%.1f" % v) if v >= 10 else ("%.2f" % v)
    return s + (" †" if rec["disturbed"] else "")


def best_of(recs, metric, higher, int8=None):
    cand = [r for r in recs if r["metric"] == metric and (int8 is None or r["int8"] == int8)]
    if not cand:
        return None
    return max(cand, key=lambda r: r["median"]) if higher else min(cand, key=lambda r: r["median"])


def report(lines, args):
    out = []
    keys = []
    for r in lines:
        k = (r["model"], r["dtype"], r["threads"])
        if k not in keys:
            keys.append(k)
    out.append("")
    out.append("Best variant per case (medians; float32 variants, then the best int8 one). "
               "Steps: %d greedy, eos suppressed; sources %d tokens." % (STEPS, SRC_LEN))
    out.append("")
    out.append("| model | dtype | threads | encoder b1 ms | batch-1 ms/sentence | ms/token | batch-32 sentences/s "
               "| int8 batch-1 ms/sentence | int8 batch-32 sentences/s |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for k in keys:
        recs = [r for r in lines if (r["model"], r["dtype"], r["threads"]) == k]
        e = best_of(recs, "encoder_b1_ms", False, int8=False)
        b1 = best_of(recs, "batch1_ms_per_sentence", False, int8=False)
        tok = None
        if b1 is not None:
            tok = next(r for r in recs if r["metric"] == "batch1_ms_per_token" and r["variant"] == b1["variant"])
        b32 = best_of(recs, "batch32_sentences_per_s", True, int8=False)
        q1 = best_of(recs, "batch1_ms_per_sentence", False, int8=True)
        q32 = best_of(recs, "batch32_sentences_per_s", True, int8=True)

        def cell(rec):
            return "-" if rec is None else "%s (%s)" % (fmt(rec), rec["variant"])
        out.append("| %s | %s | %d | %s | %s | %s | %s | %s | %s |" % (
            k[0], k[1].upper(), k[2], cell(e), cell(b1), fmt(tok), cell(b32), cell(q1), cell(q32)))
    out.append("")
    out.append("All variants (medians; † = median >= %.1fx the fastest run: disturbed by other load):" % DISTURBED)
    out.append("")
    out.append("| model | dtype | variant | threads | encoder b1 ms | encoder b32 ms | batch-1 ms/sentence "
               "| ms/token | batch-32 sentences/s | tokens = ref-kv (b1/b32) |")
    out.append("|---|---|---|---:|---:|---:|---:|---:|---:|---|")
    rows = []
    for r in lines:
        k = (r["model"], r["dtype"], r["variant"], r["threads"])
        if k not in rows:
            rows.append(k)
    for k in rows:
        recs = {r["metric"]: r for r in lines if (r["model"], r["dtype"], r["variant"], r["threads"]) == k}

        def ag(m):
            r = recs.get(m)
            return "-" if r is None or "tokens_agree_with_ref_kv" not in r else "%.0f%%" % (100 * r["tokens_agree_with_ref_kv"])
        out.append("| %s | %s | %s | %d | %s | %s | %s | %s | %s | %s/%s |" % (
            k[0], k[1].upper(), k[2], k[3], fmt(recs.get("encoder_b1_ms")), fmt(recs.get("encoder_b32_ms")),
            fmt(recs.get("batch1_ms_per_sentence")), fmt(recs.get("batch1_ms_per_token")),
            fmt(recs.get("batch32_sentences_per_s")), ag("batch1_ms_per_sentence"), ag("batch32_sentences_per_s")))
    return "\n".join(out)


ARGS = parse_args()
if ARGS.report:  # no torch needed
    with open(ARGS.report) as _f:
        _lines = [json.loads(_l) for _l in _f if _l.strip()]
    print(report([_r for _r in _lines if _r.get("type") != "config"], ARGS))
    sys.exit(0)
# OpenBLAS reads OPENBLAS_CORETYPE when it loads (with torch), so this comes before `import torch`.
_ENV_CORETYPE = os.environ.get("OPENBLAS_CORETYPE")
if ARGS.openblas_coretype == "auto":
    os.environ.pop("OPENBLAS_CORETYPE", None)
elif ARGS.openblas_coretype != "keep":
    os.environ["OPENBLAS_CORETYPE"] = ARGS.openblas_coretype
_ENV_WAIT = os.environ.get("OMP_WAIT_POLICY")
if ARGS.omp_wait_policy != "keep":
    os.environ["OMP_WAIT_POLICY"] = ARGS.omp_wait_policy.upper()

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, GOLDEN)
import make_golden as mg  # noqa: E402  (the reference reader and model)


# --------------------------------------------------------------------------------------------
# Threads and BLAS
# --------------------------------------------------------------------------------------------

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openblas_handle  # noqa: E402  (after torch: it looks for the library torch loaded)

OPENBLAS_PATH, OPENBLAS = openblas_handle.find()


def set_threads(intra, blas=None):
    """torch's intra-op (OpenMP) threads and OpenBLAS's own pthread pool, set separately: Debian's
    torch is built with BLAS_INFO=generic and does not pass its count on to OpenBLAS."""
    blas = intra if blas is None else blas
    torch.set_num_threads(intra)
    if OPENBLAS is not None:
        OPENBLAS.openblas_set_num_threads(blas)
        got = OPENBLAS.openblas_get_num_threads()
        if got != blas:
            sys.exit("OpenBLAS runs %d threads, not %d" % (got, blas))
    if torch.get_num_threads() != intra:
        sys.exit("torch runs %d threads, not %d" % (torch.get_num_threads(), intra))


def thread_configs(budgets, splits):
    """(budget, torch intra-op threads, OpenBLAS threads, variant suffix) for every budget."""
    out = []
    for n in budgets:
        if n == 1:
            out.append((1, 1, 1, ""))
            continue
        if splits in ("both", "same"):
            out.append((n, n, n, ""))
        if splits in ("both", "blas"):
            out.append((n, 1, n, "/intra1"))
    return out


def config_info():
    show = torch.__config__.show()
    blas_line = [l.strip() for l in show.splitlines() if "BLAS_INFO" in l]
    info = {
        "type": "config",
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "python": sys.executable + " " + platform.python_version(),
        "torch": torch.__version__,
        "torch_build_blas": blas_line[0].split("BLAS_INFO=")[1].split(",")[0] if blas_line else None,
        "openblas_loaded": OPENBLAS_PATH,
        "openblas_config": OPENBLAS.openblas_get_config().decode() if OPENBLAS else None,
        "openblas_corename": OPENBLAS.openblas_get_corename().decode() if OPENBLAS else None,
        "openblas_parallel": {0: "sequential", 1: "pthreads", 2: "openmp"}.get(OPENBLAS.openblas_get_parallel())
        if OPENBLAS else None,
        "openblas_coretype_env": {"before": _ENV_CORETYPE, "used": os.environ.get("OPENBLAS_CORETYPE")},
        "omp_wait_policy_env": {"before": _ENV_WAIT, "used": os.environ.get("OMP_WAIT_POLICY")},
        "parallel_info": torch.__config__.parallel_info().strip().splitlines(),
        "quantized_engine": torch.backends.quantized.engine,
        "quantized_engines": list(torch.backends.quantized.supported_engines),
        "cpu_capability": [l.strip() for l in show.splitlines() if "CPU capability" in l],
        "cpu": _cpu_name(),
        "env": {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP_", "GOMP", "MKL", "KMP"))},
    }
    return info


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for l in f:
                if l.startswith("model name"):
                    return l.split(":", 1)[1].strip() + ", %d CPUs" % os.cpu_count()
    except OSError:
        pass
    return platform.processor()


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------

def ensure_model(directory, preset, dtype):
    path = os.path.join(directory, "%s-%s.kawi" % (preset, dtype))
    if not os.path.exists(path):
        os.makedirs(directory, exist_ok=True)
        cmd = [os.path.join(ROOT, "kawi"), "random-model", "--preset", preset, "--dtype", dtype, path]
        print("# generating %s: %s" % (path, " ".join(cmd)), file=sys.stderr, flush=True)
        subprocess.run(cmd, check=True, cwd=ROOT, stdout=sys.stderr)  # stdout is for JSON lines
    return path


def _float_linear(w, b, layout):
    """y = x W^T + b as one fused op: F.linear (weight handed to BLAS transposed) or, layout "nn",
    torch.addmm on a weight transposed once to [in, out]."""
    if layout == "nt":
        return lambda x: F.linear(x, w, b)
    n_out, n_in = w.shape
    wt = w.t().contiguous()
    if b is None:
        return lambda x: torch.matmul(x, wt)
    return lambda x: torch.addmm(b, x.reshape(-1, n_in), wt).view(x.shape[:-1] + (n_out,))


def linear_names(config):
    """The linear layers' names (without .weight), as in the file, plus "output"."""
    names = [n[:-len(".weight")] for n, s in mg.expected_tensors(config).items()
             if n.endswith(".weight") and len(s) == 2 and ".layers." in n]
    return names + ["output"]


class FastModel(mg.Model):
    """The reference model (make_golden.Model: same structure, attention and decoding code) with
    PyTorch's fused kernels for the building blocks: linear layers (float F.linear / addmm, or
    dynamically quantized int8 nn.Linear), F.layer_norm, F.relu/gelu/silu."""

    def __init__(self, config, tensors, layout="nt", int8=False):
        super().__init__(config, tensors, torch.float32)
        self.fns = {}
        self.layers = nn.ModuleDict()  # int8: the quantized modules (keys: names with '.' -> '/')
        for name in linear_names(config):
            if name == "output":
                w, b = self.out_w, self.out_b
            else:
                w, b = self.w[name + ".weight"], self.w.get(name + ".bias")
            if int8:
                lin = nn.Linear(w.shape[1], w.shape[0], bias=b is not None)
                lin.weight = nn.Parameter(w, requires_grad=False)
                if b is not None:
                    lin.bias = nn.Parameter(b, requires_grad=False)
                self.layers[name.replace(".", "/")] = lin
            else:
                self.fns[name] = _float_linear(w, b, layout)
        if int8:
            self.layers = torch.ao.quantization.quantize_dynamic(self.layers.eval(), {nn.Linear}, dtype=torch.qint8)
            for key, mod in self.layers.items():
                self.fns[key.replace("/", ".")] = mod
        act = config["activation"]
        self.act = {"relu": F.relu, "gelu": F.gelu, "swish": F.silu}[act]
        self.d_shape = (self.d,)

    def linear(self, x, name):
        return self.fns[name](x)

    def logits(self, x):
        return self.fns["output"](x)

    def layer_norm(self, x, name):
        return F.layer_norm(x, self.d_shape, self.w[name + ".weight"], self.w[name + ".bias"], self.eps)

    def activation(self, x):
        return self.act(x)


# --------------------------------------------------------------------------------------------
# Variants: encode(src) -> memory; start(memory) -> state; step(tokens, state) -> logits
# --------------------------------------------------------------------------------------------

class KvRunner:
    """Incremental decoding through Model.start_decoding / decode_step (any Model subclass)."""

    def __init__(self, model):
        self.m = model

    def encode(self, src):
        return self.m.encode(src)

    def start(self, memory):
        return self.m.start_decoding(memory)

    def step(self, tokens, state):
        return self.m.decode_step(tokens, state)


class NoCacheRunner(KvRunner):
    """The reference's own decoding: every step runs Model.decode over the whole prefix."""

    def start(self, memory):
        return {"memory": memory, "prefix": None}

    def step(self, tokens, state):
        t = tokens[:, None]
        state["prefix"] = t if state["prefix"] is None else torch.cat([state["prefix"], t], dim=1)
        return self.m.decode(state["prefix"], state["memory"])[:, -1]


class _EncoderModule(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.m = model
        self.q = model.layers  # int8: registers the quantized modules (packed weights) with the trace

    def forward(self, src):
        return self.m.encode(src)


class _StepModule(nn.Module):
    """One decoder step with every piece of state as a tensor input/output (traceable):
    tokens [B], position [1], cross keys/values and self-attention caches (flat tuples)."""

    def __init__(self, model):
        super().__init__()
        self.m = model
        self.q = model.layers

    def forward(self, tokens, position, cross, cache):
        layers = len(cross) // 2
        state = {"cross": [[cross[2 * i], cross[2 * i + 1]] for i in range(layers)],
                 "self": [[cache[2 * i], cache[2 * i + 1]] for i in range(layers)],
                 "memory_mask": None, "position": position}
        logits = self.m.decode_step(tokens, state)
        out = []
        for k, v in state["self"]:
            out += [k, v]
        return logits, tuple(out)


class JitRunner:
    """A FastModel's encoder and decoder step, traced (torch.jit.trace) and frozen, per batch size.
    The traced step takes the growing caches as inputs; shapes are read from tensors in the trace,
    so one trace serves every step (checked against eager decoding in check_variants)."""

    def __init__(self, model, batches=(1, BATCH)):
        self.m = model
        self.enc, self.stp = {}, {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            for b in batches:
                self._traced(b)

    def _traced(self, batch):
        if batch not in self.enc:
            with torch.no_grad():
                m = self.m
                src = torch.full((batch, SRC_LEN), FIRST_ID, dtype=torch.long)
                enc = torch.jit.freeze(torch.jit.trace(_EncoderModule(m).eval(), (src,), check_trace=False))
                memory = m.encode(src)
                st = m.start_decoding(memory)
                cross = tuple(t for kv in st["cross"] for t in kv)
                # trace at a non-empty cache (3 earlier positions)
                cache = tuple(torch.zeros(batch, m.heads, 3, m.hd) for _ in range(2 * m.c["decoder_layers"]))
                tokens = torch.full((batch,), m.c["decoder_start_id"], dtype=torch.long)
                position = torch.tensor([3])
                stp = torch.jit.freeze(torch.jit.trace(_StepModule(m).eval(), (tokens, position, cross, cache),
                                                       check_trace=False))
            self.enc[batch], self.stp[batch] = enc, stp
        return self.enc[batch], self.stp[batch]

    def encode(self, src):
        return self._traced(src.shape[0])[0](src)

    def start(self, memory):
        m = self.m
        st = m.start_decoding(memory)
        return {"cross": tuple(t for kv in st["cross"] for t in kv),
                "cache": tuple(t for kv in st["self"] for t in kv),
                "position": torch.tensor([0]), "step": self._traced(memory.shape[0])[1]}

    def step(self, tokens, state):
        logits, state["cache"] = state["step"](tokens, state["position"], state["cross"], state["cache"])
        state["position"] = state["position"] + 1
        return logits


def build_variant(name, config, tensors):
    if name == "ref-nocache":
        return NoCacheRunner(mg.Model(config, tensors, torch.float32))
    if name == "ref-kv":
        return KvRunner(mg.Model(config, tensors, torch.float32))
    if name == "eager-kv":
        return KvRunner(FastModel(config, tensors, layout="nt"))
    if name == "eager-kv-nn":
        return KvRunner(FastModel(config, tensors, layout="nn"))
    if name == "jit-kv":
        return JitRunner(FastModel(config, tensors, layout="nn"))
    if name == "int8dyn-kv":
        return KvRunner(FastModel(config, tensors, int8=True))
    if name == "int8dyn-jit-kv":
        return JitRunner(FastModel(config, tensors, int8=True))
    raise ValueError(name)


# --------------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------------

def make_sources(vocab, eos):
    rnd = random.Random(SOURCE_SEED)
    rows = [[rnd.randrange(FIRST_ID, vocab) for _ in range(SRC_LEN - 1)] + [eos] for _ in range(BATCH)]
    return torch.tensor(rows, dtype=torch.long)


def greedy(runner, src, start_id, eos):
    """Encoder + exactly STEPS greedy steps (eos suppressed). Returns the tokens [B, STEPS]."""
    memory = runner.encode(src)
    state = runner.start(memory)
    tokens = torch.full((src.shape[0],), start_id, dtype=torch.long)
    out = []
    for _ in range(STEPS):
        logits = runner.step(tokens, state)
        logits[:, eos] = float("-inf")
        tokens = logits.argmax(dim=-1)
        out.append(tokens)
    return torch.stack(out, dim=1)


CASES = ["encoder_b1", "encoder_b32", "batch1", "batch32"]


def run_case(case, runner, srcs, start_id, eos):
    """Runs one case once; returns (seconds, tokens or None)."""
    if case == "encoder_b1":
        src = srcs[0:1]
        t0 = time.perf_counter()
        runner.encode(src)
        return time.perf_counter() - t0, None
    if case == "encoder_b32":
        t0 = time.perf_counter()
        runner.encode(srcs)
        return time.perf_counter() - t0, None
    src = srcs[0:1] if case == "batch1" else srcs
    t0 = time.perf_counter()
    toks = greedy(runner, src, start_id, eos)
    return time.perf_counter() - t0, toks


def metrics_of(case, times):
    """(metric, unit, per-run values, higher_is_better) lines for one case's run times (seconds)."""
    if case == "encoder_b1":
        return [("encoder_b1_ms", "ms", [t * 1e3 for t in times], False)]
    if case == "encoder_b32":
        return [("encoder_b32_ms", "ms", [t * 1e3 for t in times], False)]
    if case == "batch1":
        return [("batch1_ms_per_sentence", "ms", [t * 1e3 for t in times], False),
                ("batch1_ms_per_token", "ms", [t * 1e3 / STEPS for t in times], False)]
    return [("batch32_sentences_per_s", "sentences/s", [BATCH / t for t in times], True),
            ("batch32_ms", "ms", [t * 1e3 for t in times], False)]


def bench_model(path, preset, dtype, args, emit):
    t0 = time.time()
    meta, tensors = mg.read_kawi(path, verify=args.verify)
    c = meta["config"]
    print("# %s: read in %.1fs (%s)" % (path, time.time() - t0, "CRC-32C checked" if args.verify else "no CRC check"),
          file=sys.stderr, flush=True)
    srcs = make_sources(c["vocab_size"], c["eos_id"])
    start_id, eos = c["decoder_start_id"], c["eos_id"]
    runners = {}
    for v in args.variants:
        t0 = time.time()
        with torch.no_grad():
            runners[v] = build_variant(v, c, tensors)
        print("# %s %s %s: built in %.1fs" % (preset, dtype, v, time.time() - t0), file=sys.stderr, flush=True)
    rounds = args.rounds or (3 if args.quick else (9 if preset == "base" else 15))
    tcs = thread_configs(args.threads, args.splits)
    configs = [(v, tc, case) for v in args.variants for tc in tcs for case in CASES]
    times = {k: [] for k in configs}
    cpu = {k: [] for k in configs}
    tokens = {}
    # warm-up (JIT: the profiling executor optimizes after the first runs)
    for _ in range(args.warmup):
        for (v, tc, case) in configs:
            set_threads(tc[1], tc[2])
            with torch.inference_mode():
                _, toks = run_case(case, runners[v], srcs, start_id, eos)
            if toks is not None:
                tokens[(v, case)] = toks
    t_start = time.time()
    for r in range(rounds):
        for (v, tc, case) in configs:
            set_threads(tc[1], tc[2])
            c0 = time.process_time()
            with torch.inference_mode():
                dt, toks = run_case(case, runners[v], srcs, start_id, eos)
            cpu[(v, tc, case)].append(time.process_time() - c0)
            times[(v, tc, case)].append(dt)
            if toks is not None:
                tokens[(v, case)] = toks
        print("# %s %s: round %d/%d (%.0fs)" % (preset, dtype, r + 1, rounds, time.time() - t_start),
              file=sys.stderr, flush=True)
    lines = []
    for (v, tc, case) in configs:
        agree = None
        ref = tokens.get(("ref-kv", case))
        mine = tokens.get((v, case))
        if ref is not None and mine is not None:
            agree = float((ref == mine).float().mean())
        for metric, unit, vals, higher in metrics_of(case, times[(v, tc, case)]):
            med = statistics.median(vals)
            best = max(vals) if higher else min(vals)
            disturbed = (best / med if higher else med / best) >= DISTURBED
            rec = {"model": preset, "dtype": dtype, "variant": v + tc[3], "threads": tc[0], "metric": metric,
                   "median": round(med, 4), "repeats": len(vals), "unit": unit,
                   "min": round(min(vals), 4), "max": round(max(vals), 4),
                   "values": [round(x, 4) for x in vals], "disturbed": disturbed,
                   "base_variant": v, "torch_threads": tc[1], "blas_threads": tc[2],
                   "int8": v in INT8_VARIANTS, "file": os.path.basename(path)}
            if unit == "ms":  # process CPU time per run (all threads; spinning BLAS workers count too)
                per = STEPS if metric == "batch1_ms_per_token" else 1
                rec["cpu_ms_median"] = round(statistics.median(cpu[(v, tc, case)]) * 1e3 / per, 4)
            if agree is not None:
                rec["tokens_agree_with_ref_kv"] = round(agree, 4)
            emit(rec)
            lines.append(rec)
    return lines


def main():
    args = ARGS
    out_path = args.out or os.path.join(ROOT, "bench", "target",
                                        "torch-e2e-%s.jsonl" % datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    paths = [(pr, dt, ensure_model(args.models, pr, dt)) for pr, dt in args.files]
    torch.manual_seed(0)
    with open(out_path, "w") as fh:
        def emit(rec):
            line = json.dumps(rec)
            fh.write(line + "\n")
            fh.flush()
            print(line, flush=True)
        info = config_info()
        info["args"] = {k: v for k, v in vars(args).items() if k != "files"}
        info["files"] = [p for _, _, p in paths]
        emit(info)
        lines = []
        for pr, dt, path in paths:
            lines += bench_model(path, pr, dt, args, emit)
    print(report(lines, args))
    print("\n# JSON lines: %s" % out_path, file=sys.stderr)


if __name__ == "__main__":
    main()

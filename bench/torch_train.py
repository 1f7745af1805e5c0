#!/usr/bin/python3
"""PyTorch peer of Kawi's training-throughput harness (dev.kawi.bench.TrainThroughput).

From the repository root (PyTorch 1.13 from Debian, hence /usr/bin/python3; the python3 on PATH
has no torch):

    /usr/bin/python3 bench/torch_train.py BATCHES.json --threads 1 [--warmup 1] [--steps 3]

BATCHES.json is written by `TrainThroughput write-batches` (see bench/README.md): a synthetic
corpus of sentence pairs and the batches of epoch 0 of Kawi's token-budget Batcher (4096 padded
tokens per side), in the order Kawi's Trainer consumes them. This script trains on exactly those
batches, in that order, one batch per optimizer step.

The model is Kawi's tiny preset (weights-format ModelConfig.tiny(8000)): 6 encoder + 2 decoder
layers, d_model 256, 4 heads, FFN 1024, vocabulary 8000, pre-norm with final encoder and decoder
norms, ReLU, embeddings scaled by sqrt(d), sinusoidal positions, one embedding table shared by
encoder, decoder and (tied) output projection, no output bias, biases on every projection,
layer-norm eps 1e-5. Written with PyTorch's ordinary fused training ops (F.linear with fused
q|k|v and k|v projections, F.layer_norm, F.relu, masked softmax attention,
F.cross_entropy with label_smoothing); initialized as Kawi's Trainer does (Glorot-uniform
projections, embeddings normal with std d^-0.5, norm gains 1, biases 0).

Training step, as Kawi's Trainer.trainStep: pad the batch (source + eos; decoder input =
start + target; labels = target + eos), forward with dropout 0.1 on the embeddings and on every
sub-layer output before its residual add (Kawi's dropout sites; none inside attention or the
FFN), label-smoothed (0.1) cross-entropy summed over non-pad labels and divided by their count,
backward, global gradient-norm clipping at 1.0, Adam (beta 0.9/0.98, eps 1e-9, no weight decay)
with the paper's learning-rate schedule (warm-up 4000), zero the gradients. The timed region is
that whole step, batch padding included (time.perf_counter, wall clock).

Threads (--threads N): Debian's torch is built with BLAS_INFO=generic: its matrix products call
the system BLAS (libblas.so.3, which the alternatives system points at OpenBLAS 0.3.21's pthread
build, package libopenblas0-pthread), and torch.set_num_threads does not reach OpenBLAS's own
pool. The script sets both: torch's intra-op OpenMP threads (--torch-threads, default N) and
OpenBLAS's threads (openblas_set_num_threads through ctypes, default N), and checks both counts.
OMP_WAIT_POLICY=PASSIVE is set before torch loads (two spinning pools on two cores fight).
OPENBLAS_CORETYPE is removed from the environment before torch loads (--openblas-coretype auto,
the default) so that OpenBLAS picks its kernels for this CPU; the config line records the
kernels in use (openblas_get_corename) and torch.__config__.show()'s BLAS line.

Output: JSON lines on stdout: one config line, one line per step (tokens = non-pad labels,
seconds, tokens_per_s, loss per token), then a summary line with the median target tokens per
second over the measured steps (after --warmup untimed steps), the aggregate rate and the
first step's loss.
"""

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

# The tiny preset (ModelConfig.tiny), vocabulary 8000.
CONFIG = dict(encoder_layers=6, decoder_layers=2, d_model=256, num_heads=4, ffn_dim=1024, vocab_size=8000,
              max_positions=512, eps=1e-5, pad_id=0, eos_id=2, decoder_start_id=1)
DROPOUT = 0.1
LABEL_SMOOTHING = 0.1
BETAS = (0.9, 0.98)
ADAM_EPS = 1e-9
CLIP_NORM = 1.0
LR_WARMUP = 4000


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("batches", help="batches file written by TrainThroughput write-batches")
    p.add_argument("--threads", type=int, default=1, help="thread budget N (default 1)")
    p.add_argument("--torch-threads", type=int, help="torch intra-op threads (default N)")
    p.add_argument("--blas-threads", type=int, help="OpenBLAS threads (default N)")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps first (default 1)")
    p.add_argument("--steps", type=int, default=3, help="timed steps (default 3)")
    p.add_argument("--seed", type=int, default=1, help="torch.manual_seed: initialization and dropout (default 1)")
    p.add_argument("--openblas-coretype", default="auto",
                   help="auto (unset OPENBLAS_CORETYPE: OpenBLAS detects the CPU), keep, or a core name")
    p.add_argument("--omp-wait-policy", default="passive", help="OMP_WAIT_POLICY before torch loads, or keep")
    return p.parse_args()


ARGS = parse_args()
# OpenBLAS and OpenMP read these when they load (with torch), so this comes before `import torch`.
_ENV_CORETYPE = os.environ.get("OPENBLAS_CORETYPE")
if ARGS.openblas_coretype == "auto":
    os.environ.pop("OPENBLAS_CORETYPE", None)
elif ARGS.openblas_coretype != "keep":
    os.environ["OPENBLAS_CORETYPE"] = ARGS.openblas_coretype
if ARGS.omp_wait_policy != "keep":
    os.environ["OMP_WAIT_POLICY"] = ARGS.omp_wait_policy.upper()

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


# --------------------------------------------------------------------------------------------
# Threads and BLAS
# --------------------------------------------------------------------------------------------

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openblas_handle  # noqa: E402  (after torch: it looks for the library torch loaded)

OPENBLAS_PATH, OPENBLAS = openblas_handle.find()


def set_threads(intra, blas):
    torch.set_num_threads(intra)
    if OPENBLAS is None:
        sys.exit("OpenBLAS is not loaded in this process: torch would not use it for its matrix products")
    OPENBLAS.openblas_set_num_threads(blas)
    if OPENBLAS.openblas_get_num_threads() != blas:
        sys.exit("OpenBLAS runs %d threads, not %d" % (OPENBLAS.openblas_get_num_threads(), blas))
    if torch.get_num_threads() != intra:
        sys.exit("torch runs %d threads, not %d" % (torch.get_num_threads(), intra))


def config_line(intra, blas):
    show = torch.__config__.show()
    blas_info = [l.strip() for l in show.splitlines() if "BLAS_INFO" in l]
    return {
        "side": "torch", "config": True,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "python": sys.executable + " " + platform.python_version(),
        "torch": torch.__version__,
        "torch_build_blas": blas_info[0].split("BLAS_INFO=")[1].split(",")[0] if blas_info else None,
        "cpu_capability": [l.strip() for l in show.splitlines() if "CPU capability" in l],
        "openblas_loaded": OPENBLAS_PATH,
        "openblas_config": OPENBLAS.openblas_get_config().decode(),
        "openblas_corename": OPENBLAS.openblas_get_corename().decode(),
        "openblas_coretype_env": {"before": _ENV_CORETYPE, "used": os.environ.get("OPENBLAS_CORETYPE")},
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "torch_threads": intra, "blas_threads": blas,
    }


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------

def sinusoidal(positions, d):
    """PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(...), float64 rounded to float32."""
    p = torch.arange(positions, dtype=torch.float64)[:, None]
    i2 = torch.arange(0, d, 2, dtype=torch.float64)
    angle = p / torch.pow(10000.0, i2 / d)
    pe = torch.zeros(positions, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle)
    return pe.to(torch.float32)


def glorot(out_features, in_features):
    a = math.sqrt(6.0 / (in_features + out_features))
    return nn.Parameter(torch.empty(out_features, in_features).uniform_(-a, a))


class Linear(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = glorot(out_features, in_features)
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


class Norm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.bias = nn.Parameter(torch.zeros(d))
        self.eps = eps

    def forward(self, x):
        return F.layer_norm(x, x.shape[-1:], self.weight, self.bias, self.eps)


def attend(q, k, v, mask, heads):
    """q [B, n, d], k/v [B, m, d]; mask broadcastable to [B, H, n, m], True where masked."""
    b, n, d = q.shape
    m = k.shape[1]
    hd = d // heads
    q = q.view(b, n, heads, hd).transpose(1, 2)
    k = k.view(b, m, heads, hd).transpose(1, 2)
    v = v.view(b, m, heads, hd).transpose(1, 2)
    scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
    scores = scores.masked_fill(mask, float("-inf"))
    return torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, n, d)


class SelfAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.qkv, self.out, self.heads, self.d = Linear(d, 3 * d), Linear(d, d), heads, d

    def forward(self, x, mask):
        q, k, v = self.qkv(x).split(self.d, dim=-1)
        return self.out(attend(q, k, v, mask, self.heads))


class CrossAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.q, self.kv, self.out, self.heads, self.d = Linear(d, d), Linear(d, 2 * d), Linear(d, d), heads, d

    def forward(self, x, memory, mask):
        k, v = self.kv(memory).split(self.d, dim=-1)
        return self.out(attend(self.q(x), k, v, mask, self.heads))


class Ffn(nn.Module):
    def __init__(self, d, f):
        super().__init__()
        self.fc1, self.fc2 = Linear(d, f), Linear(f, d)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class EncoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["d_model"]
        self.self_attn, self.self_attn_norm = SelfAttention(d, c["num_heads"]), Norm(d, c["eps"])
        self.ffn, self.ffn_norm = Ffn(d, c["ffn_dim"]), Norm(d, c["eps"])

    def forward(self, x, mask):
        x = x + F.dropout(self.self_attn(self.self_attn_norm(x), mask), DROPOUT, self.training)
        return x + F.dropout(self.ffn(self.ffn_norm(x)), DROPOUT, self.training)


class DecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["d_model"]
        self.self_attn, self.self_attn_norm = SelfAttention(d, c["num_heads"]), Norm(d, c["eps"])
        self.cross_attn, self.cross_attn_norm = CrossAttention(d, c["num_heads"]), Norm(d, c["eps"])
        self.ffn, self.ffn_norm = Ffn(d, c["ffn_dim"]), Norm(d, c["eps"])

    def forward(self, x, memory, self_mask, memory_mask):
        x = x + F.dropout(self.self_attn(self.self_attn_norm(x), self_mask), DROPOUT, self.training)
        x = x + F.dropout(self.cross_attn(self.cross_attn_norm(x), memory, memory_mask), DROPOUT, self.training)
        return x + F.dropout(self.ffn(self.ffn_norm(x)), DROPOUT, self.training)


class Transformer(nn.Module):
    """Kawi's tiny preset: pre-norm, final norms, shared and tied embeddings, sinusoidal positions."""

    def __init__(self, c):
        super().__init__()
        d = c["d_model"]
        self.c = c
        self.embed = nn.Parameter(torch.randn(c["vocab_size"], d) * d ** -0.5)
        self.register_buffer("pe", sinusoidal(c["max_positions"], d))
        self.scale = math.sqrt(d)
        self.encoder = nn.ModuleList(EncoderLayer(c) for _ in range(c["encoder_layers"]))
        self.decoder = nn.ModuleList(DecoderLayer(c) for _ in range(c["decoder_layers"]))
        self.encoder_final_norm, self.decoder_final_norm = Norm(d, c["eps"]), Norm(d, c["eps"])

    def embed_tokens(self, ids):
        x = F.embedding(ids, self.embed) * self.scale + self.pe[:ids.shape[1]]
        return F.dropout(x, DROPOUT, self.training)

    def forward(self, src, src_lens, tgt_in):
        s, t = src.shape[1], tgt_in.shape[1]
        key_pad = (torch.arange(s)[None, :] >= src_lens[:, None])[:, None, None, :]  # [B, 1, 1, S]
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)  # True above the diagonal
        x = self.embed_tokens(src)
        for layer in self.encoder:
            x = layer(x, key_pad)
        memory = self.encoder_final_norm(x)
        y = self.embed_tokens(tgt_in)
        for layer in self.decoder:
            y = layer(y, memory, causal, key_pad)
        return F.linear(self.decoder_final_norm(y), self.embed)  # tied output, no bias


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------

def pad_batch(pairs, c):
    """Kawi's Batch.of: (source [B, S], source lengths [B], decoder input [B, T], labels [B, T])."""
    pad, eos, start = c["pad_id"], c["eos_id"], c["decoder_start_id"]
    s = max(len(x) for x, _ in pairs) + 1
    t = max(len(y) for _, y in pairs) + 1
    src = [x + [eos] + [pad] * (s - len(x) - 1) for x, _ in pairs]
    tin = [[start] + y + [pad] * (t - len(y) - 1) for _, y in pairs]
    tout = [y + [eos] + [pad] * (t - len(y) - 1) for _, y in pairs]
    return (torch.tensor(src), torch.tensor([len(x) + 1 for x, _ in pairs]), torch.tensor(tin), torch.tensor(tout))


def noam(step, d):
    s = max(step, 1)
    return d ** -0.5 * min(s ** -0.5, s * LR_WARMUP ** -1.5)


def train_step(model, opt, sched, pairs, c):
    src, lens, tin, tout = pad_batch(pairs, c)
    logits = model(src, lens, tin)
    labels = tout.reshape(-1)
    loss = F.cross_entropy(logits.reshape(-1, c["vocab_size"]), labels, ignore_index=c["pad_id"],
                           label_smoothing=LABEL_SMOOTHING, reduction="sum")
    tokens = int((labels != c["pad_id"]).sum())
    (loss / tokens).backward()
    nn.utils.clip_grad_norm_(model.parameters(), CLIP_NORM)
    opt.step()
    sched.step()
    opt.zero_grad(set_to_none=True)
    return tokens, float(loss) / tokens


def main():
    intra = ARGS.torch_threads or ARGS.threads
    blas = ARGS.blas_threads or ARGS.threads
    set_threads(intra, blas)
    print(json.dumps(config_line(intra, blas)), flush=True)
    with open(ARGS.batches, encoding="utf-8") as fh:
        data = json.load(fh)
    c = dict(CONFIG)
    if data["vocab_size"] != c["vocab_size"] or data["pad_id"] != c["pad_id"] or data["eos_id"] != c["eos_id"] \
            or data["decoder_start_id"] != c["decoder_start_id"]:
        sys.exit("%s: vocabulary or special ids differ from the tiny preset's" % ARGS.batches)
    pairs, batches = data["pairs"], data["batches"]
    if ARGS.warmup + ARGS.steps > len(batches):
        sys.exit("%s has %d batches, fewer than %d steps" % (ARGS.batches, len(batches), ARGS.warmup + ARGS.steps))
    torch.manual_seed(ARGS.seed)
    model = Transformer(c)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1.0, betas=BETAS, eps=ADAM_EPS, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: noam(i + 1, c["d_model"]))
    rates, tokens_sum, secs_sum, first_loss = [], 0, 0.0, None
    for i in range(ARGS.warmup + ARGS.steps):
        batch = [pairs[j] for j in batches[i]]
        t0 = time.perf_counter()
        tokens, loss = train_step(model, opt, sched, batch, c)
        secs = time.perf_counter() - t0
        measured = i >= ARGS.warmup
        first_loss = loss if first_loss is None else first_loss
        print(json.dumps({"side": "torch", "threads": ARGS.threads, "step": i + 1, "measured": measured, "batch": i,
                          "sentences": len(batch), "tokens": tokens, "seconds": round(secs, 4),
                          "tokens_per_s": round(tokens / secs, 1), "loss": round(loss, 4)}), flush=True)
        if measured:
            rates.append(tokens / secs)
            tokens_sum += tokens
            secs_sum += secs
    print(json.dumps({"side": "torch", "summary": True, "threads": ARGS.threads, "torch_threads": intra,
                      "blas_threads": blas, "warmup": ARGS.warmup, "steps": ARGS.steps,
                      "median_tokens_per_s": round(statistics.median(rates), 1),
                      "aggregate_tokens_per_s": round(tokens_sum / secs_sum, 1), "first_loss": round(first_loss, 4),
                      "torch": torch.__version__, "openblas_corename": OPENBLAS.openblas_get_corename().decode()}),
          flush=True)


if __name__ == "__main__":
    main()

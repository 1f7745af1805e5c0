#!/usr/bin/python3
"""Golden gradients for Kawi's trainer: loss and every parameter's gradient by PyTorch autograd.

Run from the repository root (PyTorch 1.13 from Debian, hence /usr/bin/python3):

    /usr/bin/python3 trainer/src/test/golden/make_train_golden.py

Inputs, in trainer/src/test/resources/golden/ (written by TrainGoldenModels.java):
    post_tied.kawi, pre_untied.kawi   small F32 models with seeded random weights
    batch.json                        sentence pairs (ids without eos / decoder start)
Output, next to each model: <model>.grad.json (schema in README.md beside this script).

The model is the runtime's independent PyTorch reference (runtime/src/test/golden/make_golden.py,
imported, not copied: its .kawi reader and its Model, explicit tensor math), run on a padded
batch in float64 with every tensor of the file a leaf that requires grad. Tied and shared
tables are one leaf, so their gradient is the sum over every use, as in Kawi's flat buffer.

Batch (Kawi's Batch.of): source = ids + [eos], right-padded with pad to the longest; decoder
input = [decoder_start] + target ids; labels = target ids + [eos]; both right-padded with pad.
Encoder self-attention and cross-attention mask keys at or beyond each source's length; decoder
self-attention is causal. Labels equal to pad are ignored.

Loss: torch.nn.functional.cross_entropy(logits, labels, ignore_index=pad, label_smoothing=0.1,
reduction="sum"), i.e. per token -(1-eps) log p_y - (eps/V) sum_j log p_j, summed over the
non-pad labels (checked against that explicit formula). No dropout. The gradients are those of
the mean loss (sum / target tokens): Kawi's trainer sums the loss and scales the gradient by
gradScale = 1 / target tokens, which is the same thing.

The same computation in float32 (same weights) is recorded as float32_check: the float32 noise
a float32 trainer can be expected to show against these float64 numbers.

Deterministic: running twice gives byte-identical files.
"""

import json
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
GOLDEN_DIR = os.path.normpath(os.path.join(HERE, "..", "resources", "golden"))
MODELS = ["post_tied.kawi", "pre_untied.kawi"]
BATCH = "batch.json"
LABEL_SMOOTHING = 0.1

sys.path.insert(0, os.path.join(ROOT, "runtime", "src", "test", "golden"))
import make_golden as mg  # noqa: E402  (the runtime's reference reader and model)


def read_batch(path, c):
    """The padded batch of Kawi's Batch.of as LongTensors, plus the source lengths."""
    with open(path, encoding="utf-8") as fh:
        pairs = json.load(fh)["pairs"]
    pad, eos, start = c["pad_id"], c["eos_id"], c["decoder_start_id"]
    s = max([1] + [len(p["source"]) + 1 for p in pairs])
    t = max([1] + [len(p["target"]) + 1 for p in pairs])
    src, tin, tout, lens = [], [], [], []
    for p in pairs:
        x, y = p["source"], p["target"]
        src.append(x + [eos] + [pad] * (s - len(x) - 1))
        tin.append([start] + y + [pad] * (t - len(y) - 1))
        tout.append(y + [eos] + [pad] * (t - len(y) - 1))
        lens.append(len(x) + 1)
    as_long = lambda v: torch.tensor(v, dtype=torch.long)  # noqa: E731
    return as_long(src), as_long(tin), as_long(tout), as_long(lens)


def loss_and_grads(c, tensors, batch, dtype):
    """(loss sum, nll sum, target tokens, {name: gradient of the mean loss}) in `dtype`."""
    src, tin, tout, lens = batch
    leaves = {k: v.to(dtype).clone().requires_grad_(True) for k, v in tensors.items()}
    model = mg.Model(c, leaves, dtype)  # .to(dtype) of a `dtype` tensor is the tensor itself: the leaves
    assert all(model.w[k] is leaves[k] for k in leaves)
    memory = model.encode(src, lens)
    logits = model.decode(tin, memory, lens)
    v = logits.shape[-1]
    flat, labels = logits.reshape(-1, v), tout.reshape(-1)
    pad = c["pad_id"]
    loss = F.cross_entropy(flat, labels, ignore_index=pad, label_smoothing=LABEL_SMOOTHING, reduction="sum")
    # The same loss written out: -(1-eps) log p_y - (eps/V) sum_j log p_j over non-pad rows.
    keep = labels != pad
    logp = torch.log_softmax(flat[keep], dim=-1)
    nll = -logp.gather(1, labels[keep][:, None]).sum()
    explicit = (1 - LABEL_SMOOTHING) * nll - LABEL_SMOOTHING * logp.mean(dim=-1).sum()
    rel = float(abs(explicit - loss) / abs(loss))
    if rel > (1e-12 if dtype == torch.float64 else 1e-5):
        raise mg.KawiError("label smoothing: explicit formula %r, PyTorch %r" % (float(explicit), float(loss)))
    tokens = int(keep.sum())
    (loss / tokens).backward()
    grads = {k: leaves[k].grad.detach().clone() for k in tensors}
    return float(loss), float(nll), tokens, grads


def norm_rel(a, b):
    """||a - b|| / ||b|| (0 when both are 0)."""
    a, b = a.to(torch.float64), b.to(torch.float64)
    nb = float(b.norm())
    d = float((a - b).norm())
    return 0.0 if d == 0 else d / nb if nb > 0 else float("inf")


def make_fixture(path, batch_path):
    meta, tensors = mg.read_kawi(path)
    c = meta["config"]
    batch = read_batch(batch_path, c)
    loss, nll, tokens, grads = loss_and_grads(c, tensors, batch, torch.float64)
    loss32, _, _, grads32 = loss_and_grads(c, tensors, batch, torch.float32)
    worst, worst_name = 0.0, None
    for name in grads:
        r = norm_rel(grads32[name], grads[name])
        if r > worst:
            worst, worst_name = r, name
    order = list(mg.expected_tensors(c))  # the file's (and Kawi's ParamLayout's) tensor order
    gradients = {}
    for name in order:
        g = grads[name]
        gradients[name] = {"shape": list(g.shape), "norm": float(g.norm()), "values": g.reshape(-1).tolist()}
    src, tin, tout, lens = batch
    return {
        "model": os.path.basename(path),
        "batch": os.path.basename(batch_path),
        "torch": torch.__version__,
        "dtype": "float64",
        "label_smoothing": LABEL_SMOOTHING,
        "dropout": 0.0,
        "source": src.tolist(),
        "decoder_input": tin.tolist(),
        "labels": tout.tolist(),
        "target_tokens": tokens,
        "loss_sum": loss,
        "loss_mean": loss / tokens,
        "nll_sum": nll,
        "float32_check": {
            "loss_rel_diff": abs(loss32 - loss) / abs(loss),
            "worst_grad_norm_rel_diff": worst,
            "worst_grad_tensor": worst_name,
        },
        "gradients": gradients,
    }


def main():
    torch.set_num_threads(1)
    batch_path = os.path.join(GOLDEN_DIR, BATCH)
    for name in MODELS:
        fixture = make_fixture(os.path.join(GOLDEN_DIR, name), batch_path)
        out = os.path.join(GOLDEN_DIR, name[:-len(".kawi")] + ".grad.json")
        text = mg.to_json(fixture) + "\n"
        tmp = out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, out)
        chk = fixture["float32_check"]
        print("%s: %d bytes, %d tensors, %d target tokens, mean loss %.12g; float32 vs float64: loss %.3g, "
              "worst gradient %.3g (%s)" % (os.path.basename(out), len(text), len(fixture["gradients"]),
                                              fixture["target_tokens"], fixture["loss_mean"], chk["loss_rel_diff"],
                                              chk["worst_grad_norm_rel_diff"], chk["worst_grad_tensor"]))


if __name__ == "__main__":
    main()

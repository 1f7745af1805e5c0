#!/usr/bin/env bash
# Reproduces the bundled German->English model (models/de-en.kawi): Kawi's own trainer on
# ../shared/data (97k pairs), the tiny preset, 6000 steps of ~4096-token batches on 2 threads,
# quantization-aware training (Q4) over the last 10% of the steps. The run is resumable: run the
# same command again after an interruption and it continues from OUT/last.ckpt exactly. Results
# depend on the thread count (one batch shard per thread), hence --threads 2, as trained.
#   models/train-de-en.sh [OUT]      (default OUT: target/de-en)
# Then: cp OUT/model-q8.kawi models/de-en.kawi, and models/evaluate.sh OUT/model*.kawi.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="$root/../shared/data"
out="${1:-$root/target/de-en}"
exec "$root/kawi" train --train "$data/train.de-en.tsv" --dev "$data/dev.de-en.tsv" -o "$out" \
  --preset tiny --vocab-size 8000 --steps 6000 --warmup 1500 --lr-scale 1.0 --max-tokens 4096 --threads 2 \
  --dropout 0.1 --label-smoothing 0.1 --clip-norm 1.0 --seed 1 \
  --validate-every 500 --checkpoint-every 250 --bleu-sentences 500 --qat q4 --export q8,q4 --resume

#!/usr/bin/env bash
# Scores models on the dev and test sets the way the model card reports them: greedy decoding
# (beam 1) by `kawi translate`, corpus BLEU and chrF2 by `kawi score` (sacreBLEU 2.x defaults).
#   models/evaluate.sh [--data DIR] [--beam N] MODEL.kawi...
# Prints one line per model and set: model, set, BLEU, chrF2, seconds; keeps the hypotheses in
# target/eval/ for inspection.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="$root/../shared/data"
beam=1
models=()
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data="$2"; shift ;;
    --beam) beam="$2"; shift ;;
    -*) echo "unknown option $1 (options: --data DIR --beam N)" >&2; exit 2 ;;
    *) models+=("$1") ;;
  esac
  shift
done
[ ${#models[@]} -gt 0 ] || { echo "usage: models/evaluate.sh [--data DIR] [--beam N] MODEL.kawi..." >&2; exit 2; }
out="$root/target/eval"
mkdir -p "$out"
for set in dev test; do
  tsv="$data/$set.de-en.tsv"
  [ -f "$tsv" ] || { echo "missing $tsv" >&2; exit 2; }
  cut -f1 "$tsv" > "$out/$set.de"
  cut -f2 "$tsv" > "$out/$set.en"
done
printf '%-28s %-5s %7s %7s %8s\n' model set BLEU chrF2 seconds
for m in "${models[@]}"; do
  name="$(basename "$m" .kawi)"
  for set in dev test; do
    hyp="$out/$name.$set.hyp"
    start=$(date +%s.%N)
    "$root/kawi" translate -m "$m" --beam "$beam" --no-progress -i "$out/$set.de" -o "$hyp" 2>/dev/null
    end=$(date +%s.%N)
    scores=$("$root/kawi" score "$out/$set.en" "$hyp" 2>/dev/null)
    bleu=$(echo "$scores" | sed -n 's/^BLEU = \([0-9.]*\).*/\1/p')
    chrf=$(echo "$scores" | sed -n 's/^chrF2 = \([0-9.]*\).*/\1/p')
    printf '%-28s %-5s %7s %7s %8.1f\n' "$name" "$set" "$bleu" "$chrf" "$(echo "$end - $start" | bc)"
  done
done

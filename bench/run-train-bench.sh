#!/usr/bin/env bash
# Training throughput, Kawi against PyTorch: the tiny preset (6+2 layers, d_model 256, vocab 8000)
# trained on identical batches (bench/target/train-bench/batches.json, written once by
# `TrainThroughput write-batches`: ~4096-token batches of synthetic 10-40-token sentence pairs).
# Runs Kawi 1t, torch 1t, Kawi 2t, torch 2t in turn, for several rounds (one process each), and
# prints a table of median target tokens/s over every measured step of every round.
#   bash bench/run-train-bench.sh [--rounds 3] [--warmup 1] [--steps 3] [--threads 1,2]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. scripts/jdk.sh
kawi_find_jdk
rounds=3; warmup=1; steps=3; threads="1,2"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift ;;
    --warmup) warmup="$2"; shift ;;
    --steps) steps="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    *) echo "unknown option $1 (options: --rounds N --warmup N --steps N --threads 1,2)" >&2; exit 2 ;;
  esac
  shift
done
jar=bench/target/benchmarks.jar
if [ ! -f "$jar" ] || [ -n "$(find bench/src trainer/src/main runtime/src/main weights-format/src/main tools/src/main \
    -name '*.java' -newer "$jar" -print -quit)" ]; then
  ./mvn25 -q -B -o -DskipTests -pl bench -am package
fi
torch_python=/usr/bin/python3
"$torch_python" -c "import torch" 2>/dev/null || { echo "$torch_python has no torch (Debian's python3-torch is needed)" >&2; exit 2; }
dir=bench/target/train-bench
batches="$dir/batches.json"
[ -f "$batches" ] || "$KAWI_JAVA_HOME/bin/java" -cp "$jar" dev.kawi.bench.TrainThroughput write-batches "$batches"
out="$dir/train-$(date +%Y%m%d-%H%M%S).jsonl"
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) rounds=$rounds warmup=$warmup steps=$steps threads=$threads batches=$batches" | tee "$out"
for r in $(seq 1 "$rounds"); do
  for t in ${threads//,/ }; do
    echo "# round $r: kawi $t thread(s); loadavg $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out" >&2
    "$KAWI_JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
      -cp "$jar" dev.kawi.bench.TrainThroughput run "$batches" "$t" "$warmup" "$steps" 2>/dev/null \
      | sed "s/^{/{\"round\":$r,/" | tee -a "$out"
    echo "# round $r: torch $t thread(s); loadavg $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out" >&2
    "$torch_python" bench/torch_train.py "$batches" --threads "$t" --warmup "$warmup" --steps "$steps" \
      | sed "s/^{/{\"round\": $r, /" | tee -a "$out"
  done
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
steps = [r for r in rows if r.get("measured")]
summ = [r for r in rows if r.get("summary")]
cfg = next((r for r in rows if r.get("config")), {})
table = {}
for side in ("kawi", "torch"):
    for t in sorted({r["threads"] for r in steps}):
        rates = [r["tokens_per_s"] for r in steps if r["side"] == side and r["threads"] == t]
        rounds = [r["median_tokens_per_s"] for r in summ if r["side"] == side and r["threads"] == t]
        loss = [r["first_loss"] for r in summ if r["side"] == side and r["threads"] == t]
        if rates:
            table[(side, t)] = (statistics.median(rates), len(rates), rounds, loss[0] if loss else None)
print("\n| side | threads | target tokens/s (median of steps) | steps | per-round medians | first-step loss |")
print("|---|---:|---:|---:|---|---:|")
for (side, t), (med, n, rounds, loss) in sorted(table.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    print(f"| {side} | {t} | {med:.0f} | {n} | {', '.join(f'{x:.0f}' for x in rounds)} | {loss:.3f} |")
print("\n| threads | Kawi / PyTorch |")
print("|---:|---:|")
for t in sorted({t for _, t in table}):
    if ("kawi", t) in table and ("torch", t) in table:
        print(f"| {t} | {table[('kawi', t)][0] / table[('torch', t)][0]:.2f}x |")
if cfg:
    print(f"\ntorch {cfg.get('torch')} (BLAS_INFO={cfg.get('torch_build_blas')}), {cfg.get('openblas_config')}, "
          f"kernels {cfg.get('openblas_corename')}; OMP_WAIT_POLICY={cfg.get('omp_wait_policy')}")
print(f"raw: {sys.argv[1]}")
PY

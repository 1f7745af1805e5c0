#!/usr/bin/env bash
# End-to-end benchmark: base and tiny models in F32, Q8 and Q4, 1 and 2 threads, one JVM per
# configuration (so peak RSS is per configuration). Models are generated once into
# bench/target/e2e-models with `kawi random-model`. Per configuration: batch-1 greedy latency,
# the encoder alone, batch-32 throughput, batch-1 beam search (beam 4) latency, and the heap bytes
# allocated per steady-state decoder step (greedy and beam 4). Prints JSON lines and a markdown table.
#   bash bench/run-e2e.sh [--quick] [--models tiny,base] [--dtypes f32,q8,q4] [--threads 1,2]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. scripts/jdk.sh
kawi_find_jdk
models="tiny,base"; dtypes="f32,q8,q4"; threads="1,2"; repeats=15
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) repeats=5 ;;
    --models) models="$2"; shift ;;
    --dtypes) dtypes="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -f bench/target/benchmarks.jar ] || ./mvn25 -q -B -DskipTests -pl bench -am package
dir=bench/target/e2e-models
mkdir -p "$dir"
out="bench/target/e2e-$(date +%Y%m%d-%H%M%S).jsonl"
for m in ${models//,/ }; do
  for d in ${dtypes//,/ }; do
    f="$dir/$m-$d.kawi"
    [ -f "$f" ] || ./kawi random-model --preset "$m" --dtype "$d" --seed 7 "$f" >&2
    for t in ${threads//,/ }; do
      "$KAWI_JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC \
        -cp bench/target/benchmarks.jar dev.kawi.bench.EndToEnd "$f" "$t" "$repeats" 2>/dev/null | tee -a "$out"
    done
  done
done
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
by = {}
for r in rows:
    by.setdefault((r["model"], r["threads"]), {})[r["metric"]] = r
print("\n| model | threads | encode + 20 greedy (ms) | ms/token | encoder (ms) | batch 32 (sent/s) | encode + 20 beam-4 (ms) | beam-4 ms/token | bytes/step greedy, beam 4 | peak RSS (MB) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for (m, t), d in sorted(by.items()):
    print(f"| {m} | {t} | {d['latency_ms']['median']:.1f} | {d['ms_per_token']['median']:.2f} | {d['encoder_ms']['median']:.2f} "
          f"| {d['batch32_sentences_per_s']['median']:.1f} | {d['beam4_latency_ms']['median']:.1f} | {d['beam4_ms_per_token']['median']:.2f} "
          f"| {d['greedy_bytes_per_step']['median']:.0f}, {d['beam4_bytes_per_step']['median']:.0f} | {d['latency_ms']['peak_rss_mb']} |")
print(f"\nraw: {sys.argv[1]}")
PY

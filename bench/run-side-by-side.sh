#!/usr/bin/env bash
# Kawi and PyTorch end to end, side by side in one interleaved run: for each model file (tiny and
# base x F32 and Q8) and thread count (1, 2), Kawi's EndToEnd (one JVM) and bench/torch_e2e.py
# (one Python process) run one after the other, in alternating order, round after round, on the
# same .kawi files; slow periods of the shared machine then fall on both. Cases: batch 1 (encode a
# 20-token source + exactly 20 greedy steps, ms) and batch 32 (32 such sources together,
# sentences/s). Writes the JSON lines of both and one markdown table (medians over all rounds,
# the ratio, the spread of the per-round medians) to bench/target/side-by-side-DATE/.
#   bash bench/run-side-by-side.sh [--rounds 5] [--models tiny,base] [--dtypes f32,q8] [--threads 1,2]
#                                  [--kawi-repeats 8] [--torch-rounds 3] [--torch-splits both|blas|same]
# PyTorch (Debian's 1.13, /usr/bin/python3) runs its fastest variants of bench/README.md's full
# comparison: jit-kv and eager-kv-nn (float32; on a Q8 file the dequantized weights) and, on Q8
# files, int8dyn-jit-kv (its own int8 requantization); 2 threads both as torch 2 + OpenBLAS 2 and
# as torch 1 + OpenBLAS 2 (see torch_e2e.py). The table takes PyTorch's fastest configuration per
# case. About 15-20 minutes with the defaults on the 2-core development machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. scripts/jdk.sh
kawi_find_jdk
models="tiny,base"; dtypes="f32,q8"; threads="1,2"; rounds=5; krep=8; trounds=3; splits=both
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift ;;
    --models) models="$2"; shift ;;
    --dtypes) dtypes="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --kawi-repeats) krep="$2"; shift ;;
    --torch-rounds) trounds="$2"; shift ;;
    --torch-splits) splits="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null \
  || { echo "run-side-by-side: /usr/bin/python3 with torch is needed for the PyTorch side" >&2; exit 2; }
[ -f bench/target/benchmarks.jar ] || ./mvn25 -q -B -DskipTests -pl bench -am package
java=("$KAWI_JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
dir=bench/target/e2e-models
mkdir -p "$dir"
out="bench/target/side-by-side-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
cmdline="bash bench/run-side-by-side.sh --rounds $rounds --models $models --dtypes $dtypes --threads $threads --kawi-repeats $krep --torch-rounds $trounds --torch-splits $splits"
{ echo "command: $cmdline"; echo "start: $(date -u +%Y-%m-%dT%H:%M:%SZ)"; echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"; } > "$out/run.txt"
for m in ${models//,/ }; do
  for d in ${dtypes//,/ }; do
    f="$dir/$m-$d.kawi"
    [ -f "$f" ] || "${java[@]}" -cp bench/target/benchmarks.jar dev.kawi.tools.Main random-model --preset "$m" --dtype "$d" --seed 7 "$f" >&2
  done
done

kawi() { # model dtype threads round
  "${java[@]}" -XX:+UseSerialGC -cp bench/target/benchmarks.jar dev.kawi.bench.EndToEnd "$dir/$1-$2.kawi" "$3" "$krep" greedy,batch32 2>/dev/null \
    | sed "s/^{/{\"tool\":\"kawi\",\"round\":$4,\"dtype\":\"$2\",/" >> "$out/kawi.jsonl"
}
torch() { # model dtype threads round
  local variants="jit-kv,eager-kv-nn"
  [ "$2" = q8 ] && variants="$variants,int8dyn-jit-kv"
  /usr/bin/python3 bench/torch_e2e.py --models "$dir" --presets "$1" --dtypes "$2" --threads "$3" --splits "$splits" \
    --variants "$variants" --rounds "$trounds" --warmup 1 --out "$out/torch-tmp.jsonl" >/dev/null 2>>"$out/torch.log"
  grep -v '"type": "config"' "$out/torch-tmp.jsonl" | sed "s/^{/{\"tool\": \"torch\", \"round\": $4, /" >> "$out/torch.jsonl"
}

start=$SECONDS
for r in $(seq 1 "$rounds"); do
  for m in ${models//,/ }; do
    for d in ${dtypes//,/ }; do
      for t in ${threads//,/ }; do
        # Alternate who goes first, so that neither always follows the other's warm process.
        if [ $((r % 2)) -eq 1 ]; then kawi "$m" "$d" "$t" "$r"; torch "$m" "$d" "$t" "$r"
        else torch "$m" "$d" "$t" "$r"; kawi "$m" "$d" "$t" "$r"; fi
        echo "round $r/$rounds $m $d ${t}t done ($((SECONDS - start)) s)" >&2
      done
    done
  done
done
rm -f "$out/torch-tmp.jsonl"
{ echo "end: $(date -u +%Y-%m-%dT%H:%M:%SZ)"; echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"; echo "seconds: $((SECONDS - start))"; } >> "$out/run.txt"

python3 - "$out" <<'PY' | tee "$out/report.md"
import json, statistics, sys, os
out = sys.argv[1]
rows = [json.loads(l) for f in ("kawi.jsonl", "torch.jsonl") for l in open(os.path.join(out, f)) if l.startswith("{")]
info = dict(l.rstrip("\n").split(": ", 1) for l in open(os.path.join(out, "run.txt")) if ": " in l)
# case -> tool/variant -> round -> values
cases = {}
def add(case, who, rnd, values):
    cases.setdefault(case, {}).setdefault(who, {}).setdefault(rnd, []).extend(values)
for r in rows:
    model = r["model"].split("-")[0]
    if r["tool"] == "kawi":
        if r["metric"] == "latency_ms":
            add((model, r["dtype"], 1, r["threads"]), "kawi", r["round"], r["values"])
        elif r["metric"] == "batch32_sentences_per_s":
            add((model, r["dtype"], 32, r["threads"]), "kawi", r["round"], r["values"])
    else:
        if r["metric"] == "batch1_ms_per_sentence":
            add((model, r["dtype"], 1, r["threads"]), r["variant"], r["round"], r["values"])
        elif r["metric"] == "batch32_sentences_per_s":
            add((model, r["dtype"], 32, r["threads"]), r["variant"], r["round"], r["values"])

def summary(by_round):
    allv = [v for vs in by_round.values() for v in vs]
    per = [statistics.median(vs) for vs in by_round.values()]
    return statistics.median(allv), min(per), max(per), len(allv)

def fmt(v):
    return "%.1f" % v if v >= 10 else "%.2f" % v

print("Kawi and PyTorch side by side, interleaved (%s rounds)." % max((max(w) for c in cases.values() for w in c.values()), default=0))
print()
print("- command: `%s`" % info.get("command", "?"))
print("- run: %s to %s (%s s); load average before %s, after %s" % (
    info.get("start"), info.get("end"), info.get("seconds"), info.get("load before"), info.get("load after")))
print("- batch 1: ms per sentence (encode 20 tokens + exactly 20 greedy steps), lower is better; "
      "batch 32: sentences/s, higher is better. Medians over every run of every round; in brackets the "
      "lowest and highest per-round median. Advantage > 1: Kawi faster.")
print()
print("| model | dtype | batch | threads | Kawi | PyTorch best (variant) | Kawi advantage |")
print("|---|---|---:|---:|---:|---:|---:|")
for case in sorted(cases, key=lambda c: (c[0] != "base", c[0], c[1], c[2], c[3])):
    model, dtype, batch, threads = case
    c = cases[case]
    if "kawi" not in c:
        continue
    higher = batch == 32
    k = summary(c["kawi"])
    torch = {v: summary(rs) for v, rs in c.items() if v != "kawi"}
    if not torch:
        continue
    best = max(torch, key=lambda v: torch[v][0]) if higher else min(torch, key=lambda v: torch[v][0])
    t = torch[best]
    ratio = k[0] / t[0] if higher else t[0] / k[0]
    print("| %s | %s | %d | %d | %s [%s-%s] | %s [%s-%s] (%s) | %.2fx |" % (
        model, dtype.upper(), batch, threads, fmt(k[0]), fmt(k[1]), fmt(k[2]),
        fmt(t[0]), fmt(t[1]), fmt(t[2]), best, ratio))
print()
print("JSON lines: %s/kawi.jsonl, %s/torch.jsonl" % (out, out))
PY

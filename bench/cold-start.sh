#!/usr/bin/env bash
# Cold start of `kawi translate "Guten Morgen."`: wall time from process start to exit (the
# translation printed), median of N runs, for the launcher as users run it and for JVM
# configurations that isolate what each start-up measure buys. Prints a Markdown table.
#
#   bash bench/cold-start.sh [--runs N] [--model FILE] [--jar NAME=JAR]... [--sentence TEXT]
#
# --model: default -Dkawi.model / $KAWI_MODEL / the bundled models/de-en.kawi, as `kawi` finds it.
# To time another architecture without a trained model, use a stand-in that stops after a few
# tokens as a trained model does (a random model translates to 256 tokens):
#   ./mvn25 -q -pl bench -am package -DskipTests
#   java --add-modules=jdk.incubator.vector -cp bench/target/benchmarks.jar dev.kawi.bench.StandInModel VOCAB.json /tmp/standin.kawi 5
# --jar NAME=JAR (repeatable): also time another build of tools/target/kawi.jar (e.g. an older
# commit's), started with the plain flags. Each configuration gets one unmeasured run first (disk
# cache). The load average is printed with the table: other processes on the machine inflate
# wall times.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../scripts/jdk.sh
. "$root/scripts/jdk.sh"
kawi_find_jdk || exit 1
java="$KAWI_JAVA_HOME/bin/java"

runs=10
model=""
sentence="Guten Morgen."
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --jar) extra+=("$2"); shift 2 ;;
    --sentence) sentence="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "cold-start.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$model" ]; then
  model="${KAWI_MODEL:-$root/models/de-en.kawi}"
fi
if [ ! -f "$model" ]; then
  echo "cold-start.sh: no model at $model: give --model FILE or set KAWI_MODEL (see --help for a stand-in)" >&2
  exit 2
fi

# Builds the jar and writes the AOT cache if needed (the launcher does both), and checks the output.
out=$(KAWI_MODEL="$model" "$root/kawi" translate "$sentence" 2>/dev/null)
echo "model: $model; \"$sentence\" -> \"$out\"" >&2
jar="$root/tools/target/kawi.jar"
aot="$root/tools/target/kawi.aot"
flags=(--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -Xlog:disable -Xlog:all=warning:stderr)

# Median wall and CPU (user + sys, all threads) in ms of $runs runs of the command.
measure() {
  "$@" >/dev/null 2>&1 || { echo "cold-start.sh: failed: $*" >&2; return 1; }
  local walls=() cpus=() s e t
  local TIMEFORMAT='%3U %3S'
  for _ in $(seq "$runs"); do
    s=$(date +%s%N)
    t=$( { time "$@" >/dev/null 2>/dev/null; } 2>&1 | tail -n 1)
    e=$(date +%s%N)
    walls+=($(( (e - s) / 1000000 )))
    cpus+=("$(echo "$t" | awk '{printf "%d", ($1 + $2) * 1000}')")
  done
  printf '%s %s\n' "$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" \
                   "$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
}

row() {
  local name="$1"; shift
  local r
  r=$(measure "$@") || r="failed -"
  printf '| %s | %s | %s |\n' "$name" "${r% *}" "${r#* }"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "| configuration | wall ms (median of $runs) | CPU ms (median) |"
echo "|---|---:|---:|"
row "JVM only: \`java -version\` with Kawi's flags" "$java" "${flags[@]}" -version
for spec in "${extra[@]}"; do
  row "${spec%%=*}: \`java -jar\` (no AOT cache, C1+C2)" "$java" "${flags[@]}" -jar "${spec#*=}" translate -m "$model" "$sentence"
done
row "this build: \`java -jar\` (no AOT cache, C1+C2)" "$java" "${flags[@]}" -jar "$jar" translate -m "$model" "$sentence"
row "... + AOT cache" "$java" "${flags[@]}" -XX:AOTCache="$aot" -jar "$jar" translate -m "$model" "$sentence"
row "... + C1 only (the launcher's one-sentence mode)" "$java" "${flags[@]}" -XX:AOTCache="$aot" -XX:TieredStopAtLevel=1 -jar "$jar" translate -m "$model" "$sentence"
row "AOT cache, C1+C2, but the vector kernels from the first call (-Dkawi.kernels=vector)" "$java" "${flags[@]}" -XX:AOTCache="$aot" -Dkawi.kernels=vector -jar "$jar" translate -m "$model" "$sentence"
row "AOT cache, C1 only, but through picocli (an explicit --beam 1)" "$java" "${flags[@]}" -XX:AOTCache="$aot" -XX:TieredStopAtLevel=1 -jar "$jar" translate -m "$model" --beam 1 "$sentence"
row "\`./kawi translate \"$sentence\"\` (launcher, KAWI_MODEL)" env KAWI_MODEL="$model" "$root/kawi" translate "$sentence"

# The serverless-style handler of the examples module (built when missing), without and with its own AOT cache.
handler="$root/examples/target/kawi-handler.jar"
if [ ! -f "$handler" ] || [ -n "$(find "$root/examples/src" "$root/runtime/src/main" "$root/weights-format/src/main" -newer "$handler" -print -quit)" ]; then
  "$root/mvn25" -q -B -DskipTests -pl examples -am package >&2
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kawi-cold.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$java" "${flags[@]}" -Dkawi.model="$model" -XX:AOTCacheOutput="$tmp/handler.aot" -jar "$handler" "$sentence" >/dev/null 2>&1 || true
row "examples handler: \`java -jar kawi-handler.jar\` (no AOT cache)" "$java" "${flags[@]}" -Dkawi.model="$model" -jar "$handler" "$sentence"
row "examples handler + its AOT cache" "$java" "${flags[@]}" -Dkawi.model="$model" -XX:AOTCache="$tmp/handler.aot" -jar "$handler" "$sentence"
row "examples handler + its AOT cache + C1 only" "$java" "${flags[@]}" -Dkawi.model="$model" -XX:AOTCache="$tmp/handler.aot" -XX:TieredStopAtLevel=1 -jar "$handler" "$sentence"
echo
echo "load average before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"

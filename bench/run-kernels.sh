#!/usr/bin/env bash
# Kernel benchmark run, one command: builds bench/target/benchmarks.jar when missing or stale,
# measures peak FMA (PeakFmaBenchmark, before and after), Kawi GEMM (GemmBenchmark) and the OpenBLAS peer
# (numpy_gemm.py, 1 and 2 threads, right after the JMH runs), and prints a markdown table:
# shape, dtype, threads, Kawi GFLOP/s, OpenBLAS F32 GFLOP/s, Kawi/OpenBLAS, Kawi % of peak FMA.
#
#   bash bench/run-kernels.sh --quick                         # all shapes, short iterations (~10 min)
#   bash bench/run-kernels.sh --quick --shapes 1x512x512,32x512x512 --dtypes F32,Q8
#   bash bench/run-kernels.sh                                 # full: the benchmarks' own iteration counts
#
# Options:
#   --quick            JMH -f 1 -wi 1 -i 2 -w 1s -r 1s, numpy --quick. Default: full (JMH: 1 fork,
#                      3 x 2 s warm-up, 5 x 2 s measurement, as annotated; numpy: 31 repeats, >= 2 s).
#   --shapes LIST      MxKxN,... (default: all of GemmBenchmark's)
#   --dtypes LIST      F32,F16,Q8,Q4 (default) or any subset; BF16 works too
#   --threads LIST     1,2 (default)
#   --kernels vector|scalar   which Kawi kernels (default vector: new VectorKernels(threads))
#   --jvm-args "ARGS"  extra flags for the benchmark JVMs, e.g. "-XX:MaxVectorSize=32" for 256-bit
#                      vectors on an AVX-512 machine (passed as -jvmArgsPrepend, which keeps the
#                      benchmarks' own --add-modules flags; -jvmArgsAppend would replace them)
#   --out DIR          where results go (default bench/target/kernels-YYYYmmdd-HHMMSS)
#   --no-build         use the jar as it is
#   -- ARGS            anything after -- goes to JMH as is
#
# Statistics (details in bench/kernels_report.py): Kawi = p50 of JMH SampleTime call times;
# OpenBLAS = median per-call time over numpy_gemm.py's repeats (faster weight layout);
# peak = median of PeakFmaBenchmark's per-iteration GFLOP/s, the higher of the two runs. Python: $PYTHON, else python3 on PATH
# (it needs numpy; OpenBLAS threads are set per process, before numpy loads).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../scripts/jdk.sh
. "$root/scripts/jdk.sh"
kawi_find_jdk || exit 1
java="$KAWI_JAVA_HOME/bin/java"
python="${PYTHON:-python3}"
jar="$root/bench/target/benchmarks.jar"

quick=0
shapes="1x512x512,1x512x2048,1x2048x512,1x512x32000,32x512x512,64x512x2048,512x512x512,1024x1024x1024"
dtypes="F32,F16,Q8,Q4"
threads="1,2"
kernels="vector"
jvm_args=""
out=""
build=1
jmh_extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --full) quick=0 ;;
    --shapes) shapes="$2"; shift ;;
    --dtypes) dtypes="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --kernels) kernels="$2"; shift ;;
    --jvm-args) jvm_args="$2"; shift ;;
    --out) out="$2"; shift ;;
    --no-build) build=0 ;;
    --) shift; jmh_extra=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-kernels.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$kernels" in
  vector|scalar) ;;
  *) echo "run-kernels.sh: --kernels must be vector or scalar" >&2; exit 2 ;;
esac
if [ "$kernels" = scalar ] && [ "$threads" != 1 ]; then
  echo "run-kernels.sh: the scalar kernels are single-threaded; measuring threads=1 only" >&2
  threads=1
fi
if ! "$python" -c 'import numpy' 2>/dev/null; then
  echo "run-kernels.sh: '$python' cannot import numpy; set PYTHON to a python3 that has numpy (with OpenBLAS)" >&2
  exit 1
fi

stale() {
  [ -f "$jar" ] || return 0
  local newer
  newer=$(find "$root/pom.xml" "$root"/weights-format "$root"/runtime "$root"/trainer "$root"/tools "$root"/bench \
            -path '*/target' -prune -o -type f \( -name '*.java' -o -name 'pom.xml' -o -path '*/src/main/resources/*' \) \
            -newer "$jar" -print -quit 2>/dev/null)
  [ -n "$newer" ]
}
if [ "$build" = 1 ] && stale; then
  echo "== building $jar" >&2
  "$root/mvn25" -q -B -DskipTests -pl bench -am package >&2
fi
[ -f "$jar" ] || { echo "run-kernels.sh: $jar is missing (drop --no-build)" >&2; exit 1; }

out="${out:-$root/bench/target/kernels-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
if [ "$quick" = 1 ]; then
  jmh_time=(-f 1 -wi 1 -i 2 -w 1s -r 1s)
  np_mode=(--quick)
  mode=quick
else
  jmh_time=()
  np_mode=()
  mode=full
fi
# The benchmark JVMs get the kernel choice as a system property, plus any --jvm-args.
fork_args="-Dkawi.bench.kernels=$kernels${jvm_args:+ $jvm_args}"
jmh_common=("${jmh_time[@]}" -jvmArgsPrepend "$fork_args" "${jmh_extra[@]}")

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
"$python" -c 'import json, sys; k = ["date", "mode", "host", "cpu", "kernels", "jvm_args"]
print(json.dumps(dict(kind="run", **dict(zip(k, sys.argv[1:])))))' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$mode" "$(hostname)" "${cpu:-unknown}" "$kernels" "$jvm_args" > "$out/info.jsonl"
# shellcheck disable=SC2086 # jvm_args is a list of flags
"$java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED $fork_args \
  -cp "$jar" dev.kawi.bench.KernelsInfo 2>/dev/null >> "$out/info.jsonl"

peak() {  # $1: before | after
  echo "== peak FMA (PeakFmaBenchmark) -> $out/peak-$1.json" >&2
  "$java" -jar "$jar" 'dev.kawi.bench.PeakFmaBenchmark' "${jmh_common[@]}" \
    -rf json -rff "$out/peak-$1.json" > "$out/peak-$1.log" 2>&1 || { tail -n 30 "$out/peak-$1.log" >&2; exit 1; }
}
peak before

echo "== Kawi GEMM (GemmBenchmark: shapes $shapes; dtypes $dtypes; threads $threads) -> $out/gemm.json" >&2
"$java" -jar "$jar" 'dev.kawi.bench.GemmBenchmark' "${jmh_common[@]}" \
  -p shape="$shapes" -p dtype="$dtypes" -p threads="$threads" \
  -rf json -rff "$out/gemm.json" > "$out/gemm.log" 2>&1 || { tail -n 30 "$out/gemm.log" >&2; exit 1; }
if grep -q '<failure>' "$out/gemm.log"; then
  echo "run-kernels.sh: some GemmBenchmark runs failed (see $out/gemm.log); the table lacks them" >&2
fi

peak after

numpy_files=()
for t in ${threads//,/ }; do
  echo "== OpenBLAS peer (numpy_gemm.py, $t thread(s)) -> $out/numpy-t$t.jsonl" >&2
  "$python" "$root/bench/numpy_gemm.py" --threads "$t" --shapes "$shapes" "${np_mode[@]}" > "$out/numpy-t$t.jsonl"
  numpy_files+=("$out/numpy-t$t.jsonl")
done

"$python" "$root/bench/kernels_report.py" --gemm "$out/gemm.json" --peak "$out/peak-before.json" "$out/peak-after.json" \
  --numpy "${numpy_files[@]}" --info "$out/info.jsonl" | tee "$out/report.md"
echo "== results in $out" >&2

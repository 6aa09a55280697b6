#!/usr/bin/env bash
# bench/trace_bench.sh BUILD_DIR
#
# Spans/s on one core of vigil's trace path (OTLP JSON decode, then decode +
# assembly + service graph + per-operation baselines; bench/trace_bench.cc)
# beside a peer measured in the same run on the same body: Debian's python3
# with its C-accelerated json module, parse only and parse + the simplest
# grouping into traces and edges (bench/trace_peer.py). Prints the ratios.
# Knob: TRACE_BENCH_TRACES (20000 traces x 8 spans).
set -euo pipefail
BUILD_DIR=${1:?usage: bench/trace_bench.sh BUILD_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
body=$(mktemp /tmp/vigil-trace-bench-XXXXXX.json)
trap 'rm -f "$body"' EXIT
out=$(taskset -c 0 "$BUILD_DIR/bench/trace_bench" --traces "${TRACE_BENCH_TRACES:-20000}" --repeat 5 --write "$body")
echo "$out"
peer=$(taskset -c 0 /usr/bin/python3 "$HERE/trace_peer.py" "$body" 3)
echo "$peer"
get() { echo "$1" | sed -n "s/.*$2: spans\/s (one core): \([0-9]*\).*/\1/p"; }
a=$(get "$out" "decode only"); b=$(get "$peer" "json.loads only")
c=$(get "$out" "baselines"); d=$(get "$peer" "parse+group+edges")
awk -v a="$a" -v b="$b" -v c="$c" -v d="$d" 'BEGIN {
  printf "ratio vigil decode / python json.loads: %.1fx\n", a / b
  printf "ratio vigil decode+assembly+graph+baselines / python parse+group+edges: %.1fx\n", c / d }'

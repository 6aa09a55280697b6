#!/usr/bin/env bash
# bench/log_miner_compare.sh NEW_BUILD_DIR [OLD_BUILD_DIR]
#
# Template-mining speed of one build, or of two builds side by side on the
# same generated corpus (same seed, same line count), alternating runs so
# machine noise hits both alike. Prints each run and the median ratio
# new/old of lines/s; the JSON results stay in $OUT_DIR (default
# ./log-bench-results) for later comparison.
# Knobs: BENCH_LINES (2000000), BENCH_REPEAT (3).
set -euo pipefail
NEW=${1:?usage: bench/log_miner_compare.sh NEW_BUILD_DIR [OLD_BUILD_DIR]}
OLD=${2:-}
LINES=${BENCH_LINES:-2000000}
REPEAT=${BENCH_REPEAT:-3}
OUT_DIR=${OUT_DIR:-log-bench-results}
mkdir -p "$OUT_DIR"
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
for r in $(seq 1 "$REPEAT"); do
  taskset -c 0 "$NEW/bench/log_miner_bench" --lines "$LINES" --label new --out "$OUT_DIR/new-$r.json"
  if [ -n "$OLD" ]; then
    taskset -c 0 "$OLD/bench/log_miner_bench" --lines "$LINES" --label old --out "$OUT_DIR/old-$r.json"
  fi
done
new_med=$(for r in $(seq 1 "$REPEAT"); do field "$OUT_DIR/new-$r.json" lines_per_cpu_s; done | median)
echo "new: median lines per CPU second $new_med"
if [ -n "$OLD" ]; then
  old_med=$(for r in $(seq 1 "$REPEAT"); do field "$OUT_DIR/old-$r.json" lines_per_cpu_s; done | median)
  echo "old: median lines per CPU second $old_med"
  python3 -c "import sys; print('ratio new/old: %.3f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$new_med" "$old_med"
fi

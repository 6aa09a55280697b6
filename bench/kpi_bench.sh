#!/usr/bin/env bash
# bench/kpi_bench.sh BUILD_DIR
#
# Speed and memory of vigil's auto-selected KPI detector suite (kpi_bench)
# beside a peer measured in the same run: pandas rolling median/MAD
# (bench/kpi_peer.py, Debian's python3-pandas). Prints both figures and the
# ratio. Both count CPU time of the measuring thread (the machine is shared);
# kpi_bench also prints the wall-clock rate. Knobs: KPI_BENCH_SERIES (2000), KPI_BENCH_WARM_DAYS (21: three weeks
# so that weekly periods are found), KPI_BENCH_DAYS (2).
set -euo pipefail
BUILD_DIR=${1:?usage: bench/kpi_bench.sh BUILD_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
out=$("$BUILD_DIR/bench/kpi_bench" --series "${KPI_BENCH_SERIES:-2000}" \
      --warm-days "${KPI_BENCH_WARM_DAYS:-21}" --days "${KPI_BENCH_DAYS:-2}")
echo "$out"
peer=$(/usr/bin/python3 "$HERE/kpi_peer.py" 200 20000)
echo "$peer"
ours=$(echo "$out" | sed -n 's/.*points\/s (one core, streaming): \([0-9]*\)/\1/p')
theirs=$(echo "$peer" | sed -n 's/.*points\/s (one core, batch): \([0-9]*\)/\1/p')
awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "ratio vigil/pandas points/s: %.2f\n", a / b }'

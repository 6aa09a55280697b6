#!/bin/sh
# Root-cause ranking time: 100 services / 100,000 spans (goal <= 1 s) and
# 1,000 services / 1,000,000 spans (goal <= 10 s), each beside the
# rank-by-score baseline measured in the same process.
# Usage: bench/rca_bench.sh [BUILD_DIR]   (configure with -DVIGIL_BENCH=ON)
set -e
build=${1:-build}
ninja -C "$build" rca_bench >/dev/null
"$build/bench/rca_bench" 100 100000 2
"$build/bench/rca_bench" 1000 1000000 2

#!/usr/bin/env bash
# bench/sim_throughput.sh [BUILD_DIR]
#
# The simulator's own speed on one core for the generated 1000-service x
# 5-pod system: `vigil sim --dry-run` end to end (model + remote_write
# encoding, 1 s scrape interval), then sim_bench's parts, printed as ratios
# against the protobuf-generated encoder of src/ingest measured in the same run.
set -euo pipefail
BUILD=${1:-build}
VIGIL=$BUILD/src/cli/vigil
BENCH=$BUILD/bench/sim_bench
[[ -x $VIGIL && -x $BENCH ]] || { echo "build vigil and sim_bench first (ninja -C $BUILD vigil sim_bench)" >&2; exit 1; }

echo "== vigil sim --services 1000 --instances 5 --step 1s --duration 2m --dry-run (one thread)"
taskset -c 0 "$VIGIL" sim --services 1000 --instances 5 --step 1s --duration 2m --dry-run --no-logs --no-traces

echo
echo "== sim_bench (one thread)"
OUT=$(taskset -c 0 "$BENCH" --benchmark_format=json 2>/dev/null)
/usr/bin/python3 - "$OUT" <<'PY'
import json, sys
b = {x["name"]: x for x in json.loads(sys.argv[1])["benchmarks"]}
rate = {k: v["items_per_second"] for k, v in b.items()}
for k, v in rate.items():
    print(f"{k:20s} {v/1e6:8.2f} M samples/s")
gen, enc, peer = rate["BM_Generate"], rate["BM_EncodeSim"], rate["BM_EncodeProtobuf"]
both = 1 / (1 / gen + 1 / enc)
print(f"generate+encode      {both/1e6:8.2f} M samples/s  (target >= 1.00)")
print(f"sim encoder / protobuf-generated encoder: {enc/peer:.1f}x")
PY

#!/usr/bin/env bash
# bench/ab.sh BUILD_A BUILD_B
#
# A/B of two vigil builds on bench/run.sh's load: a vigil that alternates
# between the two binaries (A first) serves the runs, so both meet the same
# background load on a shared machine. BENCH_REPEAT (default 4) runs in all:
# rows 1, 3, ... of the table are A, rows 2, 4, ... are B, each followed by
# its VictoriaMetrics run. Prints CPU-seconds per 10 M samples and the ratio
# to the neighbouring VictoriaMetrics run for each.
set -euo pipefail
A=$(cd "${1:?usage: bench/ab.sh BUILD_A BUILD_B}" && pwd)/src/cli/vigil
B=$(cd "${2:?usage: bench/ab.sh BUILD_A BUILD_B}" && pwd)/src/cli/vigil
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d "${TMPDIR:-/tmp}/vigil-ab-XXXXXX")
trap 'rm -rf "$DIR"' EXIT
mkdir -p "$DIR/src/cli" "$DIR/bench"
cp "$(dirname "$B")/../../bench/ingest_loadgen" "$DIR/bench/"
cat >"$DIR/src/cli/vigil" <<WRAP
#!/bin/bash
n=\$(cat "$DIR/counter" 2>/dev/null || echo 0)
echo \$((n + 1)) >"$DIR/counter"
if (( n % 2 == 0 )); then exec "$A" "\$@"; else exec "$B" "\$@"; fi
WRAP
chmod +x "$DIR/src/cli/vigil"
BENCH_REPEAT=${BENCH_REPEAT:-4} bash "$HERE/run.sh" "$DIR" | tee "$DIR/out"
/usr/bin/python3 - "$DIR/out" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.startswith(("vigil ", "victoria-metrics "))]
rows = [r for r in rows if len(r) >= 9 and r[1].isdigit()]
out = {"A": [], "B": []}
for i in range(0, len(rows) - 1, 2):
    v, m = rows[i], rows[i + 1]
    if v[0] != "vigil" or m[0] != "victoria-metrics":
        continue
    which = "A" if (i // 2) % 2 == 0 else "B"
    samples, cpu, vm_cpu = int(v[1]), float(v[5]), float(m[5])
    if samples and cpu and vm_cpu:
        out[which].append((cpu * 1e7 / samples, (samples / cpu) / (int(m[1]) / vm_cpu)))
for k in "AB":
    print(k, "cpu_s per 10M:", " ".join(f"{c:.2f}" for c, _ in out[k]),
          "  ratio per CPU-s:", " ".join(f"{r:.2f}" for _, r in out[k]))
PY

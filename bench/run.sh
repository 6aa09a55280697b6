#!/usr/bin/env bash
# bench/run.sh BUILD_DIR
#
# Remote_write ingest throughput of vigil against VictoriaMetrics, measured in
# the same run with the same pre-encoded payloads (bench/ingest_loadgen.cc).
# Each server runs alone (one after the other) on a free loopback port with a
# fresh temp data dir. For each we report:
#   samples/s          accepted samples / wall seconds of the load run
#   samples/cpu_s      accepted samples / the server's CPU seconds (utime+stime
#                      from /proc/PID/stat), counting the work it still does
#                      after the last request was answered (queues draining,
#                      background merges) until it is idle again
# and the ratio vigil / VictoriaMetrics of both (goal: >= 1.0).
#
# Knobs (environment): BENCH_SERIES (20000), BENCH_ROUNDS (500 scrape rounds),
# BENCH_CONNECTIONS (4), BENCH_DURATION (60 s cap per server),
# BENCH_INTERVAL_MS (1000), VIGIL_BENCH_CONFIG (extra YAML for vigil).
set -euo pipefail

BUILD_DIR=${1:?usage: bench/run.sh BUILD_DIR}
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
VIGIL=$BUILD_DIR/src/cli/vigil
LOADGEN=$BUILD_DIR/bench/ingest_loadgen
VM=${VM_BIN:-/usr/bin/victoria-metrics}
SERIES=${BENCH_SERIES:-20000}
ROUNDS=${BENCH_ROUNDS:-500}
CONNS=${BENCH_CONNECTIONS:-4}
DURATION=${BENCH_DURATION:-60}
INTERVAL_MS=${BENCH_INTERVAL_MS:-1000}
PY=/usr/bin/python3
HZ=$(getconf CLK_TCK)

for f in "$VIGIL" "$LOADGEN" "$VM"; do
  [[ -x $f ]] || { echo "bench: missing $f (build with VIGIL_BENCH=ON: make build)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vigil-bench-XXXXXX")
SERVER_PID=""
stop_server() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
cleanup() {
  stop_server
  if [[ -z ${BENCH_KEEP:-} ]]; then rm -rf "$WORK"; else echo "bench: kept $WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# utime + stime of all threads of a process, in clock ticks
cpu_ticks() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  stat=${stat##*) }  # drop "pid (comm) ": comm may contain spaces
  # shellcheck disable=SC2086
  set -- $stat
  echo $(( ${12} + ${13} ))  # fields 14 and 15 of the full line
}

wait_ready() {  # URL LOG
  for _ in $(seq 300); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "bench: server exited before $1 was ready; last log lines:" >&2; tail -20 "$2" >&2; return 1
    fi
    sleep 0.1
  done
  echo "bench: $1 not ready after 30s" >&2; tail -20 "$2" >&2; return 1
}

# run_one NAME WRITE_URL LOG: load the running server, print one result line
#   NAME samples seconds samples_per_s errors cpu_run_s cpu_total_s
run_one() {
  local name=$1 url=$2 logf=$3
  local t0 t1 c0 c1 c2 prev cur out
  c0=$(cpu_ticks "$SERVER_PID")
  out=$("$LOADGEN" --url "$url" --series "$SERIES" --rounds "$ROUNDS" --connections "$CONNS" \
          --duration "$DURATION" --interval-ms "$INTERVAL_MS" --end-ms "$END_MS" 2>"$WORK/$name-loadgen.err") || true
  c1=$(cpu_ticks "$SERVER_PID")
  # wait until the server is idle again (< 5% of a core over 0.5 s), at most 30 s
  prev=$c1
  for _ in $(seq 60); do
    sleep 0.5
    cur=$(cpu_ticks "$SERVER_PID")
    if (( (cur - prev) * 100 < 5 * HZ / 2 )); then break; fi
    prev=$cur
  done
  c2=$(cpu_ticks "$SERVER_PID")
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "bench: $name died during the run; last log lines:" >&2; tail -30 "$logf" >&2
  fi
  if [[ -z $out ]]; then
    echo "bench: loadgen produced no result for $name:" >&2; cat "$WORK/$name-loadgen.err" >&2
    out='{"samples":0,"seconds":0,"samples_per_s":0,"errors":-1}'
  fi
  echo "$out" >"$WORK/$name.json"
  $PY - "$name" "$out" "$c0" "$c1" "$c2" "$HZ" <<'EOF'
import json, sys
name, out, c0, c1, c2, hz = sys.argv[1], json.loads(sys.argv[2]), *map(int, sys.argv[3:7])
print(name, out["samples"], out["seconds"], out["samples_per_s"], out["errors"],
      (c1 - c0) / hz, (c2 - c0) / hz, out.get("retries", 0), out.get("last_error_status", 0))
EOF
}

END_MS=$(( $(date +%s) * 1000 ))
echo "bench: $SERIES series x $ROUNDS rounds = $((SERIES * ROUNDS)) samples, 500/request, $CONNS connections, cap ${DURATION}s, $(nproc) cores"
RESULTS=()

# ---------------------------------------------------------------- vigil
PORT=$(free_port)
mkdir -p "$WORK/vigil-data"
cat >"$WORK/vigil.yaml" <<EOF
listen: "127.0.0.1:$PORT"
data_dir: "$WORK/vigil-data"
${VIGIL_BENCH_CONFIG:-}
EOF
setsid "$VIGIL" serve --config "$WORK/vigil.yaml" >"$WORK/vigil.log" 2>&1 &
SERVER_PID=$!
wait_ready "http://127.0.0.1:$PORT/healthz" "$WORK/vigil.log"
RESULTS+=("$(run_one vigil "http://127.0.0.1:$PORT/api/v1/write" "$WORK/vigil.log")")
VIGIL_SERIES=$(curl -fsS "http://127.0.0.1:$PORT/metrics" 2>/dev/null | grep -E '^vigil_series[a-z_]* ' | head -3 | tr '\n' ' ' || true)
stop_server

# ---------------------------------------------------------------- VictoriaMetrics
PORT=$(free_port)
mkdir -p "$WORK/vm-data"
setsid "$VM" -storageDataPath="$WORK/vm-data" -httpListenAddr="127.0.0.1:$PORT" \
  -loggerLevel=ERROR >"$WORK/vm.log" 2>&1 &
SERVER_PID=$!
wait_ready "http://127.0.0.1:$PORT/health" "$WORK/vm.log"
RESULTS+=("$(run_one victoria-metrics "http://127.0.0.1:$PORT/api/v1/write" "$WORK/vm.log")")
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/internal/force_flush" 2>/dev/null || true
VM_SERIES=$(curl -fsS "http://127.0.0.1:$PORT/api/v1/series/count" 2>/dev/null || true)
stop_server

# ---------------------------------------------------------------- table
$PY - "${RESULTS[@]}" <<'EOF'
import json, sys
rows = [line.split() for line in sys.argv[1:]]
res = {}
print()
print(f"{'server':<18}{'samples':>12}{'seconds':>9}{'samples/s':>12}{'cpu_s run':>10}{'cpu_s+drain':>12}"
      f"{'samples/cpu_s':>15}{'errors':>8}{'retries':>9}")
for r in rows:
    name, samples, secs, rate, errors, cpu_run, cpu_total, retries, last = r
    samples, secs, rate, cpu_run, cpu_total = int(samples), float(secs), float(rate), float(cpu_run), float(cpu_total)
    per_cpu = samples / cpu_total if cpu_total > 0 else 0.0
    res[name] = (rate, per_cpu, int(errors))
    print(f"{name:<18}{samples:>12}{secs:>9.2f}{rate:>12.0f}{cpu_run:>10.2f}{cpu_total:>12.2f}{per_cpu:>15.0f}"
          f"{errors:>8}{retries:>9}" + (f"   (last error status {last})" if last != "0" else ""))
v, m = res.get("vigil"), res.get("victoria-metrics")
if v and m and m[0] > 0 and m[1] > 0:
    r_rate, r_cpu = v[0] / m[0], v[1] / m[1]
    print()
    print(f"ratio vigil / VictoriaMetrics: samples/s {r_rate:.2f}   samples per CPU-second {r_cpu:.2f}   "
          f"(goal >= 1.0: {'met' if r_cpu >= 1.0 else 'NOT met'})")
    print(json.dumps({"bench": "remote_write_ingest", "vigil_samples_per_s": round(v[0]),
                      "vm_samples_per_s": round(m[0]), "vigil_samples_per_cpu_s": round(v[1]),
                      "vm_samples_per_cpu_s": round(m[1]), "ratio_rate": round(r_rate, 3),
                      "ratio_per_cpu": round(r_cpu, 3), "vigil_errors": v[2], "vm_errors": m[2]}))
EOF
echo "series stored: vigil: ${VIGIL_SERIES:-n/a}  victoria-metrics: ${VM_SERIES:-n/a}"

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
# Both are measured in steady state: BENCH_WARMUP_ROUNDS scrape rounds of the
# same series are sent first, untimed (new-series cost and detector window
# fill are not what a long-running server spends its time on).
#
# Knobs (environment): BENCH_SERIES (20000), BENCH_ROUNDS (500 scrape rounds),
# BENCH_WARMUP_ROUNDS (300),
# BENCH_CONNECTIONS (4), BENCH_DURATION (60 s cap per server),
# BENCH_INTERVAL_MS (1000), BENCH_REPEAT (3: runs per server, alternating;
# the ratio uses the medians), VIGIL_BENCH_CONFIG (extra YAML for vigil).
set -euo pipefail

BUILD_DIR=${1:?usage: bench/run.sh BUILD_DIR}
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
VIGIL=$BUILD_DIR/src/cli/vigil
LOADGEN=$BUILD_DIR/bench/ingest_loadgen
VM=${VM_BIN:-/usr/bin/victoria-metrics}
SERIES=${BENCH_SERIES:-20000}
ROUNDS=${BENCH_ROUNDS:-500}
WARMUP_ROUNDS=${BENCH_WARMUP_ROUNDS:-300}
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

# wait until the server is idle (< 5% of a core over 0.5 s), at most 30 s
wait_idle() {
  local prev cur
  prev=$(cpu_ticks "$SERVER_PID")
  for _ in $(seq 60); do
    sleep 0.5
    cur=$(cpu_ticks "$SERVER_PID")
    if (( (cur - prev) * 100 < 5 * HZ / 2 )); then return 0; fi
    prev=$cur
  done
}

# run_one NAME WRITE_URL LOG: load the running server, print one result line
#   NAME samples seconds samples_per_s errors cpu_run_s cpu_total_s
run_one() {
  local name=$1 url=$2 logf=$3
  local c0 c1 c2 prev cur out
  if (( WARMUP_ROUNDS > 0 )); then
    # untimed: the same series, the rounds just before the measured ones, so both servers
    # are measured in steady state (series known, detector windows filled)
    "$LOADGEN" --url "$url" --series "$SERIES" --rounds "$WARMUP_ROUNDS" --connections "$CONNS" \
      --duration "$DURATION" --interval-ms "$INTERVAL_MS" \
      --end-ms $(( END_MS - ROUNDS * INTERVAL_MS )) --quiet >"$WORK/$name-warmup.json" 2>&1 || true
    wait_idle
  fi
  c0=$(cpu_ticks "$SERVER_PID")
  out=$("$LOADGEN" --url "$url" --series "$SERIES" --rounds "$ROUNDS" --connections "$CONNS" \
          --duration "$DURATION" --interval-ms "$INTERVAL_MS" --end-ms "$END_MS" --first-round "$WARMUP_ROUNDS" \
          2>"$WORK/$name-loadgen.err") || true
  c1=$(cpu_ticks "$SERVER_PID")
  wait_idle
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
REPEAT=${BENCH_REPEAT:-3}
echo "bench: $SERIES series x $ROUNDS rounds = $((SERIES * ROUNDS)) samples measured after $WARMUP_ROUNDS untimed" \
     "warm-up rounds, 500/request, $CONNS connections," \
     "cap ${DURATION}s, $REPEAT run(s) each, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
RESULTS=()

bench_vigil() {  # RUN
  local port dir
  port=$(free_port)
  dir="$WORK/vigil-$1"
  mkdir -p "$dir/data"
  cat >"$dir/vigil.yaml" <<EOF
listen: "127.0.0.1:$port"
data_dir: "$dir/data"
${VIGIL_BENCH_CONFIG:-}
EOF
  setsid "$VIGIL" serve --config "$dir/vigil.yaml" >"$dir/vigil.log" 2>&1 &
  SERVER_PID=$!
  wait_ready "http://127.0.0.1:$port/healthz" "$dir/vigil.log"
  RESULTS+=("$(run_one vigil "http://127.0.0.1:$port/api/v1/write" "$dir/vigil.log")")
  # what vigil did with the samples: stored series, ingested, analysed by the detectors, anomalies
  STORED_VIGIL=$(curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null |
    grep -E '^vigil_(series_active|ingest_samples_total|points_analysed_total|anomalies_total|ingest_series_cache_hits_total) ' |
    sed 's/^vigil_//' | tr '\n' ' ' || true)
  stop_server
}

bench_vm() {  # RUN
  local port dir
  port=$(free_port)
  dir="$WORK/vm-$1"
  mkdir -p "$dir/data"
  setsid "$VM" -storageDataPath="$dir/data" -httpListenAddr="127.0.0.1:$port" \
    -loggerLevel=ERROR >"$dir/vm.log" 2>&1 &
  SERVER_PID=$!
  wait_ready "http://127.0.0.1:$port/health" "$dir/vm.log"
  RESULTS+=("$(run_one victoria-metrics "http://127.0.0.1:$port/api/v1/write" "$dir/vm.log")")
  curl -fsS -o /dev/null "http://127.0.0.1:$port/internal/force_flush" 2>/dev/null || true
  STORED_VM=$(curl -fsS "http://127.0.0.1:$port/api/v1/series/count" 2>/dev/null | tr -dc '0-9' || true)
  stop_server
}

# alternate the servers so a change in background load hits both alike
for run in $(seq "$REPEAT"); do
  bench_vigil "$run"
  bench_vm "$run"
done

# ---------------------------------------------------------------- table
$PY - "${RESULTS[@]}" <<'EOF'
import json, statistics, sys
rows = [line.split() for line in sys.argv[1:]]
per = {}
print()
print(f"{'server':<18}{'samples':>12}{'seconds':>9}{'samples/s':>12}{'cpu_s run':>10}{'cpu_s+drain':>12}"
      f"{'samples/cpu_s':>15}{'errors':>8}{'retries':>9}")
for r in rows:
    name, samples, secs, rate, errors, cpu_run, cpu_total, retries, last = r
    samples, secs, rate, cpu_run, cpu_total = int(samples), float(secs), float(rate), float(cpu_run), float(cpu_total)
    per_cpu = samples / cpu_total if cpu_total > 0 else 0.0
    per.setdefault(name, []).append((rate, per_cpu, int(errors)))
    print(f"{name:<18}{samples:>12}{secs:>9.2f}{rate:>12.0f}{cpu_run:>10.2f}{cpu_total:>12.2f}{per_cpu:>15.0f}"
          f"{errors:>8}{retries:>9}" + (f"   (last error status {last})" if last != "0" else ""))

def median(name, i):
    return statistics.median(x[i] for x in per[name])

if "vigil" in per and "victoria-metrics" in per:
    v_rate, v_cpu = median("vigil", 0), median("vigil", 1)
    m_rate, m_cpu = median("victoria-metrics", 0), median("victoria-metrics", 1)
    v_err = sum(x[2] for x in per["vigil"])
    m_err = sum(x[2] for x in per["victoria-metrics"])
    if m_rate > 0 and m_cpu > 0:
        r_rate, r_cpu = v_rate / m_rate, v_cpu / m_cpu
        n = len(per["vigil"])
        print()
        print(f"median of {n} run(s): vigil {v_rate:.0f} samples/s, {v_cpu:.0f} samples/cpu_s; "
              f"victoria-metrics {m_rate:.0f} samples/s, {m_cpu:.0f} samples/cpu_s")
        print(f"ratio vigil / VictoriaMetrics: samples/s {r_rate:.2f}   samples per CPU-second {r_cpu:.2f}   "
              f"(goal >= 1.0: {'met' if r_cpu >= 1.0 else 'NOT met'})")
        print(json.dumps({"bench": "remote_write_ingest", "runs": n, "vigil_samples_per_s": round(v_rate),
                          "vm_samples_per_s": round(m_rate), "vigil_samples_per_cpu_s": round(v_cpu),
                          "vm_samples_per_cpu_s": round(m_cpu), "ratio_rate": round(r_rate, 3),
                          "ratio_per_cpu": round(r_cpu, 3), "vigil_errors": v_err, "vm_errors": m_err}))
EOF
echo "after the last run: vigil ${STORED_VIGIL:-n/a}; victoria-metrics series ${STORED_VM:-n/a} (sent $SERIES series)"

#!/usr/bin/env bash
# scripts/demo.sh VIGIL_BINARY
#
# A live vigil on http://localhost:8080 fed by a real Prometheus scraping a real
# node_exporter on this machine, with a CPU burn (stress-ng) every few minutes
# so there is something to detect. Ctrl-C stops everything it started.
#
#   vigil           127.0.0.1:${DEMO_PORT:-8080}, data in ./vigil-data
#   node_exporter   free port, scraped every 1s
#   Prometheus      free port (UI printed below), remote_write to vigil,
#                   scrapes itself every 5s; temp data dir
#   stress-ng       --cpu 2 for 30s every ${DEMO_BURN_EVERY:-180}s, first one
#                   after the detectors' warm-up
set -euo pipefail

VIGIL=${1:?usage: scripts/demo.sh VIGIL_BINARY}
VIGIL=$(cd "$(dirname "$VIGIL")" && pwd)/$(basename "$VIGIL")
PORT=${DEMO_PORT:-8080}
BURN_EVERY=${DEMO_BURN_EVERY:-180}
BURN_SECONDS=${DEMO_BURN_SECONDS:-30}
DATA_DIR=${DEMO_DATA_DIR:-./vigil-data}
PY=/usr/bin/python3

for b in "$VIGIL" /usr/bin/prometheus /usr/bin/prometheus-node-exporter /usr/bin/stress-ng; do
  [[ -x $b ]] || { echo "demo: $b not found (run: make deps build)" >&2; exit 1; }
done
if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/"; then
  echo "demo: something already listens on 127.0.0.1:$PORT (set DEMO_PORT)" >&2
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vigil-demo-XXXXXX")
PIDS=()
cleanup() {
  trap - EXIT INT TERM
  echo
  echo "demo: stopping..."
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
  echo "demo: stopped (vigil's data stays in $DATA_DIR)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
start() {  # NAME CMD... : own process group, output to $WORK/NAME.log
  local name=$1; shift
  setsid "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
}
wait_http() {  # URL NAME
  for _ in $(seq 300); do
    curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "demo: $2 did not come up ($1); its log:" >&2
  tail -20 "$WORK/$2.log" >&2
  exit 1
}

# ---------------------------------------------------------------- vigil
mkdir -p "$DATA_DIR"
cat >"$WORK/vigil.yaml" <<EOF
listen: "127.0.0.1:$PORT"
data_dir: "$(cd "$DATA_DIR" && pwd)"
incidents:
  resolve_after: 60s
EOF
start vigil "$VIGIL" serve --config "$WORK/vigil.yaml"
wait_http "http://127.0.0.1:$PORT/healthz" vigil

# ---------------------------------------------------------------- node_exporter + Prometheus
NE_PORT=$(free_port)
start node_exporter /usr/bin/prometheus-node-exporter --web.listen-address="127.0.0.1:$NE_PORT"
wait_http "http://127.0.0.1:$NE_PORT/metrics" node_exporter

PROM_PORT=$(free_port)
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 5s
  evaluation_interval: 5s
scrape_configs:
  - job_name: node
    scrape_interval: 1s
    static_configs: [{targets: ["127.0.0.1:$NE_PORT"]}]
  - job_name: prometheus
    scrape_interval: 5s
    static_configs: [{targets: ["127.0.0.1:$PROM_PORT"]}]
remote_write:
  - url: "http://127.0.0.1:$PORT/api/v1/write"
    queue_config: {batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s}
EOF
mkdir -p "$WORK/prometheus-data"
start prometheus /usr/bin/prometheus --config.file="$WORK/prometheus.yml" \
  --storage.tsdb.path="$WORK/prometheus-data" --storage.tsdb.retention.time=2h \
  --web.listen-address="127.0.0.1:$PROM_PORT"
wait_http "http://127.0.0.1:$PROM_PORT/-/ready" prometheus

# ---------------------------------------------------------------- CPU burns
burn_loop() {
  while true; do
    sleep "$BURN_EVERY"
    echo "[$(date +%H:%M:%S)] demo: CPU burn: stress-ng --cpu 2 --timeout ${BURN_SECONDS}s (expect an incident within ~30s)"
    /usr/bin/stress-ng --cpu 2 --timeout "${BURN_SECONDS}s" >>"$WORK/stress-ng.log" 2>&1 || true
    echo "[$(date +%H:%M:%S)] demo: burn over (expect the incident to resolve after ~60s of normal load)"
  done
}
setsid bash -c "$(declare -f burn_loop); BURN_EVERY=$BURN_EVERY BURN_SECONDS=$BURN_SECONDS WORK=$WORK burn_loop" &
PIDS+=($!)

# ---------------------------------------------------------------- incident ticker
setsid $PY - "http://127.0.0.1:$PORT" <<'EOF' &
import json, sys, time, urllib.request
base, seen = sys.argv[1], {}
while True:
    try:
        with urllib.request.urlopen(base + "/api/v1/incidents?limit=20", timeout=5) as r:
            incidents = json.load(r).get("incidents", [])
        for inc in reversed(incidents):
            state = inc.get("state")
            if seen.get(inc.get("id")) != state:
                seen[inc.get("id")] = state
                names = sorted({s.get("name", "") for s in inc.get("series", []) if isinstance(s, dict)})
                print(f"[{time.strftime('%H:%M:%S')}] incident {inc.get('id')} {state}: {inc.get('title')!r} "
                      f"series={names[:5]}", flush=True)
    except Exception as e:  # vigil restarting or busy: try again
        print(f"[{time.strftime('%H:%M:%S')}] (incidents unavailable: {e})", flush=True)
    time.sleep(5)
EOF
PIDS+=($!)

cat <<EOF

vigil demo is running (logs in $WORK). Open:
  http://localhost:$PORT/api/v1/incidents                     incidents, newest first
  http://localhost:$PORT/api/v1/series?match[]=node_load1     what vigil receives from Prometheus
  http://localhost:$PORT/api/v1/anomalies                     the anomalies behind incidents
  http://localhost:$PORT/metrics                              vigil's own metrics
  http://127.0.0.1:$PROM_PORT/                                   Prometheus UI (scraping node_exporter every 1s)

What to expect: the detectors warm up on the first ~30 points of each series; then a CPU
burn (stress-ng --cpu 2 for ${BURN_SECONDS}s) starts every ${BURN_EVERY}s, the first one at $(date -d "+$BURN_EVERY sec" +%H:%M:%S).
An incident naming node CPU (node_cpu_seconds_total / node_load1) opens within ~30s of each
burn and resolves about a minute after it ends. New incidents are printed below.
Press Ctrl-C to stop everything.

EOF
while true; do
  for pid in "${PIDS[@]:0:3}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "demo: a component (pid $pid) exited; last log lines:" >&2
      tail -n 20 "$WORK"/*.log >&2
      exit 1
    fi
  done
  sleep 2
done

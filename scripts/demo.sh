#!/usr/bin/env bash
# scripts/demo.sh VIGIL_BINARY
#
# A live vigil on http://localhost:8080 watching a simulated Online Boutique
# (vigil sim: 10 services + redis-cart, 22 pods) in accelerated time, with a
# fault injected every few minutes. Ctrl-C stops everything it started.
#
#   vigil      127.0.0.1:${DEMO_PORT:-8080}, data in ./vigil-data, --clock data
#              (incidents age on the simulated time of the samples)
#   vigil sim  --topology ob --speed ${DEMO_SPEED:-20} (an hour in 3 minutes):
#              remote_write metrics, Loki-push logs, OTLP traces and
#              deploy/config events;
#              40 simulated minutes of normal traffic to warm the detectors,
#              then a fault every ${DEMO_FAULT_EVERY:-60} simulated minutes
#              (10 minutes each), cycling through the fault catalogue
set -euo pipefail

VIGIL=${1:?usage: scripts/demo.sh VIGIL_BINARY}
VIGIL=$(cd "$(dirname "$VIGIL")" && pwd)/$(basename "$VIGIL")
PORT=${DEMO_PORT:-8080}
SPEED=${DEMO_SPEED:-20}
EVERY=${DEMO_FAULT_EVERY:-60}
DATA_DIR=${DEMO_DATA_DIR:-./vigil-data}
PY=/usr/bin/python3

[[ -x $VIGIL ]] || { echo "demo: $VIGIL not found (run: make build)" >&2; exit 1; }
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
start vigil "$VIGIL" serve --listen "127.0.0.1:$PORT" --data-dir "$(cd "$DATA_DIR" && pwd)" --clock data
wait_http "http://127.0.0.1:$PORT/healthz" vigil

# ---------------------------------------------------------------- the fault schedule
# One fault per slot, after a 40-minute warm-up, through the catalogue on
# Online Boutique's services (the targets of the scenario suite).
TARGETS=(cpu-load:cartservice/0 memory-leak:recommendationservice/0 network-delay:currencyservice/0
         exceptions:productcatalogservice process-pause:currencyservice/1 slow-sql:cartservice
         bad-deploy:checkoutservice dns-failure:checkoutservice/0 gc-storm:adservice/0
         downstream-failure:redis-cart network-partition:checkoutservice~paymentservice
         disk-full:emailservice/0 packet-loss:productcatalogservice/0 bad-config:cartservice
         process-kill:cartservice/1 traffic-surge:frontend cpu-creep:productcatalogservice/1
         pool-exhaustion:cartservice/0 wrong-codes:shippingservice/0 disk-io:redis-cart/0)
FAULTS=""
for i in "${!TARGETS[@]}"; do
  FAULTS+="${FAULTS:+,}${TARGETS[$i]}@$((40 + i * EVERY))m+10m"
done

# ---------------------------------------------------------------- the simulator
start sim "$VIGIL" sim --topology ob --speed "$SPEED" --duration 7d --seed "$RANDOM" \
  --target "http://127.0.0.1:$PORT" --faults "$FAULTS" --ground-truth "$WORK/ground-truth.json"
setsid bash -c "tail -n +1 -F '$WORK/sim.log' 2>/dev/null | sed -u 's/^/sim: /'" &
PIDS+=($!)

# ---------------------------------------------------------------- incident ticker
setsid $PY - "http://127.0.0.1:$PORT" <<'EOF' &
import json, sys, time, urllib.request
base, seen = sys.argv[1], {}
while True:
    try:
        with urllib.request.urlopen(base + "/api/v1/incidents?limit=30", timeout=5) as r:
            incidents = json.load(r).get("incidents", [])
        for inc in reversed(incidents):
            state = inc.get("state")
            if seen.get(inc.get("id")) != state:
                seen[inc.get("id")] = state
                el = inc.get("entity_labels", {})
                print(f"[{time.strftime('%H:%M:%S')}] incident {inc.get('id')} {state} at simulated "
                      f"{inc.get('opened_at')}: {el.get('service')} {el.get('instance')}: {inc.get('title', '')[:100]}",
                      flush=True)
    except Exception as e:  # vigil restarting or busy: try again
        print(f"[{time.strftime('%H:%M:%S')}] (incidents unavailable: {e})", flush=True)
    time.sleep(3)
EOF
PIDS+=($!)

WARM=$((40 * 60 / SPEED))
cat <<EOF

vigil demo is running (logs in $WORK, ground truth in $WORK/ground-truth.json). Open:
  http://localhost:$PORT/api/v1/incidents                        incidents, newest first
  http://localhost:$PORT/api/v1/series?match[]=up                 the simulated pods vigil receives
  http://localhost:$PORT/api/v1/anomalies                        the anomalies behind incidents
  http://localhost:$PORT/api/v1/events                           deploy and config events
  http://localhost:$PORT/metrics                                 vigil's own metrics

Simulated time runs ${SPEED}x real time, starting now. The detectors warm up for 40 simulated
minutes (${WARM}s); then a fault starts every ${EVERY} simulated minutes ($((EVERY * 60 / SPEED))s) and lasts 10 ($((600 / SPEED))s).
Each "sim: ... fault START" line below says which fault hit which pod; incidents follow.
Press Ctrl-C to stop everything.

EOF
while true; do
  for pid in "${PIDS[@]:0:2}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "demo: a component (pid $pid) exited; last log lines:" >&2
      tail -n 20 "$WORK/vigil.log" "$WORK/sim.log" >&2
      exit 1
    fi
  done
  sleep 2
done

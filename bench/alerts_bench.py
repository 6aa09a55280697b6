#!/usr/bin/python3
"""Alert ingest through vigil's whole alert pipeline, with Debian's Alertmanager
as a peer measured in the same run (not part of CI).

Phase 1 (throughput): 10,000 distinct alerts over 50 services of a declared
topology, posted in batches of 100 to POST /api/v2/alerts on one keep-alive
connection, then re-sent once (Prometheus re-sends every firing alert):
alerts/s = alerts posted / wall time. vigil answers each batch after dedup,
inhibition, correlation into incidents and persisting every changed alert.
Phase 2 (latency at 10,000 active alerts): 1,000 single-alert posts, each a new
alert on a service already in an incident; the time from sending it to the
answer is the time from arrival to the incident update (vigil updates and
persists the incident before answering): p50/p99.
The same phases run against Alertmanager (its POST stores the alert; grouping
runs after), so the ratio compares ingest cost, not identical work.

Usage: bench/alerts_bench.py /path/to/vigil [--alerts 10000]
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import vigil_testlib as t  # noqa: E402


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


def make_alert(i, services, now):
    svc = services[i % len(services)]
    return {"labels": {"alertname": f"Rule{(i // len(services)) % 20}", "service": svc,
                       "instance": f"{svc}-{(i // (20 * len(services))) % 50}", "severity": "warning"},
            "annotations": {"summary": f"alert {i}"},
            "startsAt": iso(now), "endsAt": iso(now + 3600)}


def run(port, alerts, services, label):
    client = t.KeepAliveClient("127.0.0.1", port, timeout=60)
    now = time.time()
    batch = 100
    t0 = time.monotonic()
    for rnd in range(2):
        for i in range(0, alerts, batch):
            body = json.dumps([make_alert(j, services, now) for j in range(i, min(alerts, i + batch))]).encode()
            r = client.request("POST", "/api/v2/alerts", body=body, headers={"Content-Type": "application/json"})
            if r.status != 200:
                raise AssertionError(f"{label}: batch refused: {r!r}")
    elapsed = time.monotonic() - t0
    rate = 2 * alerts / elapsed
    lat = []
    for k in range(1000):
        body = json.dumps([make_alert(alerts + k, services, now)]).encode()
        s = time.perf_counter()
        r = client.request("POST", "/api/v2/alerts", body=body, headers={"Content-Type": "application/json"})
        lat.append((time.perf_counter() - s) * 1000)
        if r.status != 200:
            raise AssertionError(f"{label}: single post refused: {r!r}")
    lat.sort()
    client.close()
    return {"alerts_per_s": round(rate), "p50_ms": round(lat[len(lat) // 2], 2),
            "p99_ms": round(lat[int(len(lat) * 0.99)], 2)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vigil")
    ap.add_argument("--alerts", type=int, default=10000)
    a = ap.parse_args()
    a.vigil = os.path.abspath(a.vigil)
    services = [f"svc-{i}" for i in range(50)]
    topology = {services[i]: [services[j] for j in (2 * i + 1, 2 * i + 2) if j < len(services)]
                for i in range(len(services))}
    with t.Harness("alerts-bench", vigil_bin=a.vigil) as h:
        alerting = h.write("alerting.yml", t.to_yaml({
            "route": {"receiver": "default", "group_by": ["incident"]},
            "receivers": [{"name": "default"}],
            "topology": topology,
            "dedup": {"max_alerts": 100000},
        }))
        v = h.start_vigil(config={"alerting_config": alerting})
        vig = run(v.port, a.alerts, services, "vigil")
        active = len(v.get_json("/api/v2/alerts"))
        incidents = len(v.incidents(state="open", limit=1000))
        t.log(f"vigil: {vig}, {active} active alerts, {incidents} open incidents")
        am_port = h.start_alertmanager("http://127.0.0.1:9/unused")
        am = run(am_port, a.alerts, services, "alertmanager")
        t.log(f"alertmanager: {am}")
    print(json.dumps({"alerts": a.alerts, "vigil": vig, "alertmanager": am,
                      "throughput_ratio": round(vig["alerts_per_s"] / am["alerts_per_s"], 2),
                      "p99_ratio": round(vig["p99_ms"] / am["p99_ms"], 2),
                      "vigil_active_alerts": active, "vigil_open_incidents": incidents}))


if __name__ == "__main__":
    main()

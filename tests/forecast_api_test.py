#!/usr/bin/python3
"""Forecasts, capacity risk and change risk through the real daemon.

1. A disk-usage series rising 1 point per hour (5-minute samples, the last at 88%) is
   pushed through POST /api/v1/samples; GET /api/v1/forecast?...&threshold=90 must put
   the likely crossing about 2 hours after the last point, with earliest <= likely <=
   latest and a prediction band around every forecast point.
2. The config has a detect.capacity rule on that series (checked every second): a
   "capacity_forecast" anomaly must appear for it.
3. Change risk (short windows through config: before 20s, gap 2s, after 8s):
   - a deploy event 15 s in the past, after which one host's latency doubled and one
     endpoint's errors rose while another host stayed put: GET /api/v1/events/{id}/risk
     must be ready with risk "high", flag host=web-1 and endpoint=/pay, not host=web-2;
   - a deploy event now: "pending" with its ready_at, then "ready" once its after-window
     closed (live samples pushed meanwhile), with no significant move;
   - after a restart the first report is computed again from the restored windows.
Usage: forecast_api_test.py /path/to/vigil
"""

import os
import random
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vigil_testlib as t  # noqa: E402


def q(params):
    return urllib.parse.urlencode(params)


def wait_for(what, fn, timeout):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


def check_forecast(v, now_ms):
    step = 300_000
    rng = random.Random(1)
    n = 300
    start = now_ms - (n - 1) * step
    # 88 - (n-1-i)/12: 1 point per hour, the last sample at 88.
    samples = [(start + i * step, 88 - (n - 1 - i) / 12.0 + rng.gauss(0, 0.2)) for i in range(n)]
    samples[-1] = (samples[-1][0], 88.0)
    v.push_samples([({"__name__": "disk_used_percent", "host": "db1"}, samples)])
    r = v.get_json("/api/v1/forecast?" + q({"series": 'disk_used_percent{host="db1"}', "horizon": "6h",
                                            "threshold": "90"}))
    assert len(r["forecasts"]) == 1, r
    f = r["forecasts"][0]
    th = f["threshold"]
    t.log(f"forecast: {f['model']}; {th['explanation']}")
    assert th["direction"] == "up" and th["at_risk"], th
    last = f["last_ms"]
    likely_h = (th["likely"]["ms"] - last) / 3_600_000
    assert 1.25 <= likely_h <= 2.75, f"likely crossing {likely_h:.2f} h after the last point, want about 2 h"
    assert th["earliest"]["ms"] <= th["likely"]["ms"], th
    assert th["latest"] is None or th["latest"]["ms"] >= th["likely"]["ms"], th
    pts = f["points"]
    assert len(pts) == 72, len(pts)  # 6 h of 5-minute steps
    for ts, mean, lo, hi in pts:
        assert lo <= mean <= hi, (ts, mean, lo, hi)
    assert pts[-1][3] - pts[-1][2] > pts[0][3] - pts[0][2], "the band must widen with the horizon"
    # Same series by id; errors name the parameter.
    r2 = v.get_json("/api/v1/forecast?" + q({"series": f["id"], "horizon": "1h"}))
    assert r2["forecasts"][0]["id"] == f["id"] and "threshold" not in r2["forecasts"][0], r2
    for params, status, word in (({"horizon": "1h"}, 400, "series"),
                                 ({"series": "disk_used_percent", "horizon": "soon"}, 400, "horizon"),
                                 ({"series": "disk_used_percent", "threshold": "x"}, 400, "threshold"),
                                 ({"series": "no_such_metric"}, 404, "no series")):
        resp = t.get(v.url("/api/v1/forecast?" + q(params)))
        assert resp.status == status and word in resp.text, (params, resp)
    return f["id"]


def check_capacity_anomaly(v, series_id):
    def found():
        a = v.get_json("/api/v1/anomalies?" + q({"series": series_id}))["anomalies"]
        return [x for x in a if x["detector"] == "capacity_forecast"]
    got = wait_for("a capacity_forecast anomaly", found, 20)
    a = got[0]
    t.log(f"capacity anomaly: score {a['score']:.1f}, pattern {a['pattern']}, expected {a['expected']:.1f}")
    assert a["pattern"] == "capacity_risk" and a["direction"] == "up", a


def kpi_series(t0_ms, t1_ms, shifted):
    """Latency of two hosts and errors of two endpoints of service shop, 1 s apart."""
    rng = random.Random(2)
    series = []
    for host, jump in (("web-1", 0.2), ("web-2", 0.0)):
        pts = [(ts, 0.2 + (jump if shifted(ts) else 0) + rng.gauss(0, 0.005)) for ts in range(t0_ms, t1_ms, 1000)]
        series.append(({"__name__": "http_latency_seconds", "service": "shop", "host": host}, pts))
    for ep, jump in (("/pay", 6.0), ("/cart", 0.0)):
        pts = [(ts, 1 + (jump if shifted(ts) else 0) + rng.gauss(0, 0.2)) for ts in range(t0_ms, t1_ms, 1000)]
        series.append(({"__name__": "http_errors", "service": "shop", "endpoint": ep}, pts))
    return series


def check_change_risk(v, now_ms):
    deploy = now_ms - 15_000
    v.push_samples(kpi_series(now_ms - 40_000, now_ms, lambda ts: ts > deploy))
    r = t.post_json(v.url("/api/v1/events"), {"kind": "deploy", "time": deploy,
                                             "labels": {"service": "shop", "version": "2.0"}})
    assert r.status == 201, r
    eid = r.json()["ids"][0]

    def ready():
        rep = v.get_json(f"/api/v1/events/{eid}/risk")
        return rep if rep["state"] == "ready" else None
    rep = wait_for("the change-risk report of a past deploy", ready, 10)
    t.log(f"risk report: {rep['risk']}: {rep['summary']}")
    assert rep["risk"] == "high", rep
    by = {(i["level"], i["entity"]): i for i in rep["items"]}
    web1 = by.get(("host", "host=web-1"))
    assert web1 and web1["severity"] == "high" and web1["direction"] == "up", web1
    ev = web1["evidence"]
    assert abs(ev["before_median"] - 0.2) < 0.02 and abs(ev["after_median"] - 0.4) < 0.02, ev
    assert by[("host", "host=web-2")]["severity"] in ("none", "low"), by[("host", "host=web-2")]
    assert by[("endpoint", "endpoint=/pay")]["severity"] == "high", by[("endpoint", "endpoint=/pay")]
    assert any(i["level"] == "system" for i in rep["items"]), "no system-level item"
    assert rep["kpis_compared"] == 4, rep

    # A deploy now: pending until its after-window closes (2 s gap + 8 s).
    now2 = int(time.time() * 1000)
    v.push_samples([({"__name__": "rps", "service": "cart", "host": "c1"},
                     [(ts, 100 + (ts // 1000) % 3) for ts in range(now2 - 30_000, now2, 1000)])])
    r = t.post_json(v.url("/api/v1/events"), {"kind": "deploy", "labels": {"service": "cart"}})
    eid2 = r.json()["ids"][0]
    rep2 = v.get_json(f"/api/v1/events/{eid2}/risk")
    assert rep2["state"] == "pending" and "ready_at" in rep2 and "items" not in rep2, rep2
    t.log(f"second deploy pending, ready at {rep2['ready_at']}")
    last = now2
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ts = int(time.time() * 1000)
        if ts > last:
            v.push_samples([({"__name__": "rps", "service": "cart", "host": "c1"}, [(ts, 100 + (ts // 1000) % 3)])])
            last = ts
        rep2 = v.get_json(f"/api/v1/events/{eid2}/risk")
        if rep2["state"] == "ready":
            break
        time.sleep(0.5)
    assert rep2["state"] == "ready", rep2
    assert rep2["risk"] in ("none", "low") and rep2["kpis_compared"] == 1, rep2
    resp = t.get(v.url("/api/v1/events/999999/risk"))
    assert resp.status == 404, resp
    return eid


def check_risk_after_restart(h, v, eid):
    """Reports live in memory; a restart recomputes those of recent changes from the
    restored windows."""
    code = v.proc.stop(timeout=15)
    assert code == 0, f"vigil exited with {code}"
    v2 = h.restart_vigil(v)

    def ready():
        r = t.get(v2.url(f"/api/v1/events/{eid}/risk"))
        return r.json() if r.status == 200 and r.json()["state"] == "ready" else None
    rep = wait_for("the change-risk report after a restart", ready, 10)
    assert rep["risk"] == "high", rep
    t.log("change-risk report recomputed after a restart")


def main():
    with t.Harness("forecast_api") as h:
        v = h.start_vigil(config={"detect": {
            "capacity_interval": "1s",
            "capacity": [{"match": 'disk_used_percent{host="db1"}', "threshold": 90, "horizon": "6h"}],
            "change_risk": {"before": "20s", "gap": "2s", "after": "8s"},
        }})
        now_ms = int(time.time() * 1000)
        sid = check_forecast(v, now_ms)
        check_capacity_anomaly(v, sid)
        eid = check_change_risk(v, now_ms)
        check_risk_after_restart(h, v, eid)
        t.log("forecast, capacity risk and change risk: all checks passed")


if __name__ == "__main__":
    t.run_test(main)

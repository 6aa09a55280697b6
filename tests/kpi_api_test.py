#!/usr/bin/python3
"""The KPI suite's API: profile, expected band, feedback stored and replayed.

Start vigil, push a noisy stable series then a jump (the detectors flag it), and check:
GET /api/v1/series/{id}/profile reports the profiler's measurements and chosen detectors;
GET /api/v1/series/{id}/points carries the expected band; POST
/api/v1/anomalies/{id}/feedback {"verdict": "false_alarm"} raises the series' sensitivity
(bad input is refused with 400/404); after a restart on the same data dir the stored
feedback is replayed (same sensitivity once the series sees a point).
Usage: kpi_api_test.py /path/to/vigil
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vigil_testlib as t  # noqa: E402

CONFIG = {"detector": {"warmup": 20}, "snapshot_interval": "60s"}


def main():
    with t.Harness("kpi_api") as h:
        v = h.start_vigil(config=CONFIG)
        labels = {"__name__": "kpi_api_latency_ms", "service": "kpi", "instance": "kpi-1"}
        # 700 quiet points: past the suite's learning phase (600), so it is profiled.
        t.make_incident_via_samples(v, labels, 20, quiet_points=700, jump_points=6)
        series = t.wait_for(lambda: [s for s in v.get_json("/api/v1/series?match[]=kpi_api_latency_ms")["series"]
                                     if "kpi_api_latency_ms" in s["name"]], 30, what="the series")
        sid = series[0]["id"]

        prof = v.get_json(f"/api/v1/series/{sid}/profile")
        t.log(f"profile: {prof}")
        assert prof["profiled"] is True, prof
        assert prof["step_ms"] == 1000, prof
        assert "level" in prof["detectors"] and "spot" in prof["detectors"], prof
        assert prof["period_ms"] == 0 and prof["sensitivity"] == 1.0, prof
        assert 0 < prof["state_bytes"] <= 4096, prof

        pts = v.get_json(f"/api/v1/series/{sid}/points")
        assert len(pts["band"]) == len(pts["points"]) > 0, (len(pts["band"]), len(pts["points"]))
        ts, expected, lower, upper = pts["band"][-1]
        assert lower < expected < upper and abs(expected - 100) < 50, pts["band"][-1]

        anomalies = t.wait_for(lambda: v.get_json(f"/api/v1/anomalies?series={sid}")["anomalies"], 30,
                               what="an anomaly on the series")
        aid = anomalies[0]["id"]
        r = t.post_json(v.url(f"/api/v1/anomalies/{aid}/feedback"), {"verdict": "false_alarm"})
        assert r.status == 200, r
        assert abs(r.json()["sensitivity"] - 1.25) < 1e-9, r.json()
        for body, path, want in [({"verdict": "maybe"}, f"/api/v1/anomalies/{aid}/feedback", 400),
                                 ({}, f"/api/v1/anomalies/{aid}/feedback", 400),
                                 ({"verdict": "real"}, "/api/v1/anomalies/999999999/feedback", 404),
                                 ({"verdict": "real"}, "/api/v1/anomalies/abc/feedback", 400)]:
            r = t.post_json(v.url(path), body)
            assert r.status == want, (path, body, r)
        assert t.get(v.url("/api/v1/series/zz/profile")).status == 400
        assert t.get(v.url("/api/v1/series/0000000000000001/profile")).status == 404

        def sensitivity(vv):
            now = int(time.time() * 1000)
            vv.push_samples([(labels, [(now, 100.0)])])
            return vv.get_json(f"/api/v1/series/{sid}/profile")["sensitivity"]
        t.wait_for(lambda: abs(sensitivity(v) - 1.25) < 1e-9, 20, what="the new sensitivity in use")

        v.proc.stop()
        v2 = h.restart_vigil(v)
        t.wait_for(lambda: abs(sensitivity(v2) - 1.25) < 1e-9, 20, what="the replayed sensitivity")
        t.log("feedback replayed after restart")
        if v2.sanitizer_reports():
            raise AssertionError(f"sanitizer reports: {v2.sanitizer_reports()[:3]}")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""vigil forwards incidents to a real Alertmanager (API v2) and to a direct webhook.

A receiver inside the test (http.server in a thread) listens on /am for Alertmanager
0.25's webhook and on /direct for vigil's own webhook. vigil is configured with both;
an incident is made deterministically with /api/v1/samples. The test checks that
Alertmanager delivers a version "4" payload with alertname=VigilIncident and the
incident's id in label incident_id, and that the direct webhook carries the id too.
Usage: alertmanager_forward_test.py /path/to/vigil
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vigil_testlib as t  # noqa: E402

WARMUP = 20


def contains_string(obj, needle):
    if isinstance(obj, str):
        return needle in obj
    if isinstance(obj, dict):
        return any(contains_string(k, needle) or contains_string(v, needle) for k, v in obj.items())
    if isinstance(obj, list):
        return any(contains_string(v, needle) for v in obj)
    return str(obj) == needle


def main():
    rec = t.WebhookReceiver()
    try:
        with t.Harness("alertmanager") as h:
            h.diagnostics.append(rec.dump)
            am_port = h.start_alertmanager(rec.url("/am"), group_wait="1s")
            am = f"http://127.0.0.1:{am_port}"
            h.diagnostics.append(lambda: print(f"Alertmanager GET /api/v2/alerts -> "
                                               f"{t.get(am + '/api/v2/alerts').text[:3000]}"))
            v = h.start_vigil(config={
                "detector": {"warmup": WARMUP},
                "incidents": {"min_anomalies": 3, "resolve_after": "10m"},
                "notify": {"resend_interval": "5s",
                           "alertmanagers": [{"url": am}],
                           "webhooks": [{"url": rec.url("/direct")}]},
            })

            labels = {"__name__": "payment_errors", "service": "payments", "instance": "am-forward-1"}
            t.make_incident_via_samples(v, labels, WARMUP, base=5.0, spread=1.0, jump=300.0)
            opened = time.monotonic()  # delays below count from the push of the jump
            inc = t.wait_for(lambda: next(iter(v.incidents(state="open")), None), 30, what="an open incident")
            inc_id = str(inc["id"])
            t.log(f"incident {inc_id} open: {inc.get('title')!r}")

            # ---- through Alertmanager
            def am_delivery():
                for ts, _, headers, body in rec.posts("/am"):
                    if not isinstance(body, dict):
                        continue
                    for a in body.get("alerts", []):
                        lab = a.get("labels", {})
                        if lab.get("alertname") == "VigilIncident" and str(lab.get("incident_id")) == inc_id:
                            return ts, body, a
                return None
            ts, payload, alert = t.wait_for(am_delivery, 45, what=f"Alertmanager webhook for incident {inc_id}")
            t.log(f"Alertmanager delivered incident {inc_id} after {ts - opened:.1f}s")
            if payload.get("version") != "4":
                raise AssertionError(f"Alertmanager payload version {payload.get('version')!r}, want \"4\"")
            if alert.get("status") != "firing":
                raise AssertionError(f"forwarded alert status {alert.get('status')!r}, want firing: {alert}")
            if payload.get("receiver") != "test":
                raise AssertionError(f"unexpected receiver {payload.get('receiver')!r}")
            t.log(f"  labels={alert.get('labels')} annotations={alert.get('annotations')}")

            # ---- direct webhook
            def direct_delivery():
                for ts, _, headers, body in rec.posts("/direct"):
                    if contains_string(body, inc_id):
                        return ts, headers, body
                return None
            ts_d, headers_d, body_d = t.wait_for(direct_delivery, 30, what=f"direct webhook for incident {inc_id}")
            t.log(f"direct webhook delivered incident {inc_id} after {ts_d - opened:.1f}s "
                  f"(Content-Type {headers_d.get('Content-Type')!r})")
            if not isinstance(body_d, (dict, list)):
                raise AssertionError(f"direct webhook body is not JSON: {str(body_d)[:300]!r}")

            # Alertmanager must still hold the alert as active a while later: vigil re-posts it
            # every resend_interval, so it does not expire.
            alerts = t.get_json(f"{am}/api/v2/alerts?filter=alertname%3D%22VigilIncident%22")
            active = [a for a in alerts if str(a.get("labels", {}).get("incident_id")) == inc_id
                      and a.get("status", {}).get("state") == "active"]
            if not active:
                raise AssertionError(f"incident {inc_id} not active in Alertmanager: {alerts}")
            ends = active[0].get("endsAt")
            t.log(f"Alertmanager holds the alert active, endsAt={ends}")
            print(f"alertmanager_forward: am_delivery_s={ts - opened:.1f} direct_delivery_s={ts_d - opened:.1f} "
                  f"incident_id={inc_id}")
    finally:
        rec.close()


if __name__ == "__main__":
    t.run_test(main)

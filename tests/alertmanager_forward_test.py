#!/usr/bin/python3
"""vigil forwards incidents to a real Alertmanager (API v2) and to a direct webhook.

A receiver inside the test (http.server in a thread) listens on /am for Alertmanager
0.25's webhook and on /direct for vigil's own webhook. vigil is configured with both;
an incident is made deterministically with /api/v1/samples. The test checks that
Alertmanager delivers a version "4" payload with alertname=VigilIncident and the
incident's id in label incident_id, and that the direct webhook carries the id too.
Usage: alertmanager_forward_test.py /path/to/vigil
"""

import http.server
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vigil_testlib as t  # noqa: E402

WARMUP = 20


class Receiver:
    """Records every POST as (monotonic time, path, headers, parsed JSON or raw text)."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                with outer.lock:
                    outer.requests.append((time.monotonic(), self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, fmt, *args):
                pass

        self.port = t.free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def posts(self, path):
        with self.lock:
            return [r for r in self.requests if r[1] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def dump(self):
        with self.lock:
            reqs = list(self.requests)
        print(f"receiver got {len(reqs)} POSTs:")
        for ts, path, headers, body in reqs[-10:]:
            print(f"  {path} UA={headers.get('User-Agent')!r} body={json.dumps(body)[:1500]}")


def contains_string(obj, needle):
    if isinstance(obj, str):
        return needle in obj
    if isinstance(obj, dict):
        return any(contains_string(k, needle) or contains_string(v, needle) for k, v in obj.items())
    if isinstance(obj, list):
        return any(contains_string(v, needle) for v in obj)
    return str(obj) == needle


def main():
    rec = Receiver()
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

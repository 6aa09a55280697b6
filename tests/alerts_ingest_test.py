#!/usr/bin/python3
"""Alert ingest and the Alertmanager-compatible API against real peers.

- Debian's real `prometheus` evaluates an always-firing rule with `alerting:`
  pointed at vigil's /api/v2/alerts: vigil opens an incident for it.
- Debian's real `prometheus-alertmanager` has a webhook receiver pointed at vigil's
  /api/v1/alerts/webhook: an alert posted to Alertmanager reaches vigil.
- Silences: create, list, get, mute an alert, delete (expire).
- Incident lifecycle by API: acknowledge, merge, split, resolve, all on the timeline.
- Bad input: missing alertname / bad startsAt -> 400 naming the field, oversize -> 413,
  unknown fields ignored, nothing accepted before is lost.
Usage: alerts_ingest_test.py /path/to/vigil
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vigil_testlib as t  # noqa: E402
import alerts_testlib as at  # noqa: E402


def start_prometheus_with_rule(h, vigil_port):
    port = t.free_port()
    rules = h.write("rules.yml", t.to_yaml({"groups": [{
        "name": "always", "interval": "1s",
        "rules": [{"alert": "AlwaysFiring", "expr": "vector(1)",
                   "labels": {"service": "checkout", "severity": "critical"},
                   "annotations": {"summary": "always firing"}}]}]}))
    cfg = h.write("prometheus.yml", t.to_yaml({
        "global": {"evaluation_interval": "1s", "scrape_interval": "15s"},
        "rule_files": [rules],
        "alerting": {"alertmanagers": [{"api_version": "v2",
                                        "static_configs": [{"targets": [f"127.0.0.1:{vigil_port}"]}]}]},
    }))
    p = h.spawn("prometheus", ["/usr/bin/prometheus", f"--config.file={cfg}",
                               f"--storage.tsdb.path={h.mkdir('prometheus-data')}",
                               f"--web.listen-address=127.0.0.1:{port}",
                               "--rules.alert.resend-delay=1s"])
    t.wait_http_ok(f"http://127.0.0.1:{port}/-/ready", timeout=60, proc=p, what="prometheus")
    return port


def alerts_named(v, name):
    return [a for a in v.get_json("/api/v2/alerts") if a["labels"].get("alertname") == name]


def main():
    with t.Harness("alerts-ingest") as h:
        alerting = h.write("alerting.yml", t.to_yaml({
            "route": {"receiver": "default", "group_by": ["incident"], "group_wait": "1s",
                      "group_interval": "2s", "repeat_interval": "1h"},
            "receivers": [{"name": "default"}],
            "correlation": {"min_alerts": 3, "min_duration": "2s"},
        }))
        v = h.start_vigil(config={"alerting_config": alerting})

        # ---- bad input first: nothing it does may lose what was accepted
        at.post(v, "/api/v2/alerts", [at.alert("Kept", "billing", ends_in=3600)])
        r = at.post(v, "/api/v2/alerts", [{"labels": {"service": "x"}}], expect=400)
        assert "[0].labels.alertname" in r.json()["error"], r.text
        bad_start = at.alert("X", "x")
        bad_start["startsAt"] = "yesterday"
        r = at.post(v, "/api/v2/alerts", [at.alert("Y", "y"), bad_start], expect=400)
        assert "[1].startsAt" in r.json()["error"], r.text
        r = t.http_request("POST", v.url("/api/v2/alerts"), body=b"[" + b" " * (9 << 20) + b"]",
                           headers={"Content-Type": "application/json"})
        assert r.status == 413, r
        odd = at.alert("Unknowns", "billing", ends_in=3600)
        odd["someFutureField"] = {"x": 1}
        at.post(v, "/api/v2/alerts", [odd])
        names = sorted(a["labels"]["alertname"] for a in v.get_json("/api/v2/alerts"))
        assert names == ["Kept", "Unknowns"], names  # Y of the refused body is not half accepted
        r = at.post(v, "/api/v1/alerts", [{"labels": {"service": "x"}}], expect=400)
        assert "name" in r.json()["error"], r.text
        at.post(v, "/api/v1/alerts", {"alerts": [{"name": "GenericDisk", "severity": "warning",
                                                  "labels": {"service": "storage"}, "summary": "disk 91%"}]})
        assert alerts_named(v, "GenericDisk"), "generic JSON alert missing"
        t.log("bad input refused with the field named; accepted alerts kept")

        # ---- real Prometheus -> vigil /api/v2/alerts
        start_prometheus_with_rule(h, v.port)
        got = t.wait_for(lambda: alerts_named(v, "AlwaysFiring"), 40, what="Prometheus' alert in vigil")
        a = got[0]
        assert a["labels"]["service"] == "checkout" and a["annotations"]["summary"] == "always firing", a
        inc_id = t.wait_for(lambda: alerts_named(v, "AlwaysFiring")[0]["vigil"]["incident_id"], 30,
                            what="an incident for Prometheus' alert")
        doc = v.incident(inc_id)
        assert doc["state"] == "open" and doc["alert_count"] >= 1, doc
        assert doc["alerts"][0]["service"] == "checkout", doc["alerts"]
        t.log(f"Prometheus' AlwaysFiring -> vigil incident {inc_id}: {doc['title']!r}")

        # ---- real Alertmanager webhook -> vigil /api/v1/alerts/webhook
        am_port = h.start_alertmanager(v.url("/api/v1/alerts/webhook"), group_wait="1s")
        am_alert = at.alert("ViaAlertmanager", "inventory", ends_in=3600)
        r = t.http_request("POST", f"http://127.0.0.1:{am_port}/api/v2/alerts",
                           body=t.json.dumps([am_alert]).encode(), headers={"Content-Type": "application/json"})
        assert r.status == 200, r
        got = t.wait_for(lambda: alerts_named(v, "ViaAlertmanager"), 30, what="Alertmanager's webhook in vigil")
        assert got[0]["vigil"]["source"] == "alertmanager-webhook", got[0]
        t.log("Alertmanager webhook delivered the alert to vigil")

        # ---- silences round trip
        sid = at.post(v, "/api/v2/silences", {
            "matchers": [{"name": "service", "value": "bill.*", "isRegex": True}],
            "startsAt": at.iso(time.time()), "endsAt": at.iso(time.time() + 600),
            "createdBy": "alice", "comment": "billing maintenance"}).json()["silenceID"]
        s = v.get_json(f"/api/v2/silence/{sid}")
        assert s["status"]["state"] == "active" and s["createdBy"] == "alice", s
        assert s["matchers"] == [{"name": "service", "value": "bill.*", "isRegex": True, "isEqual": True}], s
        kept = alerts_named(v, "Kept")[0]
        assert kept["status"]["state"] == "suppressed" and kept["status"]["silencedBy"] == [sid], kept
        r = at.post(v, "/api/v2/silences", {"matchers": [], "startsAt": at.iso(time.time()),
                                            "endsAt": at.iso(time.time() + 60), "createdBy": "a",
                                            "comment": "c"}, expect=400)
        assert "matchers" in r.json()["error"], r.text
        r = t.http_request("DELETE", v.url(f"/api/v2/silence/{sid}"))
        assert r.status == 200, r
        assert v.get_json(f"/api/v2/silence/{sid}")["status"]["state"] == "expired"
        assert alerts_named(v, "Kept")[0]["status"]["silencedBy"] == []
        t.log("silence created, muted an alert, expired")

        # ---- incident lifecycle by API
        def open_incident(service):
            at.post(v, "/api/v2/alerts", [at.alert(n, service, f"{service}-{n}", ends_in=3600)
                                          for n in ("A", "B", "C")])
            return t.wait_for(lambda: alerts_named(v, "A") and next(
                (a["vigil"]["incident_id"] for a in alerts_named(v, "A")
                 if a["labels"]["service"] == service and a["vigil"]["incident_id"]), None),
                15, what=f"incident on {service}")
        i1, i2 = open_incident("orders"), open_incident("mail")
        assert i1 != i2
        r = at.post(v, f"/api/v1/incidents/{i1}/ack", {"by": "bob"})
        assert r.json()["acknowledged_by"] == "bob", r.text
        at.post(v, f"/api/v1/incidents/{i1}/merge", {"from": i2, "by": "bob"})
        assert v.incident(i1)["alert_count"] == 6
        mail = [a["fingerprint"] for a in alerts_named(v, "A") + alerts_named(v, "B") + alerts_named(v, "C")
                if a["labels"]["service"] == "mail"]
        i3 = at.post(v, f"/api/v1/incidents/{i1}/split", {"fingerprints": mail, "by": "bob"}).json()["incident_id"]
        assert v.incident(i3)["alert_count"] == 3 and v.incident(i1)["alert_count"] == 3
        at.post(v, f"/api/v1/incidents/{i3}/resolve", {"by": "bob"})
        assert v.incident(i3)["state"] == "resolved"
        at.post(v, f"/api/v1/incidents/{i1}/merge", {"from": 999999}, expect=404)
        kinds = [e["kind"] for e in v.incident(i1)["timeline"]]
        for k in ("opened", "acknowledged", "merged", "split"):
            assert k in kinds, (k, kinds)
        assert "resolved" in [e["kind"] for e in v.incident(i3)["timeline"]]
        inc = v.incident(i1)
        assert inc["acknowledged"] and inc["acknowledged_by"] == "bob", inc
        t.log("acknowledge, merge, split, resolve on the timeline")
        metrics = t.get(v.url("/metrics")).text
        for name in ("vigil_alerts_received_total", "vigil_alert_incidents_open", "vigil_silences_active"):
            assert name in metrics, name


if __name__ == "__main__":
    t.run_test(main)

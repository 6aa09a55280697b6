#!/usr/bin/python3
"""Alert pipeline state survives kill -9: alerts, incidents, silences and the
notification log; after the restart no notification is lost and none is sent twice.

1. vigil gets three alerts of one service (POST /api/v2/alerts) while the webhook
   receiver is down (answers 500): the group notification is queued in the durable
   outbox but not delivered. A silence is created.
2. kill -9, restart. The alerts, the incident, the silence are back; the queued
   notification is delivered exactly once when the receiver comes back.
3. kill -9 again, restart: the notification log says the group was notified, so
   nothing is re-sent within repeat_interval; a new alert in the incident on a
   service it had not paged about (payments' dependency ledger) makes exactly
   one new notification.
Usage: alerts_durability_test.py /path/to/vigil
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vigil_testlib as t  # noqa: E402
import alerts_testlib as at  # noqa: E402


def main():
    rec = at.Receiver()
    rec.status = 500
    try:
        with t.Harness("alerts-durability") as h:
            h.diagnostics.append(rec.dump)
            alerting = h.write("alerting.yml", t.to_yaml({
                "route": {"receiver": "oncall", "group_by": ["incident"], "group_wait": "1s",
                          "group_interval": "2s", "repeat_interval": "1h"},
                "receivers": [{"name": "oncall", "webhook_configs": [{"url": rec.url("/hook")}]}],
                "correlation": {"min_alerts": 2, "min_duration": "30s", "window": "5m"},
                "topology": {"payments": ["ledger"]},
            }))
            v = h.start_vigil(config={"alerting_config": alerting})
            alerts = [at.alert(n, "payments", f"p-{i}", ends_in=3600)
                      for i, n in enumerate(["DbErrors", "HighLatency", "PoolExhausted"])]
            at.post(v, "/api/v2/alerts", alerts)
            sil = at.post(v, "/api/v2/silences", {
                "matchers": [{"name": "service", "value": "search", "isRegex": False}],
                "startsAt": at.iso(time.time()), "endsAt": at.iso(time.time() + 3600),
                "createdBy": "test", "comment": "maintenance"}).json()["silenceID"]
            inc = t.wait_for(lambda: next(iter(v.incidents(state="open")), None), 20, what="an alert incident")
            inc_id = inc["id"]
            # The notification is queued and failing against the down receiver.
            t.wait_for(lambda: len(rec.refused) >= 1, 20, what="a refused delivery attempt")
            assert not rec.posts(), "receiver was down, nothing can have been accepted"
            t.log(f"incident {inc_id} open, notification pending; kill -9")
            v.proc.kill9()

            v = h.restart_vigil(v, name="vigil-2")
            got = v.get_json("/api/v2/alerts")
            names = sorted(a["labels"]["alertname"] for a in got)
            assert names == ["DbErrors", "HighLatency", "PoolExhausted"], got
            assert all(a["vigil"]["incident_id"] == inc_id for a in got), got
            sils = v.get_json("/api/v2/silences")
            assert [s["id"] for s in sils] == [sil] and sils[0]["status"]["state"] == "active", sils
            doc = v.incident(inc_id)
            assert doc.get("alert_count") == 3, doc
            rec.status = 200
            t.wait_for(lambda: rec.posts("/hook"), 30, what="the queued notification after restart")
            time.sleep(6)  # several group_interval ticks: no duplicate
            posts = rec.posts("/hook")
            assert len(posts) == 1, f"expected exactly one notification, got {len(posts)}"
            body = posts[0][3]
            assert body["version"] == "4" and body["status"] == "firing", body
            assert len(body["alerts"]) == 3 and body["groupLabels"] == {"incident": str(inc_id)}, body
            t.log("queued notification delivered once after restart; kill -9 again")
            v.proc.kill9()

            v = h.restart_vigil(v, name="vigil-3")
            time.sleep(6)
            assert len(rec.posts("/hook")) == 1, "notification log lost: the group was notified again"
            # News for the incident: a service it had not paged about (more
            # pods of payments would only be added to the incident page).
            at.post(v, "/api/v2/alerts", [at.alert("ReplicaLag", "ledger", "l-0", ends_in=3600)])
            t.wait_for(lambda: len(rec.posts("/hook")) >= 2, 20, what="a notification for the new alert")
            time.sleep(5)
            posts = rec.posts("/hook")
            assert len(posts) == 2, f"expected 2 notifications in all, got {len(posts)}"
            assert len(posts[1][3]["alerts"]) == 4, posts[1][3]
            doc = v.incident(inc_id)
            kinds = [e["kind"] for e in doc["timeline"]]
            assert "notification" in kinds and "opened" in kinds, kinds
            sent = [n for n in doc["notifications"] if n["status"] == "sent"]
            assert len(sent) == 2, doc["notifications"]
            t.log("after two kill -9: 2 notifications, none lost, none repeated")
    finally:
        rec.close()


if __name__ == "__main__":
    t.run_test(main)

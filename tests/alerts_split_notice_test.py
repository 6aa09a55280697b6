#!/usr/bin/python3
"""The split notice through the running engine: checkout (which calls
payments) fires while payments fails, joins payments' incident and is muted as
its symptom; it clears while payments keeps failing, so it was a fault of its
own. Its alerts split off into an incident of their own, whose receiver gets
ONE resolved webhook saying so (`vigilNotice`), on the incident's timeline,
and not again after a kill -9 and restart (the incident records it in the same
transaction as the queued notification). A receiver with send_resolved: false
gets it too (it is the first word of that fault).
Usage: alerts_split_notice_test.py /path/to/vigil
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vigil_testlib as t  # noqa: E402
import alerts_testlib as at  # noqa: E402


def notices(rec):
    return [p[3] for p in rec.posts("/hook") if "vigilNotice" in p[3]]


def main():
    rec = at.Receiver()
    try:
        with t.Harness("alerts-split-notice") as h:
            h.diagnostics.append(rec.dump)
            alerting = h.write("alerting.yml", t.to_yaml({
                "route": {"receiver": "oncall", "group_by": ["incident"], "group_wait": "1s",
                          "group_interval": "2s", "repeat_interval": "1h"},
                "receivers": [{"name": "oncall", "webhook_configs": [
                    {"url": rec.url("/hook"), "send_resolved": False}]}],
                "correlation": {"min_alerts": 2, "min_duration": "30s", "propagation_window": "4s",
                                "resolve_after": "5m"},
                "topology": {"checkout": ["payments"]},
            }))
            v = h.start_vigil(config={"alerting_config": alerting})
            at.post(v, "/api/v2/alerts", [at.alert("DbErrors", "payments", f"p-{i}", ends_in=3600) for i in range(2)])
            checkout = [at.alert("Saturation", "checkout", f"c-{i}", severity="warning", ends_in=3600)
                        for i in range(2)]
            at.post(v, "/api/v2/alerts", checkout)
            t.wait_for(lambda: rec.posts("/hook"), 20, what="the page for payments")
            page = rec.posts("/hook")[0][3]
            root_id = int(page["groupLabels"]["incident"])
            assert {a["labels"]["service"] for a in page["alerts"]} == {"payments"}, page
            got = v.get_json("/api/v2/alerts")
            assert all(a["vigil"]["incident_id"] == root_id for a in got), got
            t.log(f"incident {root_id} paged for payments; checkout muted in it; clearing checkout")
            time.sleep(2)
            cleared = []
            for a in checkout:
                a = dict(a)
                a["endsAt"] = at.iso(time.time())
                cleared.append(a)
            at.post(v, "/api/v2/alerts", cleared)
            t.wait_for(lambda: notices(rec), 30, what="the split notice")
            n = notices(rec)[0]
            assert n["status"] == "resolved", n
            assert "independent fault on checkout came and went while muted as a symptom of incident " \
                f"{root_id}" in n["vigilNotice"], n
            assert sorted(a["labels"]["instance"] for a in n["alerts"]) == ["c-0", "c-1"], n
            assert all(a["status"] == "resolved" for a in n["alerts"]), n
            split_id = int(n["groupLabels"]["incident"])
            assert split_id != root_id, n
            doc = v.incident(split_id)
            lines = [e["text"] for e in doc["timeline"] if e["kind"] == "notification"]
            assert any("independent fault on checkout" in x for x in lines), doc["timeline"]
            t.log(f"split notice for incident {split_id} received; kill -9")
            time.sleep(1)
            v.proc.kill9()
            v = h.restart_vigil(v, name="vigil-2")
            time.sleep(6)  # several group_interval ticks, the split incident still open
            assert v.incident(split_id)["state"] != "resolved", v.incident(split_id)
            assert len(notices(rec)) == 1, f"split notice repeated: {notices(rec)}"
            firing = [p[3] for p in rec.posts("/hook") if p[3]["status"] == "firing"]
            assert all(a["labels"]["service"] == "payments" for p in firing for a in p["alerts"]), firing
            t.log("one split notice, not repeated after kill -9 and restart")
    finally:
        rec.close()


if __name__ == "__main__":
    t.run_test(main)

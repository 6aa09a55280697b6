#!/usr/bin/python3
"""The all-clear digest through the running engine (global.resolved_digest, on
by default): two incidents paged separately, whose alerts all resolve at once,
are cleared in ONE webhook notification that names both incidents
(`vigilIncidents`, groupKey `all-clear:...`), and each incident's timeline
records it.
Usage: alerts_digest_test.py /path/to/vigil
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vigil_testlib as t  # noqa: E402
import alerts_testlib as at  # noqa: E402


def main():
    rec = at.Receiver()
    try:
        with t.Harness("alerts-digest") as h:
            h.diagnostics.append(rec.dump)
            alerting = h.write("alerting.yml", t.to_yaml({
                "route": {"receiver": "oncall", "group_by": ["incident"], "group_wait": "1s",
                          "group_interval": "3s", "repeat_interval": "1h"},
                "receivers": [{"name": "oncall", "webhook_configs": [{"url": rec.url("/hook")}]}],
                "correlation": {"min_alerts": 2, "min_duration": "30s"},
            }))
            v = h.start_vigil(config={"alerting_config": alerting})
            firing = [at.alert("DbErrors", "payments", f"p-{i}", ends_in=3600) for i in range(2)]
            firing += [at.alert("IndexLag", "search", f"s-{i}", ends_in=3600) for i in range(2)]
            at.post(v, "/api/v2/alerts", firing)
            t.wait_for(lambda: len(rec.posts("/hook")) >= 2, 30, what="one page per incident")
            pages = [p[3] for p in rec.posts("/hook")]
            assert all(p["status"] == "firing" for p in pages), pages
            ids = sorted(int(p["groupLabels"]["incident"]) for p in pages)
            assert len(set(ids)) == 2, pages
            t.log(f"incidents {ids} paged; resolving every alert at once")

            resolved = []
            for a in firing:
                a = dict(a)
                a["endsAt"] = at.iso(time.time())
                resolved.append(a)
            at.post(v, "/api/v2/alerts", resolved)
            t.wait_for(lambda: len(rec.posts("/hook")) >= 3, 30, what="the all-clear")
            time.sleep(8)  # more than two group_interval ticks: no second all-clear
            posts = [p[3] for p in rec.posts("/hook")]
            assert len(posts) == 3, f"expected 2 pages and 1 all-clear, got {len(posts)}: {posts}"
            clear = posts[2]
            assert clear["status"] == "resolved", clear
            assert clear["groupKey"].startswith("all-clear:"), clear["groupKey"]
            assert len(clear["alerts"]) == 4, clear
            links = clear.get("vigilIncidents", [])
            assert sorted(int(u.rsplit("/", 1)[1]) for u in links) == ids, clear
            digest_ids = set()
            for i in ids:
                inc = v.incident(i)
                lines = [e for e in inc["timeline"] if e["kind"] == "notification"]
                assert any("all-clear:" in e["text"] for e in lines), lines
                # Each incident lists its own page and the shared all-clear.
                t.wait_for(lambda: len(v.incident(i).get("notifications", [])) >= 2, 15,
                           what=f"incident {i}'s page and the all-clear in its notifications")
                notes = v.incident(i)["notifications"]
                assert len(notes) == 2, notes
                digest_ids.add(notes[-1]["id"])
            assert len(digest_ids) == 1, f"one all-clear notification shared by both incidents: {digest_ids}"
            t.log("one all-clear for both incidents, on both timelines and notification lists")
    finally:
        rec.close()


if __name__ == "__main__":
    t.run_test(main)

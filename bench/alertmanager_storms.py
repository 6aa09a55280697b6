#!/usr/bin/python3
"""The storms of `vigil eval storms` through Debian's real Alertmanager, for a
notification count beside vigil's (not part of CI: about 90 s per storm).

Each storm is replayed in compressed time (--speed, default 60: one storm hour
takes a minute): every send of the storm is posted to Alertmanager's
/api/v2/alerts at its scaled time, with startsAt/endsAt rescaled the same way,
and Alertmanager's timers are scaled alike (group_wait 30s, group_interval 5m,
repeat_interval 4h become 0.5s, 5s, 4m at speed 60). Its webhook receiver is a
server in this script; every webhook POST counts as one notification, as every
group notification counts for vigil.

Usage: bench/alertmanager_storms.py /path/to/vigil [--storms 5] [--seed 1]
       [--group-by alertname,service] [--speed 60]
Prints one line per storm and a JSON summary with both counts.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import vigil_testlib as t  # noqa: E402
import alerts_testlib as at  # noqa: E402


def iso_ms(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{int(ms) % 1000:03d}Z"


def replay(h, storm, group_by, speed):
    rec = at.Receiver()
    try:
        port = t.free_port()
        scale = lambda ms: f"{max(1, int(ms / speed))}ms"  # noqa: E731
        cfg = h.write(f"am-{storm['seed']}.yml", t.to_yaml({
            "route": {"receiver": "oncall", "group_by": group_by, "group_wait": scale(30_000),
                      "group_interval": scale(300_000), "repeat_interval": scale(4 * 3600_000)},
            "receivers": [{"name": "oncall", "webhook_configs": [{"url": rec.url("/hook"), "send_resolved": True}]}],
        }))
        p = h.spawn(f"alertmanager-{storm['seed']}", [
            "/usr/bin/prometheus-alertmanager", f"--config.file={cfg}",
            f"--storage.path={h.mkdir('am-data-' + str(storm['seed']))}",
            f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="])
        t.wait_http_ok(f"http://127.0.0.1:{port}/-/ready", timeout=60, proc=p, what="alertmanager")
        sends = storm["sends"]
        t0_storm = sends[0]["at_ms"]
        t0_real = time.time() * 1000 + 500
        client = t.KeepAliveClient("127.0.0.1", port, timeout=30)

        def real(ms):
            return t0_real + (ms - t0_storm) / speed

        i = 0
        while i < len(sends):
            due = real(sends[i]["at_ms"])
            wait = (due - time.time() * 1000) / 1000
            if wait > 0:
                time.sleep(wait)
            batch = []
            now_ms = time.time() * 1000
            while i < len(sends) and real(sends[i]["at_ms"]) <= now_ms:
                s = sends[i]
                batch.append({"labels": s["labels"],
                              "startsAt": iso_ms(real(ms_of(s["startsAt"]))),
                              "endsAt": iso_ms(real(ms_of(s["endsAt"])))})
                i += 1
            if batch:
                r = client.request("POST", "/api/v2/alerts", body=json.dumps(batch).encode(),
                                   headers={"Content-Type": "application/json"})
                if r.status != 200:
                    raise AssertionError(f"Alertmanager refused a batch: {r!r}")
        # Let the last groups flush and resolve (30 storm minutes).
        time.sleep(30 * 60 / speed + 2)
        posts = rec.posts("/hook")
        p.stop()
        return len(posts)
    finally:
        rec.close()


def ms_of(rfc3339):
    # "2026-01-01T00:03:20.000Z"
    base, frac = rfc3339.rstrip("Z").split(".")
    import calendar
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) * 1000 + int(frac[:3])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vigil")
    ap.add_argument("--storms", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--group-by", default="alertname,service")
    ap.add_argument("--speed", type=float, default=60)
    a = ap.parse_args()
    a.vigil = os.path.abspath(a.vigil)
    dump = tempfile.mkdtemp(prefix="vigil-storms-")
    out = subprocess.run([a.vigil, "eval", "storms", "--storms", str(a.storms), "--seed", str(a.seed),
                          "--dump-dir", dump, "--json"], check=True, capture_output=True, text=True).stdout
    vigil = json.loads(out)
    total_am = 0
    with t.Harness("am-storms", vigil_bin=a.vigil) as h:
        for k in range(a.storms):
            with open(os.path.join(dump, f"storm-{a.seed + k}.json")) as f:
                storm = json.load(f)
            n = replay(h, storm, a.group_by.split(","), a.speed)
            total_am += n
            print(f"storm seed {storm['seed']}: {storm['alerts']} alerts, Alertmanager sent {n} notifications",
                  flush=True)
    summary = {"alerts": vigil["alerts"], "vigil_notifications": vigil["notifications"],
               "vigil_compression": vigil["compression"], "alertmanager_notifications": total_am,
               "alertmanager_compression": 1 - total_am / vigil["alerts"], "alertmanager_group_by": a.group_by,
               "speed": a.speed}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

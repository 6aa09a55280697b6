#!/usr/bin/python3
"""Accepted events and acknowledged incidents survive `kill -9` of vigil.

Start vigil, POST an event, make an incident through /api/v1/samples, acknowledge it,
SIGKILL vigil right after the acknowledgement is answered, restart it on the same data
dir, and check that the event and the acknowledged incident are still there. Then make
a second incident and check it gets a fresh id (ids are not reused after a restart).
Usage: durability_test.py /path/to/vigil
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vigil_testlib as t  # noqa: E402

WARMUP = 20
CONFIG = {
    "detector": {"warmup": WARMUP},
    # resolve_after is long: the incident must still be open (and acknowledged) after restart
    "incidents": {"min_anomalies": 3, "resolve_after": "10m"},
    "snapshot_interval": "60s",
}


def open_incident_for(v, entity_value, timeout=30):
    def find():
        for inc in v.incidents():
            if entity_value in str(inc.get("entity_labels", {})) or entity_value in str(inc.get("entity", "")):
                return inc
        return None
    return t.wait_for(find, timeout, what=f"an incident for {entity_value}")


def main():
    with t.Harness("durability") as h:
        v = h.start_vigil(config=CONFIG)

        # 1. an event
        ev_time = int(time.time() * 1000) - 5000
        event = {"time": ev_time, "kind": "deploy",
                 "labels": {"service": "checkout", "version": "1.4.2"}, "text": "deploy checkout 1.4.2"}
        r = t.post_json(v.url("/api/v1/events"), event)
        if r.status != 201:
            raise AssertionError(f"POST /api/v1/events {event} -> {r!r}, want 201")
        event_id = r.json()["ids"][0]
        t.log(f"event stored with id {event_id}")

        # 2. an incident
        labels = {"__name__": "checkout_latency_ms", "service": "checkout", "instance": "durability-1"}
        t.make_incident_via_samples(v, labels, WARMUP)
        inc = open_incident_for(v, "durability-1")
        inc_id = inc["id"]
        t.log(f"incident {inc_id} opened: {inc.get('title')!r}")

        # 3. acknowledge, then kill -9 immediately: the ack was answered, so it must be durable
        r = t.post_json(v.url(f"/api/v1/incidents/{inc_id}/ack"), {"by": "alice"})
        if r.status != 200:
            raise AssertionError(f"POST /api/v1/incidents/{inc_id}/ack -> {r!r}, want 200")
        acked = r.json()
        if acked.get("acknowledged") is not True or acked.get("acknowledged_by") != "alice":
            raise AssertionError(f"ack response does not show the acknowledgement: {acked}")
        code = v.proc.kill9()
        t.log(f"vigil killed with SIGKILL (exit {code}) right after the ack")

        # 4. restart on the same data dir
        v2 = h.restart_vigil(v)

        body = t.get_json(v2.url(f"/api/v1/events?start={ev_time - 3600_000}&end={int(time.time() * 1000) + 3600_000}"))
        found = [e for e in body.get("events", []) if str(e.get("id")) == str(event_id)]
        if not found:
            raise AssertionError(f"event {event_id} lost after kill -9; GET /api/v1/events -> {body}")
        e = found[0]
        if e.get("kind") != "deploy" or e.get("text") != event["text"] or e.get("ts_ms") != ev_time \
                or e.get("labels", {}).get("version") != "1.4.2":
            raise AssertionError(f"event changed across restart: sent {event}, got {e}")
        t.log(f"event {event_id} survived: {e}")

        r = t.get(v2.url(f"/api/v1/incidents/{inc_id}"))
        if r.status != 200:
            raise AssertionError(f"incident {inc_id} lost after kill -9: GET -> {r!r}")
        inc2 = r.json()
        if inc2.get("acknowledged") is not True or inc2.get("acknowledged_by") != "alice":
            raise AssertionError(f"acknowledgement lost after kill -9: {inc2}")
        for key in ("title", "opened_ms", "entity"):
            if inc2.get(key) != inc.get(key):
                raise AssertionError(f"incident {key} changed across restart: {inc.get(key)!r} -> {inc2.get(key)!r}")
        listed = [i["id"] for i in v2.incidents()]
        if inc_id not in listed:
            raise AssertionError(f"incident {inc_id} missing from GET /api/v1/incidents after restart: {listed}")
        t.log(f"incident {inc_id} survived, state={inc2.get('state')} acknowledged_by={inc2.get('acknowledged_by')} "
              f"timeline={len(inc2.get('timeline', []))} anomalies={len(inc2.get('anomalies', []))}")

        # 5. new incidents after the restart get new ids
        # Another service: a second pod of checkout would join the open incident.
        labels_b = {"__name__": "inventory_latency_ms", "service": "inventory", "instance": "durability-2"}
        t.make_incident_via_samples(v2, labels_b, WARMUP, seed=11)
        inc_b = open_incident_for(v2, "durability-2")
        if inc_b["id"] == inc_id:
            raise AssertionError(f"incident id {inc_id} reused after restart")
        t.log(f"second incident {inc_b['id']} has a fresh id")

        code = v2.proc.stop(timeout=15)
        t.log(f"vigil stopped with SIGTERM, exit code {code}")
        if code not in (0, -15):
            raise AssertionError(f"vigil exited with code {code} on SIGTERM, want 0\n{v2.proc.log_tail()}")
        print(f"durability: event_survived=1 ack_survived=1 incident_id={inc_id}")


if __name__ == "__main__":
    t.run_test(main)

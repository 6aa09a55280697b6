"""Helpers shared by the alert-pipeline integration tests (stdlib only)."""

import json
import time

import vigil_testlib as t


Receiver = t.WebhookReceiver


def post(vigil, path, obj, expect=200):
    r = t.http_request("POST", vigil.url(path), body=json.dumps(obj).encode(),
                       headers={"Content-Type": "application/json"})
    if expect is not None and r.status != expect:
        raise AssertionError(f"POST {path}: expected {expect}, got {r!r}")
    return r


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


def alert(name, service, instance="i-1", severity="critical", ends_in=None):
    now = time.time()
    a = {"labels": {"alertname": name, "service": service, "instance": instance, "severity": severity},
         "annotations": {"summary": f"{name} on {service}"},
         "startsAt": iso(now - 1),
         "generatorURL": "http://prometheus.example/graph"}
    if ends_in is not None:
        a["endsAt"] = iso(now + ends_in)
    return a

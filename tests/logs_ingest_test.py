#!/usr/bin/python3
"""Log ingest with REAL clients, then search, context and templates.

Senders: winston + winston-loki (Loki push, JSON and snappy protobuf without a
Content-Encoding header), the OpenTelemetry JS SDK's OTLP/HTTP log exporters
(JSON and protobuf), and Debian's `logger` (util-linux) sending RFC 5424 and
RFC 3164 syslog over UDP and over TCP (newline and octet-counting framing).
Each stream must come out with its three templates and the right counts;
search must find lines by term, phrase, NOT and label selector; context must
return a hit's neighbours from its own stream in order; bad lines (invalid
UTF-8, NUL, 1 MiB, truncated protobuf, wrong JSON types) get precise errors
and never take good lines with them; a new template after the learning
period becomes an anomaly carrying an example line.

Usage: logs_ingest_test.py /path/to/vigil   (npm ci runs in tests/node when needed)
"""

import json
import os
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vigil_testlib as t  # noqa: E402

NODE_DIR = t.NODE_DIR


def search(v, **params):
    return v.get_json("/api/v1/logs/search?" + urllib.parse.urlencode(params))


def templates_of(v, service):
    sel = '{service="%s"}' % service
    d = v.get_json("/api/v1/logs/templates?" + urllib.parse.urlencode({"selector": sel}))
    return {tpl["template"]: tpl["count"] for tpl in d["templates"]}


def wait_for(what, fn, timeout=15.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; last {last!r}")


def main():
    t.ensure_node_clients()
    udp_port, tcp_port = t.free_port(), t.free_port()
    with t.Harness("logs-ingest") as h:
        v = h.start_vigil(config={"logs": {"syslog_udp": f"127.0.0.1:{udp_port}",
                                           "syslog_tcp": f"127.0.0.1:{tcp_port}",
                                           "learning_period": "3s"}})
        started = time.monotonic()
        # ---- real clients
        for mode in ("loki-json", "loki-proto", "otlp-json", "otlp-proto"):
            p = subprocess.run(["node", "send_logs.js", mode, v.base, f"svc-{mode}", "30"], cwd=NODE_DIR,
                               capture_output=True, text=True, timeout=60)
            if p.returncode != 0:
                raise AssertionError(f"{mode} client failed: {p.stdout}{p.stderr}")
            t.log(p.stdout.strip())
        for mode in ("loki-json", "loki-proto", "otlp-json", "otlp-proto"):
            tpls = wait_for(f"3 templates of svc-{mode}", lambda: (lambda x: x if len(x) == 3 else None)(
                templates_of(v, f"svc-{mode}")))
            counts = sorted(tpls.values())
            if counts != [10, 10, 10]:
                raise AssertionError(f"svc-{mode}: template counts {tpls}, want 3 x 10")
            if not any(k.startswith("user <*> logged in from <*>") for k in tpls):
                raise AssertionError(f"svc-{mode}: no 'user <*> logged in from <*>' template in {list(tpls)}")

        # ---- syslog with logger: RFC 5424 and 3164, UDP and TCP
        cases = [
            (["-d", "--rfc5424"], udp_port, "syslog udp five four two four"),
            (["-d", "--rfc3164"], udp_port, "syslog udp three one six four"),
            (["-T", "--rfc5424"], tcp_port, "syslog tcp newline framed"),
            (["-T", "--rfc5424", "--octet-count"], tcp_port, "syslog tcp octet counted"),
        ]
        for flags, port, msg in cases:
            subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(port), "-t", "checkout", *flags, msg],
                           check=True, timeout=10)
        for flags, port, msg in cases:
            hits = wait_for(f"syslog line {msg!r}", lambda: search(v, q=f'"{msg}"')["lines"])
            labels = hits[0]["labels"]
            want_transport = "udp" if "-d" in flags else "tcp"
            if labels.get("app") != "checkout" or labels.get("transport") != want_transport:
                raise AssertionError(f"{msg!r}: labels {labels}")

        # ---- search: term + NOT + selector, phrase
        hits = search(v, q="logged -carol", selector='{service="svc-otlp-json"}', limit=100)["lines"]
        if len(hits) != 8 or any("carol" in x["line"] for x in hits):
            raise AssertionError(f"term NOT search: {len(hits)} hits (want 8 without carol)")
        hits = search(v, q='"gateway timeout"', selector='{service=~"svc-loki.*"}', limit=100)["lines"]
        if len(hits) != 20:
            raise AssertionError(f"phrase + regex selector: {len(hits)} hits, want 20")
        # ---- context: neighbours from the same stream, in order
        hit = search(v, q="shard", selector='{service="svc-otlp-proto"}', limit=1)["lines"][0]
        ctx = v.get_json(f"/api/v1/logs/context?id={hit['id']}&before=2&after=2")["lines"]
        seqs = [x["seq"] for x in ctx]
        if hit["id"] not in [x["id"] for x in ctx] or seqs != sorted(seqs) or \
                any(x["labels"] != hit["labels"] for x in ctx) or len(ctx) < 3:
            raise AssertionError(f"context around {hit['id']}: {ctx}")
        # ---- stats by template and by label
        st = v.get_json("/api/v1/logs/stats?" + urllib.parse.urlencode(
            {"by": "label:service", "step": "1h", "selector": '{via=~"loki.*"}'}))
        totals = {s["key"]: s["total"] for s in st["series"]}
        if totals != {"svc-loki-json": 30, "svc-loki-proto": 30}:
            raise AssertionError(f"stats by label: {totals}")

        # ---- bad input
        body = json.dumps({"streams": [{"stream": {"service": "bad"}, "values": [
            ["1795334483377000000", "good line one"], ["1795334483377000001", 7],
            ["1795334483377000002", "x" * (1 << 20)], ["1795334483377000003", "nul \u0000 byte"]]}]})
        r = t.http_request("POST", v.url("/loki/api/v1/push"), body=body.encode(),
                           headers={"Content-Type": "application/json"})
        d = r.json()
        if r.status != 200 or d["accepted"] != 1 or d["rejected"] != 3 or "values[1][1]" not in d["errors"][0]:
            raise AssertionError(f"mixed Loki push: {r!r}")
        bad_utf8 = b'{"streams":[{"stream":{"service":"bad"},"values":[["1","ok \xff"]]}]}'
        r = t.http_request("POST", v.url("/loki/api/v1/push"), body=bad_utf8, headers={"Content-Type": "application/json"})
        if r.status != 400:
            raise AssertionError(f"invalid UTF-8 in JSON: want 400, got {r!r}")
        pb = open(t.protocol_sample("loki", "loki-push-protobuf-snappy-winston-loki.pb"), "rb").read()
        r = t.http_request("POST", v.url("/loki/api/v1/push"), body=pb[:-7],
                           headers={"Content-Type": "application/x-protobuf"})
        if r.status != 400 or "byte" not in r.json().get("error", ""):
            raise AssertionError(f"truncated protobuf: {r!r}")
        r = t.http_request("POST", v.url("/v1/logs"), body=b'{"resourceLogs": 5}',
                           headers={"Content-Type": "application/json"})
        if r.status != 400 or "resourceLogs" not in r.json().get("error", ""):
            raise AssertionError(f"OTLP wrong type: {r!r}")
        good = wait_for("the good line of the mixed push", lambda: search(v, q='"good line one"')["lines"])
        if len(good) != 1:
            raise AssertionError(f"good line stored {len(good)} times")

        # ---- a new template after the learning period is an anomaly with an example
        time.sleep(max(0.0, 3.5 - (time.monotonic() - started)))
        r = t.http_request("POST", v.url("/api/v1/logs?label=service=svc-loki-json&label=via=loki-json&label=level=info"),
                           body=b"disk quota exceeded on volume data7 at 93%\n", headers={"Content-Type": "text/plain"})
        if r.status != 200:
            raise AssertionError(f"raw text push: {r!r}")

        def new_template_anomaly():
            for a in v.get_json("/api/v1/anomalies?limit=10000")["anomalies"]:
                if a["labels"].get("__name__") == "vigil_log_new_template" and \
                        "disk quota exceeded" in a["labels"].get("example", ""):
                    return a
            return None
        a = wait_for("a new-template anomaly", new_template_anomaly)
        if a["labels"].get("service") != "svc-loki-json" or "<*>" not in a["labels"].get("template", ""):
            raise AssertionError(f"new-template anomaly: {a}")
        metrics = t.get(v.url("/metrics")).text
        if "vigil_log_lines_rejected_total 3" not in metrics:
            raise AssertionError("vigil_log_lines_rejected_total should count the 3 refused lines")
        t.log(f"all checks passed in {time.monotonic() - started:.1f}s")


if __name__ == "__main__":
    t.run_test(main)

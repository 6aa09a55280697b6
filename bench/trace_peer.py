#!/usr/bin/python3
"""Peer for bench/trace_bench.sh: the same OTLP/HTTP JSON body handled by
Debian's /usr/bin/python3 (stdlib json, C-accelerated): parse only, and parse
plus the simplest whole path (group spans by trace, resolve parents, count
caller -> callee calls and errors per service edge). Best of `repeat` runs.
Usage: trace_peer.py BODY.json [repeat]"""
import json
import sys
import time
from collections import defaultdict


def whole(body):
    doc = json.loads(body)
    traces = defaultdict(dict)
    for rs in doc["resourceSpans"]:
        service = next(a["value"]["stringValue"] for a in rs["resource"]["attributes"] if a["key"] == "service.name")
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                start = int(s["startTimeUnixNano"])
                traces[s["traceId"]][s["spanId"]] = (service, s.get("parentSpanId", ""), s["name"],
                                                     int(s["endTimeUnixNano"]) - start,
                                                     s.get("status", {}).get("code") == 2)
    edges = defaultdict(lambda: [0, 0])
    n = 0
    for spans in traces.values():
        for sid, (service, parent, name, dur, err) in spans.items():
            n += 1
            p = spans.get(parent)
            if p and p[0] != service:
                e = edges[(p[0], service)]
                e[0] += 1
                e[1] += err
    return n, len(edges)


def main():
    path = sys.argv[1]
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with open(path, "rb") as f:
        body = f.read()
    spans = sum(len(ss["spans"]) for rs in json.loads(body)["resourceSpans"] for ss in rs["scopeSpans"])
    best_parse = best_all = 1e9
    for _ in range(repeat):
        t = time.perf_counter()
        json.loads(body)
        best_parse = min(best_parse, time.perf_counter() - t)
        t = time.perf_counter()
        n, edges = whole(body)
        best_all = min(best_all, time.perf_counter() - t)
    print(f"python json.loads only: spans/s (one core): {spans / best_parse:.0f}")
    print(f"python parse+group+edges: spans/s (one core): {n / best_all:.0f} ({edges} edges)")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Offline root-cause routes through the real daemon (docs/api-contract.md).

1. POST /api/v1/rca/multidim with leaf rows (attr...,real,predict): a grid where
   province=p2 dropped must come back as the one root cause.
2. The same route with raw detail rows (?time_column=ts&value_column=v): six minutes
   of rows, isp=ctcc collapsing in the last one: the root cause is isp=ctcc and the
   reply names the interval and the number of baseline intervals.
3. POST /api/v1/rca/itemsets with CSV (failure_column=status) and with JSON records:
   host=h3 must lead.
4. Bad input: a non-numeric value names its line and field (400); an unknown time
   column names it; a bad failure flag names its record; GET is 405; a body over the
   limit is 413.
Usage: rca_api_test.py /path/to/vigil
"""

import os
import random
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vigil_testlib as t  # noqa: E402


def post(v, path, body, params=None, ctype="text/csv"):
    url = v.url(path) + ("?" + urllib.parse.urlencode(params) if params else "")
    data = body.encode() if isinstance(body, str) else body
    return t.http_request("POST", url, body=data, headers={"Content-Type": ctype}, timeout=30)


def leaf_csv():
    rng = random.Random(3)
    lines = ["province,isp,version,real,predict"]
    for p in range(8):
        for i in range(4):
            for ver in range(5):
                pred = rng.uniform(50, 500)
                real = pred * rng.uniform(0.97, 1.03) * (0.4 if p == 2 else 1.0)
                lines.append(f"p{p},i{i},v{ver},{real:.2f},{pred:.2f}")
    return "\n".join(lines) + "\n"


def raw_csv():
    rng = random.Random(4)
    lines = ["ts,province,isp,v"]
    for minute in range(6):
        for p in ("p1", "p2", "p3"):
            for isp in ("cmcc", "ctcc", "cucc"):
                for k in range(2):
                    v = rng.uniform(90, 110) * (0.2 if minute == 5 and isp == "ctcc" else 1.0)
                    lines.append(f"2026-11-20T10:{minute:02d}:{k * 20:02d}Z,{p},{isp},{v:.1f}")
    return "\n".join(lines) + "\n"


def records():
    rng = random.Random(5)
    out = []
    for n in range(3000):
        host = f"h{n % 5}"
        version = ("2.0", "2.1")[(n // 5) % 2]
        p = 0.5 if host == "h3" else 0.03
        out.append({"host": host, "version": version, "failed": rng.random() < p})
    return out


def check_multidim(v):
    r = post(v, "/api/v1/rca/multidim", leaf_csv())
    assert r.status == 200, r
    j = r.json()
    assert j["leaves"] == 160 and j["input"] == "leaves", j
    assert [c["element"] for c in j["root_causes"]] == ["province=p2"], j
    assert j["root_causes"][0]["attributes"] == {"province": "p2"}, j
    t.log(f"multidim leaves: {j['root_causes'][0]} in {j['search_ms']:.2f} ms")

    r = post(v, "/api/v1/rca/multidim", raw_csv(), {"time_column": "ts", "value_column": "v", "interval": "60"})
    assert r.status == 200, r
    j = r.json()
    assert j["input"] == "raw" and j["rows"] == 108 and j["leaves"] == 9, j
    assert j["interval_start"] == "2026-11-20T10:05:00.000Z" and j["baseline_intervals"] == 4, j
    assert [c["element"] for c in j["root_causes"]] == ["isp=ctcc"], j
    t.log(f"multidim raw rows: {j['root_causes'][0]['element']}, interval {j['interval_start']}")


def check_itemsets(v):
    recs = records()
    csv = "host,version,status\n" + "".join(
        f"{r['host']},{r['version']},{'FAIL' if r['failed'] else 'ok'}\n" for r in recs)
    r = post(v, "/api/v1/rca/itemsets", csv, {"failure_column": "status"})
    assert r.status == 200, r
    j = r.json()
    assert j["records"] == 3000 and j["failing"] > 0, j
    assert j["itemsets"] and j["itemsets"][0]["itemset"] == "host=h3", j
    t.log(f"itemsets (CSV): {j['itemsets'][0]}")
    r = t.post_json(v.url("/api/v1/rca/itemsets"), {"records": recs})
    assert r.status == 200, r
    assert r.json()["itemsets"][0]["itemset"] == "host=h3", r
    t.log("itemsets (JSON): host=h3 leads")


def err(r):
    return r.json().get("error", "") if r.status >= 400 else ""


def check_errors(v):
    r = post(v, "/api/v1/rca/multidim", "a,real,predict\nx,1,2\ny,3,oops\n")
    assert r.status == 400 and "line 3" in err(r) and "oops" in err(r), r
    r = post(v, "/api/v1/rca/multidim", raw_csv(), {"time_column": "when"})
    assert r.status == 400 and '"when"' in err(r), r
    r = post(v, "/api/v1/rca/multidim", "ts,a,v\n1700000000,x,1\n1700000060,x,zz\n",
             {"time_column": "ts", "value_column": "v"})
    assert r.status == 400 and "line 3" in err(r) and "zz" in err(r) and '"v"' in err(r), r
    r = t.post_json(v.url("/api/v1/rca/itemsets"), [{"host": "h1", "failed": True}, {"host": "h2", "failed": "maybe"}])
    assert r.status == 400 and "records[1].failed" in err(r) and "maybe" in err(r), r
    r = post(v, "/api/v1/rca/itemsets", "host,status\nh1,1\n")
    assert r.status == 400 and '"failed"' in err(r), r
    r = t.get(v.url("/api/v1/rca/multidim"))
    assert r.status == 405, r
    big = "a,real,predict\n" + "x,1,2\n" * (3 << 20)  # 18 MiB
    r = post(v, "/api/v1/rca/multidim", big)
    assert r.status == 413, r
    t.log("bad input: 400 naming line/field/value, 405, 413")


def main():
    with t.Harness("rca_api") as h:
        v = h.start_vigil()
        check_multidim(v)
        check_itemsets(v)
        check_errors(v)
        t.log("rca routes: all checks passed")


if __name__ == "__main__":
    t.run_test(main)

#!/usr/bin/python3
"""vigil's HTTP API answers bad input with precise errors and good input as the contract says.

Checks (docs/api-contract.md): malformed remote_write -> 400 JSON naming the problem;
chunked remote_write of a real Prometheus capture -> 204; bad JSON samples and events
-> 400 naming the path; unknown route -> 404 JSON; /healthz; /metrics has vigil_
metrics; `vigil version` and `vigil --help`.

Every check runs even if an earlier one failed; the failures are listed together.
Usage: api_errors_test.py /path/to/vigil
"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vigil_testlib as t  # noqa: E402


class Checks:
    def __init__(self):
        self.failures = []
        self.passed = 0

    def check(self, name, fn):
        try:
            fn()
            self.passed += 1
            t.log(f"ok    {name}")
        except Exception as e:  # one failing check must not hide the others
            self.failures.append(f"{name}: {e}")
            t.log(f"FAIL  {name}: {e}")


def expect_status(r, status, what):
    if r.status != status:
        raise AssertionError(f"{what}: expected HTTP {status}, got {r!r}")


def expect_json_error(r, status, what, must_mention=()):
    """r is an error response {"error": "..."} with the given status, and the message
    (or the whole body) mentions at least one of must_mention (case-insensitive)."""
    expect_status(r, status, what)
    ctype = r.header("Content-Type") or ""
    if "json" not in ctype.lower():
        raise AssertionError(f"{what}: error Content-Type is {ctype!r}, want application/json; body {r.text[:200]!r}")
    body = r.json()
    if not isinstance(body, dict) or not isinstance(body.get("error"), str) or not body["error"]:
        raise AssertionError(f"{what}: body has no non-empty \"error\" string: {r.text[:300]!r}")
    if must_mention:
        text = r.text.lower()
        if not any(m.lower() in text for m in must_mention):
            raise AssertionError(f"{what}: error does not name the problem (want one of {list(must_mention)}): "
                                 f"{r.text[:300]!r}")
    return body


def main():
    vigil_bin = t.vigil_binary()
    small19 = open(t.protocol_sample("prometheus-remote-write", "prom2.42-small19.snappy.bin"), "rb").read()
    tiny1_pb = open(t.protocol_sample("prometheus-remote-write", "prom2.42-tiny1.pb"), "rb").read()
    metadata_only = open(t.protocol_sample("prometheus-remote-write", "prom2.42-metadata-only.snappy.bin"), "rb").read()
    stale = open(t.protocol_sample("prometheus-remote-write", "prom2.42-stale-markers.snappy.bin"), "rb").read()
    c = Checks()

    with t.Harness("api-errors", vigil_bin) as h:
        # ---- config: every key is optional (docs/api-contract.md), so a config with
        # only some sections must start
        def partial_config():
            p = h.start_vigil(config={"detector": {"warmup": 20}}, all_sections=False, name="vigil-partial",
                              data_dir=h.mkdir("vigil-partial-data"), ready_timeout=20)
            p.proc.stop()
        c.check("vigil serve with a config that has only some sections starts", partial_config)

        def bad_config_rejected():
            path = h.write("bad.yaml", "listen: \"127.0.0.1:1\"\ndetector:\n  warmup: lots\n")
            p = subprocess.run([vigil_bin, "serve", "--config", path], capture_output=True, text=True, timeout=30)
            out = p.stdout + p.stderr
            if p.returncode == 0 or "warmup" not in out:
                raise AssertionError(f"bad config: exit {p.returncode}, want non-zero and a message naming "
                                     f"detector.warmup; output {out[:300]!r}")
        c.check("vigil serve with an invalid config value exits non-zero naming the key", bad_config_rejected)

        v = h.start_vigil(config={"detector": {"warmup": 20}})
        write_url = v.url("/api/v1/write")

        def rw(body, chunked=False, headers=None):
            return t.http_request("POST", write_url, body=body, chunked=chunked,
                                  headers=headers or t.REMOTE_WRITE_HEADERS)

        # ---- remote_write
        c.check("remote_write garbage -> 400 naming snappy",
                lambda: expect_json_error(rw(b"\xff" * 16 + b"definitely not snappy"), 400, "garbage body",
                                          ("snappy", "decompress", "compress", "corrupt")))
        c.check("remote_write truncated snappy -> 400 naming snappy",
                lambda: expect_json_error(rw(small19[: len(small19) // 2]), 400, "truncated body",
                                          ("snappy", "decompress", "compress", "corrupt", "truncat")))
        c.check("remote_write empty body -> 400",
                lambda: expect_json_error(rw(b""), 400, "empty body"))
        # valid snappy around bytes that are not a WriteRequest (field 1, wire type 2, length
        # far beyond the message end)
        c.check("remote_write valid snappy, broken protobuf -> 400 naming protobuf",
                lambda: expect_json_error(rw(t.snappy_literal_encode(b"\x0a\xff\xff\x03abc")), 400, "bad protobuf",
                                          ("protobuf", "writerequest", "decode", "parse", "malformed",
                                           "truncat", "length")))
        # tiny1 ("up") is older than the same series in small19: send it first
        c.check("remote_write literal-only snappy of a real WriteRequest (tiny1) -> 204",
                lambda: expect_status(rw(t.snappy_literal_encode(tiny1_pb)), 204, "literal snappy tiny1"))
        c.check("remote_write chunked real capture (small19) -> 204",
                lambda: expect_status(rw(small19, chunked=True), 204, "chunked small19"))

        def own_write_request():
            now = int(time.time() * 1000)
            pb = t.encode_write_request([
                ({"__name__": "api_test_rw", "instance": "api-test", "job": "t", "k": str(i)},
                 [(now - 2000, i), (now - 1000, i + 0.5)]) for i in range(50)])
            r = rw(t.snappy_literal_encode(pb))
            expect_status(r, 204, "own WriteRequest, 50 series x 2 samples")
        c.check("remote_write built by the test (two samples per TimeSeries) -> 204", own_write_request)

        def series_cache_hits():
            # The same 50 series again, up to 8 times: each HTTP thread has its own series
            # cache, so once the requests have met every thread (2 on CI) one of them finds
            # the series known and skips their labels; every sample is still accepted under
            # the same series.
            now = int(time.time() * 1000)
            hits = []
            for k in range(8):
                pb = t.encode_write_request([
                    ({"__name__": "api_test_rw", "instance": "api-test", "job": "t", "k": str(i)},
                     [(now - 900 + 100 * k, i + k)]) for i in range(50)])
                expect_status(rw(t.snappy_literal_encode(pb)), 204, f"repeat {k} of the 50 series")
                text = t.get(v.url("/metrics")).text
                hits = [float(l.split()[1]) for l in text.splitlines()
                        if l.startswith("vigil_ingest_series_cache_hits_total ")]
                if hits and hits[0] >= 50:
                    break
            if not hits or hits[0] < 50:
                raise AssertionError(f"vigil_ingest_series_cache_hits_total {hits} after 8 repeats of 50 series")
            body = t.get_json(v.url("/api/v1/series?match[]=api_test_rw"))
            if len(body.get("series", [])) != 50:
                raise AssertionError(f"expected 50 api_test_rw series, got {len(body.get('series', []))}")
            t.log(f"      series cache hits {hits[0]:.0f}")
        c.check("remote_write repeated series hit the decoders' series cache", series_cache_hits)

        def duplicate_resend():
            # small19 again: every sample repeats one already stored. Prometheus' TSDB treats an
            # identical (timestamp, value) as a no-op; the contract allows a 400 partial rejection.
            r = rw(small19)
            if r.status == 204:
                return
            body = expect_json_error(r, 400, "duplicate resend of small19")
            missing = [k for k in ("accepted", "rejected", "reasons") if k not in body]
            if missing:
                raise AssertionError(f"partial-rejection body lacks {missing}: {r.text[:300]!r}")
            t.log(f"      duplicate resend answered 400 accepted={body['accepted']} rejected={body['rejected']} "
                  f"(Prometheus drops such a batch as non-recoverable)")
        c.check("remote_write resend of stored samples -> 204 or 400 partial rejection", duplicate_resend)
        c.check("remote_write metadata-only request -> 204",
                lambda: expect_status(rw(metadata_only), 204, "metadata-only"))
        c.check("remote_write staleness markers -> 204",
                lambda: expect_status(rw(stale), 204, "stale markers"))

        def series_visible():
            # the capture carries node_load1 from instance 127.0.0.1:19100
            body = t.get_json(v.url("/api/v1/series?match[]=node_load1"))
            names = [s.get("labels", {}).get("__name__") for s in body.get("series", [])]
            if "node_load1" not in names:
                raise AssertionError(f"node_load1 not in /api/v1/series after remote_write: {body}")
        c.check("series written by remote_write are listed by /api/v1/series",
                lambda: t.wait_for(lambda: series_visible() or True, 10, what="node_load1 series"))

        # ---- JSON samples
        samples_url = v.url("/api/v1/samples")
        c.check("samples: invalid JSON -> 400",
                lambda: expect_json_error(t.post_json(samples_url, b'{"series": [ {'), 400, "invalid JSON",
                                          ("json", "parse", "syntax")))
        bad_value = {"series": [
            {"labels": {"__name__": "ok_series", "service": "a"}, "samples": [[1700000000000, 1.0]]},
            {"labels": {"__name__": "bad_series", "service": "a"}, "samples": [[1700000000000, "abc"]]}]}
        c.check("samples: non-numeric value -> 400 naming series[1]",
                lambda: expect_json_error(t.post_json(samples_url, bad_value), 400, "bad value",
                                          ("series[1]", "series/1", "series.1", "series 1")))
        no_labels = {"series": [{"samples": [[1700000000000, 1.0]]}]}
        c.check("samples: missing labels -> 400 naming labels",
                lambda: expect_json_error(t.post_json(samples_url, no_labels), 400, "missing labels", ("labels",)))
        bad_time = {"series": [{"labels": {"__name__": "x"}, "samples": [["yesterday-ish", 1.0]]}]}
        c.check("samples: unparsable timestamp -> 400",
                lambda: expect_json_error(t.post_json(samples_url, bad_time), 400, "bad time",
                                          ("time", "timestamp", "samples[0]", "rfc")))

        def good_samples():
            body = {"series": [{"labels": {"__name__": "api_test_gauge", "service": "api"},
                                "samples": [[1700000000000, 1.5], [1700000001, 2.5], ["2023-11-14T22:13:22Z", 3.5]]}]}
            r = t.post_json(samples_url, body)
            expect_status(r, 200, "good samples")
            got = r.json()
            if got.get("accepted") != 3 or got.get("rejected", 0) != 0:
                raise AssertionError(f"want accepted=3 rejected=0, got {got}")
        c.check("samples: ms, seconds and RFC 3339 times -> 200 accepted=3", good_samples)

        # ---- events
        events_url = v.url("/api/v1/events")
        c.check("events: missing kind -> 400 naming index and field",
                lambda: expect_json_error(t.post_json(events_url, [{"kind": "deploy"}, {"text": "no kind"}]),
                                          400, "event without kind", ("kind",)))

        def good_event():
            r = t.post_json(events_url, {"kind": "deploy", "labels": {"service": "api"}, "text": "deploy 1"})
            expect_status(r, 201, "good event")
            ids = r.json().get("ids")
            if not isinstance(ids, list) or len(ids) != 1:
                raise AssertionError(f"want one id, got {r.text}")
        c.check("events: good event -> 201 with one id", good_event)

        # ---- reads and routing
        c.check("unknown route -> 404 JSON",
                lambda: expect_json_error(t.get(v.url("/api/v1/no-such-thing")), 404, "unknown route"))
        c.check("unknown incident -> 404 JSON",
                lambda: expect_json_error(t.get(v.url("/api/v1/incidents/does-not-exist")), 404, "unknown incident"))

        def healthz():
            r = t.get(v.url("/healthz"))
            expect_status(r, 200, "/healthz")
            if r.text.strip() != "ok":
                raise AssertionError(f"/healthz body {r.text!r}, want 'ok'")
        c.check("/healthz -> 200 ok", healthz)

        def metrics():
            r = t.get(v.url("/metrics"))
            expect_status(r, 200, "/metrics")
            names = sorted({line.split("{")[0].split(" ")[0] for line in r.text.splitlines()
                            if line.startswith("vigil_")})
            if not names:
                raise AssertionError(f"/metrics has no vigil_ metric: {r.text[:300]!r}")
            t.log(f"      /metrics exposes {len(names)} vigil_ series names, e.g. {names[:6]}")
        c.check("/metrics has vigil_ metrics", metrics)

        def incidents_list():
            body = t.get_json(v.url("/api/v1/incidents"))
            if not isinstance(body.get("incidents"), list):
                raise AssertionError(f"want {{\"incidents\": [...]}}, got {body}")
        c.check("GET /api/v1/incidents -> {incidents: [...]}", incidents_list)

        # ---- CLI
        def version():
            p = subprocess.run([vigil_bin, "version"], capture_output=True, text=True, timeout=30)
            out = p.stdout + p.stderr
            if p.returncode != 0 or "0." not in out:
                raise AssertionError(f"`vigil version` exit {p.returncode}, output {out!r}")
        c.check("vigil version", version)

        def help_lists_subcommands():
            p = subprocess.run([vigil_bin, "--help"], capture_output=True, text=True, timeout=30)
            out = p.stdout + p.stderr
            missing = [s for s in ("serve", "version") if s not in out]
            if p.returncode != 0 or missing:
                raise AssertionError(f"`vigil --help` exit {p.returncode}, missing {missing}: {out[:500]!r}")
        c.check("vigil --help lists serve and version", help_lists_subcommands)

        def unknown_subcommand():
            p = subprocess.run([vigil_bin, "no-such-subcommand"], capture_output=True, text=True, timeout=30)
            if p.returncode == 0:
                raise AssertionError(f"unknown subcommand exited 0: {(p.stdout + p.stderr)[:300]!r}")
        c.check("vigil with an unknown subcommand exits non-zero", unknown_subcommand)

        def still_alive():
            if not v.proc.alive():
                raise AssertionError(f"vigil exited with code {v.proc.returncode}")
            t.get_json(v.url("/api/v1/incidents"))
        c.check("vigil still serving after all of the above", still_alive)

        if c.failures:
            print(v.proc.log_tail(40))
            raise AssertionError(f"{len(c.failures)} of {len(c.failures) + c.passed} checks failed:\n  "
                                 + "\n  ".join(c.failures))
        t.log(f"all {c.passed} checks passed")


if __name__ == "__main__":
    t.run_test(main)

"""Helpers shared by the alert-pipeline integration tests (stdlib only)."""

import http.server
import json
import threading
import time

import vigil_testlib as t


class Receiver:
    """A webhook receiver on loopback: records each POST as (time, path, body).

    `status` is the HTTP status it answers with (set it to 500 to play a receiver
    that is down; those POSTs are recorded in `refused`)."""

    def __init__(self):
        self.requests = []
        self.refused = []
        self.status = 200
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                with outer.lock:
                    status = outer.status
                    (outer.requests if status < 300 else outer.refused).append((time.monotonic(), self.path, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, fmt, *args):
                pass

        self.port = t.free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def posts(self, path=None):
        with self.lock:
            return [r for r in self.requests if path is None or r[1] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def dump(self):
        with self.lock:
            reqs = list(self.requests)
            refused = len(self.refused)
        print(f"receiver got {len(reqs)} accepted POSTs ({refused} refused):")
        for ts, path, body in reqs[-10:]:
            print(f"  {path} body={json.dumps(body)[:1500]}")


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

"""Shared helpers for vigil's integration tests (Python 3 standard library only).

The tests start the real `vigil` binary and real peers (Prometheus, node_exporter,
Alertmanager, stress-ng) on free loopback ports, each in its own process group with
its own temporary config and data directory, and stop them by process group when the
test ends, whether it passed or not.

Typical use:

    with Harness("e2e") as h:
        vigil = h.start_vigil(config={...})
        ...            # assertions; a failure prints vigil's log and incidents

A test is a plain script: `main()` returns normally on success and raises on failure;
`run_test(main)` turns that into an exit code and prints diagnostics.
"""

import ctypes
import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse

REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------- locations

def shared_data_dir():
    """Datasets and protocol captures: $VIGIL_SHARED_DATA or <repo>/../shared/data."""
    d = os.environ.get("VIGIL_SHARED_DATA") or os.path.join(REPO_DIR, "..", "shared", "data")
    return os.path.abspath(d)


def protocol_sample(*parts):
    path = os.path.join(shared_data_dir(), "protocol-samples", *parts)
    if not os.path.exists(path):
        raise FileNotFoundError(f"protocol sample missing: {path} (set VIGIL_SHARED_DATA)")
    return path


def vigil_binary(argv=None):
    """The vigil binary: argv[1] (CTest passes $<TARGET_FILE:vigil>), else $VIGIL_BIN."""
    argv = sys.argv if argv is None else argv
    path = argv[1] if len(argv) > 1 else os.environ.get("VIGIL_BIN", "")
    if not path:
        raise SystemExit("usage: TEST.py /path/to/vigil   (or set VIGIL_BIN)")
    if not os.access(path, os.X_OK):
        raise SystemExit(f"vigil binary not executable: {path}")
    return os.path.abspath(path)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------- ports

_handed_out = set()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    The kernel picks it (bind to port 0); ports already handed out by this process are
    skipped so two peers started in a row never get the same one.
    """
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError("no free port found")


# ---------------------------------------------------------------- YAML

def _yaml_scalar(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(str(v))  # a JSON string is a valid double-quoted YAML scalar


def to_yaml(obj, indent=0):
    """Block-style YAML for dicts, lists and scalars (enough for the configs we write)."""
    pad = "  " * indent
    lines = []
    if isinstance(obj, dict):
        if not obj:
            return pad + "{}\n"
        for k, v in obj.items():
            if isinstance(v, (dict, list)) and v:
                lines.append(f"{pad}{k}:\n{to_yaml(v, indent + 1)}")
            elif isinstance(v, dict):
                lines.append(f"{pad}{k}: {{}}\n")
            elif isinstance(v, list):
                lines.append(f"{pad}{k}: []\n")
            else:
                lines.append(f"{pad}{k}: {_yaml_scalar(v)}\n")
        return "".join(lines)
    if isinstance(obj, list):
        for item in obj:
            if isinstance(item, (dict, list)) and item:
                body = to_yaml(item, indent + 1)
                # put the first key on the dash line
                lines.append(f"{pad}- {body.lstrip()}")
            else:
                lines.append(f"{pad}- {_yaml_scalar(item)}\n")
        return "".join(lines)
    return pad + _yaml_scalar(obj) + "\n"


# ---------------------------------------------------------------- HTTP

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise AssertionError(f"response is not JSON ({e}): HTTP {self.status} {self.text[:500]!r}")

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return f"HTTP {self.status} {self.text[:300]!r}"


def _close_without_time_wait(conn):
    """Close with an RST (SO_LINGER 0) instead of a FIN: no TIME_WAIT socket stays behind.

    The e2e test watches a real node_exporter on this machine; TIME_WAIT sockets left by the
    test's own requests would show up in node_sockstat_TCP_tw (and be flagged by vigil)."""
    sock = getattr(conn, "sock", None)
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    conn.close()


def http_request(method, url, body=None, headers=None, timeout=10.0, chunked=False):
    """One request on a fresh connection; returns a Response (never raises on HTTP status)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    path = u.path or "/"
    if u.query:
        path += "?" + u.query
    try:
        hdrs = dict(headers or {})
        if chunked:
            # http.client sends Transfer-Encoding: chunked when the body is an iterable
            # of chunks and encode_chunked is set; no Content-Length is sent.
            data = body if not isinstance(body, (bytes, bytearray)) else _chunks(body, 1024)
            conn.request(method, path, body=data, headers=hdrs, encode_chunked=True)
        else:
            conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        _close_without_time_wait(conn)


def _chunks(data, size):
    for i in range(0, len(data), size):
        yield bytes(data[i:i + size])


def get(url, **kw):
    return http_request("GET", url, **kw)


def get_json(url, expect=200, **kw):
    r = get(url, **kw)
    if expect is not None and r.status != expect:
        raise AssertionError(f"GET {url}: expected HTTP {expect}, got {r!r}")
    return r.json()


def post_json(url, obj, **kw):
    body = obj if isinstance(obj, (bytes, str)) else json.dumps(obj)
    if isinstance(body, str):
        body = body.encode()
    return http_request("POST", url, body=body, headers={"Content-Type": "application/json"}, **kw)


def wait_http_ok(url, timeout=30.0, proc=None, what=None):
    """Poll url until it answers 2xx; fail early if proc died."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what or proc.name} exited with code {proc.returncode} before "
                                 f"{url} was ready\n{proc.log_tail()}")
        try:
            r = get(url, timeout=2.0)
            if 200 <= r.status < 300:
                return r
            last = repr(r)
        except OSError as e:
            last = str(e)
        time.sleep(0.1)
    tail = proc.log_tail() if proc is not None else ""
    raise AssertionError(f"{what or url} not ready after {timeout:.0f}s (last: {last})\n{tail}")


# ---------------------------------------------------------------- snappy / protobuf

def snappy_literal_encode(data):
    """Snappy block format with literal elements only (no back-references).

    Valid input for any snappy decoder; lets a test build remote_write bodies that
    have a known decoded content without a snappy library.
    """
    out = bytearray(_varint(len(data)))
    pos = 0
    while pos < len(data):
        n = min(len(data) - pos, 65536)
        if n <= 60:
            out.append((n - 1) << 2)
        else:
            m = n - 1
            nbytes = (m.bit_length() + 7) // 8
            out.append((59 + nbytes) << 2)
            out += m.to_bytes(nbytes, "little")
        out += data[pos:pos + n]
        pos += n
    return bytes(out)


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _pb_bytes(field, payload):
    return _varint((field << 3) | 2) + _varint(len(payload)) + payload


def encode_write_request(series):
    """prometheus.WriteRequest bytes for [(labels_dict, [(ts_ms, value), ...]), ...]."""
    out = bytearray()
    for labels, samples in series:
        ts = bytearray()
        for name in sorted(labels):
            lab = _pb_bytes(1, name.encode()) + _pb_bytes(2, str(labels[name]).encode())
            ts += _pb_bytes(1, lab)
        for t, v in samples:
            s = b"\x09" + struct.pack("<d", float(v)) + b"\x10" + _varint(int(t) & ((1 << 64) - 1))
            ts += _pb_bytes(2, s)
        out += _pb_bytes(1, bytes(ts))
    return bytes(out)


REMOTE_WRITE_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
    "User-Agent": "vigil-integration-test",
}


# ---------------------------------------------------------------- processes

def _die_with_parent():
    # Runs in the child between fork and exec: if the test process is killed (even
    # with SIGKILL), the kernel sends SIGKILL to this child too.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class Proc:
    """A child process in its own process group, with its output in a log file."""

    def __init__(self, name, argv, log_path, env=None, cwd=None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.popen = subprocess.Popen(
            argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd, start_new_session=True, preexec_fn=_die_with_parent)
        self.pid = self.popen.pid
        self.started = time.monotonic()
        self.stopped = False

    @property
    def returncode(self):
        return self.popen.returncode

    def poll(self):
        return self.popen.poll()

    def alive(self):
        return self.popen.poll() is None

    def signal_group(self, sig):
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, timeout=10.0, sig=signal.SIGTERM):
        """SIGTERM the group, wait, then SIGKILL. Returns the exit code."""
        if self.stopped:
            return self.popen.returncode
        if self.popen.poll() is None:
            self.signal_group(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"{self.name} (pid {self.pid}) ignored signal {sig} for {timeout:.0f}s: SIGKILL")
                self.signal_group(signal.SIGKILL)
                self.popen.wait(10)
        # Children the leader left behind keep the group id alive: kill them too. Done
        # once only, so a recycled pid is never signalled later.
        self.signal_group(signal.SIGKILL)
        self.stopped = True
        self._log.close()
        return self.popen.returncode

    def kill9(self):
        """SIGKILL the whole group (a crash, as far as the process can tell)."""
        if not self.stopped:
            self.signal_group(signal.SIGKILL)
            self.popen.wait(10)
            self.stopped = True
            self._log.close()
        return self.popen.returncode

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines=40):
        text = self.log_text().splitlines()
        head = f"----- last {min(lines, len(text))} lines of {self.name} log ({self.log_path}) -----"
        return "\n".join([head] + text[-lines:] + ["-" * len(head)])


SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "ThreadSanitizer", "SUMMARY: UndefinedBehaviorSanitizer")


class KeepAliveClient:
    """HTTP/1.1 requests over one persistent connection, reopened when the server closed it.

    Tests that poll use it: a fresh connection per poll leaves a TIME_WAIT socket behind
    each time, and node_exporter's node_sockstat_TCP_tw then climbs because of the test.
    """

    def __init__(self, host, port, timeout=10.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                r = self.conn.getresponse()
                resp = Response(r.status, r.getheaders(), r.read())
                if (resp.header("Connection") or "").lower() == "close":
                    self.close()
                return resp
            except (http.client.RemoteDisconnected, http.client.CannotSendRequest,
                    ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise
            except Exception:
                self.close()
                raise

    def get_json(self, path, expect=200):
        r = self.request("GET", path)
        if expect is not None and r.status != expect:
            raise AssertionError(f"GET {path}: expected HTTP {expect}, got {r!r}")
        return r.json()

    def close(self):
        if self.conn is not None:
            _close_without_time_wait(self.conn)
            self.conn = None


class Vigil:
    def __init__(self, proc, port, data_dir, config_path):
        self.proc = proc
        self.port = port
        self.data_dir = data_dir
        self.config_path = config_path
        self.base = f"http://127.0.0.1:{port}"
        self.client = KeepAliveClient("127.0.0.1", port)

    def url(self, path):
        return self.base + path

    def get_json(self, path, expect=200):
        """GET over the keep-alive connection (use for anything polled)."""
        return self.client.get_json(path, expect)

    def incidents(self, **params):
        q = ("?" + urllib.parse.urlencode(params)) if params else ""
        return self.get_json("/api/v1/incidents" + q).get("incidents", [])

    def incident(self, incident_id):
        return self.get_json(f"/api/v1/incidents/{incident_id}")

    def push_samples(self, series, expect=200):
        """series: [(labels_dict, [(ts_ms, value), ...]), ...] via /api/v1/samples."""
        body = {"series": [{"labels": labels, "samples": [[int(t), float(v)] for t, v in samples]}
                           for labels, samples in series]}
        r = post_json(self.url("/api/v1/samples"), body, timeout=30)
        if expect is not None and r.status != expect:
            raise AssertionError(f"POST /api/v1/samples: expected {expect}, got {r!r}")
        return r

    def sanitizer_reports(self):
        text = self.proc.log_text()
        return [line for line in text.splitlines() if any(m in line for m in SANITIZER_MARKERS)]


class Harness:
    """Owns a temp dir and every process a test starts; cleans up on exit."""

    def __init__(self, name, vigil_bin=None):
        self.name = name
        self.vigil_bin = vigil_bin or vigil_binary()
        self.root = tempfile.mkdtemp(prefix=f"vigil-{name}-")
        self.procs = []
        self.vigils = []
        self.failed = False
        self.diagnostics = []  # callables printing extra state on failure

    # -- lifecycle
    def __enter__(self):
        log(f"{self.name}: work dir {self.root}")
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.failed = True
            self.print_diagnostics()
        self.stop_all()
        problems = []
        for v in self.vigils:
            reports = v.sanitizer_reports()
            if reports:
                problems.append(f"sanitizer reports in {v.proc.log_path}:\n  " + "\n  ".join(reports[:20]))
        if problems and exc_type is None:
            self.failed = True
            for v in self.vigils:
                print(v.proc.log_tail(80), flush=True)
            raise AssertionError("\n".join(problems))
        if not self.failed and not os.environ.get("VIGIL_TEST_KEEP"):
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            log(f"{self.name}: kept work dir {self.root}")
        return False

    def print_diagnostics(self):
        print("=" * 30 + " diagnostics " + "=" * 30, flush=True)
        for fn in self.diagnostics:
            try:
                fn()
            except Exception as e:  # diagnostics must not hide the real failure
                print(f"(diagnostic failed: {e})")
        for v in self.vigils:
            try:
                if v.proc.alive():
                    inc = get(v.url("/api/v1/incidents?limit=20"), timeout=5)
                    print(f"GET {v.base}/api/v1/incidents -> {inc.status}\n{inc.text[:6000]}")
                else:
                    print(f"vigil (pid {v.proc.pid}) exited with code {v.proc.returncode}")
            except OSError as e:
                print(f"(incidents unavailable: {e})")
        for p in self.procs:
            lines = 60 if p.name.startswith("vigil") else 15
            print(p.log_tail(lines), flush=True)
        print("=" * 73, flush=True)

    def stop_all(self):
        for p in reversed(self.procs):
            try:
                p.stop(timeout=10)
            except Exception as e:
                print(f"stopping {p.name}: {e}")

    # -- paths and processes
    def path(self, *parts):
        p = os.path.join(self.root, *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def mkdir(self, *parts):
        p = os.path.join(self.root, *parts)
        os.makedirs(p, exist_ok=True)
        return p

    def spawn(self, name, argv, env=None, cwd=None):
        p = Proc(name, argv, self.path("logs", f"{name}.log"), env=env, cwd=cwd or self.root)
        self.procs.append(p)
        log(f"started {name} (pid {p.pid}): {' '.join(argv)}")
        return p

    def write(self, rel, text):
        p = self.path(rel)
        with open(p, "w") as f:
            f.write(text)
        return p

    # -- vigil
    def vigil_config(self, port, data_dir, extra=None, all_sections=True):
        """listen + data_dir + extra. With all_sections, sections the test leaves out are
        written as empty maps: parsing of partial configs is api_errors_test's subject,
        and a bug there should fail that test only."""
        cfg = {"listen": f"127.0.0.1:{port}", "data_dir": data_dir}
        for k, v in (extra or {}).items():
            cfg[k] = v
        if all_sections:
            for section in ("detector", "incidents", "notify", "limits"):
                cfg.setdefault(section, {})
        return cfg

    def start_vigil(self, config=None, port=None, data_dir=None, name="vigil", ready_timeout=60,
                    all_sections=True):
        port = port or free_port()
        data_dir = data_dir or self.mkdir("vigil-data")
        cfg = self.vigil_config(port, data_dir, config, all_sections)
        cfg_path = self.write(f"{name}.yaml", to_yaml(cfg))
        proc = self.spawn(name, [self.vigil_bin, "serve", "--config", cfg_path])
        v = Vigil(proc, port, data_dir, cfg_path)
        self.vigils.append(v)
        wait_http_ok(v.url("/healthz"), timeout=ready_timeout, proc=proc, what=name)
        log(f"{name} ready on {v.base} after {time.monotonic() - proc.started:.1f}s")
        return v

    def restart_vigil(self, v, name="vigil-restarted", ready_timeout=60):
        proc = self.spawn(name, [self.vigil_bin, "serve", "--config", v.config_path])
        nv = Vigil(proc, v.port, v.data_dir, v.config_path)
        self.vigils.append(nv)
        wait_http_ok(nv.url("/healthz"), timeout=ready_timeout, proc=proc, what=name)
        log(f"{name} ready on {nv.base} after {time.monotonic() - proc.started:.1f}s")
        return nv

    # -- peers
    def start_node_exporter(self):
        port = free_port()
        # no systemd on test machines: its collector would only log an error every scrape
        p = self.spawn("node_exporter", ["/usr/bin/prometheus-node-exporter",
                                         f"--web.listen-address=127.0.0.1:{port}",
                                         "--no-collector.systemd"])
        wait_http_ok(f"http://127.0.0.1:{port}/metrics", proc=p, what="node_exporter")
        return port

    def start_prometheus(self, scrape_target_port, remote_write_url, scrape_interval="1s"):
        port = free_port()
        cfg = {
            "global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval},
            "scrape_configs": [{
                "job_name": "node",
                "scrape_interval": scrape_interval,
                "static_configs": [{"targets": [f"127.0.0.1:{scrape_target_port}"]}],
            }],
            "remote_write": [{
                "url": remote_write_url,
                "queue_config": {"batch_send_deadline": "1s", "min_backoff": "100ms",
                                 "max_backoff": "1s"},
            }],
        }
        cfg_path = self.write("prometheus.yml", to_yaml(cfg))
        p = self.spawn("prometheus", [
            "/usr/bin/prometheus", f"--config.file={cfg_path}",
            f"--storage.tsdb.path={self.mkdir('prometheus-data')}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=1h"])
        wait_http_ok(f"http://127.0.0.1:{port}/-/ready", timeout=60, proc=p, what="prometheus")
        return port

    def start_alertmanager(self, webhook_url, group_wait="1s"):
        port = free_port()
        cfg = {
            "route": {"receiver": "test", "group_by": ["alertname", "incident_id"],
                      "group_wait": group_wait, "group_interval": "1s", "repeat_interval": "1h"},
            "receivers": [{"name": "test", "webhook_configs": [
                {"url": webhook_url, "send_resolved": True}]}],
        }
        cfg_path = self.write("alertmanager.yml", to_yaml(cfg))
        p = self.spawn("alertmanager", [
            "/usr/bin/prometheus-alertmanager", f"--config.file={cfg_path}",
            f"--storage.path={self.mkdir('alertmanager-data')}",
            f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="])
        wait_http_ok(f"http://127.0.0.1:{port}/-/ready", timeout=60, proc=p, what="alertmanager")
        return port


SKIP_EXIT_CODE = 77  # CTest SKIP_RETURN_CODE


NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")


def ensure_node_clients():
    """Installs tests/node's npm clients (npm ci) when node_modules is missing or
    older than package-lock.json; skips the test when node/npm are absent.
    Tests run in parallel, so the check and the install hold a file lock."""
    if not shutil.which("node") or not shutil.which("npm"):
        log("node/npm not installed (scripts/install-deps.sh installs them): skipping")
        sys.exit(SKIP_EXIT_CODE)
    import fcntl
    lock = os.path.join(NODE_DIR, "package-lock.json")
    stamp = os.path.join(NODE_DIR, "node_modules", ".package-lock.json")
    with open(os.path.join(NODE_DIR, ".npm-ci.lock"), "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not os.path.exists(stamp) or os.path.getmtime(stamp) < os.path.getmtime(lock):
            log("npm ci in tests/node")
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True,
                           timeout=240)


class Skip(Exception):
    """The test cannot judge vigil here (e.g. the machine is saturated by other jobs)."""


def run_test(main):
    """Run a test's main(); print the outcome; exit 0 on success, 77 when skipped, 1 on failure."""
    budget = int(os.environ.get("VIGIL_TEST_BUDGET_S", "0"))
    if budget > 0:
        # Fail (with diagnostics and clean-up) before CTest's TIMEOUT kills us silently.
        def on_alarm(signum, frame):
            raise TimeoutError(f"test exceeded its own budget of {budget}s")
        signal.signal(signal.SIGALRM, on_alarm)
        signal.alarm(budget)

    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_term)

    t0 = time.monotonic()
    try:
        main()
    except Skip as e:
        print(f"SKIP after {time.monotonic() - t0:.1f}s: {e}", flush=True)
        sys.exit(SKIP_EXIT_CODE)
    except BaseException as e:  # noqa: B902 - report everything, including timeouts
        import traceback
        traceback.print_exc()
        print(f"FAIL after {time.monotonic() - t0:.1f}s: {e}", flush=True)
        sys.exit(1)
    print(f"PASS in {time.monotonic() - t0:.1f}s", flush=True)
    sys.exit(0)


# ---------------------------------------------------------------- incident helpers

def deterministic_noise(seed, n, mean, spread):
    """n values mean +- spread from a fixed LCG (same on every run and platform)."""
    x = seed & 0xFFFFFFFF
    out = []
    for _ in range(n):
        x = (1103515245 * x + 12345) & 0x7FFFFFFF
        out.append(mean + spread * ((x / 0x7FFFFFFF) * 2.0 - 1.0))
    return out


def make_incident_via_samples(vigil, labels, warmup_points, quiet_points=None, jump_points=12,
                              base=100.0, spread=2.0, jump=1000.0, end_ms=None, seed=7):
    """Push a stable noisy series then a big jump, 1 s apart, ending at ~now.

    Returns (series_points, jump_start_ms). The quiet part is longer than warmup so the
    detector has judged normal points before the jump.
    """
    quiet_points = quiet_points or (warmup_points + 30)
    n = quiet_points + jump_points
    end_ms = end_ms or int(time.time() * 1000)
    start_ms = end_ms - (n - 1) * 1000
    values = deterministic_noise(seed, quiet_points, base, spread)
    values += [jump + v - base for v in deterministic_noise(seed + 1, jump_points, base, spread)]
    pts = [(start_ms + i * 1000, v) for i, v in enumerate(values)]
    vigil.push_samples([(labels, pts[:quiet_points])])
    vigil.push_samples([(labels, pts[quiet_points:])])
    return pts, start_ms + quiet_points * 1000


class MachineCpu:
    """Busy fraction of the whole machine between two reads of /proc/stat."""

    def __init__(self):
        self.last = self._read()

    @staticmethod
    def _read():
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields[:8]), idle

    def busy_since_last(self):
        total, idle = self._read()
        dt, di = total - self.last[0], idle - self.last[1]
        self.last = (total, idle)
        return 1.0 - di / dt if dt > 0 else 0.0


def wait_for(predicate, timeout, interval=0.5, what="condition"):
    """Poll predicate() until it returns a truthy value; return it or raise."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            v = predicate()
            if v:
                return v
        except (OSError, AssertionError, ValueError) as e:
            last_exc = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}"
                         + (f" (last error: {last_exc})" if last_exc else ""))


class WebhookReceiver:
    """A webhook endpoint on loopback. Records each POST as (monotonic time,
    path, headers, parsed JSON or raw text). `status` is what it answers
    (set >= 300 to play a receiver that is down; those POSTs go to `refused`)."""

    def __init__(self):
        import http.server
        import threading
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
                    entry = (time.monotonic(), self.path, dict(self.headers), body)
                    (outer.requests if status < 300 else outer.refused).append(entry)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, fmt, *args):
                pass

        self.port = free_port()
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
        for _, path, headers, body in reqs[-10:]:
            print(f"  {path} UA={headers.get('User-Agent')!r} body={json.dumps(body)[:1500]}")

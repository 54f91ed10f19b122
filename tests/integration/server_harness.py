"""Harness for the integration tests: runs the real `liveproof serve` with the real models.

A LiveproofServer starts the binary on 127.0.0.1 with a free port (--port 0), waits for the
'liveproof listening on HOST:PORT' log line (stdout and stderr are both read), and offers
request helpers (JSON, hand-built multipart, raw bodies, raw sockets). stop() sends SIGTERM and
reports how the process exited. ServerTestCase runs ONE server per test class and fails the
class if the server does not exit with status 0 within 30 s of SIGTERM.

Locations come from the environment (set by tests/CMakeLists.txt), with repository defaults:
LIVEPROOF_BIN, LIVEPROOF_SHARED_DIR, LIVEPROOF_MODEL_DIR.
Only the Python standard library is used.
"""

import base64
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

BIN = os.environ.get("LIVEPROOF_BIN") or os.path.join(REPO, "build", "apps", "liveproof")
SHARED = os.environ.get("LIVEPROOF_SHARED_DIR") or os.path.join(os.path.dirname(REPO), "shared")
MODELS = os.environ.get("LIVEPROOF_MODEL_DIR") or os.path.join(REPO, "models")

START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
REQUEST_TIMEOUT_S = 120

# Test data under SHARED.
T1 = "models/samples/image_T1.jpg"
F1 = "models/samples/image_F1.jpg"
F2 = "models/samples/image_F2.jpg"
WOLF_VIDEO = "data/video/wolf_live_blinks.mp4"
REPLAY_VIDEO = "data/video/apfol_fake2_replay_phone.webm"
NO_FACE = "data/conditions/no_face/opencv_fruits.jpg"
TWO_FACES = "data/conditions/multi_face/fr_two_people.jpg"

# Variables the server reads that must not leak from the caller's environment.
_SCRUBBED_ENV = ("API_KEY", "MODEL_PATH", "CONFIDENCE_THRESHOLD", "ENABLE_METRICS", "PORT", "FACESDK_PORT",
                 "FACESDK_BIND_HOST")

_LISTENING = re.compile(r"liveproof listening on ([0-9.]+):(\d+)")


def shared_path(relative):
    """Absolute path of a file under the shared data folder."""
    return os.path.join(SHARED, relative)


def read_shared(relative):
    """The bytes of a shared data file."""
    with open(shared_path(relative), "rb") as f:
        return f.read()


def b64_of(relative):
    """Standard base64 text of a shared data file."""
    return base64.b64encode(read_shared(relative)).decode("ascii")


_KNOWN_SETTINGS = None


def known_settings():
    """The setting keys this binary accepts (the keys `liveproof serve --print-config` prints),
    read once per process. Lets a suite pass a setting that is being added only when the binary
    under test knows it (an unknown --set key stops the server from starting)."""
    global _KNOWN_SETTINGS
    if _KNOWN_SETTINGS is None:
        if not os.access(BIN, os.X_OK):
            return frozenset()
        out = subprocess.run([BIN, "serve", "--print-config", "--models", MODELS],
                             capture_output=True, timeout=60, check=True,
                             env={k: v for k, v in os.environ.items()
                                  if not k.startswith("LIVEPROOF_") and k not in _SCRUBBED_ENV})
        _KNOWN_SETTINGS = frozenset(json.loads(out.stdout.decode("utf-8")))
    return _KNOWN_SETTINGS


def set_flags(settings, only_known=False):
    """--set KEY=VALUE flags for a {key: value} dict; with only_known, keys the binary does not
    know are left out (see known_settings)."""
    flags = []
    for key, value in settings.items():
        if only_known and key not in known_settings():
            continue
        flags += ["--set", f"{key}={value}"]
    return tuple(flags)


def require_assets(*relatives):
    """Raises SkipTest unless the binary, the models and every named shared file exist."""
    if not os.access(BIN, os.X_OK):
        raise unittest.SkipTest(f"liveproof binary not found at {BIN} (set LIVEPROOF_BIN)")
    if not os.path.isfile(os.path.join(MODELS, "MANIFEST")):
        raise unittest.SkipTest(f"models not installed in {MODELS} (set LIVEPROOF_MODEL_DIR)")
    missing = [r for r in relatives if not os.path.isfile(shared_path(r))]
    if missing:
        raise unittest.SkipTest(f"shared test data missing under {SHARED}: {', '.join(missing)}")


class Response:
    """A finished HTTP response: status, headers (case-insensitive) and body bytes."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name)

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


def multipart_body(fields):
    """Builds multipart/form-data by hand. fields: name -> bytes | str | (filename, bytes, type).

    Returns (body bytes, content type with boundary)."""
    boundary = "liveproof-" + uuid.uuid4().hex
    out = bytearray()
    for name, value in fields.items():
        out += f"--{boundary}\r\n".encode()
        if isinstance(value, tuple):
            filename, data, ctype = value
            out += (f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                    f"Content-Type: {ctype}\r\n\r\n").encode()
        else:
            data = value.encode() if isinstance(value, str) else value
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


class LiveproofServer:
    """One `liveproof serve` subprocess on 127.0.0.1 with a free port."""

    def __init__(self, args=(), env=None, workers=2, data_dir=None):
        self.args = list(args)
        # Each server its own session store and keys, unless a test shares one on purpose
        # (a restart on the same data).
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="liveproof-data-")
        self.env = dict(env or {})
        self.workers = workers
        self.proc = None
        self.host = "127.0.0.1"
        self.port = None
        self.log_lines = []
        self.listening_stream = None
        self._listening = threading.Event()
        self._readers = []

    # -- lifecycle -------------------------------------------------------------------------

    def command(self):
        return [BIN, "serve", "--host", "127.0.0.1", "--port", "0", "--workers",
                str(self.workers), "--models", MODELS, "--set", f"data_dir={self.data_dir}",
                *self.args]

    def child_env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("LIVEPROOF_") and k not in _SCRUBBED_ENV}
        env.update(self.env)
        return env

    def start(self):
        self.proc = subprocess.Popen(self.command(), env=self.child_env(),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        # Both streams are drained for the whole run so that the server never blocks on a full
        # pipe; the log may go to either (listening_stream records which one had the line).
        self._readers = [threading.Thread(target=self._read_log, args=(stream, name), daemon=True)
                         for stream, name in ((self.proc.stdout, "stdout"),
                                              (self.proc.stderr, "stderr"))]
        for reader in self._readers:
            reader.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._listening.wait(0.05):
            if self.proc.poll() is not None:
                raise RuntimeError(f"liveproof serve exited with {self.proc.returncode} "
                                   f"before listening:\n{self.log()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"liveproof serve did not listen within {START_TIMEOUT_S} s:"
                                   f"\n{self.log()}")
        return self

    def _read_log(self, stream, name):
        for raw in stream:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            self.log_lines.append(line)
            m = _LISTENING.search(line)
            if m and not self._listening.is_set():
                self.port = int(m.group(2))
                self.listening_stream = name
                self._listening.set()

    def log(self):
        return "\n".join(self.log_lines[-60:])

    def terminate(self):
        """Sends SIGTERM (graceful shutdown) without waiting."""
        self.proc.send_signal(signal.SIGTERM)

    def wait_exit(self, timeout=STOP_TIMEOUT_S):
        """Waits for the process; returns its exit status or None on timeout."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        """SIGTERM, then wait up to 30 s. Returns the exit status (None = killed after timeout)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.terminate()
        code = self.wait_exit()
        if code is None:
            self.kill()
        for reader in self._readers:
            reader.join(timeout=5)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @property
    def base_url(self):
        return f"http://{self.host}:{self.port}"

    # -- requests --------------------------------------------------------------------------

    def request(self, method, path, body=None, headers=None, timeout=REQUEST_TIMEOUT_S):
        """One request on a fresh connection; returns a Response."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            r = conn.getresponse()
            return Response(r.status, r.headers, r.read())
        finally:
            conn.close()

    def get(self, path, headers=None, **kw):
        return self.request("GET", path, headers=headers, **kw)

    def post_json(self, path, obj, headers=None, **kw):
        h = {"Content-Type": "application/json", **(headers or {})}
        return self.request("POST", path, json.dumps(obj).encode(), h, **kw)

    def post_raw(self, path, data, content_type=None, headers=None, **kw):
        h = dict(headers or {})
        if content_type is not None:
            h["Content-Type"] = content_type
        return self.request("POST", path, data, h, **kw)

    def post_multipart(self, path, fields, headers=None, **kw):
        body, ctype = multipart_body(fields)
        return self.post_raw(path, body, ctype, headers, **kw)

    def post_file(self, path, field, relative, ctype="application/octet-stream", headers=None,
                  **kw):
        """Uploads a shared data file as one multipart field."""
        data = read_shared(relative)
        fields = {field: (os.path.basename(relative), data, ctype)}
        return self.post_multipart(path, fields, headers, **kw)

    def connect(self, timeout=10):
        """A raw TCP socket to the server."""
        return socket.create_connection((self.host, self.port), timeout=timeout)

    def raw_exchange(self, data, timeout=10):
        """Sends raw bytes and reads until the server closes; returns the bytes received."""
        with self.connect(timeout) as s:
            s.sendall(data)
            return recv_all(s)

    def rss_bytes(self):
        """The server process's resident set size now (VmRSS of /proc/<pid>/status), in bytes."""
        with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024  # the kernel reports kB
        raise RuntimeError(f"no VmRSS line for pid {self.proc.pid}")

    def is_healthy(self):
        try:
            r = self.get("/healthz", timeout=10)
            return r.status == 200 and r.json() == {"status": "ok"}
        except (OSError, http.client.HTTPException):
            return False


def recv_all(sock):
    """Reads until EOF (or a reset, which also ends the stream)."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def parse_raw_response(data):
    """Splits a raw HTTP/1.1 response into (status, lower-case header dict, body bytes)."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


class ServerTestCase(unittest.TestCase):
    """One server per class. Subclasses set SERVER_ARGS, SERVER_ENV, WORKERS, REQUIRED_FILES."""

    SERVER_ARGS = ()
    SERVER_ENV = {}
    WORKERS = 2
    REQUIRED_FILES = ()
    server = None

    @classmethod
    def setUpClass(cls):
        require_assets(*cls.REQUIRED_FILES)
        cls.server = LiveproofServer(cls.SERVER_ARGS, cls.SERVER_ENV, cls.WORKERS).start()

    @classmethod
    def tearDownClass(cls):
        server, cls.server = cls.server, None
        if server is None:
            return
        code = server.stop()
        if code is None:
            raise AssertionError(f"server did not exit within {STOP_TIMEOUT_S} s of SIGTERM:\n"
                                 f"{server.log()}")
        if code != 0:
            raise AssertionError(f"server exited with {code} after SIGTERM:\n{server.log()}")

    def assert_still_healthy(self):
        self.assertTrue(self.server.is_healthy(), "the server stopped answering GET /healthz")

    def assert_error_body(self, response, status, error):
        """Asserts the native error shape {"error": <code>, "detail": <str>}."""
        self.assertEqual(response.status, status, response)
        body = response.json()
        self.assertEqual(set(body), {"error", "detail"}, body)
        self.assertEqual(body["error"], error)
        self.assertIsInstance(body["detail"], str)

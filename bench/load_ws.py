#!/usr/bin/env python3
"""Bounded load on WS /ws (system A's challenge): N concurrent clients stream 640x480 frames of
the head-turn video at 7 fps each, on loopback only, and the reply latency is measured.

Each client: open /ws, read 'start', then at every tick (1/fps s) send {"frame": <the frame the
clip shows at that wall-clock time>}. A receiver thread reads the replies. The latency of a frame
is the time from sending it to the next reply that client receives (any reply: waiting,
challenge, busy, ...); the 'analysed' latency is the time to the next reply that is not 'busy'. A frame still unanswered at the next tick does not hold the next one back
(so past capacity the server's latest-frame-wins mailbox drops frames). Frames still unanswered
when the run ends are counted as 'unanswered'.

The server is either started by this script (the repository's build/apps/liveproof on
127.0.0.1 with a free port and --set session_timeout=600 --set challenge_timeout=600
--set max_wrong_attempts=100 so that sessions stay open) or an existing one given by --url
(ws://127.0.0.1:PORT/ws). Only loopback hosts are accepted.

Usage:
  bench/load_ws.py                              # 30 clients, 30 s
  bench/load_ws.py --levels 1,10,30,60 --duration 20 --markdown
Python standard library only (reuses tests/integration/ws_client.py and server_harness.py).
"""

import argparse
import base64
import glob
import http.client
import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from ws_client import WsClient, WsClosed  # noqa: E402

VIDEO = "data/video/apfol_real2_live_headturn.webm"
SESSION_ARGS = ("--set", "session_timeout=600", "--set", "challenge_timeout=600",
                "--set", "max_wrong_attempts=100", "--set", "ws_idle_timeout=600")


def die(msg):
    print(f"load_ws: {msg}", file=sys.stderr)
    sys.exit(2)


def require_loopback(host):
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as e:
        die(f"cannot resolve {host}: {e}")
    for info in infos:
        addr = info[4][0].split("%")[0]
        if not ipaddress.ip_address(addr).is_loopback:
            die(f"refusing non-loopback host {host} ({addr}): this load test runs on loopback only")


def decode_frames(video, tmp):
    if shutil.which("ffmpeg") is None:
        die("ffmpeg is not installed (scripts/setup.sh installs it)")
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", video, "-vf", "scale=640:480",
                    "-q:v", "5", os.path.join(tmp, "f%04d.jpg")], check=True, timeout=300)
    frames = []
    for path in sorted(glob.glob(os.path.join(tmp, "*.jpg"))):
        with open(path, "rb") as f:
            frames.append(json.dumps({"frame": base64.b64encode(f.read()).decode("ascii")}))
    if not frames:
        die(f"no frames decoded from {video}")
    return frames


# -- metrics ----------------------------------------------------------------------------------

_LINE = re.compile(r'^(liveproof_ws_frames_total|liveproof_ws_sessions_total)\{(.*)\}\s+(\S+)$')


def scrape(host, port, headers):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request("GET", "/metrics", headers=headers)
        r = conn.getresponse()
        text = r.read().decode("utf-8", "replace")
    finally:
        conn.close()
    out = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if m:
            out[(m.group(1), m.group(2))] = float(m.group(3))
    return out


def frames_outcome(metrics, outcome):
    return metrics.get(("liveproof_ws_frames_total", f'outcome="{outcome}"'), 0.0)


# -- one client -------------------------------------------------------------------------------

class Client:
    def __init__(self, host, port, path, headers, frames, fps, duration, start_at):
        self.args = (host, port, path, headers)
        self.frames = frames
        self.fps = fps
        self.duration = duration
        self.start_at = start_at
        self.latencies = []
        self.sent = 0
        self.replies = 0
        self.unanswered = 0
        self.kinds = {}       # reply type -> count (waiting, challenge, busy, error, ...)
        self.errors = {}      # error kind -> count
        self.lock = threading.Lock()
        self.pending = []     # send times not yet answered
        self.analysed = []    # latency to the next reply that is not 'busy'
        self.pending_analysed = []
        self.closed = threading.Event()
        self.sessions = 0

    def err(self, kind):
        with self.lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1

    def reader(self, ws):
        try:
            while True:
                text = ws.recv()
                now = time.monotonic()
                try:
                    msg = json.loads(text)
                    kind = msg.get("type", "?")
                    if kind == "failed":
                        kind = f"failed/{msg.get('reason')}"
                except (ValueError, AttributeError):
                    kind = "unparsable"
                with self.lock:
                    self.replies += 1
                    self.kinds[kind] = self.kinds.get(kind, 0) + 1
                    self.latencies.extend(now - t for t in self.pending)
                    self.pending.clear()
                    if kind != "busy":
                        self.analysed.extend(now - t for t in self.pending_analysed)
                        self.pending_analysed.clear()
        except WsClosed as e:
            if not self.closed.is_set() and e.code != 1000:
                self.err(f"closed/{e.code}")
        except OSError as e:
            if not self.closed.is_set():
                self.err(f"socket/{type(e).__name__}")

    def run(self):
        """Streams until the duration ends; a session that ends (complete or failed) is replaced
        by a new one so that N sessions stay open."""
        time.sleep(max(0.0, self.start_at - time.monotonic()))
        t0 = time.monotonic()
        while time.monotonic() - t0 < self.duration:
            if not self.session(t0):
                time.sleep(0.2)  # a refused or broken connect: do not spin

    def session(self, t0):
        host, port, path, headers = self.args
        try:
            ws = WsClient(host, port, path, headers, timeout=None)
        except OSError as e:
            self.err(f"connect/{type(e).__name__}")
            return False
        if ws.handshake_status != 101:
            ws.close()
            self.err(f"handshake/{ws.handshake_status}")
            return False
        try:
            first = json.loads(ws.recv())
            if first.get("type") != "start":
                self.err(f"first/{first.get('type')}")
        except (WsClosed, OSError, ValueError):
            ws.close()
            self.err("no_start")
            return False
        self.sessions += 1
        self.closed.clear()
        reader = threading.Thread(target=self.reader, args=(ws,), daemon=True)
        reader.start()
        n = len(self.frames)
        next_tick = time.monotonic()
        try:
            while True:
                now = time.monotonic()
                if now - t0 >= self.duration or not reader.is_alive():
                    break
                frame = self.frames[int((now - t0) * 30) % n]  # the clip plays at 30 fps
                with self.lock:
                    self.pending.append(time.monotonic())
                    self.pending_analysed.append(self.pending[-1])
                ws.send(frame)
                self.sent += 1
                next_tick += 1.0 / self.fps
                delay = next_tick - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            if reader.is_alive():
                # the run is over: a last reply may be on its way, give it one more second
                deadline = time.monotonic() + 1.0
                while time.monotonic() < deadline and reader.is_alive():
                    with self.lock:
                        if not self.pending:
                            break
                    time.sleep(0.01)
        except OSError as e:
            self.err(f"send/{type(e).__name__}")
        finally:
            self.closed.set()
            with self.lock:
                if reader.is_alive():
                    self.unanswered += len(self.pending)
                self.pending_analysed.clear()
                self.pending.clear()  # frames sent into a session that ended get no reply
            try:
                ws.sock.shutdown(socket.SHUT_RDWR)  # unblocks the reader
            except OSError:
                pass
            ws.close()
            reader.join(timeout=5)
        return True


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def run_level(n, host, port, path, headers, frames, fps, duration):
    before = scrape(host, port, headers)
    now = time.monotonic()
    # spread the connects and the first frames over one tick so the clients are not in phase
    clients = [Client(host, port, path, headers, frames, fps, duration,
                      now + 0.2 + (i / max(n, 1)) / fps) for i in range(n)]
    threads = [threading.Thread(target=c.run, daemon=True) for c in clients]
    t_start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + 60)
    wall = time.monotonic() - t_start
    time.sleep(0.5)
    after = scrape(host, port, headers)
    lat = sorted(x for c in clients for x in c.latencies)
    lat_a = sorted(x for c in clients for x in c.analysed)
    kinds, errors = {}, {}
    for c in clients:
        for k, v in c.kinds.items():
            kinds[k] = kinds.get(k, 0) + v
        for k, v in c.errors.items():
            errors[k] = errors.get(k, 0) + v
    for k in ("busy", "error"):
        if kinds.get(k):
            errors[f"reply/{k}"] = kinds[k]
    for k, v in kinds.items():
        if k.startswith("failed/"):
            errors[k] = v
    unanswered = sum(c.unanswered for c in clients)
    if unanswered:
        errors["unanswered_at_end"] = unanswered
    return {
        "clients": n,
        "sent": sum(c.sent for c in clients),
        "sessions": sum(c.sessions for c in clients),
        "completed": kinds.get("complete", 0),
        "replies": sum(c.replies for c in clients),
        "rps": sum(c.replies for c in clients) / duration,
        "p50": percentile(lat, 50) * 1000,
        "p95": percentile(lat, 95) * 1000,
        "p99": percentile(lat, 99) * 1000,
        "max": (lat[-1] * 1000) if lat else float("nan"),
        "a50": percentile(lat_a, 50) * 1000,
        "a95": percentile(lat_a, 95) * 1000,
        "processed": frames_outcome(after, "processed") - frames_outcome(before, "processed"),
        "dropped": frames_outcome(after, "dropped") - frames_outcome(before, "dropped"),
        "busy": frames_outcome(after, "busy") - frames_outcome(before, "busy"),
        "errors": errors,
        "wall": wall,
    }


def fmt_errors(errors):
    return ", ".join(f"{k} {v}" for k, v in sorted(errors.items())) or "none"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=30, help="concurrent clients (default 30)")
    ap.add_argument("--levels", help="comma-separated client counts, run in turn (overrides "
                                     "--clients), e.g. 1,10,30,60")
    ap.add_argument("--duration", type=float, default=30, help="seconds per level (default 30)")
    ap.add_argument("--fps", type=float, default=7, help="frames per second per client")
    ap.add_argument("--url", help="an existing server, ws://127.0.0.1:PORT/ws (loopback only)")
    ap.add_argument("--api-key", help="sent as X-API-KEY (also used for /metrics)")
    ap.add_argument("--bin", default=os.environ.get("LIVEPROOF_BIN",
                                                    os.path.join(ROOT, "build", "apps",
                                                                 "liveproof")))
    ap.add_argument("--models", default=os.environ.get("LIVEPROOF_MODEL_DIR",
                                                       os.path.join(ROOT, "models")))
    ap.add_argument("--shared", default=os.environ.get("LIVEPROOF_SHARED_DIR",
                                                       os.path.join(os.path.dirname(ROOT),
                                                                    "shared")))
    ap.add_argument("--workers", type=int, default=0, help="server workers (0 = one per core)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra server setting when the script starts the server")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    a = ap.parse_args()

    levels = [int(x) for x in a.levels.split(",")] if a.levels else [a.clients]
    if any(n < 1 or n > 1000 for n in levels):
        die("client counts must be in 1..1000")
    if not 0 < a.duration <= 600:
        die("--duration must be in (0, 600] seconds")
    if not 0 < a.fps <= 60:
        die("--fps must be in (0, 60]")
    headers = {"X-API-KEY": a.api_key} if a.api_key else {}

    server = None
    if a.url:
        u = urllib.parse.urlsplit(a.url)
        if u.scheme != "ws" or not u.hostname or not u.port:
            die("--url must look like ws://127.0.0.1:PORT/ws")
        require_loopback(u.hostname)
        host, port = u.hostname, u.port
        path = (u.path or "/ws") + (f"?{u.query}" if u.query else "")
    else:
        from server_harness import LiveproofServer  # the integration tests' launcher
        args = list(SESSION_ARGS)
        args += ["--set", f"ws_max_sessions={max(64, max(levels) + 4)}"]
        for kv in a.set:
            args += ["--set", kv]
        workers = a.workers or os.cpu_count() or 1
        if not os.access(a.bin, os.X_OK):
            die(f"liveproof binary not found at {a.bin}")
        import server_harness
        server_harness.MODELS = a.models
        server_harness.BIN = a.bin
        server = LiveproofServer(args, workers=workers).start()
        host, port, path = server.host, server.port, "/ws"
        require_loopback(host)

    video = os.path.join(a.shared, VIDEO)
    if not os.path.isfile(video):
        die(f"video not found: {video}")
    tmp = tempfile.mkdtemp(prefix="liveproof-loadws-")
    results = []
    try:
        frames = decode_frames(video, tmp)
        size = sum(len(f) for f in frames) / len(frames)
        print(f"# {len(frames)} frames of {VIDEO} (640x480, mean message {size / 1024:.1f} KiB), "
              f"{a.fps:g} fps per client, {a.duration:g} s per level, server "
              f"{'started by this script' if server else a.url} on {host}:{port}, "
              f"{os.cpu_count()} cores", flush=True)
        for n in levels:
            r = run_level(n, host, port, path, headers, frames, a.fps, a.duration)
            results.append(r)
            print(f"# N={n}: sessions {r['sessions']} ({r['completed']} completed), sent {r['sent']}, replies {r['replies']} ({r['rps']:.1f}/s), "
                  f"p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms, p99 {r['p99']:.0f} ms, "
                  f"max {r['max']:.0f} ms; to an analysed (non-busy) reply p50 {r['a50']:.0f} ms, "
                  f"p95 {r['a95']:.0f} ms; server processed {r['processed']:.0f}, dropped "
                  f"{r['dropped']:.0f}, busy {r['busy']:.0f}; errors: {fmt_errors(r['errors'])}",
                  flush=True)
            if server:
                time.sleep(1.0)  # let the closed sessions end before the next level
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if server:
            code = server.stop()
            print(f"# server exit status {code}", flush=True)

    if a.markdown or len(results) > 1:
        print("\n| clients | frames sent | replies/s | p50 ms | p95 ms | p99 ms | max ms | "
              "analysed p50 / p95 ms | processed | dropped (latest wins) | busy | "
              "sessions (completed) | errors by kind |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in results:
            print(f"| {r['clients']} | {r['sent']} | {r['rps']:.1f} | {r['p50']:.0f} | "
                  f"{r['p95']:.0f} | {r['p99']:.0f} | {r['max']:.0f} | {r['a50']:.0f} / {r['a95']:.0f} | "
                  f"{r['processed']:.0f} | "
                  f"{r['dropped']:.0f} | {r['busy']:.0f} | {r['sessions']} ({r['completed']}) | "
                  f"{fmt_errors(r['errors'])} |")


if __name__ == "__main__":
    main()

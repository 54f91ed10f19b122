"""Bad-input corpus, part 3: hostile WebSocket traffic on /ws (system A's protocol).

Each message case runs in its own session: after the "start" message the hostile message goes
out, and the server must answer exactly (A's {"type":"error","message":...} with frame_seq 1, or
a close with the exact code: 1007 invalid UTF-8, 1009 too big, 1002 protocol errors), then, when
the session is still open, answer a good frame (a 16x16 faceless JPEG: no_face, frame_seq 2).
Then: the crash reproductions (1e400 and friends), a ping flood, a message flood, 300 sessions
opened at once (ws_max_sessions is 64: the rest get HTTP 503 at the upgrade, each accepted one
gets "start"), handshake abuses, and rapid open/close. GET /healthz must answer after each case
and the RSS must stay within the bound of test_bad_input.py.
"""

import base64
import json
import os
import socket
import struct
import sys
import time
import unittest

from server_harness import T1, ServerTestCase, parse_raw_response, recv_all
from test_bad_input import (RUN, Case, CorpusMixin, make_jpeg, make_png, report_counts)
from test_websocket import wait_ws_sessions_ended
from ws_client import WsClient, WsClosed

MAX_MESSAGE = 65536
MAX_PIXELS = 10000
WS_MAX_SESSIONS = 64  # the server's default, not set below

GOOD_JPEG = make_jpeg()  # 16x16 = 256 pixels
GOOD = json.dumps({"frame": base64.b64encode(GOOD_JPEG).decode()})
NO_FACE = {"type": "no_face", "state": "WAITING_CENTER", "instruction": "CENTER", "success": 0,
           "total": 3}
START = {"type": "start", "state": "WAITING_CENTER", "instruction": "CENTER", "success": 0,
         "total": 3}
BINARY_ERROR = 'Binary messages are not accepted; send {"frame": "<base64 JPEG>"}'


def frame(opcode, payload, fin=True, mask=True, rsv=0):
    """One raw WebSocket frame from the client."""
    n = len(payload)
    out = bytes([(0x80 if fin else 0) | rsv | opcode])
    m = 0x80 if mask else 0
    if n < 126:
        out += bytes([m | n])
    elif n < 65536:
        out += bytes([m | 126]) + struct.pack(">H", n)
    else:
        out += bytes([m | 127]) + struct.pack(">Q", n)
    if not mask:
        return out + payload
    key = os.urandom(4)
    return out + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def b64(data):
    return base64.b64encode(data).decode()


def frame_msg(b64_text):
    return json.dumps({"frame": b64_text})


# -- one session per case -----------------------------------------------------------------------

class WsResult:
    def __init__(self):
        self.replies = []  # parsed messages after "start"
        self.texts = []
        self.close_code = None

    def __repr__(self):
        return f"<WsResult close={self.close_code} {self.texts}>"


def open_session(server, path="/ws", timeout=10):
    ws = WsClient(server.host, server.port, path, timeout=timeout)
    if ws.handshake_status != 101:
        ws.close()
        raise AssertionError(f"handshake answered {ws.handshake_status}")
    start = json.loads(ws.recv())
    if start != START:
        ws.close()
        raise AssertionError(f"first message {start}")
    return ws


def ws_exchange(payload=None, opcode=1, raw=None):
    """Opens a session, sends the hostile message (or raw bytes), reads the answer; if the
    session is still open, sends the good frame and reads its answer."""

    def build(server):
        result = WsResult()
        ws = open_session(server)
        try:
            if raw is not None:
                ws.sock.sendall(raw)
            else:
                ws.send(payload, opcode=opcode)
            for message in (None, GOOD):
                if message is not None:
                    ws.send(message)
                text = ws.recv()
                result.texts.append(text)
                result.replies.append(json.loads(text))
        except WsClosed as e:
            result.close_code = e.code
        except socket.timeout:
            result.close_code = "client timeout"
        finally:
            ws.close()
        return result

    return build


def compact(message):
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def answered(first):
    """The hostile message got `first` (+ frame_seq 1), the good frame got no_face (seq 2)."""

    def check(tc, r):
        tc.assertIsNone(r.close_code, r)
        tc.assertEqual(r.replies, [{**first, "frame_seq": 1}, {**NO_FACE, "frame_seq": 2}], r)
        tc.assertEqual(r.texts[0], compact({**first, "frame_seq": 1}), r)  # A's key order

    return check


def error(message):
    return answered({"type": "error", "message": message})


def closed(code):
    def check(tc, r):
        tc.assertEqual(r.close_code, code, r)
        tc.assertEqual(r.replies, [], r)

    return check


def ws_message_cases():
    text = b64(b"this is not an image, only text, quite a lot of it " * 3)
    big_frame = b64(make_jpeg(200, 200))  # 40000 pixels > 10000
    specs = [
        ("binary-jpeg", ws_exchange(GOOD_JPEG, opcode=2), error(BINARY_ERROR)),
        ("binary-empty", ws_exchange(b"", opcode=2), error(BINARY_ERROR)),
        ("binary-json", ws_exchange(GOOD.encode(), opcode=2), error(BINARY_ERROR)),
        ("invalid-json", ws_exchange("{not json"), error("Invalid JSON")),
        ("empty-text", ws_exchange(""), error("Invalid JSON")),
        ("whitespace-text", ws_exchange(" \n "), error("Invalid JSON")),
        ("bare-1e400", ws_exchange("1e400"), error("Invalid JSON")),
        ("frame-1e400", ws_exchange('{"frame":1e400}'), error("Invalid JSON")),
        ("array-0.1e99999", ws_exchange("[0.1e99999]"), error("Invalid JSON")),
        ("x-minus-1e999", ws_exchange('{"x":-1e999}'), error("Invalid JSON")),
        ("good-frame-plus-1e400", ws_exchange(GOOD[:-1] + ',"x":1e400}'), error("Invalid JSON")),
        ("nesting-17", ws_exchange('{"frame":' + "[" * 17 + "]" * 17 + "}"),
         error("Invalid JSON")),
        ("60000-brackets", ws_exchange("[" * 60000), error("Invalid JSON")),
        ("nan-literal", ws_exchange('{"frame":NaN}'), error("Invalid JSON")),
        ("lone-surrogate-escape", ws_exchange('{"frame":"\\ud800"}'), error("Invalid JSON")),
        ("top-level-array", ws_exchange("[1,2]"), error("frame field required")),
        ("top-level-string", ws_exchange('"frame"'), error("frame field required")),
        ("top-level-number", ws_exchange("42"), error("frame field required")),
        ("top-level-null", ws_exchange("null"), error("frame field required")),
        ("object-without-frame", ws_exchange('{"nope":1}'), error("frame field required")),
        ("frame-key-upper-case", ws_exchange('{"Frame":"' + GOOD[11:]),
         error("frame field required")),
        ("frame-integer", ws_exchange('{"frame":123}'), error("Invalid image data")),
        ("frame-null", ws_exchange('{"frame":null}'), error("Invalid image data")),
        ("frame-true", ws_exchange('{"frame":true}'), error("Invalid image data")),
        ("frame-array", ws_exchange('{"frame":["a"]}'), error("Invalid image data")),
        ("frame-object", ws_exchange('{"frame":{}}'), error("Invalid image data")),
        ("frame-duplicate-key-last-integer", ws_exchange('{"frame":"AAAA","frame":1}'),
         error("Invalid image data")),
        ("frame-empty-string", ws_exchange('{"frame":""}'), error("Invalid image data")),
        ("frame-bad-base64", ws_exchange('{"frame":"***not base64***"}'),
         error("Invalid image data")),
        ("frame-bad-padding", ws_exchange('{"frame":"QUJD="}'), error("Invalid image data")),
        ("frame-escaped-nul", ws_exchange('{"frame":"\\u0000"}'), error("Invalid image data")),
        ("frame-text-not-image", ws_exchange(frame_msg(text)), error("Could not decode image")),
        ("frame-gif", ws_exchange(frame_msg(b64(b"GIF89a" + bytes(40)))),
         error("Could not decode image")),
        ("frame-truncated-jpeg", ws_exchange(frame_msg(b64(GOOD_JPEG[:-2]))),
         error("Could not decode image")),
        ("frame-png-bad-crc", ws_exchange(frame_msg(b64(make_png(32, 32, bad_crc=True)))),
         error("Could not decode image")),
        ("frame-over-max-pixels", ws_exchange(frame_msg(big_frame)),
         error(f"Frame too large: 200x200 pixels, the cap is {MAX_PIXELS}")),
        ("frame-declares-60000x60000", ws_exchange(frame_msg(b64(make_jpeg(
            declared=(60000, 60000))))),
         error(f"Frame too large: 60000x60000 pixels, the cap is {MAX_PIXELS}")),
        ("frame-data-url", ws_exchange(frame_msg("data:image/jpeg;base64," + b64(GOOD_JPEG))),
         answered(NO_FACE)),
        ("frame-png", ws_exchange(frame_msg(b64(make_png(32, 32)))), answered(NO_FACE)),
        # closes
        ("invalid-utf8-text", ws_exchange(b'{"frame":"\xff\xfe"}', opcode=1), closed(1007)),
        ("invalid-utf8-across-fragments", ws_exchange(raw=frame(1, b'{"x":"\xc3', fin=False)
                                                      + frame(0, b'\x28"}')), closed(1007)),
        ("message-over-max-bytes", ws_exchange(frame_msg("A" * (MAX_MESSAGE + 100))),
         closed(1009)),
        ("declared-length-2-pow-63", ws_exchange(raw=bytes([0x81, 0xFF])
                                                 + struct.pack(">Q", 1 << 63) + b"abcd"),
         closed(1009)),
        ("fragments-over-max-bytes", ws_exchange(raw=frame(1, b"[" * 40000, fin=False)
                                                 + frame(0, b"]" * 40000)), closed(1009)),
        ("unmasked-client-frame", ws_exchange(raw=frame(1, b'{"frame":1}', mask=False)),
         closed(1002)),
        ("reserved-opcode-3", ws_exchange(raw=frame(3, b"x")), closed(1002)),
        ("reserved-opcode-11", ws_exchange(raw=frame(11, b"x")), closed(1002)),
        ("rsv1-without-extension", ws_exchange(raw=frame(1, b"{}", rsv=0x40)), closed(1002)),
        ("ping-payload-126-bytes", ws_exchange(raw=frame(9, b"x" * 126)), closed(1002)),
        ("fragmented-ping", ws_exchange(raw=frame(9, b"x", fin=False)), closed(1002)),
        ("continuation-without-start", ws_exchange(raw=frame(0, b"x")), closed(1002)),
        ("new-message-inside-fragmented-one", ws_exchange(raw=frame(1, b"{", fin=False)
                                                          + frame(1, b"}")), closed(1002)),
        ("close-with-code-999", ws_exchange(raw=frame(8, struct.pack(">H", 999))), closed(1002)),
        ("close-with-1-byte-payload", ws_exchange(raw=frame(8, b"\x03")), closed(1002)),
        ("close-1000", ws_exchange(raw=frame(8, struct.pack(">H", 1000))), closed(1000)),
        # well-formed but unusual framing: answered as usual
        ("fragmented-good-frame", ws_exchange(raw=frame(1, GOOD[:10].encode(), fin=False)
                                              + frame(0, GOOD[10:20].encode(), fin=False)
                                              + frame(0, GOOD[20:].encode())), answered(NO_FACE)),
        ("utf8-split-across-fragments", ws_exchange(raw=frame(1, '{"x":"\u00e9'.encode()[:-1],
                                                                fin=False)
                                                    + frame(0, '\u00e9"}'.encode()[-3:])),
         error("frame field required")),
        ("ping-between-fragments", ws_exchange(raw=frame(1, GOOD[:10].encode(), fin=False)
                                               + frame(9, b"p") + frame(0, GOOD[10:].encode())),
         answered(NO_FACE)),
    ]
    return [Case(name, build, check) for name, build, check in specs]


def handshake(path="/ws", headers=(), method="GET", key=True, version=b"13"):
    """A builder: a raw upgrade request; returns (status, headers, body) of the answer."""

    def build(server):
        lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: x", b"Upgrade: websocket",
                 b"Connection: Upgrade"]
        if key:
            lines.append(b"Sec-WebSocket-Key: " + (base64.b64encode(os.urandom(16))
                                                   if key is True else key))
        if version is not None:
            lines.append(b"Sec-WebSocket-Version: " + version)
        lines += list(headers)
        with server.connect(timeout=10) as s:
            s.sendall(b"\r\n".join(lines) + b"\r\n\r\n")
            s.settimeout(3)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except socket.timeout:
                pass
        return parse_raw_response(data)

    return build


def status_is(status, error_code=None):
    def check(tc, r):
        tc.assertEqual(r[0], status, r)
        if error_code is not None:
            tc.assertEqual(json.loads(r[2].decode())["error"], error_code, r)

    return check


def handshake_cases():
    specs = [
        ("version-12", handshake(version=b"12"), status_is(426)),
        ("version-missing", handshake(version=None), status_is(400)),
        ("key-missing", handshake(key=False), status_is(400)),
        # RFC 6455 section 4.2.1: the key must decode to 16 bytes, else 400
        ("key-not-16-bytes", handshake(key=b"c2hvcnQ="), status_is(400)),
        ("post-with-upgrade-headers", handshake(method="POST", headers=(b"Content-Length: 0",)),
         status_is(405, "method_not_allowed")),
        ("other-path", handshake("/wsx"), status_is(404, "not_found")),
        # refused as another path, without echoing it
        ("path-not-utf8", handshake("/ws%ff"), status_is(404, "not_found")),
        ("header-over-limit", handshake(headers=(b"X-Pad: " + b"p" * 20000,)),
         status_is(431, "headers_too_large")),
        ("upgrade-without-websocket", lambda s: parse_raw_response(s.raw_exchange(
            b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")),
         status_is(426, "upgrade_required")),
    ]
    return [Case(name, build, check) for name, build, check in specs]


class HostileWebSocket(CorpusMixin, ServerTestCase):
    REQUIRED_FILES = (T1,)
    SETTINGS = {"ws_max_message_bytes": MAX_MESSAGE, "ws_max_frame_pixels": MAX_PIXELS,
                "max_connections": 1000, "ws_idle_timeout": 30, "session_timeout": 120,
                "challenge_timeout": 60}
    # 300 sessions from one address must meet ws_max_sessions, not the per-client cap being added
    OPTIONAL_SETTINGS = {"max_connections_per_client": 1000}

    @classmethod
    def build_tables(cls):
        return {"ws-messages": ws_message_cases(), "ws-handshake": handshake_cases()}

    def setUp(self):
        wait_ws_sessions_ended(self.server)

    def test_messages(self):
        self.run_table("ws-messages")

    def test_handshakes(self):
        self.run_table("ws-handshake")

    # the crash reproductions of the hardening issue (1e400 in a message aborted the process)
    def test_crash_repro_1e400_messages_are_answered_and_server_lives(self):
        for payload in ("1e400", '{"frame":1e400}', "[0.1e99999]", '{"x":-1e999}'):
            with self.subTest(payload=payload):
                r = ws_exchange(payload)(self.server)
                RUN["crash-repro"] += 1
                error("Invalid JSON")(self, r)
                self.assertIsNone(self.server.proc.poll(), "the server process exited")
                self.assert_still_healthy()

    def test_ping_flood(self):
        ws = open_session(self.server)
        pongs = 0
        try:
            n = 2000
            ws.sock.sendall(b"".join(frame(9, struct.pack(">I", i)) for i in range(n)))
            ws.send(GOOD)
            deadline = time.monotonic() + 30
            reply = None
            while reply is None and time.monotonic() < deadline:
                b0, b1 = ws._recv_exact(2)
                length = b1 & 0x7F
                if length == 126:
                    length = struct.unpack(">H", ws._recv_exact(2))[0]
                payload = ws._recv_exact(length)
                if b0 & 0x0F == 10:
                    pongs += 1
                elif b0 & 0x0F == 1:
                    reply = json.loads(payload)
        finally:
            ws.close()
        RUN["ws-floods"] += 1
        self.assertEqual(reply, {**NO_FACE, "frame_seq": 1})
        self.assertEqual(pongs, n)
        self.assert_still_healthy()

    def test_unsolicited_pong_flood(self):
        ws = open_session(self.server)
        try:
            ws.sock.sendall(b"".join(frame(10, b"pong") for _ in range(2000)))
            ws.send(GOOD)
            reply = json.loads(ws.recv())
        finally:
            ws.close()
        RUN["ws-floods"] += 1
        self.assertEqual(reply, {**NO_FACE, "frame_seq": 1})
        self.assert_still_healthy()

    def test_error_message_flood_is_answered_in_order(self):
        ws = open_session(self.server)
        n = 1000
        try:
            ws.sock.sendall(b"".join(frame(1, b"1e400") for _ in range(n)))
            replies = [json.loads(ws.recv()) for _ in range(n)]
            ws.send(GOOD)
            last = json.loads(ws.recv())
        finally:
            ws.close()
        RUN["ws-floods"] += 1
        self.assertEqual([r["frame_seq"] for r in replies], list(range(1, n + 1)))
        self.assertTrue(all(r["message"] == "Invalid JSON" for r in replies))
        self.assertEqual(last, {**NO_FACE, "frame_seq": n + 1})
        self.assert_still_healthy()

    def test_300_sessions_at_once(self):
        n = 300
        key = base64.b64encode(os.urandom(16))
        request = (b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        socks = []
        statuses, starts, bodies = [], 0, []
        try:
            for _ in range(n):  # all connected and asking before any answer is read
                s = self.server.connect(timeout=20)
                s.sendall(request)
                socks.append(s)
            for s in socks:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                head, _, rest = data.partition(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1]) if head else 0
                statuses.append(status)
                if status == 101:
                    while len(rest) < 2 or len(rest) < 2 + (rest[1] & 0x7F):
                        rest += s.recv(4096)
                    message = json.loads(rest[2:2 + (rest[1] & 0x7F)])
                    starts += message == START
                elif status == 503:
                    bodies.append(rest + recv_all(s))
        finally:
            for s in socks:
                s.close()
        RUN["ws-sessions"] += 1
        accepted = statuses.count(101)
        print(f"\n[300 sessions] {accepted} accepted, {statuses.count(503)} refused",
              file=sys.stderr)
        self.assertEqual(set(statuses), {101, 503}, statuses)
        self.assertEqual(accepted, WS_MAX_SESSIONS)
        self.assertEqual(starts, accepted, "an accepted session did not get its start message")
        for body in bodies:
            self.assertEqual(json.loads(body.decode())["error"], "overloaded", body)
        wait_ws_sessions_ended(self.server, timeout=20)
        self.assert_still_healthy()
        open_session(self.server).close()  # the slots came back

    def test_rapid_open_close(self):
        for _ in range(200):
            ws = WsClient(self.server.host, self.server.port, "/ws", timeout=10)
            self.assertEqual(ws.handshake_status, 101)
            ws.close()  # before reading anything
        RUN["ws-sessions"] += 1
        wait_ws_sessions_ended(self.server, timeout=20)
        self.assert_still_healthy()
        r = ws_exchange("1e400")(self.server)
        error("Invalid JSON")(self, r)


def tearDownModule():
    report_counts("test_bad_input_ws")


if __name__ == "__main__":
    unittest.main()

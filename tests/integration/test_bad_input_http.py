"""Bad-input corpus, part 2: hostile HTTP at the transport, over raw sockets.

Oversized and duplicated headers, conflicting or lying Content-Length, Transfer-Encoding abuse,
chunked bodies over the cap, malformed chunks, HTTP/1.0 and other versions, unknown methods,
pipelining, path traversal variants, paths that are not UTF-8 after percent-decoding, a 20 KB
request line, and the timeouts (a body that never comes, slowloris, a dripping body, an idle
keep-alive connection), on a server with request_timeout_seconds=3 so that they are quick.

Each case is (name, raw request bytes, expected answer): the exact status of every response on
the connection, the native error code, and for traversal and path cases that no file content and
no raw request byte comes back. GET /healthz must answer after each case, and the RSS must not
grow past the bound of test_bad_input.py. Only the Python standard library is used.
"""

import json
import select
import socket
import time
import unittest

from server_harness import T1, ServerTestCase, recv_all
from test_bad_input import RUN, Case, CorpusMixin, make_jpeg, report_counts

TIMEOUT_S = 3       # request_timeout_seconds of the server below
JSON_CAP = 65536    # its max_json_bytes


# -- raw exchanges ------------------------------------------------------------------------------

class Exchange:
    """Everything the server sent on one connection until it closed, split into responses."""

    def __init__(self, data, elapsed):
        self.data = data
        self.elapsed = elapsed
        self.responses = parse_responses(data)

    def __repr__(self):
        return f"<Exchange {self.elapsed:.2f}s {self.data[:400]!r}>"


def parse_responses(data):
    """[(status, lower-case headers, body)] of a stream of HTTP/1.1 responses."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            out.append((None, {}, data))  # a fragment that is not a response
            break
        lines = head.decode("latin-1").split("\r\n")
        try:
            status = int(lines[0].split()[1])
        except (IndexError, ValueError):
            out.append((None, {}, data))
            break
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        out.append((status, headers, rest[:length]))
        data = rest[length:]
    return out


def exchange(data, timeout=10):
    """A builder: sends `data` on a fresh connection, reads until the server closes."""

    def build(server):
        started = time.monotonic()
        with server.connect(timeout) as s:
            s.sendall(data)
            try:
                got = recv_all(s)
            except socket.timeout:
                got = b"<client timeout: the server neither answered nor closed>"
        return Exchange(got, time.monotonic() - started)

    return build


def request(line, *headers, body=b"", close=True, host=True):
    """Raw request bytes: the request line, Host (unless host=False), headers, Connection:
    close (unless close=False), the blank line, the body."""
    out = line + b"\r\n"
    if host:
        out += b"Host: x\r\n"
    for h in headers:
        out += h + b"\r\n"
    if close:
        out += b"Connection: close\r\n"
    return out + b"\r\n" + body


def get(target, *headers, **kw):
    return request(b"GET " + target + b" HTTP/1.1", *headers, **kw)


def post(target, body, content_type=b"application/json", *headers, **kw):
    return request(b"POST " + target + b" HTTP/1.1", b"Content-Type: " + content_type,
                   b"Content-Length: %d" % len(body), *headers, body=body, **kw)


# -- expectations -------------------------------------------------------------------------------

def answers(*expected, forbid=()):
    """Each response on the connection in order: a status, or (status, error code) for the
    native JSON shape, or (status, None, header, value). Nothing else may follow, no response
    may carry a byte string of `forbid`, and the server must have closed within 8 s."""

    def check(tc, ex):
        tc.assertLess(ex.elapsed, 8, ex)
        got = [r[0] for r in ex.responses]
        want = [e if isinstance(e, int) else e[0] for e in expected]
        tc.assertEqual(got, want, ex)
        for (status, headers, body), e in zip(ex.responses, expected):
            if isinstance(e, tuple) and e[1] is not None:
                doc = json.loads(body.decode("utf-8"))
                tc.assertEqual(set(doc), {"error", "detail"}, doc)
                tc.assertEqual(doc["error"], e[1], doc)
            if isinstance(e, tuple) and len(e) == 4:
                tc.assertEqual(headers.get(e[2].lower()), e[3], headers)
        for needle in forbid:
            tc.assertNotIn(needle, ex.data, ex)

    return check


HEALTH = (200, None, "Content-Type", "application/json")
PASSWD = (b"root:", b"/bin/sh", b"/usr/sbin/nologin")


def http_cases():
    """(group, Case) pairs."""
    jpeg = make_jpeg()
    chunk = b"A" * 1000
    over_cap_chunked = b"".join(b"3e8\r\n" + chunk + b"\r\n" for _ in range(70)) + b"0\r\n\r\n"
    cases = {
        "headers": [
            ("header-value-20k", get(b"/healthz", b"X-Pad: " + b"p" * 20000),
             answers((431, "headers_too_large"))),
            ("3000-small-headers", get(b"/healthz", *[b"X-H%d: v" % i for i in range(3000)]),
             answers((431, "headers_too_large"))),
            ("request-line-20k", get(b"/" + b"a" * 20000), answers((431, "headers_too_large"))),
            ("method-20k", request(b"A" * 20000 + b" / HTTP/1.1"),
             answers((431, "headers_too_large"))),
            ("200-duplicated-headers", get(b"/healthz", *[b"X-Dup: v"] * 200), answers(HEALTH)),
            ("200-duplicated-accept", get(b"/healthz", *[b"Accept: */*"] * 200), answers(HEALTH)),
            # RFC 9112 section 3.2: more than one Host, or none in HTTP/1.1, is a 400
            ("200-duplicated-host", get(b"/healthz", *[b"Host: x"] * 199),
             answers((400, "bad_request"))),
            ("http11-without-host", get(b"/healthz", host=False), answers((400, "bad_request"))),
            ("http10-without-host", b"GET /healthz HTTP/1.0\r\n\r\n", answers(HEALTH)),
            ("http10-with-keep-alive-then-close", b"GET /healthz HTTP/1.0\r\n"
             b"Connection: keep-alive\r\n\r\nGET /healthz HTTP/1.0\r\n\r\n",
             answers(HEALTH, HEALTH)),
            ("header-name-with-space", get(b"/healthz", b"Bad Header: x"),
             answers((400, "bad_request"))),
            ("space-before-colon", get(b"/healthz", b"X-A : x"), answers((400, "bad_request"))),
            ("nul-in-header-value", get(b"/healthz", b"X-A: a\x00b"),
             answers((400, "bad_request"))),
            ("cr-in-header-value", get(b"/healthz", b"X-A: a\rb"), answers((400, "bad_request"))),
            ("obs-fold-header", get(b"/healthz", b"X-A: a", b" b"), answers(HEALTH)),
            ("bare-lf-line-endings", b"GET /healthz HTTP/1.1\nHost: x\nConnection: close\n\n",
             answers((400, "bad_request"))),
            ("http-2.0-request-line", request(b"GET /healthz HTTP/2.0"),
             answers((400, "bad_request"))),
            ("http-0.9-request-line", b"GET /healthz\r\n\r\n", answers((400, "bad_request"))),
            ("http2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", answers((400, "bad_request"))),
            ("tls-client-hello", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(40),
             answers((400, "bad_request"))),
        ],
        "body-framing": [
            ("content-length-twice-different", post(b"/v1/analyze", b'{"a":1', b"application/json",
                                                    b"Content-Length: 5"),
             answers((400, "bad_request"))),
            # identical duplicates may be read as one (RFC 9110 section 8.6): the handler runs
            ("content-length-twice-same", post(b"/v1/analyze", b"{}", b"application/json",
                                               b"Content-Length: 2"),
             answers((400, "invalid_argument"))),
            ("content-length-plus-sign", request(b"POST /v1/analyze HTTP/1.1",
                                                 b"Content-Length: +2", body=b"{}"),
             answers((400, "bad_request"))),
            ("content-length-negative", request(b"POST /v1/analyze HTTP/1.1",
                                                b"Content-Length: -1"),
             answers((400, "bad_request"))),
            ("content-length-10e23", request(b"POST /v1/analyze HTTP/1.1",
                                             b"Content-Length: 99999999999999999999999"),
             answers((400, "bad_request"))),
            ("content-length-hex", request(b"POST /v1/analyze HTTP/1.1",
                                           b"Content-Length: 0x10", body=b"{}"),
             answers((400, "bad_request"))),
            ("content-length-and-chunked", request(
                b"POST /v1/analyze HTTP/1.1", b"Content-Type: application/json",
                b"Content-Length: 2", b"Transfer-Encoding: chunked", body=b"2\r\n{}\r\n0\r\n\r\n"),
             answers((400, "bad_request"))),
            # RFC 9112 section 6.3: chunked not last -> 400 and close; reading this body as a
            # second request would let a proxy that frames it otherwise smuggle requests in
            ("transfer-encoding-gzip-alone", request(
                b"POST /v1/analyze HTTP/1.1", b"Content-Type: application/json",
                b"Transfer-Encoding: gzip", close=False,
                body=b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
             answers((400, "bad_request"))),
            ("declared-body-over-cap", request(b"POST /liveness HTTP/1.1",
                                               b"Content-Type: application/json",
                                               b"Content-Length: 1000000"),
             answers((413, "input_too_large"))),
            ("chunked-over-cap", request(b"POST /liveness HTTP/1.1",
                                         b"Content-Type: application/json",
                                         b"Transfer-Encoding: chunked", body=over_cap_chunked),
             answers((413, "input_too_large"))),
            ("chunk-size-not-hex", request(b"POST /v1/analyze HTTP/1.1",
                                           b"Content-Type: application/json",
                                           b"Transfer-Encoding: chunked",
                                           body=b"zz\r\n{}\r\n0\r\n\r\n"),
             answers((400, "bad_request"))),
            ("chunk-size-20-hex-digits", request(b"POST /v1/analyze HTTP/1.1",
                                                 b"Content-Type: application/json",
                                                 b"Transfer-Encoding: chunked",
                                                 body=b"f" * 20 + b"\r\n{}\r\n0\r\n\r\n"),
             answers((400, "bad_request"))),
            ("chunk-size-negative", request(b"POST /v1/analyze HTTP/1.1",
                                            b"Content-Type: application/json",
                                            b"Transfer-Encoding: chunked",
                                            body=b"-2\r\n{}\r\n0\r\n\r\n"),
             answers((400, "bad_request"))),
            ("chunk-with-extension", request(b"POST /v1/analyze HTTP/1.1",
                                             b"Content-Type: application/json",
                                             b"Transfer-Encoding: chunked",
                                             body=b"2;name=value\r\n{}\r\n0\r\n\r\n"),
             answers((400, "invalid_argument"))),
            # a Content-Length shorter than the body: the rest is read as the next request
            ("content-length-shorter-than-body", post(b"/v1/analyze", b'{"image":"AAAA"}',
                                                      close=False).replace(
                b"Content-Length: 16", b"Content-Length: 5"),
             answers((400, "invalid_json"), (400, "bad_request"))),
        ],
        "methods": [
            ("unknown-method-FOO", request(b"FOO /healthz HTTP/1.1"),
             answers((405, None, "Allow", "GET"))),
            ("unknown-method-BREW-on-post-route", request(b"BREW /v1/analyze HTTP/1.1"),
             answers((405, None, "Allow", "POST"))),
            ("webdav-PROPFIND", request(b"PROPFIND / HTTP/1.1"),
             answers((405, "method_not_allowed"))),
            ("lower-case-get", request(b"get /healthz HTTP/1.1"),
             answers((405, "method_not_allowed"))),
            ("TRACE", request(b"TRACE /healthz HTTP/1.1"), answers((405, "method_not_allowed"))),
            ("DELETE", request(b"DELETE /healthz HTTP/1.1"), answers((405, "method_not_allowed"))),
            ("POST-to-healthz", post(b"/healthz", b"{}"), answers((405, "method_not_allowed"))),
            ("method-with-at-sign", request(b"G@T /healthz HTTP/1.1"),
             answers((400, "bad_request"))),
            ("CONNECT-authority-form", request(b"CONNECT example.com:443 HTTP/1.1"),
             answers((404, "not_found"))),
            ("OPTIONS-asterisk", request(b"OPTIONS * HTTP/1.1"), answers((404, "not_found"))),
        ],
        "pipelining": [
            ("three-requests-in-one-write",
             get(b"/healthz", close=False) + get(b"/readyz", close=False) + get(b"/nope"),
             answers(HEALTH, 200, (404, "not_found"))),
            ("fifty-requests-in-one-write",
             get(b"/healthz", close=False) * 49 + get(b"/healthz"), answers(*[HEALTH] * 50)),
            ("analysis-then-health-in-order",
             post(b"/v1/analyze", jpeg, b"image/jpeg", close=False) + get(b"/healthz"),
             answers(200, HEALTH)),
            ("good-then-malformed", get(b"/healthz", close=False) + b"NOT HTTP AT ALL\r\n\r\n",
             answers(HEALTH, (400, "bad_request"))),
            ("error-then-more-requests", get(b"/nope", close=False) + get(b"/healthz"),
             answers((404, "not_found"), HEALTH)),
        ],
    }
    traversal = [
        b"/docs/../../etc/passwd", b"/docs/" + b"../" * 30 + b"etc/passwd",
        b"/test/%2e%2e/%2e%2e/etc/passwd", b"/test/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        b"/docs/..%2f..%2fetc%2fpasswd", b"/docs/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        b"/test/..%252f..%252fetc%252fpasswd", b"/docs/..\\..\\..\\etc\\passwd",
        b"/docs/%5c..%5c..%5c..%5cetc%5cpasswd", b"/docs//etc/passwd", b"/docs/%2fetc%2fpasswd",
        b"/test/....//....//....//etc/passwd", b"/test/../../../../proc/self/environ",
        b"/docs/../../../../../../proc/self/cmdline", b"http://x/etc/passwd",
        b"http://x/docs/../../etc/passwd", b"http://localhost/test/%2e%2e/%2e%2e/etc/passwd",
        b"file:///etc/passwd", b"//etc/passwd", b"/docs/../../CMakeCache.txt",
    ]
    cases["traversal"] = [(f"traversal {t.decode()}", get(t), answers(
        (404, "not_found"), forbid=PASSWD + (b"PATH=", b"CMAKE_"))) for t in traversal]
    bad_paths = [
        (b"/%ff", b"\xff"), (b"/%C3%28", b"\xc3("), (b"/test/%ff", b"\xff"),
        (b"/test/%c0%ae%c0%ae", b"\xc0\xae"), (b"/docs/%ff%fe", b"\xff\xfe"),
        (b"/%ed%a0%80", b"\xed\xa0\x80"), (b"/%e0%80%af", b"\xe0\x80\xaf"),
        (b"/%f4%90%80%80", b"\xf4\x90\x80\x80"), (b"/%80", b"\x80"), (b"/%00", b"\x00"),
        (b"/docs/index.html%00.png", b"\x00"), (b"/%0d%0aSet-Cookie:%20x=1", b"\r\nSet-Cookie"),
        (b"/%7f", b"\x7f"), (b"/\xff", b"\xff"), (b"/healthz%ff", b"\xff"),
    ]
    cases["paths"] = [(f"path {t.decode('latin-1')!r}", get(t),
                       answers((400, "invalid_path"), forbid=(raw,))) for t, raw in bad_paths]
    cases["paths"] += [
        ("post-v1-analyze-with-ff", post(b"/v1/analyze%ff", b"{}"),
         answers((400, "invalid_path"), forbid=(b"\xff",))),
        ("valid-utf8-unknown-path", get(b"/%C3%A9"), answers((404, "not_found"))),
        ("invalid-percent-escape", get(b"/%zz"), answers((404, "not_found"))),
        ("trailing-percent", get(b"/healthz%"), answers((404, "not_found"))),
        ("query-not-utf8", get(b"/healthz?x=%ff&%fe=1"), answers(HEALTH)),
        ("space-in-target", get(b"/a b"), answers((400, "bad_request"))),
    ]
    return {group: [Case(name, exchange(data), check) for name, data, check in items]
            for group, items in cases.items()}


class HostileHttp(CorpusMixin, ServerTestCase):
    """Transport-level abuse on a server with 3-second request timeouts."""

    REQUIRED_FILES = (T1,)
    SETTINGS = {"request_timeout_seconds": TIMEOUT_S, "max_json_bytes": JSON_CAP}
    # Hardening being added: the slowloris sockets below must meet the 3 s timeout, not a
    # per-client cap (max_connections_per_client) or a longer header timeout.
    OPTIONAL_SETTINGS = {"max_connections_per_client": 1000, "header_timeout_seconds": TIMEOUT_S}

    @classmethod
    def build_tables(cls):
        return http_cases()

    def test_headers(self):
        self.run_table("headers")

    def test_body_framing(self):
        self.run_table("body-framing")

    def test_methods(self):
        self.run_table("methods")

    def test_pipelining(self):
        self.run_table("pipelining")

    def test_path_traversal(self):
        self.run_table("traversal")

    def test_paths_that_are_not_utf8(self):
        self.run_table("paths")

    # the two crash reproductions of the hardening issue (GET /%ff aborted the process)
    def test_crash_repro_get_percent_ff_is_400_and_server_lives(self):
        for target in ("/%ff", "/%C3%28"):
            with self.subTest(target=target):
                r = self.server.get(target)
                self.assert_error_body(r, 400, "invalid_path")
                self.assertNotIn(b"\xff", r.body)
                self.assertNotIn(b"\xc3(", r.body)
                RUN["crash-repro"] += 1
                self.assert_still_healthy()
        self.assertIsNone(self.server.proc.poll(), "the server process exited")

    # -- timeouts ---------------------------------------------------------------------------

    def test_content_length_longer_than_body_times_out(self):
        # 5 bytes of a declared 1000: the server waits for the rest, then gives up at the
        # request timeout (closing, or answering 408) and serves others meanwhile.
        with self.server.connect(timeout=TIMEOUT_S + 10) as s:
            s.sendall(request(b"POST /liveness HTTP/1.1", b"Content-Type: application/json",
                              b"Content-Length: 1000", body=b'{"im'))
            started = time.monotonic()
            self.assert_still_healthy()
            got = recv_all(s)
            waited = time.monotonic() - started
        RUN["timeouts"] += 1
        self.assertGreater(waited, TIMEOUT_S - 1, got)
        self.assertLess(waited, TIMEOUT_S + 3, got)
        self.assertTrue(got == b"" or got.startswith(b"HTTP/1.1 408"), got)
        self.assert_still_healthy()

    def test_slowloris_sockets_are_dropped_at_the_timeout(self):
        # 100 connections each send half a request line, then a byte every 0.5 s; the request
        # timeout is a deadline for the whole header, so trickling does not keep them open.
        socks = [self.server.connect(timeout=5) for _ in range(100)]
        try:
            for s in socks:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            started = time.monotonic()
            open_socks = list(socks)
            healthy_during = self.server.is_healthy()
            while open_socks and time.monotonic() - started < TIMEOUT_S + 5:
                readable, _, _ = select.select(open_socks, [], [], 0.5)
                for s in readable:
                    try:
                        data = s.recv(4096)
                    except OSError:
                        data = b""
                    self.assertNotIn(b"200 OK", data)
                    if not data:
                        open_socks.remove(s)
                for s in open_socks:
                    try:
                        s.sendall(b"a")
                    except OSError:
                        open_socks.remove(s)
            waited = time.monotonic() - started
        finally:
            for s in socks:
                s.close()
        RUN["timeouts"] += 1
        self.assertTrue(healthy_during, "GET /healthz failed while slowloris sockets were open")
        self.assertEqual(open_socks, [], f"{len(open_socks)} slow sockets still open after "
                                         f"{waited:.1f} s")
        self.assertGreater(waited, TIMEOUT_S - 1)
        self.assert_still_healthy()

    def test_dripping_body_is_dropped_at_the_timeout(self):
        with self.server.connect(timeout=TIMEOUT_S + 10) as s:
            s.sendall(request(b"POST /liveness HTTP/1.1", b"Content-Type: application/json",
                              b"Content-Length: 1000"))
            started = time.monotonic()
            closed = False
            while time.monotonic() - started < TIMEOUT_S + 5:
                try:
                    s.sendall(b" ")
                except OSError:
                    closed = True
                    break
                readable, _, _ = select.select([s], [], [], 0.5)
                if readable:
                    try:
                        data = s.recv(4096)
                    except OSError:
                        data = b""
                    if not data or data.startswith(b"HTTP/1.1 408"):
                        closed = True
                        break
            waited = time.monotonic() - started
        RUN["timeouts"] += 1
        self.assertTrue(closed, "a body dripping one byte per 0.5 s kept its connection open")
        self.assertLess(waited, TIMEOUT_S + 3)
        self.assert_still_healthy()

    def test_idle_keep_alive_connection_is_closed(self):
        with self.server.connect(timeout=TIMEOUT_S + 10) as s:
            s.sendall(get(b"/healthz", close=False))
            first = s.recv(4096)
            started = time.monotonic()
            rest = recv_all(s)
            waited = time.monotonic() - started
        RUN["timeouts"] += 1
        self.assertTrue(first.startswith(b"HTTP/1.1 200"), first)
        self.assertEqual(rest, b"")
        self.assertLess(waited, TIMEOUT_S + 3)


def tearDownModule():
    report_counts("test_bad_input_http")


if __name__ == "__main__":
    unittest.main()

"""Several nodes on one PostgreSQL behind nginx (docs/scaling.md), all real processes on loopback:
a PostgreSQL from initdb, three `liveproof serve` nodes sharing it and one signing key file,
and nginx with deploy/nginx/liveproof.conf in front.

Shown: a session created on one node runs its WebSocket on another and reads back on the third
with the same verdict, which verifies (PyJWT) against every node's JWKS; a second run on yet
another node is refused; the same through nginx; 50 sessions created and run concurrently
through nginx all complete and read the same from every node; kill -9 of a node holding running
sessions: the others keep serving, its runs end FAILED interrupted (by the other nodes' sweepers)
and no finished session is lost; PostgreSQL stopped for 10 s under load: only 503s meanwhile, no
lost or duplicated verdict, service back within seconds of its return.

Skips cleanly without the binary, the models, the shared data, ffmpeg, PyJWT, PostgreSQL or
nginx.
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from cluster_harness import Nginx, Postgres, require_cluster_tools  # noqa: E402
from server_harness import BIN, T1, LiveproofServer, read_shared, require_assets  # noqa: E402
from test_sessions import (ALPHA, AUDIENCE, PersonPlayer, SessionClient, require_jwt,  # noqa
                           run_session_ws, verify_verdict, ws_path)
from test_websocket import HEADTURN_VIDEO, require_ffmpeg, video_frames  # noqa: E402
from ws_client import WsClient  # noqa: E402

SESSION_TIMEOUT = 12
STALE_GRACE = 2
NODE_ARGS = ("--api-key", ALPHA, "--set", f"verdict_audience={AUDIENCE}",
             "--set", "challenges=LEFT,RIGHT", "--set", "required_successes=2",
             "--set", "max_wrong_attempts=50", "--set", "challenge_timeout=10",
             "--set", f"session_timeout={SESSION_TIMEOUT}", "--set", "ws_idle_timeout=10",
             "--set", f"stale_run_grace={STALE_GRACE}", "--set", "trusted_proxies=127.0.0.1",
             "--set", "attempt_max_failures=0")


class Endpoint(LiveproofServer):
    """Requests to a listening address that this test did not start (nginx)."""

    def __init__(self, port):
        super().__init__()
        self.port = port


class Cluster(PersonPlayer, unittest.TestCase):
    """Three nodes, one PostgreSQL, one nginx; one set-up for all tests (in order)."""

    @classmethod
    def setUpClass(cls):
        require_assets(HEADTURN_VIDEO, T1)
        require_jwt()
        require_ffmpeg()
        require_cluster_tools()
        cls.pg = Postgres().init()
        cls.keys = os.path.join(tempfile.mkdtemp(prefix="liveproof-keys-"), "keys.json")
        subprocess.run([BIN, "keygen", cls.keys], check=True, timeout=30,
                       stdout=subprocess.DEVNULL)
        cls.nodes = []
        try:
            for i in range(3):
                cls.nodes.append(cls.start_node(i))
            cls.nginx = Nginx([n.port for n in cls.nodes]).start()
        except Exception:
            cls.tearDownClass()
            raise
        cls.front = Endpoint(cls.nginx.port)
        cls.server = cls.nodes[0]
        cls.alpha = SessionClient(cls.front, ALPHA)
        cls.figures = {}

    @classmethod
    def start_node(cls, i):
        node = LiveproofServer(args=(*NODE_ARGS, "--set", f"store_url={cls.pg.url}",
                                     "--set", f"signing_key_file={cls.keys}",
                                     "--set", f"node_id=node-{i}"))
        return node.start()

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "figures", None):
            print(f"\n[cluster] {json.dumps(cls.figures)}", file=sys.stderr)
        if getattr(cls, "nginx", None):
            cls.nginx.stop()
        for n in getattr(cls, "nodes", []):
            n.stop()
        if getattr(cls, "pg", None):
            cls.pg.destroy()

    def client(self, endpoint):
        return SessionClient(endpoint, ALPHA)

    def live_image_run(self, endpoint, retries=0):
        """Creates a passive session and runs it, both through @p endpoint; (session, answer).
        A 503 (workers busy) leaves the session unused: retried up to @p retries times after
        its Retry-After, as a client should."""
        c = self.client(endpoint)
        s = c.create(mode="passive")
        for attempt in range(retries + 1):
            r = endpoint.post_raw(f"/v1/sessions/{s['session_id']}/image?token="
                                  f"{s['client_token']}", read_shared(T1), "image/jpeg")
            if r.status != 503 or attempt == retries:
                break
            self.retried = getattr(self, "retried", 0) + 1
            time.sleep(float(r.header("Retry-After") or 1))
        return s, r

    def test_1_a_session_runs_on_one_node_and_reads_back_on_another(self):
        s = self.client(self.nodes[0]).create(nonce="across")
        self.server = self.nodes[1]
        messages = self.run_person(s)
        last = messages[-1]
        self.assertEqual(last["type"], "complete", messages[-3:])
        record = self.client(self.nodes[2]).read(s["session_id"])
        self.assertEqual((record["status"], record["verdict"]), ("SUCCEEDED", last["verdict"]))
        jwks = [self.client(n).jwks() for n in (*self.nodes, self.front)]
        self.assertTrue(all(j == jwks[0] for j in jwks), "every node publishes the same keys")
        for j in jwks:
            self.assertEqual(verify_verdict(last["verdict"], j)["sub"], s["session_id"])
        # A second run, on the third node: refused.
        status, _ = run_session_ws(self.nodes[2], ws_path(s), video_frames(HEADTURN_VIDEO)[:1])
        self.assertEqual(status, 409)
        # The same through nginx: created, run over its WebSocket upgrade, read back.
        t = self.alpha.create()
        self.assertIn(f":{self.nginx.port}/", t["ws_url"])
        self.server = self.front
        through = self.run_person(t)
        self.assertEqual(through[-1]["type"], "complete", through[-3:])
        self.assertEqual(self.alpha.read(t["session_id"])["verdict"], through[-1]["verdict"])
        self.server = self.nodes[0]

    def test_2_fifty_concurrent_sessions_through_nginx(self):
        with ThreadPoolExecutor(max_workers=50) as pool:
            runs = list(pool.map(lambda _: self.live_image_run(self.front, retries=30),
                                 range(50)))
        statuses = [r.status for _, r in runs]
        self.assertEqual(statuses, [200] * 50, statuses)
        for s, r in runs:
            answer = r.json()
            for n in self.nodes:
                record = self.client(n).read(s["session_id"])
                self.assertEqual((record["status"], record["verdict"]),
                                 ("SUCCEEDED", answer["verdict"]))
        self.figures["concurrent_sessions"] = {"sessions": 50, "succeeded": statuses.count(200),
                                               "busy_503_retried": getattr(self, "retried", 0),
                                               "read_back_on_every_node": True}

    def test_3_kill9_of_a_node_holding_runs(self):
        victim = self.nodes[2]
        done, _ = self.live_image_run(victim)
        finished = self.client(victim).read(done["session_id"])
        # Three runs in progress on the victim: opened and centred, then left waiting.
        running, sockets = [], []
        centre = next(b64 for b64, yaw in self.analysed_frames() if yaw is not None and
                      abs(yaw) < 5)
        for _ in range(3):
            s = self.client(victim).create()
            ws = WsClient(victim.host, victim.port, ws_path(s), timeout=30)
            self.assertEqual(ws.handshake_status, 101)
            json.loads(ws.recv())
            ws.send(json.dumps({"frame": centre}))
            json.loads(ws.recv())
            running.append(s["session_id"])
            sockets.append(ws)
        for sid in running:
            self.assertEqual(self.client(self.nodes[0]).read(sid)["status"], "IN_PROGRESS")
        victim.kill()
        t_kill = time.monotonic()
        for ws in sockets:
            ws.close()
        # The others keep serving, through nginx too (it skips the dead node).
        served = [self.live_image_run(self.front)[1].status for _ in range(6)]
        self.assertEqual(served, [200] * 6, served)
        # Its runs end FAILED interrupted by the others' sweepers once they are older than
        # session_timeout + stale_run_grace (sweeps every 5 s).
        deadline = t_kill + SESSION_TIMEOUT + STALE_GRACE + 20
        while True:
            ends = [self.client(self.nodes[0]).read(sid) for sid in running]
            if all(e["status"] != "IN_PROGRESS" for e in ends):
                break
            self.assertLess(time.monotonic(), deadline, [e["status"] for e in ends])
            time.sleep(1)
        took = time.monotonic() - t_kill
        self.assertEqual({(e["status"], e["reason"]) for e in ends}, {("FAILED", "interrupted")})
        kept = self.client(self.nodes[1]).read(done["session_id"])
        self.assertEqual(kept["verdict"], finished["verdict"])
        self.figures["kill9"] = {"runs_in_progress": 3, "ended_interrupted": len(ends),
                                 "seconds_to_end": round(took, 1), "served_meanwhile": 6}

    def test_4_postgresql_stopped_for_10_s_under_load(self):
        nodes = self.nodes[:2]  # the third was killed above
        results = []
        stop = threading.Event()

        def load():
            while not stop.is_set():
                t = time.monotonic()
                try:
                    s_status, body = 0, None
                    c = self.front.post_json("/v1/sessions", {"mode": "passive"},
                                             {"X-API-KEY": ALPHA.split(":", 1)[1]})
                    s_status = c.status
                    if c.status == 201:
                        s = c.json()
                        r = self.front.post_raw(f"/v1/sessions/{s['session_id']}/image?token="
                                                f"{s['client_token']}", read_shared(T1),
                                                "image/jpeg")
                        body = (s["session_id"], r.status, r.json() if r.status == 200 else None)
                    results.append((t, s_status, body))
                except Exception as e:  # a refused or cut connection counts, with its cause
                    results.append((t, -1, repr(e)))
                time.sleep(0.05)

        threads = [threading.Thread(target=load) for _ in range(3)]
        for th in threads:
            th.start()
        time.sleep(3)
        t_stop = time.monotonic()
        self.pg.stop("fast")
        time.sleep(10)
        not_ready = [n.get("/readyz").status for n in nodes]
        t_start = time.monotonic()
        self.pg.start()
        time.sleep(8)
        stop.set()
        for th in threads:
            th.join(timeout=60)
        before = [r for r in results if r[0] < t_stop]
        during = [r for r in results if t_stop <= r[0] < t_start]
        after = [r for r in results if r[0] >= t_start]
        self.assertEqual(not_ready, [503, 503])
        self.assertEqual([n.get("/readyz").status for n in nodes], [200, 200])
        # Before and after: successes. During: only 503s (or a run that began just before).
        bad = [r for r in results if r[1] not in (201, 503) or
               (r[2] is not None and r[2][1] not in (200, 503))]
        self.assertFalse(bad, bad[:5])
        self.assertTrue(before and all(r[1] == 201 for r in before))
        first_ok = min((r[0] for r in after if r[1] == 201 and r[2] and r[2][1] == 200),
                       default=None)
        self.assertIsNotNone(first_ok, "no success after PostgreSQL returned")
        # Every verdict a client got is stored, once, as it was sent.
        verdicts = [r[2] for r in results if r[2] is not None and r[2][1] == 200]
        ids = [v[0] for v in verdicts]
        self.assertEqual(len(ids), len(set(ids)))
        for sid, _, answer in verdicts:
            record = self.client(nodes[0]).read(sid)
            self.assertEqual(record["verdict"], answer["verdict"], sid)
        self.figures["postgresql_gap"] = {
            "requests": len(results), "before": len(before), "during": len(during),
            "during_503": sum(1 for r in during if r[1] == 503 or
                              (r[2] is not None and r[2][1] == 503)),
            "after": len(after), "verdicts_checked": len(verdicts),
            "seconds_to_first_success": round(first_ok - t_start, 2)}


if __name__ == "__main__":
    unittest.main()

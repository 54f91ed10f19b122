"""System A's HTTP polling door over a real server (docs/compat.md §1.2): POST /start, then
POST /frame?session_id=<id> with the frame as multipart field "file".

A's shapes are kept (404 {"detail":"Session not found"}, 400 {"detail":"Invalid image"},
{"status":"NO_FACE"}, {"yaw","pitch","challenge","success","live"}) while the session is run by
the same challenge run as the WebSocket: centring, timeouts, one face, and "live" only once the
passive evidence said live (A said live after two moves, with no check at all). Real frames: the
head-turn clip and the phone replay, decoded with the ffmpeg CLI, sent stop-and-wait as A's own
client does. Also: the session cap (503) and expiry (404), the session timeout, the metrics.

Skips cleanly without the binary, the models, the shared data or ffmpeg.
"""

import base64
import os
import re
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from server_harness import NO_FACE, REPLAY_VIDEO, ServerTestCase, read_shared  # noqa: E402
from test_websocket import FPS, HEADTURN_VIDEO, metric, require_ffmpeg, scrape, \
    video_frames  # noqa: E402

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# A's keys first, in A's order, then ours.
JUDGED_KEYS = ["yaw", "pitch", "challenge", "success", "live", "type", "state", "instruction",
               "total"]
NO_FACE_KEYS = ["status", "success", "live", "type", "state", "instruction", "total"]
FAILED_KEYS = ["status", "reason", "message", "success", "live", "type", "total"]


def jpeg_frames(relative):
    return [base64.b64decode(f) for f in video_frames(relative)]


class PollingClient:
    """A's polling client: /start, then one /frame after each answer (150 ms apart)."""

    def __init__(self, server):
        self.server = server

    def start(self):
        r = self.server.request("POST", "/start", b"")
        return r.status, r.json()

    def frame(self, session_id, jpeg, field="file"):
        r = self.server.post_multipart(f"/frame?session_id={session_id}",
                                       {field: ("frame.jpg", jpeg, "image/jpeg")})
        return r.status, r.json(), r.body

    def run(self, frames, limit_s=90, pause_s=0.15):
        status, start = self.start()
        assert status == 200, (status, start)
        answers = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < limit_s:
            index = int((time.monotonic() - t0) * FPS) % len(frames)
            status, body, _ = self.frame(start["session_id"], frames[index])
            assert status == 200, (status, body)
            answers.append(body)
            if body.get("live") or body.get("status") == "FAILED":
                break
            time.sleep(pause_s)
        return start, answers


class PollingFlow(ServerTestCase):
    """The head-turn clip completes live; the phone replay never does; A's errors and shapes."""

    REQUIRED_FILES = (HEADTURN_VIDEO, REPLAY_VIDEO, NO_FACE)
    SERVER_ARGS = ("--set", "challenges=LEFT,RIGHT", "--set", "required_successes=2",
                   "--set", "max_wrong_attempts=50", "--set", "challenge_timeout=30",
                   "--set", "session_timeout=90", "--set", "ws_idle_timeout=60")

    @classmethod
    def setUpClass(cls):
        require_ffmpeg()
        super().setUpClass()

    def assert_shape(self, body):
        if body.get("status") == "NO_FACE":
            self.assertEqual(list(body), NO_FACE_KEYS, body)
        elif body.get("status") == "FAILED":
            self.assertEqual(list(body), FAILED_KEYS, body)
            self.assertIs(body["live"], False)
        else:
            self.assertEqual(list(body), JUDGED_KEYS, body)
            self.assertIn(body["challenge"], {"CENTER", "LEFT", "RIGHT", "VERIFIED"}, body)

    def test_1_start_gives_a_uuid4_session_waiting_for_the_centre(self):
        status, start = PollingClient(self.server).start()
        self.assertEqual(status, 200, start)
        self.assertRegex(start["session_id"], UUID4)
        self.assertEqual(start["challenge"], "CENTER")
        self.assertEqual(start["state"], "WAITING_CENTER")
        self.assertEqual(start["total"], 2)
        other = PollingClient(self.server).start()[1]
        self.assertNotEqual(start["session_id"], other["session_id"])

    def test_2_the_head_turn_clip_completes_live_and_the_answer_then_stays(self):
        client = PollingClient(self.server)
        before = scrape(self.server)
        start, answers = client.run(jpeg_frames(HEADTURN_VIDEO))
        for a in answers:
            self.assert_shape(a)
        last = answers[-1]
        print(f"\n[polling head-turn] {len(answers)} frames, last {last}", file=sys.stderr)
        self.assertIs(last["live"], True, last)
        self.assertEqual(last["challenge"], "VERIFIED")
        self.assertEqual(last["success"], 2)
        # Live only at the end: A said live at success >= 2 on any frame.
        self.assertTrue(all(a["live"] is False for a in answers[:-1]))
        # A finished session repeats its verdict and analyses nothing more.
        status, again, _ = client.frame(start["session_id"], jpeg_frames(HEADTURN_VIDEO)[0])
        self.assertEqual((status, again), (200, last))
        after = scrape(self.server)
        self.assertEqual(metric(after, "liveproof_poll_sessions_total", event="completed")
                         - metric(before, "liveproof_poll_sessions_total", event="completed"), 1)

    def test_3_the_phone_replay_never_ends_live(self):
        start, answers = PollingClient(self.server).run(jpeg_frames(REPLAY_VIDEO), limit_s=40)
        last = answers[-1]
        print(f"\n[polling replay] {len(answers)} frames, last {last}", file=sys.stderr)
        self.assertFalse(any(a["live"] for a in answers), last)
        if last.get("status") == "FAILED":
            self.assertEqual(last["reason"], "spoof_detected", last)

    def test_4_a_errors(self):
        client = PollingClient(self.server)
        sid = client.start()[1]["session_id"]
        frame = jpeg_frames(HEADTURN_VIDEO)[0]
        # unknown session (also a near miss of a real id)
        for bad in ("nope", sid[:-1] + ("0" if sid[-1] != "0" else "1"), ""):
            status, body, _ = client.frame(bad, frame)
            self.assertEqual((status, body), (404, {"detail": "Session not found"}), bad)
        r = self.server.post_multipart("/frame", {"file": ("f.jpg", frame, "image/jpeg")})
        self.assertEqual(r.status, 422, r)
        self.assertIn("session_id", r.json()["detail"])
        # undecodable bytes: A's 400
        status, body, _ = client.frame(sid, b"\xff\xd8 this is not a jpeg")
        self.assertEqual((status, body), (400, {"detail": "Invalid image"}))
        # the wrong field name
        status, body, _ = client.frame(sid, frame, field="image")
        self.assertEqual(status, 422, body)
        self.assertIn("file", body["detail"])
        # no face: A's NO_FACE, and the session goes on
        status, body, _ = client.frame(sid, read_shared(NO_FACE))
        self.assertEqual(status, 200, body)
        self.assertEqual(body["status"], "NO_FACE", body)
        self.assert_shape(body)
        status, body, _ = client.frame(sid, frame)
        self.assertEqual(status, 200, body)
        self.assert_shape(body)
        self.assertNotIn("status", body)
        self.assertTrue(self.server.is_healthy())


class PollingBadImages(ServerTestCase):
    """The bad-input corpus's images (test_bad_input.image_specs: truncated, bit-flipped,
    declared-huge, odd colour models, EXIF...) through POST /frame, each in a fresh session:
    undecodable bytes get A's 400 "Invalid image", nothing gets a 5xx, every answer is JSON in
    A's shapes, and the server stays up."""

    REQUIRED_FILES = (NO_FACE,)
    SERVER_ARGS = ("--set", "max_connections_per_client=1000",
                   "--set", "analysis_budget_seconds=120")

    def test_every_corpus_image(self):
        from test_bad_input import image_specs  # noqa: E402 (builds the corpus with stdlib only)
        client = PollingClient(self.server)
        checked = 0
        for name, data, kind in image_specs():
            status, start = client.start()
            self.assertEqual(status, 200, start)
            status, body, raw = client.frame(start["session_id"], data)
            self.assertLess(status, 500, (name, raw[:200]))
            if kind in ("corrupt", "unsupported"):
                self.assertEqual((status, body), (400, {"detail": "Invalid image"}), name)
            elif status == 200:
                self.assertIn("live", body, name)
                self.assertIs(body["live"], False, name)  # one frame never completes
            else:
                self.assertIn(status, (400, 413, 422), (name, body))
                self.assertIsInstance(body.get("detail"), str, (name, body))
            checked += 1
        self.assertGreater(checked, 20)
        self.assertTrue(self.server.is_healthy())


class PollingCapsAndExpiry(ServerTestCase):
    """At most poll_max_sessions open; a session expires poll_session_ttl after /start; the
    challenge's own session timeout fails it first."""

    REQUIRED_FILES = (HEADTURN_VIDEO,)
    SERVER_ARGS = ("--set", "poll_max_sessions=2", "--set", "poll_session_ttl=6",
                   "--set", "session_timeout=2")

    @classmethod
    def setUpClass(cls):
        require_ffmpeg()
        super().setUpClass()

    def test_cap_timeout_and_expiry(self):
        client = PollingClient(self.server)
        first = client.start()[1]["session_id"]
        client.start()
        r = self.server.request("POST", "/start", b"")
        self.assertEqual(r.status, 503, r)
        self.assertIn("sessions", r.json()["detail"])
        self.assertIsNotNone(r.header("Retry-After"))
        # the challenge's session timeout (2 s) fails the session on its next frame
        time.sleep(2.3)
        status, body, _ = client.frame(first, jpeg_frames(HEADTURN_VIDEO)[0])
        self.assertEqual(status, 200, body)
        self.assertEqual((body["status"], body["reason"]), ("FAILED", "timeout"), body)
        # after the TTL both are gone: the id is unknown and there is room again
        time.sleep(6.5 - 2.3)
        status, body, _ = client.frame(first, jpeg_frames(HEADTURN_VIDEO)[0])
        self.assertEqual((status, body), (404, {"detail": "Session not found"}))
        status, body = client.start()
        self.assertEqual(status, 200, body)
        m = scrape(self.server)
        self.assertGreaterEqual(metric(m, "liveproof_poll_sessions_total", event="refused"), 1)
        self.assertGreaterEqual(
            metric(m, "liveproof_poll_sessions_total", event="failed", reason="timeout"), 1)


if __name__ == "__main__":
    unittest.main()

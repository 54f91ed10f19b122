"""Liveness sessions end to end (docs/sessions.md) over real HTTP and WebSocket, real models and
videos: created by a backend with its API key, run once by a client holding only the session id
and token, recorded in the SQLite store, and ended by a signed verdict that an independent
implementation (Debian's PyJWT with python3-cryptography, not liveproof's code) verifies against
/.well-known/jwks.json.

Covers: head-turn video -> SUCCEEDED live (verdict verified, images and their digests, audit trail);
phone replay -> FAILED; the pre-recorded-frames attack (each instruction answered at once with a
stored frame of a real person) -> FAILED too_fast / injection_suspected; token reuse, another
session's token, expiry, another key's session, the wrong door -> refused; tampered verdicts
(claim, signature, alg none, unknown kid) rejected by the verifier; the passive and blink doors;
attempt limits; require_sessions; kill -9 under load and restart (every verdict a client received
is stored; runs in progress end FAILED interrupted).

Skips cleanly without the binary, the models, the shared data, ffmpeg or PyJWT.
"""

import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from server_harness import (F1, REPLAY_VIDEO, T1, LiveproofServer, ServerTestCase,  # noqa: E402
                            read_shared, require_assets)
from test_websocket import HEADTURN_VIDEO, frame_msg, require_ffmpeg, video_frames  # noqa: E402
from ws_client import WsClient, WsClosed  # noqa: E402

try:
    import jwt  # Debian python3-jwt: the independent verifier
    from jwt.algorithms import OKPAlgorithm
except ImportError:  # pragma: no cover - setup.sh installs it
    jwt = None

BLINK_VIDEO = "data/video/wolf_live_blinks.mp4"
ALPHA = "alpha:alpha-secret-0123456789"
BETA = "beta:beta-secret-0123456789"
AUDIENCE = "bank-backend"
CHALLENGE_ARGS = ("--set", "challenges=LEFT,RIGHT", "--set", "required_successes=2",
                  "--set", "max_wrong_attempts=50", "--set", "challenge_timeout=30",
                  "--set", "session_timeout=90")


def key_header(entry):
    return {"X-API-KEY": entry.split(":", 1)[1]}


def require_jwt():
    if jwt is None:
        raise unittest.SkipTest("python3-jwt is not installed (scripts/setup.sh installs it)")


def verify_verdict(token, jwks, audience=AUDIENCE):
    """PyJWT's own check: the key named by kid in the JWKS, EdDSA only, aud and exp."""
    header = jwt.get_unverified_header(token)
    keys = [k for k in jwks["keys"] if k.get("kid") == header.get("kid")]
    if not keys:
        raise jwt.InvalidKeyError(f"kid {header.get('kid')!r} is not in the JWKS")
    public = OKPAlgorithm.from_jwk(json.dumps(keys[0]))
    return jwt.decode(token, public, algorithms=["EdDSA"], audience=audience)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SessionClient:
    """What an integrator's backend and its client do, over the real server."""

    def __init__(self, server, entry=ALPHA):
        self.server = server
        self.headers = key_header(entry)

    def create(self, **body):
        r = self.server.post_json("/v1/sessions", body, self.headers)
        assert r.status == 201, (r.status, r.body)
        return r.json()

    def read(self, sid):
        r = self.server.get(f"/v1/sessions/{sid}", self.headers)
        assert r.status == 200, (r.status, r.body)
        return r.json()

    def jwks(self):
        r = self.server.get("/.well-known/jwks.json")
        assert r.status == 200, (r.status, r.body)
        return r.json()


def ws_path(session, token=None):
    return f"/v1/sessions/{session['session_id']}/ws?token={token or session['client_token']}"


def drain(ws, messages):
    """Appends what the server still sends after the last answer, until it closes."""
    try:
        while True:
            messages.append(json.loads(ws.recv()))
    except WsClosed:
        pass
    finally:
        ws.close()


def run_session_ws(server, path, frames, pause_s=0.15, fps=30, limit_s=90):
    """A's stop-and-wait client on a session's door; returns the messages received."""
    ws = WsClient(server.host, server.port, path, timeout=30)
    if ws.handshake_status != 101:
        return ws.handshake_status, []
    messages = [json.loads(ws.recv())]
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < limit_s:
            index = int((time.monotonic() - t0) * fps) % len(frames)
            ws.send(frame_msg(frames[index]))
            messages.append(json.loads(ws.recv()))
            if messages[-1]["type"] in ("complete", "failed"):
                break
            time.sleep(pause_s)
    except WsClosed:
        ws.close()
        return 101, messages
    drain(ws, messages)
    return 101, messages


class WsDoor:
    """A's stop-and-wait WebSocket client on a session's ws_url."""

    def __init__(self, test, session):
        self.ws = WsClient(test.server.host, test.server.port, ws_path(session), timeout=30)
        test.assertEqual(self.ws.handshake_status, 101)

    def first(self):
        return json.loads(self.ws.recv())

    def send(self, b64):
        self.ws.send(frame_msg(b64))
        return json.loads(self.ws.recv())

    def close(self, messages):
        if messages is None:
            self.ws.close()
        else:
            drain(self.ws, messages)


class PollDoor:
    """A's polling client on a session: /start, then /frame with the client token on each."""

    def __init__(self, server, session, token=None):
        self.server = server
        self.sid = session["session_id"]
        self.token = token or session["client_token"]
        self.last = None  # the last answer, once started

    def first(self):
        """/start's answer, or (when this client already started the run) the last answer."""
        if self.last is None:
            r = self.server.request("POST", f"/start?session_id={self.sid}&token={self.token}",
                                    b"")
            assert r.status == 200, (r.status, r.body)
            self.last = r.json()
        return self.last

    def frame(self, jpeg, headers=None, token=True):
        path = f"/frame?session_id={self.sid}" + (f"&token={self.token}" if token else "")
        r = self.server.post_multipart(path, {"file": ("frame.jpg", jpeg, "image/jpeg")},
                                       headers)
        if r.status == 200:
            self.last = r.json()
        return r

    def send(self, b64):
        r = self.frame(base64.b64decode(b64))
        assert r.status == 200, (r.status, r.body)
        return r.json()

    def close(self, messages):
        pass


class PersonPlayer:
    """A person (or an attacker) in front of a session's camera, played from the head-turn clip.
    Needs `server` (where the run goes, and where frames are analysed once) and `alpha` (a
    SessionClient) on the test class."""

    @classmethod
    def analysed_frames(cls):
        """The head-turn clip's distinct frames with the yaw the server measures on each (ffmpeg
        repeats frames of this variable-rate clip; repeats are dropped), once per class."""
        if not hasattr(cls, "_analysed"):
            cls._analysed = []
            seen = set()
            for b64 in video_frames(HEADTURN_VIDEO):
                if b64 in seen:
                    continue
                seen.add(b64)
                r = cls.server.post_raw("/v1/analyze", base64.b64decode(b64), "image/jpeg",
                                        cls.alpha.headers)
                faces = r.json().get("faces") or []
                yaw = faces[0]["yaw"] if len(faces) == 1 else None
                cls._analysed.append((b64, yaw))
        return cls._analysed

    def pose_frames(self):
        """Frames of the head-turn clip by pose: centred, turned left, turned right."""
        by_pose = {"CENTER": [], "LEFT": [], "RIGHT": []}
        for b64, yaw in self.analysed_frames():
            if yaw is None:
                continue
            if abs(yaw) < 5:
                by_pose["CENTER"].append(b64)
            elif yaw < -25:  # beyond action_yaw (20) with a margin; the clip's right turn
                by_pose["LEFT"].append(b64)  # peaks at 25 degrees
            elif yaw > 20.5:
                by_pose["RIGHT"].append(b64)
        return by_pose

    def turns(self):
        """For LEFT and RIGHT: the clip's frames of one real turn, from the last centred frame
        before it through every frame beyond the threshold that follows."""
        poses = self.analysed_frames()
        beyond = {"LEFT": lambda y: y < -25, "RIGHT": lambda y: y > 20.5}
        out = {}
        for direction, test in beyond.items():
            first = next(i for i, (_, y) in enumerate(poses) if y is not None and test(y))
            # Centred as run_person sends it: the clip rests at yaw -7 to -13 before its first turn.
            start = max(i for i in range(first) if poses[i][1] is not None
                        and abs(poses[i][1]) < 8)
            end = first
            while end < len(poses) and poses[end][1] is not None and test(poses[end][1]):
                end += 1
            out[direction] = [b64 for b64, _ in poses[start + 1:end]]
        return out

    def open_door(self, session, door):
        return PollDoor(self.server, session) if door == "poll" else WsDoor(self, session)

    def run_person(self, session, reaction_s=0.6, pause_s=0.1, door="ws"):
        """A person in front of a camera, played from the head-turn clip: centred until an
        instruction comes, a human reaction time later the clip's own turn that way, frame by
        frame, then centred again. Distinct frames throughout, as a live camera sends. @p door
        is the session's WebSocket ("ws"), system A's polling door ("poll"), or a door object
        already opened."""
        poses = self.analysed_frames()
        centre = [b64 for b64, yaw in poses if yaw is not None and abs(yaw) < 8]
        turns = self.turns()
        client = self.open_door(session, door) if isinstance(door, str) else door
        messages = [client.first()]
        current, plan, issued, next_centre = None, [], 0.0, 0
        t0 = time.monotonic()
        try:
            while messages[-1].get("type") not in ("complete", "failed"):
                self.assertLess(time.monotonic() - t0, 60, messages[-3:])
                instruction = messages[-1].get("instruction") or "CENTER"
                if instruction != current:
                    current, issued = instruction, time.monotonic()
                    plan = list(turns.get(instruction, []))
                if plan and time.monotonic() - issued >= reaction_s:
                    frame = plan.pop(0) if len(plan) > 1 else plan[0]
                else:
                    frame = centre[next_centre % len(centre)]
                    next_centre += 1
                messages.append(client.send(frame))
                time.sleep(pause_s)
        except WsClosed:
            client.close(None)
            return messages
        client.close(messages)
        return messages

    def attack(self, door):
        """The issue's attack, once: each instruction answered at once with a stored frame that
        shows it. Returns (last message, seconds, frames sent, stored record)."""
        by_pose = self.pose_frames()
        self.assertTrue(by_pose["CENTER"] and by_pose["LEFT"] and by_pose["RIGHT"],
                        {k: len(v) for k, v in by_pose.items()})
        s = self.alpha.create()
        client = self.open_door(s, door)
        used = {k: 0 for k in by_pose}
        message = client.first()
        t0 = time.monotonic()
        try:
            while message.get("type") not in ("complete", "failed"):
                want = message.get("instruction", "CENTER")
                want = want if want in by_pose else "CENTER"
                pool = by_pose[want]
                message = client.send(pool[used[want] % len(pool)])
                used[want] += 1
        except WsClosed:
            pass
        finally:
            client.close(None)
        return message, time.monotonic() - t0, sum(used.values()), self.alpha.read(s["session_id"])


class SessionFlows(PersonPlayer, ServerTestCase):
    """One server with two keys; challenges as the WebSocket suite (LEFT/RIGHT, 2 successes)."""

    REQUIRED_FILES = (HEADTURN_VIDEO, REPLAY_VIDEO, BLINK_VIDEO, T1, F1)
    SERVER_ARGS = ("--api-key", ALPHA, "--api-key", BETA, "--set",
                   f"verdict_audience={AUDIENCE}", *CHALLENGE_ARGS)

    @classmethod
    def setUpClass(cls):
        require_jwt()
        require_ffmpeg()
        super().setUpClass()
        cls.alpha = SessionClient(cls.server, ALPHA)
        cls.beta = SessionClient(cls.server, BETA)

    def test_1_headturn_succeeds_and_the_verdict_verifies_independently(self):
        s = self.alpha.create(nonce="n-123", external_ref="customer-42", audit_images=2)
        self.assertEqual(len(s["session_id"]), 32)
        self.assertGreaterEqual(len(s["client_token"]), 43)  # 256 bits, base64url
        self.assertTrue(s["ws_url"].startswith("ws://"), s)
        messages = self.run_person(s)
        last = messages[-1]
        self.assertEqual(last["type"], "complete", messages[-3:])
        self.assertEqual(last["session_id"], s["session_id"])
        claims = verify_verdict(last["verdict"], self.alpha.jwks())
        self.assertEqual(claims["sub"], s["session_id"])
        self.assertEqual(claims["decision"], "live")
        self.assertEqual(claims["nonce"], "n-123")
        self.assertEqual(claims["external_ref"], "customer-42")
        self.assertEqual(claims["mode"], "active")
        self.assertEqual(jwt.get_unverified_header(last["verdict"])["typ"],
                         "liveproof-verdict+jwt")
        record = self.alpha.read(s["session_id"])
        print(f"\n[session headturn] {len(messages)} messages; signals "
              f"{json.dumps(record['signals'])}; challenges {json.dumps(record['challenges'])}",
              file=sys.stderr)
        self.assertEqual(record["status"], "SUCCEEDED")
        self.assertEqual(record["decision"], "live")
        self.assertEqual(record["verdict"], last["verdict"])
        self.assertIsNotNone(record["confidence"])
        self.assertEqual(record["model_manifest_sha256"], claims["model_manifest_sha256"])
        self.assertEqual(len(record["model_manifest_sha256"]), 64)
        kinds = [im["kind"] for im in record["images"]]
        self.assertEqual(kinds[0], "reference", kinds)
        self.assertEqual(kinds.count("audit"), 2, kinds)
        digests = []
        for im in record["images"]:
            r = self.server.get(f"/v1/sessions/{s['session_id']}/images/{im['index']}",
                                self.alpha.headers)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.headers["Content-Type"], "image/jpeg")
            self.assertEqual(r.body[:2], b"\xff\xd8")
            self.assertEqual(hashlib.sha256(r.body).hexdigest(), im["sha256"])
            digests.append(im["sha256"])
        self.assertEqual(claims["audit_images_sha256"], digests)
        actions = [e["action"] for e in record["audit"]]
        for a in ("created", "started", "completed", "read"):
            self.assertIn(a, actions)
        self.assertEqual(record["audit"][0]["by"], "alpha")
        # Every challenge has its timing and intermediate poses recorded; a real person's
        # reaction is far above the too_fast floor (0.35 s).
        self.assertEqual(len(record["challenges"]), 2, record["challenges"])
        for c in record["challenges"]:
            self.assertGreaterEqual(c["reaction_ms"], 350)
            self.assertGreaterEqual(c["transition_frames"], 0)

        # The same session cannot run again, and the other key cannot see it.
        status, _ = run_session_ws(self.server, ws_path(s), video_frames(HEADTURN_VIDEO)[:1])
        self.assertEqual(status, 409)
        self.assertEqual(self.server.get(f"/v1/sessions/{s['session_id']}",
                                         self.beta.headers).status, 404)

    def test_2_phone_replay_fails(self):
        s = self.alpha.create()
        status, messages = run_session_ws(self.server, ws_path(s), video_frames(REPLAY_VIDEO))
        self.assertEqual(status, 101)
        last = messages[-1]
        self.assertEqual(last["type"], "failed", messages[-3:])
        record = self.alpha.read(s["session_id"])
        print(f"\n[session replay] {last.get('reason')} after {len(messages)} messages",
              file=sys.stderr)
        self.assertEqual(record["status"], "FAILED")
        self.assertEqual(record["decision"], "spoof")
        # The model's verdict, or the clip's own frames coming round again as it loops.
        self.assertIn(record["reason"], ("spoof_detected", "injection_suspected"))
        claims = verify_verdict(last["verdict"], self.alpha.jwks())
        self.assertEqual(claims["decision"], "spoof")

    def test_3_prerecorded_frames_attack_fails(self):
        """The issue's attack: each instruction answered at once with a stored frame that shows
        it (distinct frames, so exact repeats are not what catches it)."""
        self.assert_attack_fails("ws", runs=3)

    def assert_attack_fails(self, door, runs):
        outcomes = []
        for _ in range(runs):
            message, took, sent, record = self.attack(door)
            outcomes.append((message["type"], message.get("reason"), record["status"],
                             record["reason"], record["decision"], round(took, 2), sent))
        print(f"\n[attack {door}] {outcomes}", file=sys.stderr)
        for kind, reason, status, stored_reason, decision, _, _ in outcomes:
            self.assertEqual(kind, "failed")
            self.assertIn(reason, ("too_fast", "injection_suspected"))
            self.assertEqual(status, "FAILED")
            self.assertEqual(decision, "spoof")
            self.assertEqual(stored_reason, reason)

    def test_4_tokens_doors_expiry_and_ownership(self):
        a = self.alpha.create(mode="passive")
        b = self.alpha.create(mode="passive")
        image = read_shared(T1)
        door = f"/v1/sessions/{a['session_id']}/image"
        # No token, a wrong one, another session's: 401, and nothing is used up.
        self.assertEqual(self.server.post_raw(door, image, "image/jpeg").status, 401)
        self.assertEqual(self.server.post_raw(f"{door}?token={b['client_token']}", image,
                                              "image/jpeg").status, 401)
        self.assertEqual(self.server.post_raw(f"{door}?token=" + "x" * 43, image,
                                              "image/jpeg").status, 401)
        # The wrong door for the session's mode: 409, still unused.
        status, _ = run_session_ws(self.server, ws_path(a), ["AAAA"])
        self.assertEqual(status, 409)
        # The right one, once (Bearer works as well as ?token=).
        r = self.server.post_raw(door, image, "image/jpeg",
                                 {"Authorization": f"Bearer {a['client_token']}"})
        self.assertEqual(r.status, 200, r.body)
        answer = r.json()
        self.assertEqual(answer["decision"], "live", answer)
        verify_verdict(answer["verdict"], self.alpha.jwks())
        again = self.server.post_raw(f"{door}?token={a['client_token']}", image, "image/jpeg")
        self.assertEqual(again.status, 409, again.body)
        self.assertEqual(again.json()["error"], "already_used")
        # The client token is no API key, and an API key is no client token.
        self.assertEqual(self.server.get(f"/v1/sessions/{a['session_id']}",
                                         {"X-API-KEY": a["client_token"]}).status, 401)
        self.assertEqual(self.server.post_raw(f"/v1/sessions/{b['session_id']}/image?token="
                                              + ALPHA.split(":", 1)[1], image,
                                              "image/jpeg").status, 401)
        # Another key: 404 for read, images and delete.
        for method in ("GET", "DELETE"):
            r = self.server.request(method, f"/v1/sessions/{a['session_id']}",
                                    headers=self.beta.headers)
            self.assertEqual(r.status, 404, method)
        # Expiry: 410 once the ttl passed, and the session reads EXPIRED.
        short = self.alpha.create(mode="passive", ttl=1)
        time.sleep(1.3)
        late = self.server.post_raw(f"/v1/sessions/{short['session_id']}/image?token="
                                    f"{short['client_token']}", image, "image/jpeg")
        self.assertEqual(late.status, 410, late.body)
        self.assertEqual(self.alpha.read(short["session_id"])["status"], "EXPIRED")
        # Bad bodies are refused with a reason.
        for body, word in (({"mode": "selfie"}, "mode"), ({"ttl": 100000}, "ttl"),
                           ({"audit_images": 9}, "audit_images"), ({"colour": 1}, "colour"),
                           ({"challenges": ["SIDEWAYS"]}, "challenges")):
            r = self.server.post_json("/v1/sessions", body, self.alpha.headers)
            self.assertEqual(r.status, 400, body)
            self.assertIn(word, r.json()["detail"])
        self.assertEqual(self.server.post_json("/v1/sessions", {}).status, 401)
        # Delete erases it (images too); the list pages newest first.
        r = self.server.request("DELETE", f"/v1/sessions/{a['session_id']}",
                                headers=self.alpha.headers)
        self.assertEqual(r.status, 204)
        self.assertEqual(self.server.get(f"/v1/sessions/{a['session_id']}",
                                         self.alpha.headers).status, 404)
        self.assertEqual(self.server.get(f"/v1/sessions/{a['session_id']}/images/0",
                                         self.alpha.headers).status, 404)
        ids, cursor = [], None
        while True:
            q = "/v1/sessions?limit=2" + (f"&cursor={cursor}" if cursor else "")
            page = self.server.get(q, self.alpha.headers).json()
            ids += [x["session_id"] for x in page["sessions"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertIn(b["session_id"], ids)
        self.assertNotIn(a["session_id"], ids)
        self.assertEqual(len(ids), len(set(ids)))
        beta_ids = [x["session_id"] for x in
                    self.server.get("/v1/sessions", self.beta.headers).json()["sessions"]]
        self.assertFalse(set(beta_ids) & set(ids))
        expired = self.server.get("/v1/sessions?status=EXPIRED", self.alpha.headers).json()
        self.assertIn(short["session_id"], [x["session_id"] for x in expired["sessions"]])

    def test_5_tampered_verdicts_are_rejected_by_the_independent_verifier(self):
        s = self.alpha.create(mode="passive")
        r = self.server.post_raw(f"/v1/sessions/{s['session_id']}/image?token="
                                 f"{s['client_token']}", read_shared(F1), "image/jpeg")
        self.assertEqual(r.status, 200, r.body)
        token = r.json()["verdict"]
        jwks = self.alpha.jwks()
        claims = verify_verdict(token, jwks)
        self.assertEqual(claims["decision"], "spoof")
        header_b64, payload_b64, sig_b64 = token.split(".")
        forged_claims = dict(claims, decision="live")
        forged = ".".join([header_b64, b64url(json.dumps(forged_claims).encode()), sig_b64])
        with self.assertRaises(jwt.InvalidSignatureError):
            verify_verdict(forged, jwks)
        sig = bytearray(base64.urlsafe_b64decode(sig_b64 + "=="))
        sig[0] ^= 1
        with self.assertRaises(jwt.InvalidSignatureError):
            verify_verdict(".".join([header_b64, payload_b64, b64url(bytes(sig))]), jwks)
        none_header = b64url(json.dumps({"alg": "none", "typ": "JWT",
                                         "kid": jwks["keys"][0]["kid"]}).encode())
        with self.assertRaises(jwt.InvalidAlgorithmError):
            verify_verdict(".".join([none_header, b64url(json.dumps(forged_claims).encode()),
                                     ""]), jwks)
        odd_kid = b64url(json.dumps({"alg": "EdDSA", "kid": "not-ours"}).encode())
        with self.assertRaises(jwt.InvalidKeyError):
            verify_verdict(".".join([odd_kid, payload_b64, sig_b64]), jwks)
        with self.assertRaises(jwt.InvalidAudienceError):
            verify_verdict(token, jwks, audience="someone-else")

    def test_6_blink_video_door(self):
        s = self.alpha.create(mode="blink")
        data = read_shared(BLINK_VIDEO)
        r = self.server.post_raw(f"/v1/sessions/{s['session_id']}/video?token="
                                 f"{s['client_token']}", data, "video/mp4")
        self.assertEqual(r.status, 200, r.body)
        answer = r.json()
        print(f"\n[session blink] {answer['decision']} {answer['reason']}", file=sys.stderr)
        self.assertEqual(answer["decision"], "live", answer)
        self.assertEqual(self.alpha.read(s["session_id"])["status"], "SUCCEEDED")


    def test_7_polling_door_runs_a_session(self):
        """A's /start + /frame on a backend session: the client token on every request (no API
        key), A's shapes, the WebSocket's full rules, and the same recorded, signed end."""
        s = self.alpha.create(nonce="poll-1", audit_images=1)
        self.assertTrue(s["start_url"].endswith(f"/start?session_id={s['session_id']}"), s)
        self.assertTrue(s["frame_url"].endswith(f"/frame?session_id={s['session_id']}"), s)
        other = self.alpha.create()
        # A frame of the clip that run_person never sends (an exact repeat would end the run).
        sent = {b64 for b64, yaw in self.analysed_frames() if yaw is not None and abs(yaw) < 8}
        sent |= {b64 for turn in self.turns().values() for b64 in turn}
        unused = [b64 for b64, _ in self.analysed_frames() if b64 not in sent]
        self.assertTrue(unused)
        jpeg = base64.b64decode(unused[0])
        start = f"/start?session_id={s['session_id']}"
        # Before the run: no token, another session's token, a made-up one, or the API key
        # alone are refused and use nothing up.
        self.assertEqual(self.server.request("POST", start, b"").status, 401)
        for token in (other["client_token"], "x" * 43):
            self.assertEqual(self.server.request("POST", f"{start}&token={token}", b"").status,
                             401, token)
        self.assertEqual(self.server.request("POST", start, b"", self.alpha.headers).status, 401)
        # An anonymous /start needs the key on a server with keys, whatever token it carries.
        self.assertEqual(self.server.request("POST", "/start?token=" + "x" * 43, b"").status, 401)
        self.assertEqual(self.server.request("POST", "/start", b"", {
            "Authorization": f"Bearer {s['client_token']}"}).status, 401)

        door = PollDoor(self.server, s)
        first = door.first()
        self.assertEqual(first["session_id"], s["session_id"])
        self.assertEqual(self.alpha.read(s["session_id"])["status"], "IN_PROGRESS")
        # Each frame needs the token: none, another session's, or the key alone get 401.
        self.assertEqual(door.frame(jpeg, token=False).status, 401)
        self.assertEqual(door.frame(jpeg, self.alpha.headers, token=False).status, 401)
        self.assertEqual(PollDoor(self.server, s, other["client_token"]).frame(jpeg).status, 401)
        # Bearer works as well as ?token=.
        r = door.frame(jpeg, {"Authorization": f"Bearer {s['client_token']}"}, token=False)
        self.assertEqual(r.status, 200, r.body)
        # A second /start of a running session: 409.
        self.assertEqual(self.server.request("POST", f"{start}&token={s['client_token']}",
                                             b"").status, 409)

        messages = self.run_person(s, door=door)
        last = messages[-1]
        print(f"\n[session poll] {len(messages)} answers, last {last.get('type')}",
              file=sys.stderr)
        self.assertEqual(last["type"], "complete", messages[-3:])
        self.assertTrue(last["live"])
        # A's keys first, in A's order, then the session's id and verdict.
        self.assertEqual(list(last)[:5], ["yaw", "pitch", "challenge", "success", "live"])
        self.assertEqual(last["session_id"], s["session_id"])
        claims = verify_verdict(last["verdict"], self.alpha.jwks())
        self.assertEqual((claims["sub"], claims["decision"], claims["nonce"]),
                         (s["session_id"], "live", "poll-1"))
        record = self.alpha.read(s["session_id"])
        self.assertEqual(record["status"], "SUCCEEDED")
        self.assertEqual(record["verdict"], last["verdict"])
        kinds = [im["kind"] for im in record["images"]]
        self.assertEqual(kinds, ["reference", "audit"], kinds)
        self.assertEqual(claims["audit_images_sha256"], [im["sha256"] for im in record["images"]])
        self.assertIn("signals", record)
        # Once finished, a frame gets the same answer (the same verdict), and no second run.
        again = door.frame(jpeg)
        self.assertEqual(again.status, 200)
        self.assertEqual(again.json()["verdict"], last["verdict"])
        self.assertEqual(self.server.request("POST", f"{start}&token={s['client_token']}",
                                             b"").status, 409)

    def test_8_prerecorded_frames_attack_fails_on_the_polling_door(self):
        """The polling door enforces the replay signals on a session's run, as the WebSocket."""
        self.assert_attack_fails("poll", runs=2)

    def test_9_wrong_door_for_polling(self):
        p = self.alpha.create(mode="passive")
        r = self.server.request("POST", f"/start?session_id={p['session_id']}&token="
                                f"{p['client_token']}", b"")
        self.assertEqual(r.status, 409, r.body)
        self.assertEqual(r.json()["error"], "wrong_mode")
        self.assertEqual(self.alpha.read(p["session_id"])["status"], "CREATED")
        r = self.server.request("POST", "/start?session_id=" + "0" * 32 + "&token=" + "x" * 43,
                                b"")
        self.assertEqual(r.status, 404, r.body)
        # An unknown polling session: 404 in A's shape.
        r = self.server.post_multipart("/frame?session_id=nope&token=" + "x" * 43,
                                       {"file": ("f.jpg", b"\xff\xd8", "image/jpeg")})
        self.assertEqual((r.status, r.json()), (404, {"detail": "Session not found"}))

    def test_10_a_client_that_leaves_ends_the_run_abandoned(self):
        """A run ended before any frame (no details at all) is still recorded and signed."""
        s = self.alpha.create()
        ws = WsClient(self.server.host, self.server.port, ws_path(s), timeout=30)
        self.assertEqual(ws.handshake_status, 101)
        json.loads(ws.recv())
        ws.close()
        deadline = time.monotonic() + 10
        while self.alpha.read(s["session_id"])["status"] == "IN_PROGRESS":
            self.assertLess(time.monotonic(), deadline, "the run never ended")
            time.sleep(0.1)
        record = self.alpha.read(s["session_id"])
        self.assertEqual((record["status"], record["reason"]), ("FAILED", "abandoned"))
        claims = verify_verdict(record["verdict"], self.alpha.jwks())
        self.assertEqual(claims["challenges"], [])
        metrics = self.server.get("/metrics", self.alpha.headers).text()
        self.assertNotIn('liveproof_internal_errors_total{', metrics)

    def test_11_the_same_picture_in_new_bytes_fails_as_a_near_duplicate(self):
        """A centred frame, then three copies made by ffmpeg with the same tables (new bytes, the
        same picture): the third copy is past max_duplicate_frames (2) and the run ends
        injection_suspected."""
        centre = self.pose_frames()["CENTER"][0]
        out = tempfile.mkdtemp()
        original = os.path.join(out, "f.jpg")
        with open(original, "wb") as f:
            f.write(base64.b64decode(centre))
        # New bytes, the same picture: re-encoded once, brightened by 1.2 %, re-encoded twice.
        steps = [(original, "c0.jpg", []), (original, "c1.jpg", ["-vf", "eq=brightness=0.012"]),
                 ("c0.jpg", "c2.jpg", [])]
        copies = []
        for source, name, args in steps:
            path = os.path.join(out, name)
            subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", os.path.join(out, source),
                            *args, "-q:v", "5", path], check=True, timeout=60)
            with open(path, "rb") as f:
                copies.append(base64.b64encode(f.read()).decode())
        self.assertEqual(len({centre, *copies}), 4, "the copies' bytes must be new")
        s = self.alpha.create()
        client = WsDoor(self, s)
        messages = [client.first()]
        try:
            for frame in [centre] + copies:
                messages.append(client.send(frame))
                if messages[-1]["type"] in ("complete", "failed"):
                    break
        except WsClosed:
            pass
        client.close(None)
        record = self.alpha.read(s["session_id"])
        print(f"\n[near-duplicates] {messages[-1].get('reason')}: {json.dumps(record['signals'])}",
              file=sys.stderr)
        self.assertEqual((messages[-1]["type"], messages[-1]["reason"]),
                         ("failed", "injection_suspected"), messages)
        self.assertEqual((record["status"], record["reason"]), ("FAILED", "injection_suspected"))
        self.assertEqual(record["signals"]["near_duplicate_frames"], 3)
        self.assertEqual(record["signals"]["duplicate_frames"], 0)
        self.assertEqual(record["signals"]["trigger"], "near_duplicate_frames")


class AttemptLimits(ServerTestCase):
    """5 failed sessions of one device in the window lock it out (429 with Retry-After)."""

    REQUIRED_FILES = (F1,)
    SERVER_ARGS = ("--api-key", ALPHA, "--set", "attempt_max_failures=3")

    def test_device_lockout(self):
        client = SessionClient(self.server, ALPHA)
        spoof = read_shared(F1)
        for _ in range(3):
            s = client.create(mode="passive", device_id="phone-1")
            r = self.server.post_raw(f"/v1/sessions/{s['session_id']}/image?token="
                                     f"{s['client_token']}", spoof, "image/jpeg")
            self.assertEqual(r.json()["decision"], "spoof")
        r = self.server.post_json("/v1/sessions", {"mode": "passive", "device_id": "phone-1"},
                                  client.headers)
        self.assertEqual(r.status, 429, r.body)
        self.assertIn("Retry-After", r.headers)
        self.assertIn("device_id", r.json()["detail"])  # says which limit
        # Another device is not affected.
        client.create(mode="passive", device_id="phone-2")


class RequireSessions(ServerTestCase):
    """require_sessions=true closes the anonymous doors."""

    SERVER_ARGS = ("--set", "require_sessions=true")

    def test_anonymous_ws_is_closed(self):
        ws = WsClient(self.server.host, self.server.port, "/ws", timeout=10)
        self.assertEqual(ws.handshake_status, 403)
        self.assertIn(b"sessions_required", ws.handshake_body)
        ws.close()


class KillAndRestart(unittest.TestCase):
    """kill -9 under load: every verdict a client received is stored with that verdict; runs in
    progress end FAILED interrupted after the restart; nothing else changes."""

    def test_kill9_under_load_then_restart(self):
        require_assets(T1, HEADTURN_VIDEO)
        require_ffmpeg()
        data_dir = tempfile.mkdtemp(prefix="liveproof-kill-")
        args = ("--api-key", ALPHA, *CHALLENGE_ARGS, "--set", "node_id=node-a")
        server = LiveproofServer(args, data_dir=data_dir).start()
        client = SessionClient(server, ALPHA)
        image = read_shared(T1)
        received = {}  # session id -> verdict the client got
        lock = threading.Lock()
        stop = threading.Event()

        def passive_loop():
            while not stop.is_set():
                try:
                    s = client.create(mode="passive")
                    r = server.post_raw(f"/v1/sessions/{s['session_id']}/image?token="
                                        f"{s['client_token']}", image, "image/jpeg")
                    if r.status == 200:
                        with lock:
                            received[s["session_id"]] = r.json()["verdict"]
                except Exception:  # the server died mid-request: expected
                    return

        # One active run held open (a few frames in), and passive runs hammering the store.
        held = client.create()
        ws = WsClient(server.host, server.port, ws_path(held), timeout=30)
        self.assertEqual(ws.handshake_status, 101)
        ws.recv()
        for b64 in video_frames(HEADTURN_VIDEO)[:3]:
            ws.send(frame_msg(b64))
            ws.recv()
        threads = [threading.Thread(target=passive_loop, daemon=True) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(4)
        server.proc.kill()  # SIGKILL
        server.proc.wait()
        stop.set()
        for t in threads:
            t.join(timeout=30)
        ws.close()
        server.stop()
        self.assertGreater(len(received), 3, "too few sessions completed before the kill")

        again = LiveproofServer(args, data_dir=data_dir).start()
        try:
            client = SessionClient(again, ALPHA)
            for sid, verdict in received.items():
                record = client.read(sid)
                self.assertEqual(record["verdict"], verdict, sid)
                self.assertEqual(record["status"], "SUCCEEDED", sid)
            record = client.read(held["session_id"])
            self.assertEqual(record["status"], "FAILED")
            self.assertEqual(record["reason"], "interrupted")
            # Nothing is left in progress, and every session is one of the known ends.
            listing = again.get("/v1/sessions?limit=100", client.headers).json()["sessions"]
            statuses = {x["status"] for x in listing}
            self.assertNotIn("IN_PROGRESS", statuses)
            print(f"\n[kill -9] {len(received)} verdicts received before the kill, all stored; "
                  f"statuses after restart {sorted(statuses)}", file=sys.stderr)
            self.assertTrue(any("interrupted" in line for line in again.log_lines),
                            "the restart did not say it ended interrupted runs")
        finally:
            again.stop()


if __name__ == "__main__":
    unittest.main()

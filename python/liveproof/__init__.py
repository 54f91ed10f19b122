"""liveproof for Python: face liveness through libliveproof.so's C API (ctypes, no build step).

    import liveproof
    engine = liveproof.Engine("/usr/share/liveproof/models")
    result = engine.analyze(open("face.jpg", "rb").read())     # dict, as POST /v1/analyze
    blink = engine.blink_video(open("clip.mp4", "rb").read())  # dict
    with engine.challenge(challenges="LEFT,RIGHT") as ch:      # system A's protocol, no socket
        print(ch.start(0.0))
        reply = ch.feed(jpeg_bytes, t_seconds)                 # A's reply or None

The library is found through $LIVEPROOF_LIBRARY, else the system's linker path. Errors raise
LiveproofError with the C API's status code. Thread safety is the C API's: one Engine may be
used from many threads at once; a Stream or a Challenge by one thread at a time.
"""

import ctypes
import json

from . import _capi

__all__ = ["Engine", "Stream", "Challenge", "LiveproofError", "version"]

_lib = None


def _c():
    global _lib
    if _lib is None:
        _lib = _capi.load()
    return _lib


class LiveproofError(Exception):
    """A failed C API call: status (lp_status), its message and the call's detail."""

    def __init__(self, status):
        lib = _c()
        self.status = status
        self.message = lib.lp_error_message(status).decode()
        self.detail = lib.lp_last_error().decode()
        super().__init__(f"{self.message} ({status}): {self.detail}")


def _check(status):
    if status != _capi.LP_OK:
        raise LiveproofError(status)


def _json_call(call, size=4096, again=None):
    """Runs call(buffer, size, needed) and parses the JSON it wrote (None for "").

    When the buffer was too small, `again` (same arguments) fetches the text with a buffer of
    the size the library asked for; without it, `call` runs again (stateless calls only)."""
    needed = ctypes.c_size_t(0)
    buf = ctypes.create_string_buffer(size)
    status = call(buf, size, ctypes.byref(needed))
    while status == _capi.LP_E_BUFFER_TOO_SMALL and needed.value > size:
        size = needed.value + 256  # a result's timings vary by a few bytes between calls
        buf = ctypes.create_string_buffer(size)
        status = (again or call)(buf, size, ctypes.byref(needed))
    _check(status)
    return json.loads(buf.value) if buf.value else None


def version():
    """The loaded library's "MAJOR.MINOR.PATCH"."""
    return _c().lp_version().decode()


class _Handle:
    """An object of the C API that must be destroyed once: close(), `with`, or garbage collection.
    Subclasses name their destroy function in _DESTROY and set self._handle last in __init__."""

    _DESTROY = None
    _handle = None  # close() and __del__ work even when creation failed

    def close(self):
        if self._handle:
            getattr(_c(), self._DESTROY)(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


class Engine(_Handle):
    """The loaded, verified models (lp_engine). Close it (or use `with`) to free them."""

    _DESTROY = "lp_engine_destroy"

    def __init__(self, model_dir=None, workers=0, liveness_threshold=0.5, max_faces=10,
                 detect_max_side=320):
        lib = _c()
        options = _capi.EngineOptions()
        lib.lp_engine_options_init(ctypes.byref(options))
        options.model_dir = model_dir.encode() if model_dir else None
        options.workers = workers
        options.liveness_threshold = liveness_threshold
        options.max_faces = max_faces
        options.detect_max_side = detect_max_side
        handle = ctypes.c_void_p()
        _check(lib.lp_engine_create(ctypes.byref(options), ctypes.byref(handle)))
        self._handle = handle

    def analyze(self, image_bytes):
        """Every face of an encoded image (JPEG, PNG, BMP, WebP) as POST /v1/analyze reports it."""
        data = bytes(image_bytes)
        return _json_call(lambda buf, size, needed: _c().lp_analyze_image_json(
            self._handle, data, len(data), buf, size, needed))

    def faces(self, image_bytes, antispoof=True, pose=True, eyes=True, quality=True):
        """The faces of an encoded image with only the stages asked for (lp_analyze_image).

        `faces(image, pose=False, eyes=False, quality=False)` is the passive check alone
        (detection and the MiniFASNet ensemble, as system B's /liveness): no mesh runs.
        """
        data = bytes(image_bytes)
        what = _capi.Analysis()
        _c().lp_analysis_init(ctypes.byref(what))
        what.antispoof, what.pose, what.eyes, what.quality = (int(antispoof), int(pose),
                                                              int(eyes), int(quality))
        r = _capi.ImageResult()
        r.struct_size = ctypes.sizeof(r)
        _check(_c().lp_analyze_image(self._handle, data, len(data), ctypes.byref(what),
                                     ctypes.byref(r)))
        return [_face(r.faces[i]) for i in range(min(r.face_count, _capi.LP_MAX_FACES))]

    def blink_video(self, video_bytes):
        """Blinks by one live face in a short video (MP4/MOV, WebM/MKV, AVI)."""
        data = bytes(video_bytes)
        r = _capi.BlinkResult()
        r.struct_size = ctypes.sizeof(r)
        _check(_c().lp_blink_video(self._handle, data, len(data), ctypes.byref(r)))
        return {"passed": bool(r.passed), "blink_count": r.blink_count,
                "frames_decoded": r.frames_decoded, "frames_with_face": r.frames_with_face,
                "mean_p_real": r.mean_p_real, "reason": r.reason.decode()}

    def stream(self, eyes=False):
        return Stream(self, eyes)

    def challenge(self, **options):
        return Challenge(self, **options)


def _face(f):
    out = {"box": [f.x1, f.y1, f.x2, f.y2], "score": f.score, "eye_dist": f.eye_dist,
           "is_small": bool(f.is_small), "is_boundary": bool(f.is_boundary),
           "luminance": f.luminance}
    if f.has_pose:
        out.update(yaw=f.yaw, pitch=f.pitch, roll=f.roll)
    if f.has_p_real:
        out.update(p_real=f.p_real, is_real=bool(f.is_real))
    if f.has_eyes:
        out["eyes_closed"] = f.eyes_closed
    if f.has_quality:
        out.update(quality=f.quality, sharpness=f.sharpness, occlusion=f.occlusion)
    return out


class Stream(_Handle):
    """Frames of one live camera (lp_stream): tracking between detections, one face."""

    _DESTROY = "lp_stream_destroy"

    def __init__(self, engine, eyes=False):
        self._engine = engine  # keeps the engine alive while the stream is
        handle = ctypes.c_void_p()
        _check(_c().lp_stream_create(engine._handle, 1 if eyes else 0, ctypes.byref(handle)))
        self._handle = handle

    def feed(self, image_bytes, t_seconds):
        """One encoded frame taken at t_seconds (increasing): the observation as a dict."""
        data = bytes(image_bytes)
        o = _capi.Observation()
        o.struct_size = ctypes.sizeof(o)
        _check(_c().lp_stream_feed_image(self._handle, data, len(data), t_seconds,
                                         ctypes.byref(o)))
        return {"face_count": o.face_count, "tracked": bool(o.tracked),
                "face_jump": bool(o.face_jump), "face": _face(o.face) if o.has_face else None}


class Challenge(_Handle):
    """An active challenge (lp_challenge) in system A's protocol, on the caller's clock.

    Options: challenges ("LEFT,RIGHT,UP,DOWN"; BLINK optional), required_successes (3),
    challenge_timeout_s (5), session_timeout_s (30), max_wrong_attempts (1), mirrored (False).
    """

    RUNNING, COMPLETE, FAILED = 0, 1, 2
    _DESTROY = "lp_challenge_destroy"

    def __init__(self, engine, challenges=None, required_successes=None,
                 challenge_timeout_s=None, session_timeout_s=None, max_wrong_attempts=None,
                 mirrored=False):
        lib = _c()
        self._engine = engine
        o = _capi.ChallengeOptions()
        lib.lp_challenge_options_init(ctypes.byref(o))
        self._challenges = challenges.encode() if challenges else None
        if self._challenges:
            o.challenges = self._challenges
        for name, value in (("required_successes", required_successes),
                            ("challenge_timeout_s", challenge_timeout_s),
                            ("session_timeout_s", session_timeout_s),
                            ("max_wrong_attempts", max_wrong_attempts)):
            if value is not None:
                setattr(o, name, value)
        o.mirrored = 1 if mirrored else 0
        handle = ctypes.c_void_p()
        _check(lib.lp_challenge_create(engine._handle, ctypes.byref(o), ctypes.byref(handle)))
        self._handle = handle

    # A call that advances the session must not run twice: a reply too long for the buffer is
    # fetched again with lp_challenge_last_reply.
    def _advance(self, call):
        return _json_call(call, _capi.LP_CHALLENGE_JSON_SIZE,
                          again=lambda buf, size, needed: _c().lp_challenge_last_reply(
                              self._handle, buf, size, needed))

    def start(self, t_seconds):
        """Starts the session: A's "start" message."""
        return self._advance(lambda buf, size, needed: _c().lp_challenge_start(
            self._handle, t_seconds, buf, size, needed))

    def feed(self, image_bytes, t_seconds):
        """One encoded frame at t_seconds: A's reply to it, or None when there is none."""
        data = bytes(image_bytes)
        return self._advance(lambda buf, size, needed: _c().lp_challenge_feed_image(
            self._handle, data, len(data), t_seconds, buf, size, needed))

    def tick(self, t_seconds):
        """Checks the timeouts without a frame: A's reply, or None."""
        return self._advance(lambda buf, size, needed: _c().lp_challenge_tick(
            self._handle, t_seconds, buf, size, needed))

    @property
    def state(self):
        """RUNNING, COMPLETE (live) or FAILED."""
        return _c().lp_challenge_get_state(self._handle)

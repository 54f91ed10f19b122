"""The C API of libliveproof.so (include/liveproof/liveproof.h) declared for ctypes.

Every struct mirrors the header field for field; the functions get their argument and result
types so that ctypes checks them. Nothing here is public: use the classes in liveproof/.
"""

import ctypes
import ctypes.util
import os

c_float, c_int32, c_uint32, c_double, c_size_t = (ctypes.c_float, ctypes.c_int32,
                                                  ctypes.c_uint32, ctypes.c_double,
                                                  ctypes.c_size_t)
c_char_p, c_void_p, POINTER = ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER
c_bytes = POINTER(ctypes.c_uint8)

LP_OK = 0
LP_E_BUFFER_TOO_SMALL = 502
LP_MAX_FACES = 16
LP_CHALLENGE_JSON_SIZE = 1024


class EngineOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_uint32), ("model_dir", c_char_p), ("workers", c_int32),
                ("detect_max_side", c_int32), ("liveness_threshold", c_float),
                ("max_faces", c_int32)]


class Face(ctypes.Structure):
    _fields_ = [("x1", c_float), ("y1", c_float), ("x2", c_float), ("y2", c_float),
                ("score", c_float), ("eye_dist", c_float), ("is_small", c_int32),
                ("is_boundary", c_int32), ("has_pose", c_int32), ("yaw", c_float),
                ("pitch", c_float), ("roll", c_float), ("has_p_real", c_int32),
                ("p_real", c_float), ("is_real", c_int32), ("has_eyes", c_int32),
                ("eyes_closed", c_float), ("has_quality", c_int32), ("quality", c_float),
                ("sharpness", c_float), ("occlusion", c_float), ("luminance", c_float)]


class ImageResult(ctypes.Structure):
    _fields_ = [("struct_size", c_uint32), ("width", c_int32), ("height", c_int32),
                ("face_count", c_int32), ("faces", Face * LP_MAX_FACES)]


class Analysis(ctypes.Structure):
    _fields_ = [("struct_size", c_uint32), ("antispoof", c_int32), ("pose", c_int32),
                ("eyes", c_int32), ("quality", c_int32)]


class BlinkResult(ctypes.Structure):
    _fields_ = [("struct_size", c_uint32), ("passed", c_int32), ("blink_count", c_int32),
                ("frames_decoded", c_int32), ("frames_with_face", c_int32),
                ("mean_p_real", c_float), ("reason", ctypes.c_char * 32)]


class Observation(ctypes.Structure):
    _fields_ = [("struct_size", c_uint32), ("face_count", c_int32), ("tracked", c_int32),
                ("face_jump", c_int32), ("has_face", c_int32), ("face", Face)]


class ChallengeOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_uint32), ("challenges", c_char_p),
                ("required_successes", c_int32), ("challenge_timeout_s", c_double),
                ("session_timeout_s", c_double), ("max_wrong_attempts", c_int32),
                ("mirrored", c_int32)]


def _library_path():
    """$LIVEPROOF_LIBRARY, else the linker's search (ldconfig), else the soname."""
    return (os.environ.get("LIVEPROOF_LIBRARY") or ctypes.util.find_library("liveproof")
            or "libliveproof.so.0")


def load():
    lib = ctypes.CDLL(_library_path())
    sig = {
        "lp_error_message": ([c_int32], c_char_p),
        "lp_last_error": ([], c_char_p),
        "lp_version": ([], c_char_p),
        "lp_engine_options_init": ([POINTER(EngineOptions)], None),
        "lp_engine_create": ([POINTER(EngineOptions), POINTER(c_void_p)], c_int32),
        "lp_engine_destroy": ([c_void_p], None),
        "lp_analysis_init": ([POINTER(Analysis)], None),
        "lp_analyze_image": ([c_void_p, c_char_p, c_size_t, POINTER(Analysis),
                              POINTER(ImageResult)], c_int32),
        "lp_analyze_image_json": ([c_void_p, c_char_p, c_size_t, ctypes.c_char_p, c_size_t,
                                   POINTER(c_size_t)], c_int32),
        "lp_blink_video": ([c_void_p, c_char_p, c_size_t, POINTER(BlinkResult)], c_int32),
        "lp_stream_create": ([c_void_p, c_int32, POINTER(c_void_p)], c_int32),
        "lp_stream_destroy": ([c_void_p], None),
        "lp_stream_feed_image": ([c_void_p, c_char_p, c_size_t, c_double,
                                  POINTER(Observation)], c_int32),
        "lp_challenge_options_init": ([POINTER(ChallengeOptions)], None),
        "lp_challenge_create": ([c_void_p, POINTER(ChallengeOptions), POINTER(c_void_p)],
                                c_int32),
        "lp_challenge_destroy": ([c_void_p], None),
        "lp_challenge_start": ([c_void_p, c_double, ctypes.c_char_p, c_size_t,
                                POINTER(c_size_t)], c_int32),
        "lp_challenge_feed_image": ([c_void_p, c_char_p, c_size_t, c_double, ctypes.c_char_p,
                                     c_size_t, POINTER(c_size_t)], c_int32),
        "lp_challenge_tick": ([c_void_p, c_double, ctypes.c_char_p, c_size_t,
                               POINTER(c_size_t)], c_int32),
        "lp_challenge_last_reply": ([c_void_p, ctypes.c_char_p, c_size_t, POINTER(c_size_t)],
                                    c_int32),
        "lp_challenge_get_state": ([c_void_p], c_int32),
    }
    for name, (args, result) in sig.items():
        fn = getattr(lib, name)
        fn.argtypes = args
        fn.restype = result
    return lib

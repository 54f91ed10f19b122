"""libfacesdk.so loaded with ctypes the way system C's app loads faceplugin.so (docs/compat.md §3).

The bindings below mirror C's facesdk.py and face_util.py (argtypes, restype, the 604-byte
FaceBox), and face_state() mirrors C's app.py with liveproof's REST defaults. Each sample is
opened as C's app opens it (PIL, np.asarray, no conversion) and given to faceDetection; the
answer must be the one the REST door (POST /liveness-detection of a real `liveproof serve`)
gives for the same file: the same result string (Real / Spoof / No face / Multiple face), the
same boxes and flags. Then the newer rewrite's FaceSDK_* functions, the error codes, and the
licence flow with a key in the environment (a child process, since the key is read once).

Usage: LIVEPROOF_FACESDK=path/to/libfacesdk.so python3 facesdk_ctypes_test.py (and the
integration tests' environment).
Skips (77) without python3-pil / python3-numpy, the models or the shared data.
"""

import ctypes
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

from server_harness import (F1, F2, MODELS, NO_FACE, T1, TWO_FACES,  # noqa: E402
                            ServerTestCase, shared_path)

try:
    import numpy as np
    from numpy.ctypeslib import ndpointer
    from PIL import Image, ImageOps
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"skip: {e} (apt-get install python3-pil python3-numpy)")
    sys.exit(77)

LIB = os.environ.get("LIVEPROOF_FACESDK")
SAMPLES = (T1, F1, F2, NO_FACE, TWO_FACES, "data/conditions/multi_face/faceonnx_selfie.jpg",
           "data/conditions/quality/inspireface_blur.jpg",
           "data/eyes_mouth/inspireface_close_eyes.jpeg")

SDK_SUCCESS, SDK_LICENSE_KEY_ERROR, SDK_LICENSE_EXPIRED = 0, -1, -3
SDK_NO_ACTIVATED, SDK_INIT_ERROR, SDK_PARAM_ERROR, SDK_IMAGE_ERROR = -4, -5, -6, -7


class FaceBox(ctypes.Structure):
    """C's face_util.FaceBox, field for field."""
    _fields_ = [("x1", ctypes.c_int32), ("y1", ctypes.c_int32), ("x2", ctypes.c_int32),
                ("y2", ctypes.c_int32), ("liveness", ctypes.c_float), ("yaw", ctypes.c_float),
                ("roll", ctypes.c_float), ("pitch", ctypes.c_float),
                ("face_quality", ctypes.c_float), ("face_luminance", ctypes.c_float),
                ("eye_dist", ctypes.c_float), ("left_eye_closed", ctypes.c_float),
                ("right_eye_closed", ctypes.c_float), ("face_occlusion", ctypes.c_float),
                ("mouth_opened", ctypes.c_float), ("landmark_68", ctypes.c_float * 136)]


def load(path):
    """C's facesdk.py: the library and the four functions with their declared types."""
    sdk = ctypes.cdll.LoadLibrary(path)
    sdk.getMachineCode.argtypes = []
    sdk.getMachineCode.restype = ctypes.c_char_p
    sdk.setActivation.argtypes = [ctypes.c_char_p]
    sdk.setActivation.restype = ctypes.c_int32
    sdk.initSDK.argtypes = [ctypes.c_char_p]
    sdk.initSDK.restype = ctypes.c_int32
    sdk.faceDetection.argtypes = [ndpointer(ctypes.c_ubyte, flags="C_CONTIGUOUS"), ctypes.c_int32,
                                  ctypes.c_int32, ctypes.POINTER(FaceBox), ctypes.c_int32]
    sdk.faceDetection.restype = ctypes.c_int32
    sdk.FaceSDK_initSDK.restype = ctypes.c_int
    sdk.FaceSDK_activate.argtypes = [ctypes.c_char_p]
    sdk.FaceSDK_getMachineCode.argtypes = [ctypes.c_char_p]
    sdk.FaceSDK_liveness_all.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    return sdk


def detect(sdk, relative, max_faces=10, upright=True):
    """C's app.py: PIL open, np.asarray with no mode conversion, faceDetection into FaceBox[10].

    One difference: upright=True applies the EXIF orientation first (the shared samples are
    phone photos stored sideways, orientation 6), because liveproof's REST door analyses them
    upright and the comparison needs the same pixels. C's app skips it (compat.md §3.7)."""
    image = Image.open(shared_path(relative))
    if upright:
        image = ImageOps.exif_transpose(image)
    pixels = np.asarray(image)
    height, width = pixels.shape[0], pixels.shape[1]
    boxes = (FaceBox * max_faces)()
    count = sdk.faceDetection(pixels, width, height, boxes, max_faces)
    return width, height, count, [boxes[i] for i in range(max(count, 0))]


def face_state(width, height, count, boxes):
    """C's face_state with liveproof's REST defaults (its boundary rule: every edge its side)."""
    state = dict.fromkeys(("is_not_front", "is_occluded", "eye_closed", "mouth_opened",
                           "is_boundary_face", "is_small", "quality", "luminance", "result",
                           "liveness_score"))
    if count == 0:
        state["result"] = "No face"
        return state
    if count > 1:
        state["result"] = "Multiple face"
        return state
    f = boxes[0]
    state["liveness_score"] = f.liveness
    state["result"] = "Real" if f.liveness > 0.7 else "Spoof"
    state["is_not_front"] = not (abs(f.yaw) < 10 and abs(f.roll) < 10 and abs(f.pitch) < 10)
    state["is_occluded"] = f.face_occlusion > 0.9
    state["eye_closed"] = f.left_eye_closed > 0.8 or f.right_eye_closed > 0.8
    state["mouth_opened"] = f.mouth_opened > 0.5
    state["is_boundary_face"] = (f.x1 < 0.05 * width or f.y1 < 0.05 * height or
                                 f.x2 > 0.95 * width or f.y2 > 0.95 * height)
    state["is_small"] = f.eye_dist < 100
    q = f.face_quality
    state["quality"] = "Low" if q < 0.3 else ("Medium" if q < 0.7 else "High")
    lum = f.face_luminance
    state["luminance"] = "Dark" if lum < 50 else ("Normal" if lum < 200 else "Light")
    return state


class FaceSdkLikeC(ServerTestCase):
    REQUIRED_FILES = SAMPLES

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        os.environ["LIVEPROOF_MODEL_DIR"] = MODELS
        os.environ.pop("LIVEPROOF_LICENCE_PUBLIC_KEY", None)
        cls.sdk = load(LIB)

    def setUp(self):
        # C's app: setActivation(licence) then initSDK("data"); "data" holds no liveproof
        # MANIFEST, so the models come from LIVEPROOF_MODEL_DIR.
        self.assertEqual(self.sdk.initSDK(b"data"), SDK_SUCCESS)

    def test_facebox_is_604_bytes(self):
        self.assertEqual(ctypes.sizeof(FaceBox), 604)

    def test_loads_under_the_names_c_apps_use(self):
        folder = os.path.dirname(LIB)
        for name in ("faceplugin.so", "libFaceLivenessSDK.so"):
            other = ctypes.cdll.LoadLibrary(os.path.join(folder, name))
            other.getMachineCode.restype = ctypes.c_char_p
            self.assertEqual(other.getMachineCode(), self.sdk.getMachineCode())

    def test_machine_code_is_the_servers(self):
        code = self.server.get("/get-machine-code").json()["machineCode"]
        self.assertEqual(self.sdk.getMachineCode().decode(), code)
        buf = ctypes.create_string_buffer(768)
        self.assertEqual(self.sdk.FaceSDK_getMachineCode(buf), SDK_SUCCESS)
        self.assertEqual(buf.value.decode(), code)

    def test_without_a_key_garbage_activation_is_still_refused(self):
        # As the REST door without licence_public_key: nothing is enforced, but text that is no
        # licence is refused (C's setActivation of garbage is non-zero too).
        self.assertEqual(self.sdk.setActivation(b"anything"), SDK_LICENSE_KEY_ERROR)

    def test_every_sample_gets_the_rest_doors_answer(self):
        results = set()
        for relative in SAMPLES:
            with self.subTest(sample=relative):
                width, height, count, boxes = detect(self.sdk, relative)
                self.assertGreaterEqual(count, 0)
                mine = face_state(width, height, count, boxes)
                r = self.server.post_file("/liveness-detection", "file", relative, "image/jpeg")
                self.assertEqual(r.status, 200, r)
                rest = r.json()
                results.add(mine["result"])
                self.assertEqual(mine["result"], rest["face_state"]["result"])
                self.assertEqual(count, len(rest["faces"]))
                for key, value in rest["face_state"].items():
                    if isinstance(value, float):
                        self.assertAlmostEqual(mine[key], value, delta=1e-4, msg=key)
                    else:
                        self.assertEqual(mine[key], value, key)
                # The REST door reports coordinates in the stored pixel grid (what C's clients
                # crop); the SDK was given the upright pixels. Orientation 6 (the samples'):
                # upright (u, v) is stored (v, W - u), W the upright width.
                orientation = Image.open(shared_path(relative)).getexif().get(0x0112, 1)
                self.assertIn(orientation, (1, 6), "only orientations 1 and 6 are mapped here")
                def stored(x, y):
                    return (x, y) if orientation == 1 else (y, width - x)
                for box, face in zip(boxes, rest["faces"]):
                    a, b = stored(box.x1, box.y1), stored(box.x2, box.y2)
                    want = {"x1": min(a[0], b[0]), "x2": max(a[0], b[0]),
                            "y1": min(a[1], b[1]), "y2": max(a[1], b[1])}
                    for key in ("x1", "y1", "x2", "y2"):
                        # whole pixels on both sides: rounding may differ by one
                        self.assertAlmostEqual(want[key], face[key], delta=1, msg=key)
                    self.assertAlmostEqual(box.liveness, face["liveness"], delta=1e-4)
                    self.assertAlmostEqual(box.yaw, face["yaw"], delta=0.01)
                    self.assertAlmostEqual(box.eye_dist, face["eye_dist"], delta=0.01)
                    points = list(box.landmark_68)
                    px, py = stored(points[60], points[61])
                    self.assertAlmostEqual(px, face["landmark_68"][30]["x"], delta=0.01)
                    self.assertAlmostEqual(py, face["landmark_68"][30]["y"], delta=0.01)
        self.assertEqual(results, {"Real", "Spoof", "No face", "Multiple face"})

    def test_at_most_face_box_count_are_written(self):
        image = np.asarray(Image.open(shared_path(TWO_FACES)))
        guard = (FaceBox * 2)()
        guard[1].x1 = 12345
        count = self.sdk.faceDetection(image, image.shape[1], image.shape[0], guard, 1)
        self.assertEqual(count, 1)
        self.assertEqual(guard[1].x1, 12345, "faceDetection wrote past faceBoxCount")

    def test_bad_arguments_are_param_errors(self):
        image = np.zeros((10, 10, 3), dtype=np.uint8)
        boxes = (FaceBox * 1)()
        self.assertEqual(self.sdk.faceDetection(image, 0, 10, boxes, 1), SDK_PARAM_ERROR)
        self.assertEqual(self.sdk.faceDetection(image, 10, -1, boxes, 1), SDK_PARAM_ERROR)
        self.assertEqual(self.sdk.faceDetection(image, 10, 10, None, 1), SDK_PARAM_ERROR)
        self.assertEqual(self.sdk.faceDetection(image, 10, 10, boxes, -1), SDK_PARAM_ERROR)
        self.assertEqual(self.sdk.faceDetection(image, 100000, 100000, boxes, 1),
                         SDK_PARAM_ERROR)
        self.assertEqual(self.sdk.faceDetection(image, 10, 10, boxes, 0), 0)
        self.assertEqual(self.sdk.setActivation(None), SDK_PARAM_ERROR)

    def test_a_folder_without_models_is_init_error(self):
        saved = os.environ.pop("LIVEPROOF_MODEL_DIR")
        try:
            with tempfile.TemporaryDirectory() as empty:
                os.environ["LIVEPROOF_MODEL_DIR"] = empty
                self.assertEqual(self.sdk.initSDK(b"data"), SDK_INIT_ERROR)
        finally:
            os.environ["LIVEPROOF_MODEL_DIR"] = saved
        # The engine loaded before stays in use.
        width, height, count, _ = detect(self.sdk, T1)
        self.assertEqual(count, 1)

    def liveness_all(self, data, size=None):
        out = ctypes.create_string_buffer(2 * 1024 * 1024)
        code = self.sdk.FaceSDK_liveness_all(data, len(data) if size is None else size, out)
        return code, (json.loads(out.value) if code == SDK_SUCCESS else None)

    def test_rewrite_liveness_all_scores_as_the_rest_door(self):
        self.assertEqual(self.sdk.FaceSDK_initSDK(), SDK_SUCCESS)
        for relative, want in ((T1, "Real"), (F2, "Spoof"), (NO_FACE, "No face")):
            with self.subTest(sample=relative):
                with open(shared_path(relative), "rb") as f:
                    data = f.read()
                code, body = self.liveness_all(data)
                self.assertEqual(code, SDK_SUCCESS)
                self.assertEqual(set(body), {"score", "result", "pass", "face_count"})
                self.assertEqual(body["result"], want)
                self.assertEqual(body["pass"], want == "Real")
                rest = self.server.post_file("/liveness-detection", "file", relative).json()
                if rest["faces"]:
                    # The same decoder on the same bytes: the same score.
                    self.assertAlmostEqual(body["score"], rest["faces"][0]["liveness"], places=5)

    def test_rewrite_errors(self):
        self.assertEqual(self.liveness_all(b"not an image")[0], SDK_IMAGE_ERROR)
        self.assertEqual(self.liveness_all(b"x", 0)[0], SDK_PARAM_ERROR)
        self.assertEqual(self.sdk.FaceSDK_liveness_all(None, 10, None), SDK_PARAM_ERROR)
        self.assertEqual(self.sdk.FaceSDK_getMachineCode(None), SDK_PARAM_ERROR)
        self.assertEqual(self.sdk.FaceSDK_activate(b"/nonexistent/licence.txt"),
                         SDK_LICENSE_KEY_ERROR)
        # An endless file is read only up to the licence cap (4096 bytes), then refused.
        self.assertEqual(self.sdk.FaceSDK_activate(b"/dev/zero"), SDK_LICENSE_KEY_ERROR)


# The child process of the licence test: a key in the environment, C's activation flow.
LICENCE_CHILD = r"""
import ctypes, json, os, sys
sys.path.insert(0, sys.argv[1])
from facesdk_ctypes_test import FaceBox, load, detect, T1
sdk = load(sys.argv[2])
out = {"before_init": sdk.initSDK(b"data")}
out["detect_before"] = detect(sdk, T1)[2]
out["garbage"] = sdk.setActivation(b"garbage")
out["expired"] = sdk.setActivation(sys.argv[4].encode())
out["valid"] = sdk.setActivation(sys.argv[3].encode())
out["after_init"] = sdk.initSDK(b"data")
out["detect_after"] = detect(sdk, T1)[2]
print(json.dumps(out))
"""


class FaceSdkLicence(unittest.TestCase):
    def test_activation_with_a_key(self):
        from test_system_c import Ed25519Signer
        with tempfile.TemporaryDirectory() as work:
            try:
                signer = Ed25519Signer(work)
            except (OSError, subprocess.CalledProcessError) as e:
                self.skipTest(f"openssl cannot make Ed25519 keys: {e}")
            code = load(LIB).getMachineCode().decode()
            env = dict(os.environ, LIVEPROOF_MODEL_DIR=MODELS,
                       LIVEPROOF_LICENCE_PUBLIC_KEY=signer.public_key_b64(),
                       PYTHONPATH=os.path.join(os.path.dirname(HERE), "integration"))
            done = subprocess.run(
                [sys.executable, "-c", LICENCE_CHILD, HERE, LIB,
                 signer.licence(code, time.time() + 3600), signer.licence(code, time.time() - 60)],
                env=env, capture_output=True, text=True, timeout=300, check=True)
            got = json.loads(done.stdout.strip().splitlines()[-1])
            self.assertEqual(got, {"before_init": SDK_NO_ACTIVATED,
                                   "detect_before": SDK_NO_ACTIVATED,
                                   "garbage": SDK_LICENSE_KEY_ERROR,
                                   "expired": SDK_LICENSE_EXPIRED, "valid": SDK_SUCCESS,
                                   "after_init": SDK_SUCCESS, "detect_after": 1})


if __name__ == "__main__":
    if LIB is None:
        print("set LIVEPROOF_FACESDK to the path of libfacesdk.so")
        sys.exit(2)
    unittest.main(verbosity=2)

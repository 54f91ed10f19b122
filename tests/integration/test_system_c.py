"""System C front door over real HTTP (docs/compat.md §3, §4 "C").

The four detection endpoints (/liveness-detection and /check_liveness with multipart `file`,
/liveness-detection-base64 and /check_liveness_base64 with JSON `base64`): exact keys and types
of face_state and of each face, the result strings (Real, Spoof, No face, Multiple face,
Failed to open file) and their null rules, quality/luminance bands; GET /get-machine-code;
POST /activate-machine's two-element array. With a licence public key configured: 403 before
activation, activationStatus -1 (invalid) and -3 (expired), then 0 with a valid Ed25519 licence
signed here with the openssl CLI, after which detection works.
"""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from server_harness import (F2, NO_FACE, T1, TWO_FACES, ServerTestCase, b64_of, shared_path)

FACE_STATE_KEYS = {"is_not_front", "is_occluded", "eye_closed", "mouth_opened",
                   "is_boundary_face", "is_small", "quality", "luminance", "result",
                   "liveness_score"}
FACE_STATE_FLAGS = ("is_not_front", "is_occluded", "eye_closed", "mouth_opened",
                    "is_boundary_face", "is_small")
FACE_INT_KEYS = ("x1", "y1", "x2", "y2")
FACE_FLOAT_KEYS = ("liveness", "yaw", "roll", "pitch", "face_quality", "face_luminance",
                   "eye_dist", "left_eye_closed", "right_eye_closed", "face_occlusion",
                   "mouth_opened")
FACE_KEYS = set(FACE_INT_KEYS) | set(FACE_FLOAT_KEYS) | {"landmark_68"}

MULTIPART_ENDPOINTS = ("/liveness-detection", "/check_liveness")
BASE64_ENDPOINTS = ("/liveness-detection-base64", "/check_liveness_base64")
ALL_ENDPOINTS = MULTIPART_ENDPOINTS + BASE64_ENDPOINTS
GARBAGE = bytes(range(256)) * 8


def detect(server, endpoint, relative=None, data=None):
    """Posts an image (a shared file or raw bytes) the way the endpoint expects."""
    if endpoint in BASE64_ENDPOINTS:
        text = b64_of(relative) if relative else base64.b64encode(data).decode()
        return server.post_json(endpoint, {"base64": text})
    if relative:
        return server.post_file(endpoint, "file", relative, "image/jpeg")
    return server.post_multipart(endpoint, {"file": ("upload.jpg", data, "image/jpeg")})


class SystemCAssertions(ServerTestCase):
    """Shape checks shared by the System C test classes."""

    def assert_c_answer(self, r):
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(set(body), {"face_state", "faces"}, body)
        self.assertEqual(set(body["face_state"]), FACE_STATE_KEYS)
        self.assertIsInstance(body["faces"], list)
        return body

    def assert_face_shape(self, face):
        self.assertEqual(set(face), FACE_KEYS, face)
        for key in FACE_INT_KEYS:
            self.assertIs(type(face[key]), int, key)
        for key in FACE_FLOAT_KEYS:
            self.assertIs(type(face[key]), float, key)
        self.assertLess(face["x1"], face["x2"])
        self.assertLess(face["y1"], face["y2"])
        self.assertEqual(len(face["landmark_68"]), 68)
        for point in face["landmark_68"]:
            self.assertEqual(set(point), {"x", "y"})
            self.assertIsInstance(point["x"], float)
            self.assertIsInstance(point["y"], float)

    def assert_single_face_state(self, state, face):
        for key in FACE_STATE_FLAGS:
            self.assertIs(type(state[key]), bool, key)
        self.assertIn(state["quality"], {"Low", "Medium", "High"})
        self.assertIn(state["luminance"], {"Dark", "Normal", "Light"})
        self.assertIsInstance(state["liveness_score"], float)
        self.assertAlmostEqual(state["liveness_score"], face["liveness"], places=6)
        self.assertEqual(state["result"], "Real" if face["liveness"] > 0.7 else "Spoof")

    def assert_only_result(self, state, result):
        self.assertEqual(state["result"], result)
        for key in FACE_STATE_KEYS - {"result"}:
            self.assertIsNone(state[key], key)


class SystemCDetection(SystemCAssertions):
    REQUIRED_FILES = (T1, F2, NO_FACE, TWO_FACES)

    def test_real_face_is_real_on_every_endpoint(self):
        for endpoint in ALL_ENDPOINTS:
            with self.subTest(endpoint=endpoint):
                body = self.assert_c_answer(detect(self.server, endpoint, T1))
                self.assertEqual(len(body["faces"]), 1)
                self.assert_face_shape(body["faces"][0])
                self.assert_single_face_state(body["face_state"], body["faces"][0])
                self.assertEqual(body["face_state"]["result"], "Real")

    def test_spoof_is_spoof_on_every_endpoint(self):
        for endpoint in ALL_ENDPOINTS:
            with self.subTest(endpoint=endpoint):
                body = self.assert_c_answer(detect(self.server, endpoint, F2))
                self.assertEqual(len(body["faces"]), 1)
                self.assert_face_shape(body["faces"][0])
                self.assert_single_face_state(body["face_state"], body["faces"][0])
                self.assertEqual(body["face_state"]["result"], "Spoof")

    def test_no_face_has_only_result_and_empty_faces(self):
        for endpoint in ("/liveness-detection", "/liveness-detection-base64"):
            with self.subTest(endpoint=endpoint):
                body = self.assert_c_answer(detect(self.server, endpoint, NO_FACE))
                self.assert_only_result(body["face_state"], "No face")
                self.assertEqual(body["faces"], [])

    def test_two_faces_have_only_result_but_both_faces_listed(self):
        for endpoint in ("/check_liveness", "/check_liveness_base64"):
            with self.subTest(endpoint=endpoint):
                body = self.assert_c_answer(detect(self.server, endpoint, TWO_FACES))
                self.assert_only_result(body["face_state"], "Multiple face")
                self.assertEqual(len(body["faces"]), 2)
                for face in body["faces"]:
                    self.assert_face_shape(face)

    def test_garbage_bytes_are_200_failed_to_open_file(self):
        for endpoint in ALL_ENDPOINTS:
            with self.subTest(endpoint=endpoint):
                body = self.assert_c_answer(detect(self.server, endpoint, data=GARBAGE))
                self.assert_only_result(body["face_state"], "Failed to open file")
                self.assertEqual(body["faces"], [])
        self.assert_still_healthy()

    def test_invalid_base64_is_200_failed_to_open_file(self):
        r = self.server.post_json("/liveness-detection-base64", {"base64": "%%% not base64 %%%"})
        body = self.assert_c_answer(r)
        self.assert_only_result(body["face_state"], "Failed to open file")
        self.assertEqual(body["faces"], [])

    def test_missing_file_field_is_400(self):
        fields = {"image": ("a.jpg", b"x", "image/jpeg")}
        r = self.server.post_multipart("/liveness-detection", fields)
        self.assertEqual(r.status, 400, r)
        self.assert_still_healthy()

    def test_json_without_base64_key_is_200_failed_to_open_file(self):
        # C reads content['base64'] inside its try: HTTP 200, "Failed to open file".
        for path in ("/check_liveness_base64", "/liveness-detection-base64"):
            for body in ({"image": b64_of(T1)}, {}):
                with self.subTest(path=path, body=list(body)):
                    r = self.server.post_json(path, body)
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual(r.headers.get("content-type"),
                                     "application/json; charset=utf-8")
                    self.assertEqual(r.json()["faces"], [])
                    self.assert_only_result(r.json()["face_state"], "Failed to open file")

    def test_body_that_is_not_json_is_400(self):
        r = self.server.post_raw("/check_liveness_base64", b"not json", "application/json")
        self.assertEqual(r.status, 400, r)
        self.assert_still_healthy()

    def test_machine_code_is_a_stable_string(self):
        first = self.server.get("/get-machine-code")
        self.assertEqual(first.status, 200, first)
        body = first.json()
        self.assertEqual(set(body), {"machineCode"})
        self.assertIsInstance(body["machineCode"], str)
        self.assertTrue(body["machineCode"])
        self.assertEqual(self.server.get("/get-machine-code").json(), body)

    def test_activate_machine_with_garbage_reports_failure_even_without_enforcement(self):
        # C's activation of a garbage licence is non-zero; [0, 0] would tell a client "activated".
        for garbage in ("anything", "", "a.b", "x" * 5000):
            with self.subTest(garbage=garbage[:10]):
                r = self.server.post_json("/activate-machine", {"license": garbage})
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json(), [{"activationStatus": -1}, {"initStatus": 0}])

    def test_activate_machine_without_enforcement_accepts_a_licence_for_this_machine(self):
        if shutil.which("openssl") is None:
            self.skipTest("openssl CLI not found: needed to sign Ed25519 licences")
        code = self.server.get("/get-machine-code").json()["machineCode"]
        workdir = tempfile.mkdtemp(prefix="liveproof-licence-")
        self.addCleanup(shutil.rmtree, workdir, True)
        signer = Ed25519Signer(workdir)
        for machine, expires, want in ((code, time.time() + 3600, 0),
                                       ("LP1-" + "0" * 32, time.time() + 3600, -1),
                                       (code, time.time() - 10, -3)):
            with self.subTest(machine=machine, expires=expires):
                licence = signer.licence(machine, expires)
                r = self.server.post_json("/activate-machine", {"license": licence})
                self.assertEqual(r.json(), [{"activationStatus": want}, {"initStatus": 0}])

    def test_activate_machine_without_license_key_is_400(self):
        r = self.server.post_json("/activate-machine", {"licence": "x"})
        self.assertEqual(r.status, 400, r)
        self.assert_still_healthy()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Ed25519Signer:
    """An Ed25519 keypair made and used through the openssl CLI (the standard library has none)."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.key = os.path.join(workdir, f"key{len(os.listdir(workdir))}.pem")
        self._openssl("genpkey", "-algorithm", "ed25519", "-out", self.key)

    def _openssl(self, *args, data=None):
        done = subprocess.run(["openssl", *args], input=data, capture_output=True, check=True,
                              timeout=30)
        return done.stdout

    def public_key_b64(self):
        """Standard base64 of the 32 raw public-key bytes (the tail of the DER SPKI)."""
        der = self._openssl("pkey", "-in", self.key, "-pubout", "-outform", "DER")
        return base64.b64encode(der[-32:]).decode("ascii")

    def sign(self, payload):
        path = os.path.join(self.workdir, "payload.bin")
        with open(path, "wb") as f:
            f.write(payload)
        return self._openssl("pkeyutl", "-sign", "-inkey", self.key, "-rawin", "-in", path)

    def licence(self, machine_code, expires):
        payload = json.dumps({"machine_code": machine_code, "expires": int(expires)}).encode()
        return b64url(payload) + "." + b64url(self.sign(payload))


class SystemCLicenceEnforced(SystemCAssertions):
    """A server started with --set licence_public_key=<key>: C's activation flow."""

    REQUIRED_FILES = (T1,)

    @classmethod
    def setUpClass(cls):
        if shutil.which("openssl") is None:
            raise unittest.SkipTest("openssl CLI not found: needed to sign Ed25519 licences")
        cls.workdir = tempfile.mkdtemp(prefix="liveproof-licence-")
        try:
            cls.signer = Ed25519Signer(cls.workdir)
            cls.other_signer = Ed25519Signer(cls.workdir)
        except subprocess.CalledProcessError as e:
            raise unittest.SkipTest(f"openssl cannot make Ed25519 keys: {e.stderr!r}")
        cls.SERVER_ARGS = ("--set", "licence_public_key=" + cls.signer.public_key_b64())
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.workdir, ignore_errors=True)

    def machine_code(self):
        return self.server.get("/get-machine-code").json()["machineCode"]

    def activate(self, licence):
        r = self.server.post_json("/activate-machine", {"license": licence})
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertIsInstance(body, list)
        self.assertEqual(len(body), 2)
        self.assertEqual(body[1], {"initStatus": 0})
        self.assertEqual(set(body[0]), {"activationStatus"})
        return body[0]["activationStatus"]

    def test_garbage_licence_is_minus_one(self):
        self.assertEqual(self.activate("not-a-licence"), -1)

    def test_licence_signed_by_another_key_is_minus_one(self):
        licence = self.other_signer.licence(self.machine_code(), time.time() + 3600)
        self.assertEqual(self.activate(licence), -1)

    def test_licence_for_another_machine_is_minus_one(self):
        licence = self.signer.licence("LP1-someone-else", time.time() + 3600)
        self.assertEqual(self.activate(licence), -1)

    def test_tampered_payload_is_minus_one(self):
        good = self.signer.licence(self.machine_code(), time.time() + 3600)
        forged_payload = b64url(json.dumps({"machine_code": self.machine_code(),
                                            "expires": 4102444800}).encode())
        self.assertEqual(self.activate(forged_payload + "." + good.split(".")[1]), -1)

    def test_expired_licence_is_minus_three(self):
        licence = self.signer.licence(self.machine_code(), time.time() - 60)
        self.assertEqual(self.activate(licence), -3)

    def test_activation_flow_unlocks_detection(self):
        # Before a valid licence every detection endpoint refuses with 403 not_activated
        # (the invalid and expired licences of the other tests never activate the server).
        for endpoint in ALL_ENDPOINTS:
            with self.subTest(endpoint=endpoint):
                self.assert_error_body(detect(self.server, endpoint, T1), 403, "not_activated")
        # The newer rewrite's door: -19 with the 403.
        r = self.server.post_json("/api/liveness", {"image": b64_of(T1)})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json()["code"], -19)
        expired = self.signer.licence(self.machine_code(), time.time() - 60)
        r = self.server.post_raw("/api/activate", expired.encode(), "text/plain")
        self.assertEqual((r.json()["code"], r.json()["message"]), (-1, "License expired"))
        licence = self.signer.licence(self.machine_code(), time.time() + 3600)
        self.assertEqual(self.activate(licence), 0)
        for endpoint in ALL_ENDPOINTS:
            with self.subTest(endpoint=endpoint, activated=True):
                body = self.assert_c_answer(detect(self.server, endpoint, T1))
                self.assertEqual(body["face_state"]["result"], "Real")
        r = self.server.post_json("/api/activate", {"license": licence})
        self.assertEqual(r.json()["code"], 0, r)
        self.assertEqual(r.json()["data"], {"activated": True, "machinecode": self.machine_code()})
        r = self.server.post_json("/api/liveness", {"image": b64_of(T1)})
        self.assertEqual(r.json()["data"]["result"], "Real", r)


class SystemCEnvelopeApi(ServerTestCase):
    """C's newer rewrite (/api/*, compat.md §3.8): every answer is {success, code, message,
    request_id, data}; refusals of the input are HTTP 200 with code -1, unknown endpoints -10,
    other errors -19 with the HTTP status."""

    REQUIRED_FILES = (T1, F2, NO_FACE)
    ENVELOPE = {"success", "code", "message", "request_id", "data"}

    def envelope(self, r, status=200, code=0):
        self.assertEqual(r.status, status, r)
        body = r.json()
        self.assertEqual(set(body), self.ENVELOPE, body)
        self.assertEqual(body["code"], code, body)
        self.assertIs(body["success"], code == 0)
        self.assertIsNone(body["request_id"])
        self.assertIsInstance(body["message"], str)
        return body["data"]

    def test_health_machinecode_backend(self):
        self.assertEqual(self.envelope(self.server.get("/api/health")), {"status": "ok"})
        data = self.envelope(self.server.get("/api/machinecode"))
        self.assertEqual(set(data), {"machinecode"})
        self.assertEqual(data["machinecode"],
                         self.server.get("/get-machine-code").json()["machineCode"])
        data = self.envelope(self.server.get("/api/backend"))
        self.assertEqual(data["product"], "FaceLiveness")
        self.assertEqual(data["backend"], "cpu")
        self.assertEqual(data["sdk_version"], self.server.get("/").json()["version"])

    def test_liveness_real_and_spoof_on_both_paths(self):
        for path in ("/api/liveness", "/api/check_liveness"):
            for image, want in ((T1, "Real"), (F2, "Spoof")):
                with self.subTest(path=path, image=image):
                    data = self.envelope(self.server.post_json(path, {"image": b64_of(image)}))
                    self.assertEqual(set(data), {"score", "result", "pass"})
                    self.assertEqual(data["result"], want)
                    self.assertIs(data["pass"], want == "Real")
                    self.assertIs(data["score"] >= 0.5, want == "Real")  # C: score >= 0.5

    def test_data_url_prefix_is_stripped(self):
        data = self.envelope(self.server.post_json(
            "/api/liveness", {"image": "data:image/jpeg;base64," + b64_of(T1)}))
        self.assertEqual(data["result"], "Real")

    def test_missing_image_is_200_code_minus_1(self):
        for body in ({}, {"image": ""}, {"image": None}, {"picture": b64_of(T1)}):
            with self.subTest(body=list(body)):
                r = self.server.post_json("/api/liveness", body)
                self.assertIsNone(self.envelope(r, 200, -1))
                self.assertEqual(r.json()["message"], "image required")

    def test_no_face_is_a_refusal(self):
        r = self.server.post_json("/api/liveness", {"image": b64_of(NO_FACE)})
        self.envelope(r, 200, -1)

    def test_undecodable_image_is_minus_19_with_the_status(self):
        r = self.server.post_json("/api/liveness", {"image": "aGVsbG8gd29ybGQ="})
        self.envelope(r, r.status, -19)
        self.assertIn(r.status, (400, 415))
        self.assert_still_healthy()

    def test_activate(self):
        for body, message in ((b"", "Empty license"), (b"   ", "Empty license"),
                              (b"FP1.garbage", "Invalid license"),
                              (b'{"license": "FP1.garbage"}', "Invalid license"),
                              (b'{"license": ""}', "Empty license")):
            with self.subTest(body=body):
                r = self.server.post_raw("/api/activate", body, "text/plain")
                data = self.envelope(r, 200, -1)
                self.assertEqual(r.json()["message"], message)
                self.assertIs(data["activated"], False)
                self.assertTrue(data["machinecode"].startswith("LP1-"))

    def test_unknown_endpoint_is_minus_10_and_wrong_method_minus_19(self):
        self.envelope(self.server.get("/api/nothing-here"), 404, -10)
        self.envelope(self.server.post_raw("/api/nothing", b"", "text/plain"), 404, -10)
        self.envelope(self.server.get("/api/liveness"), 405, -19)
        self.envelope(self.server.post_raw("/api/health", b"", "text/plain"), 405, -19)



class SystemCExifCoordinates(SystemCAssertions):
    """A phone photo stored sideways with EXIF orientation 6: liveproof analyses it upright, but
    C's clients crop the stored pixels (C never turns the image), so the box and landmark_68
    come back in the stored pixel grid."""

    REQUIRED_FILES = (T1,)

    def setUp(self):
        try:
            from PIL import Image  # python3-pil
        except ImportError:
            self.skipTest("python3-pil is needed to write an EXIF-rotated JPEG")
        import io
        upright = Image.open(shared_path(T1)).convert("RGB")
        self.w, self.h = upright.size
        # Stored turned 90 degrees counter-clockwise; orientation 6 says "turn clockwise".
        stored = upright.transpose(Image.Transpose.ROTATE_90)
        exif = Image.Exif()
        exif[0x0112] = 6
        out = io.BytesIO()
        stored.save(out, "JPEG", quality=97, exif=exif.tobytes())
        self.rotated = out.getvalue()
        out = io.BytesIO()
        upright.save(out, "JPEG", quality=97)
        self.plain = out.getvalue()

    def test_box_and_landmarks_are_in_the_stored_grid(self):
        plain = self.assert_c_answer(detect(self.server, "/liveness-detection-base64",
                                            data=self.plain))["faces"][0]
        turned = self.assert_c_answer(detect(self.server, "/liveness-detection-base64",
                                             data=self.rotated))
        self.assertEqual(turned["face_state"]["result"], "Real")  # analysed upright
        face = turned["faces"][0]
        # Upright (u, v) sits at stored (v, W - u); the stored image is H wide and W high.
        want = {"x1": plain["y1"], "x2": plain["y2"],
                "y1": self.w - plain["x2"], "y2": self.w - plain["x1"]}
        for k, v in want.items():
            self.assertAlmostEqual(face[k], v, delta=4, msg=(k, face, plain))
        self.assertLessEqual(face["x2"], self.h)
        self.assertLessEqual(face["y2"], self.w)
        errors = [abs(q["x"] - p["y"]) + abs(q["y"] - (self.w - p["x"]))
                  for p, q in zip(plain["landmark_68"], face["landmark_68"])]
        self.assertLess(sum(errors) / len(errors), 4.0, errors)


if __name__ == "__main__":
    unittest.main()

"""Native API and service endpoints over real HTTP.

POST /v1/analyze with a raw image/jpeg body, a multipart `file`, a JSON {"image": base64},
?mesh=1 (mesh_468 with 468 points) and ?passive_only=1 (pose null), and 415 for an unsupported
Content-Type. GET /, /healthz, /readyz, /metrics (request counters with route labels, stage
timings), /openapi.json, /docs; 404 and 405 (with Allow) as native JSON errors.
"""

import base64
import hashlib
import json
import os
import re
import shutil
import tempfile
import unittest

from server_harness import F2, T1, ServerTestCase, b64_of, read_shared

ANALYSIS_KEYS = {"width", "height", "exif_orientation", "detector", "face_count", "faces",
                 "timings_ms"}
KEYPOINT_NAMES = {"right_eye", "left_eye", "nose", "right_mouth", "left_mouth"}


class NativeAnalyze(ServerTestCase):
    REQUIRED_FILES = (T1, F2)

    def analyze_raw(self, relative, query=""):
        return self.server.post_raw("/v1/analyze" + query, read_shared(relative), "image/jpeg")

    def assert_analysis(self, r, faces=1, landmarks=68):
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertTrue(ANALYSIS_KEYS <= set(body), body.keys())
        self.assertIsInstance(body["width"], int)
        self.assertIsInstance(body["height"], int)
        self.assertEqual(body["face_count"], faces)
        self.assertEqual(len(body["faces"]), faces)
        for face in body["faces"]:
            self.assert_native_face(face, landmarks)
        return body

    def assert_native_face(self, face, landmarks):
        self.assertEqual(set(face["keypoints"]), KEYPOINT_NAMES)
        for point in face["keypoints"].values():
            self.assertEqual(set(point), {"x", "y"})
        self.assertIsInstance(face["antispoof"], dict)
        self.assertIsInstance(face["antispoof"]["p_real"], float)
        self.assertIn("label", face["antispoof"])
        self.assertEqual(len(face["landmark_68"]), landmarks)

    def test_raw_jpeg_body_analyses_real_face(self):
        body = self.assert_analysis(self.analyze_raw(T1))
        face = body["faces"][0]
        self.assertGreater(face["antispoof"]["p_real"], 0.9)
        self.assertIsInstance(face["yaw"], float)
        self.assertNotIn("mesh_468", face)

    def test_raw_body_scores_spoof_low(self):
        body = self.assert_analysis(self.analyze_raw(F2))
        self.assertLess(body["faces"][0]["antispoof"]["p_real"], 0.5)

    def test_octet_stream_body_is_accepted(self):
        r = self.server.post_raw("/v1/analyze", read_shared(T1), "application/octet-stream")
        self.assert_analysis(r)

    def test_multipart_file_field(self):
        self.assert_analysis(self.server.post_file("/v1/analyze", "file", T1, "image/jpeg"))

    def test_json_image_field(self):
        self.assert_analysis(self.server.post_json("/v1/analyze", {"image": b64_of(T1)}))

    def test_mesh_query_adds_468_points(self):
        face = self.assert_analysis(self.analyze_raw(T1, "?mesh=1"))["faces"][0]
        self.assertEqual(len(face["mesh_468"]), 468)
        self.assertEqual(set(face["mesh_468"][0]), {"x", "y"})

    def test_passive_only_skips_pose(self):
        # Passive-only skips the mesh, so landmark_68 is present but empty.
        r = self.analyze_raw(T1, "?passive_only=1")
        face = self.assert_analysis(r, landmarks=0)["faces"][0]
        self.assertIsNone(face["yaw"])
        self.assertIsNone(face["pitch"])
        self.assertIsNone(face["roll"])
        self.assertIsInstance(face["antispoof"]["p_real"], float)

    def test_text_plain_is_415(self):
        r = self.server.post_raw("/v1/analyze", b"hello", "text/plain")
        self.assert_error_body(r, 415, "unsupported_format")
        self.assert_still_healthy()

    def test_json_without_image_is_400(self):
        r = self.server.post_json("/v1/analyze", {"picture": "x"})
        self.assertEqual(r.status, 400, r)
        self.assert_still_healthy()

    def test_deeply_nested_json_is_400_without_building_it(self):
        # 4 MB of "[" would be millions of nested arrays (gigabytes) if parsed whole; the
        # parser stops at 16 levels.
        body = b"[" * (4 << 20)
        r = self.server.post_raw("/v1/analyze", body, "application/json")
        self.assert_error_body(r, 400, "invalid_json")
        self.assertIn("nested deeper than 16", r.json()["detail"])
        r = self.server.post_raw("/v1/analyze", b'{"image": ' + b"[" * 17 + b"]" * 17 + b"}",
                                 "application/json")
        self.assert_error_body(r, 400, "invalid_json")
        self.assert_still_healthy()

    def test_garbage_raw_body_is_an_error_not_a_crash(self):
        r = self.server.post_raw("/v1/analyze", bytes(range(256)) * 4, "image/jpeg")
        self.assertIn(r.status, (400, 415), r)
        self.assertEqual(set(r.json()), {"error", "detail"})
        self.assert_still_healthy()


class ServiceEndpoints(ServerTestCase):
    REQUIRED_FILES = (T1,)

    def test_root_describes_the_service(self):
        r = self.server.get("/")
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["name"], "liveproof")
        self.assertIsInstance(body["version"], str)
        # The endpoint map's layout may evolve; every front door must be named in it.
        listed = json.dumps(body["endpoints"])
        for path in ("/liveness", "/active/blink", "/liveness-detection", "/v1/analyze",
                     "/healthz", "/docs", "/openapi.json"):
            self.assertIn(f'"{path}"', listed)

    def test_healthz_is_ok(self):
        r = self.server.get("/healthz")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"status": "ok"})

    def test_readyz_is_ready(self):
        r = self.server.get("/readyz")
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["status"], "ready")
        self.assertEqual(body["workers"], 2)
        self.assertIsInstance(body["queue_depth"], int)

    def test_metrics_count_requests_by_route_and_time_stages(self):
        self.server.get("/healthz")
        self.server.post_raw("/v1/analyze", read_shared(T1), "image/jpeg")
        self.server.get("/no/such/path")
        r = self.server.get("/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/plain"))
        text = r.text()
        self.assertRegex(text, r'liveproof_http_requests_total\{route="healthz",status="200"\} \d')
        self.assertRegex(text,
                         r'liveproof_http_requests_total\{route="v1_analyze",status="200"\} \d')
        self.assertRegex(text, r'liveproof_http_requests_total\{route="unmatched",status="404"\}')
        self.assertIn("# TYPE liveproof_http_requests_total counter", text)
        self.assertRegex(text, r'liveproof_stage_duration_seconds_bucket\{[^}]*stage="')
        self.assertIn("liveproof_stage_duration_seconds_count", text)

    def test_metrics_counter_grows(self):
        def count():
            m = re.search(r'liveproof_http_requests_total\{route="readyz",status="200"\} (\d+)',
                          self.server.get("/metrics").text())
            return int(m.group(1)) if m else 0
        before = count()
        self.server.get("/readyz")
        self.server.get("/readyz")
        self.assertEqual(count(), before + 2)

    def test_openapi_json_parses_and_lists_paths(self):
        r = self.server.get("/openapi.json")
        self.assertEqual(r.status, 200, r)
        doc = json.loads(r.body)
        self.assertIn("openapi", doc)
        for path in ("/liveness", "/active/blink", "/liveness-detection", "/v1/analyze"):
            self.assertIn(path, doc["paths"])

    def test_docs_is_html(self):
        r = self.server.get("/docs")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/html"))
        self.assertIn(b"<html", r.body.lower())

    def test_unknown_path_is_json_404(self):
        r = self.server.get("/definitely/not/here")
        self.assert_error_body(r, 404, "not_found")

    def test_docs_path_traversal_is_404(self):
        r = self.server.get("/docs/../../../../etc/passwd")
        self.assertEqual(r.status, 404, r)
        self.assertNotIn(b"root:", r.body)

    def test_wrong_method_is_405_with_allow(self):
        r = self.server.get("/liveness")
        self.assert_error_body(r, 405, "method_not_allowed")
        self.assertEqual(r.header("Allow"), "POST")

    def test_post_to_get_route_is_405_with_allow_get(self):
        r = self.server.post_raw("/healthz", b"", "text/plain")
        self.assert_error_body(r, 405, "method_not_allowed")
        self.assertEqual(r.header("Allow"), "GET")

    def test_head_of_healthz_has_no_body(self):
        r = self.server.request("HEAD", "/healthz")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"")

    def test_head_reports_the_content_length_of_get(self):
        get = self.server.get("/healthz")
        head = self.server.request("HEAD", "/healthz")
        self.assertEqual(head.header("Content-Length"), str(len(get.body)))

    def test_api_docs_list_every_served_endpoint(self):
        doc = self.server.get("/openapi.json").json()
        served = ["/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/liveness",
                  "/active/blink", "/liveness-detection", "/liveness-detection-base64",
                  "/check_liveness", "/check_liveness_base64", "/get-machine-code",
                  "/activate-machine", "/api/health", "/api/machinecode", "/api/backend",
                  "/api/activate", "/api/liveness", "/api/check_liveness",
                  "/v1/analyze", "/test", "/ws", "/start", "/frame",
                  "/v1/sessions", "/v1/sessions/{session_id}",
                  "/v1/sessions/{session_id}/images/{n}", "/v1/sessions/{session_id}/ws",
                  "/v1/sessions/{session_id}/image", "/v1/sessions/{session_id}/video",
                  "/.well-known/jwks.json"]
        self.assertEqual(sorted(doc["paths"]), sorted(served))

    def test_listening_line_is_logged_on_stderr(self):
        self.assertEqual(self.server.listening_stream, "stderr")


class OperatingPointInForce(ServerTestCase):
    """serve --set operating_point=FILE: its thresholds judge every door, GET / names it and a
    session's signed verdict carries its name and sha256. The file's threshold (0.99999) sits
    just above T1's P(real) (0.99989), so T1 flips from real to fake everywhere."""

    REQUIRED_FILES = (T1,)
    THRESHOLD = 0.99999

    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="liveproof-op-")
        cls.path = os.path.join(cls.folder, "op.json")
        doc = {"format": "liveproof-operating-point/1", "name": "strict test point",
               "target": {"metric": "APCER", "value": 0.0},
               "thresholds": {"liveness_threshold": cls.THRESHOLD,
                              "c_liveness_threshold": cls.THRESHOLD}}
        cls.raw = json.dumps(doc).encode()
        with open(cls.path, "wb") as f:
            f.write(cls.raw)
        cls.SERVER_ARGS = ("--set", f"operating_point={cls.path}")
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.folder, ignore_errors=True)

    def test_root_names_the_operating_point(self):
        point = self.server.get("/").json()["operating_point"]
        self.assertEqual(point["name"], "strict test point")
        self.assertEqual(point["sha256"], hashlib.sha256(self.raw).hexdigest())
        self.assertEqual(point["thresholds"]["liveness_threshold"], self.THRESHOLD)
        self.assertEqual(point["target"], {"metric": "APCER", "value": 0.0})

    def test_every_door_judges_at_its_threshold(self):
        b = self.server.post_json("/liveness", {"image": b64_of(T1)}).json()
        self.assertGreater(b["confidence_score"], 0.99)
        self.assertEqual(b["liveness_label"], "fake")
        c = self.server.post_json("/liveness-detection-base64", {"base64": b64_of(T1)}).json()
        self.assertEqual(c["face_state"]["result"], "Spoof")
        api = self.server.post_json("/api/liveness", {"image": b64_of(T1)}).json()
        self.assertEqual(api["data"]["result"], "Spoof")

    def test_a_sessions_verdict_names_it(self):
        created = self.server.post_json("/v1/sessions", {"mode": "passive"}).json()
        sid, token = created["session_id"], created["client_token"]
        r = self.server.post_raw(f"/v1/sessions/{sid}/image?token={token}", read_shared(T1),
                                 "image/jpeg")
        self.assertEqual(r.status, 200, r)
        verdict = self.server.get(f"/v1/sessions/{sid}").json()["verdict"]
        payload = verdict.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        self.assertEqual(claims["operating_point"],
                         {"name": "strict test point",
                          "sha256": hashlib.sha256(self.raw).hexdigest()})
        self.assertEqual(claims["decision"], "spoof")  # T1 is below this point's threshold


class NoOperatingPoint(ServerTestCase):
    """Without a file GET / says so (null): the defaults are in force."""

    def test_root_says_none(self):
        self.assertIsNone(self.server.get("/").json()["operating_point"])


if __name__ == "__main__":
    unittest.main()

"""System B front door over real HTTP (docs/compat.md §2, §4 "B").

POST /liveness: both body fields (image, image_base64), a data: URL prefix, real and spoof samples,
fallback null rules, CONFIDENCE_THRESHOLD from the environment, FastAPI-style 422s, B's 400 shape,
no-face and multi-face 422s. POST /active/blink: a live blink video, a replay, a missing field and
a file that is not a video. After every error case the server still answers GET /healthz.
"""

import unittest

from server_harness import (F2, NO_FACE, REPLAY_VIDEO, T1, TWO_FACES, WOLF_VIDEO, ServerTestCase,
                            b64_of)

RESPONSE_KEYS = {"liveness_label", "confidence_score", "requires_active_check", "fallback"}
def blink_fallback(server):
    """B's fallback: upload_url is absolute, as B's clients follow it (from the Host header
    when public_url is not set)."""
    return {"challenge_type": "blink",
            "upload_url": f"http://{server.host}:{server.port}/active/blink"}


class SystemBLiveness(ServerTestCase):
    REQUIRED_FILES = (T1, F2, NO_FACE, TWO_FACES)

    def liveness(self, body):
        return self.server.post_json("/liveness", body)

    def assert_response_shape(self, body):
        self.assertEqual(set(body), RESPONSE_KEYS, body)
        self.assertIsInstance(body["liveness_label"], str)
        self.assertIsInstance(body["confidence_score"], float)
        self.assertGreaterEqual(body["confidence_score"], 0.0)
        self.assertLessEqual(body["confidence_score"], 1.0)
        self.assertIsInstance(body["requires_active_check"], bool)

    def assert_missing_field(self, r, field):
        self.assert_validation_error(r, "missing", ["body", field])

    def assert_validation_error(self, r, kind, loc):
        """FastAPI's 422: detail is a list of {type, loc, msg, input} (B's clients parse it)."""
        self.assertEqual(r.status, 422, r)
        detail = r.json()["detail"]
        self.assertIsInstance(detail, list)
        self.assertEqual(len(detail), 1)
        self.assertEqual(set(detail[0]), {"type", "loc", "msg", "input"})
        self.assertEqual(detail[0]["type"], kind)
        self.assertEqual(detail[0]["loc"], loc)
        self.assertIsInstance(detail[0]["msg"], str)

    def assert_bad_request(self, r):
        self.assertEqual(r.status, 400, r)
        body = r.json()
        self.assertEqual(set(body), {"error", "detail"})
        self.assertEqual(body["error"], "Bad Request")
        self.assertIsInstance(body["detail"], str)
        self.assertTrue(body["detail"])

    def test_real_face_via_image_field_is_real_without_fallback(self):
        r = self.liveness({"image": b64_of(T1)})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("application/json"))
        body = r.json()
        self.assert_response_shape(body)
        self.assertEqual(body["liveness_label"], "real")
        self.assertGreater(body["confidence_score"], 0.9)
        self.assertIs(body["requires_active_check"], False)
        self.assertIn("fallback", body)
        self.assertIsNone(body["fallback"])

    def test_real_face_via_image_base64_field(self):
        body = self.liveness({"image_base64": b64_of(T1)}).json()
        self.assertEqual(body["liveness_label"], "real")
        self.assertIsNone(body["fallback"])

    def test_data_url_prefix_is_accepted(self):
        r = self.liveness({"image_base64": "data:image/jpeg;base64," + b64_of(T1)})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["liveness_label"], "real")

    def test_spoof_is_fake_and_asks_for_blink(self):
        r = self.liveness({"image": b64_of(F2)})
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assert_response_shape(body)
        self.assertEqual(body["liveness_label"], "fake")
        self.assertLess(body["confidence_score"], 0.5)
        self.assertIs(body["requires_active_check"], True)
        self.assertEqual(body["fallback"], blink_fallback(self.server))

    def test_missing_field_is_fastapi_422(self):
        self.assert_missing_field(self.liveness({"picture": "abc"}), "image_base64")
        self.assert_still_healthy()

    def test_empty_object_is_fastapi_422(self):
        self.assert_missing_field(self.liveness({}), "image_base64")

    def test_non_json_body_is_422(self):
        r = self.server.post_raw("/liveness", b"this is not json", "application/json")
        self.assertEqual(r.status, 422, r)
        self.assertIsInstance(r.json()["detail"], list)
        self.assert_still_healthy()

    def test_invalid_base64_is_bad_request(self):
        self.assert_bad_request(self.liveness({"image": "!!!not base64!!!"}))
        self.assert_still_healthy()

    def test_non_string_image_is_fastapi_422_string_type(self):
        for field in ("image", "image_base64"):
            with self.subTest(field=field):
                r = self.liveness({field: 12345})
                self.assert_validation_error(r, "string_type", ["body", field])
                self.assertEqual(r.json()["detail"][0]["input"], 12345)

    def test_body_that_is_not_an_object_is_fastapi_422(self):
        r = self.liveness([1, 2, 3])
        self.assert_validation_error(r, "model_attributes_type", ["body"])
        self.assertIsNone(r.json()["detail"][0]["input"])  # an array is not echoed back

    def test_base64_that_is_not_an_image_is_bad_request(self):
        self.assert_bad_request(self.liveness({"image": "aGVsbG8gd29ybGQsIG5vdCBhbiBpbWFnZQ=="}))
        self.assert_still_healthy()

    def test_no_face_is_422_no_face(self):
        r = self.liveness({"image": b64_of(NO_FACE)})
        self.assertEqual(r.status, 422, r)
        self.assert_validation_error(r, "no_face", ["body", "image_base64"])
        self.assertEqual(r.json()["error"], "no_face")
        self.assert_still_healthy()

    def test_two_faces_is_422_multiple_faces(self):
        r = self.liveness({"image": b64_of(TWO_FACES)})
        self.assertEqual(r.status, 422, r)
        self.assert_validation_error(r, "multiple_faces", ["body", "image_base64"])
        self.assertEqual(r.json()["error"], "multiple_faces")
        self.assert_still_healthy()


class SystemBConfidenceThresholdFromEnv(ServerTestCase):
    """CONFIDENCE_THRESHOLD (B's own variable) above T1's P(real) forces the blink fallback."""

    REQUIRED_FILES = (T1,)
    SERVER_ENV = {"CONFIDENCE_THRESHOLD": "0.99999"}

    def test_high_threshold_flips_requires_active_check_for_real_face(self):
        r = self.server.post_json("/liveness", {"image": b64_of(T1)})
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["liveness_label"], "real")
        self.assertLess(body["confidence_score"], 0.99999)
        self.assertIs(body["requires_active_check"], True)
        self.assertEqual(body["fallback"], blink_fallback(self.server))


class SystemBActiveBlink(ServerTestCase):
    REQUIRED_FILES = (WOLF_VIDEO, REPLAY_VIDEO)

    def blink(self, relative, ctype="video/mp4"):
        return self.server.post_file("/active/blink", "video", relative, ctype, timeout=300)

    def test_live_blink_video_passes_with_three_blinks(self):
        r = self.blink(WOLF_VIDEO)
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertIs(body["active_passed"], True)
        self.assertIsNone(body["reason"])
        self.assertEqual(body["blink_count"], 3)
        self.assertEqual(len(body["blinks"]), 3)
        for blink in body["blinks"]:
            self.assertEqual(set(blink), {"start_frame", "end_frame"})
            self.assertIsInstance(blink["start_frame"], int)
            self.assertLessEqual(blink["start_frame"], blink["end_frame"])
        self.assertIsInstance(body["passive"], dict)
        self.assertIs(body["passive"]["spoof"], False)
        self.assertIsInstance(body["frames_analysed"], int)
        self.assertIsInstance(body["frames_with_face"], int)

    def test_replay_video_fails_as_spoof(self):
        r = self.blink(REPLAY_VIDEO, "video/webm")
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertIs(body["active_passed"], False)
        self.assertEqual(body["reason"], "spoof_detected")
        self.assertIs(body["passive"]["spoof"], True)

    def test_body_that_is_not_a_form_is_fastapi_422_missing_video(self):
        for ctype in ("application/json", "video/mp4", None):
            with self.subTest(ctype=ctype):
                r = self.server.post_raw("/active/blink", b'{"video": 1}', ctype)
                self.assertEqual(r.status, 422, r)
                detail = r.json()["detail"]
                self.assertEqual(detail[0]["type"], "missing")
                self.assertEqual(detail[0]["loc"], ["body", "video"])

    def test_missing_video_field_is_fastapi_422(self):
        r = self.server.post_multipart("/active/blink", {"clip": ("a.mp4", b"abc", "video/mp4")})
        self.assertEqual(r.status, 422, r)
        detail = r.json()["detail"]
        self.assertEqual(detail[0]["type"], "missing")
        self.assertEqual(detail[0]["loc"], ["body", "video"])
        self.assert_still_healthy()

    def test_text_file_as_video_is_415(self):
        text = b"just some text, certainly not a video\n" * 20
        r = self.server.post_multipart("/active/blink", {"video": ("a.txt", text, "text/plain")})
        self.assert_error_body(r, 415, "video_unsupported")
        self.assert_still_healthy()


if __name__ == "__main__":
    unittest.main()


class SystemBPublicUrl(ServerTestCase):
    """public_url set: upload_url is built on it, whatever Host the request carried."""

    REQUIRED_FILES = (F2,)
    SERVER_ARGS = ("--set", "public_url=https://liveness.example.com/")

    def test_upload_url_uses_public_url(self):
        r = self.server.post_json("/liveness", {"image": b64_of(F2)},
                                  headers={"Host": "attacker.example"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["fallback"]["upload_url"],
                         "https://liveness.example.com/active/blink")


class SystemBMetrics(ServerTestCase):
    """B's metric names next to liveproof's (B's own test expects liveness_requests_total)."""

    REQUIRED_FILES = (T1,)

    def test_b_metric_names_count_requests(self):
        self.assertEqual(self.server.post_json("/liveness", {"image": b64_of(T1)}).status, 200)
        self.assertEqual(self.server.get("/no-such-endpoint").status, 404)
        text = self.server.get("/metrics").body.decode()
        self.assertIn("# TYPE liveness_requests_total counter", text)
        self.assertRegex(text, r'liveness_requests_total\{endpoint="/liveness",method="POST",'
                               r'status="200"\} 1\b')
        self.assertRegex(text, r'liveness_requests_total\{endpoint="unmatched",method="GET",'
                               r'status="404"\} 1\b')
        self.assertRegex(text, r"(?m)^liveness_requests_success [1-9]")
        self.assertRegex(text, r"(?m)^liveness_requests_error [1-9]")
        self.assertIn("liveness_request_latency_seconds_bucket", text)

    def test_an_odd_method_is_one_bounded_label(self):
        for verb in ("BREW", "XYZZY"):
            self.server.request(verb, "/liveness", b"", {})
        text = self.server.get("/metrics").body.decode()
        self.assertNotIn("BREW", text)
        self.assertNotIn("XYZZY", text)


class SystemBMetricsDisabled(ServerTestCase):
    """ENABLE_METRICS=false (B's variable): /metrics is 404 "Metrics disabled", as B's."""

    SERVER_ENV = {"ENABLE_METRICS": "false"}

    def test_metrics_404(self):
        r = self.server.get("/metrics")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.json(), {"detail": "Metrics disabled"})

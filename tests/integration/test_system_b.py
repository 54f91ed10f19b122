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
BLINK_FALLBACK = {"challenge_type": "blink", "upload_url": "/active/blink"}


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
        self.assertEqual(r.status, 422, r)
        detail = r.json()["detail"]
        self.assertIsInstance(detail, list)
        self.assertEqual(len(detail), 1)
        self.assertEqual(detail[0]["type"], "missing")
        self.assertEqual(detail[0]["loc"], ["body", field])
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
        self.assertEqual(body["fallback"], BLINK_FALLBACK)

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

    def test_non_string_image_is_bad_request(self):
        self.assert_bad_request(self.liveness({"image": 12345}))

    def test_base64_that_is_not_an_image_is_bad_request(self):
        self.assert_bad_request(self.liveness({"image": "aGVsbG8gd29ybGQsIG5vdCBhbiBpbWFnZQ=="}))
        self.assert_still_healthy()

    def test_no_face_is_422_no_face(self):
        r = self.liveness({"image": b64_of(NO_FACE)})
        self.assertEqual(r.status, 422, r)
        body = r.json()
        self.assertEqual(body["error"], "no_face")
        self.assertIsInstance(body["detail"], str)
        self.assert_still_healthy()

    def test_two_faces_is_422_multiple_faces(self):
        r = self.liveness({"image": b64_of(TWO_FACES)})
        self.assertEqual(r.status, 422, r)
        body = r.json()
        self.assertEqual(body["error"], "multiple_faces")
        self.assertIsInstance(body["detail"], str)
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
        self.assertEqual(body["fallback"], BLINK_FALLBACK)


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

"""The Python package python/liveproof (ctypes over libliveproof.so) on the real models.

Images (faces, P(real) agreeing with `liveproof analyze`), the blink clip, a stream, the errors
(with the C API's status codes), and the shipped example run as a user would run it: the
head-turn clip completes live, the phone replay does not.
Environment: LIVEPROOF_LIBRARY, LIVEPROOF_BIN, LIVEPROOF_MODEL_DIR, LIVEPROOF_SHARED_DIR.
"""

import json
import os
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "python"))
import liveproof  # noqa: E402

MODELS = os.environ.get("LIVEPROOF_MODEL_DIR", os.path.join(REPO, "models"))
SHARED = os.environ.get("LIVEPROOF_SHARED_DIR", os.path.join(os.path.dirname(REPO), "shared"))
BIN = os.environ.get("LIVEPROOF_BIN", os.path.join(REPO, "build", "apps", "liveproof"))
EXAMPLE = os.path.join(REPO, "python", "examples", "analyze_and_challenge.py")


def shared(relative):
    return os.path.join(SHARED, relative)


def read(relative):
    with open(shared(relative), "rb") as f:
        return f.read()


class PythonBinding(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(os.path.join(MODELS, "MANIFEST")):
            raise unittest.SkipTest("models not installed")
        cls.engine = liveproof.Engine(MODELS, workers=1)

    @classmethod
    def tearDownClass(cls):
        cls.engine.close()

    def test_version_is_the_projects(self):
        self.assertRegex(liveproof.version(), r"^\d+\.\d+\.\d+$")

    def test_analyze_agrees_with_the_cli(self):
        for sample, live in (("models/samples/image_T1.jpg", True),
                             ("models/samples/image_F2.jpg", False)):
            with self.subTest(sample=sample):
                result = self.engine.analyze(read(sample))
                self.assertEqual(len(result["faces"]), 1)
                p_real = result["faces"][0]["liveness"]
                self.assertEqual(p_real >= 0.5, live)
                cli = subprocess.run([BIN, "analyze", "--models", MODELS, "--json", shared(sample)],
                                     capture_output=True, text=True, timeout=120, check=True)
                want = json.loads(cli.stdout)["faces"][0]["liveness"]
                self.assertAlmostEqual(p_real, want, places=5)

    def test_passive_faces_agree_with_the_full_analysis(self):
        # The passive check alone (no mesh) gives the same P(real) as the full analysis, and
        # only what was asked for.
        for sample in ("models/samples/image_T1.jpg", "models/samples/image_F2.jpg"):
            with self.subTest(sample=sample):
                image = read(sample)
                passive = self.engine.faces(image, pose=False, eyes=False, quality=False)
                self.assertEqual(len(passive), 1)
                self.assertNotIn("yaw", passive[0])
                self.assertNotIn("quality", passive[0])
                full = self.engine.faces(image)
                self.assertIn("yaw", full[0])
                self.assertAlmostEqual(passive[0]["p_real"], full[0]["p_real"], places=6)

    def test_no_face_is_an_empty_list(self):
        result = self.engine.analyze(read("data/conditions/no_face/opencv_fruits.jpg"))
        self.assertEqual(result["faces"], [])

    def test_blink_clip_passes(self):
        r = self.engine.blink_video(read("data/video/wolf_live_blinks.mp4"))
        self.assertTrue(r["passed"], r)
        self.assertGreaterEqual(r["blink_count"], 1)
        self.assertEqual(r["reason"], "")

    def test_stream_tracks_the_face(self):
        t1 = read("models/samples/image_T1.jpg")
        with self.engine.stream() as stream:
            first = stream.feed(t1, 0.0)
            second = stream.feed(t1, 0.1)
        self.assertEqual(first["face_count"], 1)
        self.assertIsNotNone(first["face"])
        self.assertTrue(second["tracked"])
        self.assertFalse(second["face_jump"])

    def test_errors_carry_the_c_status(self):
        with self.assertRaises(liveproof.LiveproofError) as caught:
            self.engine.analyze(b"not an image at all")
        self.assertEqual(caught.exception.status // 100, 2)  # the image band
        self.assertTrue(caught.exception.detail)
        with self.assertRaises(liveproof.LiveproofError) as caught:
            self.engine.analyze(b"")
        self.assertEqual(caught.exception.status, 101)  # LP_E_EMPTY_INPUT
        with self.assertRaises(liveproof.LiveproofError) as caught:
            liveproof.Engine("/nonexistent/models")
        self.assertEqual(caught.exception.status // 100, 4)  # the models band
        with self.assertRaises(liveproof.LiveproofError) as caught:
            self.engine.challenge(challenges="SIDEWAYS")
        self.assertEqual(caught.exception.status, 100)  # LP_E_INVALID_ARGUMENT

    def test_the_example_completes_on_the_head_turn_and_fails_the_replay(self):
        if shutil.which("ffmpeg") is None:
            self.skipTest("ffmpeg not installed")
        image = shared("models/samples/image_T1.jpg")
        for video, code, last in (("data/video/apfol_real2_live_headturn.webm", 0,
                                   "challenge: complete (live)"),
                                  ("data/video/apfol_fake2_replay_phone.webm", 1,
                                   "challenge: failed")):
            with self.subTest(video=video):
                done = subprocess.run([sys.executable, EXAMPLE, "--models", MODELS, image,
                                       shared(video)], capture_output=True, text=True,
                                      timeout=300)
                self.assertEqual(done.returncode, code, done.stdout + done.stderr)
                self.assertEqual(done.stdout.strip().splitlines()[-1], last)
                replies = [json.loads(line) for line in done.stdout.splitlines()
                           if line.startswith("{")]
                self.assertEqual(replies[0]["type"], "start")
                if code == 1:
                    self.assertEqual(replies[-1]["type"], "failed")
                    self.assertEqual(replies[-1]["reason"], "spoof_detected")


if __name__ == "__main__":
    unittest.main(verbosity=2)

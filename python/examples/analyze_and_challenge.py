#!/usr/bin/env python3
"""Analyses an image, then runs an active challenge over the frames of a video file.

    python3 analyze_and_challenge.py --models DIR IMAGE VIDEO [--challenges LEFT,RIGHT]

The video's frames are extracted as JPEG with the ffmpeg CLI and fed at the video's frame rate
on the session's clock (looped up to three times, as a person who keeps moving would). Prints
the image's faces, every reply of system A's protocol, and the outcome; exits 0 when live.
Needs libliveproof.so ($LIVEPROOF_LIBRARY or the linker path) and ffmpeg.
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import liveproof  # noqa: E402


def video_frames(path, folder, fps):
    """The video's frames as JPEG files at fps, in order."""
    subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-vf", f"fps={fps}", "-q:v", "3",
                    os.path.join(folder, "f%05d.jpg")], check=True, timeout=300)
    return sorted(glob.glob(os.path.join(folder, "f*.jpg")))


def run_challenge(engine, frames, fps, challenges, loops=3):
    """Feeds the frames until the session ends; returns (state, replies)."""
    replies = []
    with engine.challenge(challenges=challenges, required_successes=2, max_wrong_attempts=50,
                          challenge_timeout_s=30, session_timeout_s=90) as ch:
        replies.append(ch.start(0.0))
        for i in range(loops * len(frames)):
            with open(frames[i % len(frames)], "rb") as f:
                reply = ch.feed(f.read(), i / fps)
            if reply:
                replies.append(reply)
            if ch.state != liveproof.Challenge.RUNNING:
                break
        return ch.state, replies


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", help="models folder (default: $LIVEPROOF_MODEL_DIR)")
    p.add_argument("--challenges", default="LEFT,RIGHT")
    p.add_argument("--fps", type=float, default=15.0)
    p.add_argument("image")
    p.add_argument("video")
    args = p.parse_args()

    print(f"liveproof {liveproof.version()}")
    with liveproof.Engine(args.models) as engine:
        with open(args.image, "rb") as f:
            result = engine.analyze(f.read())
        for face in result["faces"]:
            print(f"face {face['box']}: P(real) {face['liveness']:.3f}, yaw {face['yaw']:.1f}")
        with tempfile.TemporaryDirectory() as folder:
            frames = video_frames(args.video, folder, args.fps)
            state, replies = run_challenge(engine, frames, args.fps, args.challenges)
        for reply in replies:
            print(json.dumps(reply))
        names = {liveproof.Challenge.COMPLETE: "complete (live)",
                 liveproof.Challenge.FAILED: "failed", liveproof.Challenge.RUNNING: "unfinished"}
        print(f"challenge: {names[state]}")
        return 0 if state == liveproof.Challenge.COMPLETE else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""liveproof against the same ONNX models called from Python (Debian's python3-opencv), side by side.

Both sides run in this one process on the same encoded bytes, interleaved image by image (the
order alternates every round), on the same OpenCV shared libraries and thread setting, so a
noisy machine moves both alike. The Python side is what a careful integrator would write in
forty lines: cv2.imdecode, cv2.FaceDetectorYN on a copy whose long side is 320 px, Silent-Face's
crops of every face for both MiniFASNets through cv2.dnn, the two softmaxes averaged. liveproof
is libliveproof.so through ctypes (python/liveproof), the passive check only (no mesh): the path
of system B's /liveness.

Printed: per image, both medians (ms) and the median of the per-round ratios python/liveproof,
with the two P(real) so that any disagreement shows; then (--stages) liveproof's per-stage Google
Benchmark times with the achieved GFLOP/s of each network (FLOPs counted from the weights).

Usage: bench/side_by_side.py [--build DIR] [--rounds N] [--threads N] [--stages] [IMAGE ...]
Environment: LIVEPROOF_MODEL_DIR, LIVEPROOF_SHARED_DIR (defaults: models/, ../shared).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.environ.get("LIVEPROOF_SHARED_DIR", os.path.join(os.path.dirname(REPO), "shared"))
MODELS = os.environ.get("LIVEPROOF_MODEL_DIR", os.path.join(REPO, "models"))

# Two 640x480 webcam frames (live, replay), the reference's own samples and two phone selfies.
DEFAULT_IMAGES = [
    "data/antispoof/video_frames/apfol_real2_f000.jpg",
    "data/antispoof/video_frames/apfol_fake2_f000.jpg",
    "models/samples/image_T1.jpg",
    "models/samples/image_F2.jpg",
    "data/antispoof/fullframe/kbyai_live_example_1.jpg",
    "data/antispoof/fullframe/inspireface_rgb_fake.jpg",
]

DETECT_SIDE = 320  # liveproof's default detect_max_side
SCORE_THRESHOLD, NMS_THRESHOLD = 0.8, 0.3  # as EngineOptions' defaults


class PythonPassive:
    """The same models, called the plain way."""

    def __init__(self, model_dir):
        self.detector = cv2.FaceDetectorYN.create(
            os.path.join(model_dir, "face_detection_yunet_2022mar.onnx"), "", (320, 320),
            SCORE_THRESHOLD, NMS_THRESHOLD, 5000)
        self.nets = [(cv2.dnn.readNetFromONNX(os.path.join(model_dir, name)), scale)
                     for name, scale in (("2.7_80x80_MiniFASNetV2.onnx", 2.7),
                                         ("4_0_0_80x80_MiniFASNetV1SE.onnx", 4.0))]

    @staticmethod
    def patch(image, box, scale):
        # Silent-Face's CropImage._get_new_box.
        h_img, w_img = image.shape[:2]
        x, y, w, h = box
        scale = min((h_img - 1) / h, (w_img - 1) / w, scale)
        cx, cy = x + w / 2, y + h / 2
        left, top = cx - w * scale / 2, cy - h * scale / 2
        right, bottom = cx + w * scale / 2, cy + h * scale / 2
        if left < 0:
            right, left = right - left, 0
        if top < 0:
            bottom, top = bottom - top, 0
        if right > w_img - 1:
            left, right = left - right + w_img - 1, w_img - 1
        if bottom > h_img - 1:
            top, bottom = top - bottom + h_img - 1, h_img - 1
        return image[int(top):int(bottom) + 1, int(left):int(right) + 1]

    def __call__(self, data):
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        h, w = image.shape[:2]
        s = min(1.0, DETECT_SIDE / max(h, w))
        small = image if s == 1.0 else cv2.resize(
            image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        self.detector.setInputSize((small.shape[1], small.shape[0]))
        _, rows = self.detector.detect(small)
        scores = []
        for row in rows if rows is not None else []:
            box = [row[0] * w / small.shape[1], row[1] * h / small.shape[0],
                   row[2] * w / small.shape[1], row[3] * h / small.shape[0]]
            p_real = 0.0
            for net, scale in self.nets:
                crop = cv2.resize(self.patch(image, [int(v) for v in box], scale), (80, 80))
                net.setInput(cv2.dnn.blobFromImage(crop, 1.0, (80, 80), swapRB=False))
                z = net.forward()[0]
                e = np.exp(z - z.max())
                p_real += float(e[1] / e.sum()) / 2
            scores.append(p_real)
        return sorted(scores, reverse=True)


def liveproof_passive(engine):
    def run(data):
        faces = engine.faces(data, pose=False, eyes=False, quality=False)
        return sorted((f["p_real"] for f in faces), reverse=True)
    return run


def timed(fn, data):
    t = time.perf_counter()
    out = fn(data)
    return (time.perf_counter() - t) * 1e3, out


def side_by_side(images, rounds, lp, py):
    print(f"{'image':52} {'px':>10} {'liveproof ms':>13} {'python ms':>10} {'ratio':>6}  P(real) lp / py")
    ratios_all, lp_all, py_all = [], [], []
    for name, data in images:
        lp_ms, py_ms, ratios = [], [], []
        for r in range(3):  # warm-up: first touches, OpenCV's lazy layer set-up
            lp(data), py(data)
        for r in range(rounds):
            first, second = (lp, py) if r % 2 == 0 else (py, lp)
            a, out_a = timed(first, data)
            b, out_b = timed(second, data)
            t_lp, t_py = (a, b) if r % 2 == 0 else (b, a)
            lp_out, py_out = (out_a, out_b) if r % 2 == 0 else (out_b, out_a)
            lp_ms.append(t_lp)
            py_ms.append(t_py)
            ratios.append(t_py / t_lp)
        shape = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape
        m_lp, m_py, m_ratio = (statistics.median(v) for v in (lp_ms, py_ms, ratios))
        lp_all.append(m_lp)
        py_all.append(m_py)
        ratios_all.append(m_ratio)
        fmt = lambda v: "/".join(f"{p:.3f}" for p in v) or "-"  # noqa: E731
        print(f"{name[-52:]:52} {shape[1]:>4}x{shape[0]:<5} {m_lp:13.2f} {m_py:10.2f} "
              f"{m_ratio:5.2f}x  {fmt(lp_out)} / {fmt(py_out)}")
    print(f"{'mean of the medians':52} {'':10} {statistics.mean(lp_all):13.2f} "
          f"{statistics.mean(py_all):10.2f} {statistics.median(ratios_all):5.2f}x (median ratio)")


def forward_gflop(path, shape):
    """FLOPs of one forward (2 per multiply-add of the convolutions and fully connected layers,
    counted from each layer's weights and output shape). cv2.dnn's own getFLOPS() is not used:
    on these graphs it reports 5-18x more than the weights allow (it counts fused layers' work
    again)."""
    net = cv2.dnn.readNetFromONNX(path)
    ids, _, outs = net.getLayersShapes(shape)
    macs = 0
    for lid, out in zip(ids, outs):
        layer = net.getLayer(int(np.ravel(lid)[0]))
        if layer.type == "Convolution":
            macs += int(np.prod(out[0])) * int(np.prod(layer.blobs[0].shape[1:]))
        elif layer.type == "InnerProduct":
            macs += int(np.prod(layer.blobs[0].shape))
    return 2 * macs / 1e9


def network_gflop(model_dir):
    """GFLOP per benchmark, at the shapes the engine feeds."""
    def g(name, shape):
        return forward_gflop(os.path.join(model_dir, name), shape)
    v2 = g("2.7_80x80_MiniFASNetV2.onnx", (1, 3, 80, 80))
    v1se = g("4_0_0_80x80_MiniFASNetV1SE.onnx", (1, 3, 80, 80))
    return {
        "BM_Detect/320": g("face_detection_yunet_2022mar.onnx", (1, 3, 240, 320)),
        "BM_Detect/192": g("face_detection_yunet_2022mar.onnx", (1, 3, 144, 192)),
        "BM_Detect/160": g("face_detection_yunet_2022mar.onnx", (1, 3, 120, 160)),
        "BM_AntiSpoof": v2 + v1se,
        "BM_Mesh": g("mediapipe_face_landmark.onnx", (1, 3, 192, 192)),
        "BM_BlinkStep_MeshAndIris": g("mediapipe_face_landmark.onnx", (1, 3, 192, 192)) +
        2 * g("mediapipe_iris_landmark.onnx", (1, 3, 64, 64)),
    }


def stages(build, model_dir, threads):
    binary = os.path.join(build, "bench", "liveproof_bench_stages")
    env = dict(os.environ, LIVEPROOF_BENCH_THREADS=str(threads))
    out = subprocess.run(
        [binary, "--benchmark_filter=BM_Decode|BM_Detect|BM_AntiSpoof|BM_Mesh$|BM_Blink|"
         "BM_EndToEnd_Passive", "--benchmark_repetitions=3", "--benchmark_min_time=0.5",
         "--benchmark_report_aggregates_only=true", "--benchmark_format=json"],
        env=env, capture_output=True, text=True, check=True)
    gflop = network_gflop(model_dir)
    print(f"\nliveproof per stage, {threads} thread(s), 640x480 webcam frame (medians of 3):")
    print(f"{'benchmark':28} {'ms':>7} {'GFLOP':>7} {'GFLOP/s':>8}")
    for b in json.loads(out.stdout)["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"]
        ms = b["real_time"] * {"ms": 1, "us": 1e-3, "ns": 1e-6}[b["time_unit"]]
        g = gflop.get(name)
        extra = f"{g:7.3f} {g / ms * 1e3:8.1f}" if g else ""
        print(f"{name:28} {ms:7.2f} {extra}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1, help="OpenCV threads, both sides")
    ap.add_argument("--stages", action="store_true", help="also the per-stage GFLOP/s table")
    ap.add_argument("images", nargs="*", help="paths (default: six shared images)")
    args = ap.parse_args()

    os.environ.setdefault("LIVEPROOF_LIBRARY", os.path.join(args.build, "src", "capi",
                                                            "libliveproof.so"))
    sys.path.insert(0, os.path.join(REPO, "python"))
    import liveproof  # noqa: E402  (after LIVEPROOF_LIBRARY is set)

    paths = args.images or [os.path.join(SHARED, p) for p in DEFAULT_IMAGES]
    images = []
    for p in paths:
        with open(p, "rb") as f:
            images.append((os.path.relpath(p, SHARED) if p.startswith(SHARED) else p, f.read()))
    engine = liveproof.Engine(MODELS, workers=1)
    cv2.setNumThreads(args.threads)  # one OpenCV in this process: both sides alike
    print(f"side by side, {args.rounds} rounds, {args.threads} OpenCV thread(s), "
          f"OpenCV {cv2.__version__}, liveproof {liveproof.version()}")
    side_by_side(images, args.rounds, liveproof_passive(engine), PythonPassive(MODELS))
    engine.close()
    if args.stages:
        stages(args.build, MODELS, args.threads)


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# `liveproof analyze --json` on the real sample images: shape of the output and the verdicts.
set -euo pipefail
bin=$1; shared=$2
samples=$shared/models/samples
[ -f "$samples/image_T1.jpg" ] || { echo "skip: $samples absent"; exit 77; }
out=$("$bin" analyze --json "$samples/image_T1.jpg" "$samples/image_F2.jpg")
python3 - "$out" <<'PY'
import json, sys
lines = sys.argv[1].strip().splitlines()
assert len(lines) == 2, lines
fields = ["x1", "y1", "x2", "y2", "liveness", "yaw", "roll", "pitch", "face_quality",
          "face_luminance", "eye_dist", "left_eye_closed", "right_eye_closed", "face_occlusion",
          "mouth_opened", "landmark_68", "keypoints"]
live, spoof = (json.loads(l) for l in lines)
for r in (live, spoof):
    assert len(r["faces"]) == 1, r["faces"]
    f = r["faces"][0]
    missing = [k for k in fields if k not in f]
    assert not missing, missing
    assert len(f["landmark_68"]) == 68 and set(f["landmark_68"][0]) == {"x", "y"}
    assert "detect" in r["timings_ms"] and "antispoof" in r["timings_ms"]
assert live["faces"][0]["liveness"] > 0.9, live["faces"][0]["liveness"]
assert spoof["faces"][0]["liveness"] < 0.1, spoof["faces"][0]["liveness"]
print("cli analyze --json: ok")
PY
# A file that is not an image: clear JSON error, exit status 1, no crash.
bad=$(mktemp); printf 'not an image' > "$bad"
set +e; err=$("$bin" analyze --json "$bad"); status=$?; set -e
rm -f "$bad"
[ $status -eq 1 ] || { echo "expected exit 1, got $status"; exit 1; }
echo "$err" | grep -q '"error":"unsupported_format"' || { echo "unexpected: $err"; exit 1; }
echo "cli analyze error path: ok"

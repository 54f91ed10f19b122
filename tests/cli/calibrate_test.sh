#!/usr/bin/env bash
# `liveproof calibrate` end to end on ../shared/data (anti-spoofing rows): the operating point
# file, the halves, and that eval and analyze judge at its threshold; refusals.
set -euo pipefail
bin=$1; shared=$2
data=$shared/data
[ -f "$data/labels.csv" ] || { echo "skip: $data/labels.csv absent"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

"$bin" calibrate --labels "$data/labels.csv" --root "$data" --target BPCER=0.05 --half A \
    -o "$tmp/op.json" --name "shared half A" >"$tmp/out.txt" 2>/dev/null
grep -q 'threshold .* for BPCER <= 5.0%' "$tmp/out.txt" || { cat "$tmp/out.txt"; exit 1; }
# eval on the same half at the file's threshold must find the rates the file expects, and the
# two halves must split the rows without overlap.
"$bin" eval --labels "$data/labels.csv" --root "$data" --tasks antispoof --half A \
    --operating-point "$tmp/op.json" --json >"$tmp/a.json" 2>/dev/null
"$bin" eval --labels "$data/labels.csv" --root "$data" --tasks antispoof --half B \
    --json >"$tmp/b.json" 2>/dev/null
"$bin" eval --labels "$data/labels.csv" --root "$data" --tasks antispoof \
    --json >"$tmp/all.json" 2>/dev/null
python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
op = json.load(open(f"{tmp}/op.json"))
assert op["format"] == "liveproof-operating-point/1" and op["name"] == "shared half A", op
t = op["thresholds"]["liveness_threshold"]
assert 0 <= t <= 1 and op["thresholds"]["c_liveness_threshold"] == t, op
assert op["target"] == {"metric": "BPCER", "value": 0.05}, op
exp = op["expected"]
assert exp["bpcer"] <= 0.05, exp  # met on the data it was computed from, by construction
lo, hi = exp["bpcer_ci95"]
assert 0 <= lo <= exp["bpcer"] <= hi <= 1, exp
assert op["data"]["half"] == "A" and op["data"]["live"] > 0 and op["data"]["attacks"] > 0, op
a = json.load(open(f"{tmp}/a.json"))
ga = a["antispoof"][0]["excluded"]
assert abs(ga["threshold"] - t) < 1e-6, (ga["threshold"], t)
assert abs(ga["bpcer"] - exp["bpcer"]) < 1e-12 and ga["live"] == op["data"]["live"], (ga, exp)
files = lambda d: {i["file"] for i in d["items"]}
A, B, ALL = files(a), files(json.load(open(f"{tmp}/b.json"))), files(json.load(open(f"{tmp}/all.json")))
assert A and B and not (A & B) and A | B == ALL, (len(A), len(B), len(ALL))
print(f"cli calibrate: threshold {t:.4f}, halves {len(A)} + {len(B)} = {len(ALL)} files")
PY

# analyze judges at the file's threshold and names it.
"$bin" analyze --passive-only --json --operating-point "$tmp/op.json" \
    "$shared/models/samples/image_T1.jpg" >"$tmp/analyze.json" 2>/dev/null
python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
j = json.loads(open(f"{tmp}/analyze.json").readline())
op = json.load(open(f"{tmp}/op.json"))
assert j["operating_point"]["name"] == op["name"] and len(j["operating_point"]["sha256"]) == 64, j
f = j["faces"][0]
assert f["live"] == (f["antispoof"]["p_real"] >= op["thresholds"]["liveness_threshold"]), f
print("cli analyze --operating-point: ok")
PY

# Refusals: a target that is not one, a file that is not an operating point (exit 3 naming why).
status=0
"$bin" calibrate --labels "$data/labels.csv" --root "$data" --target FAR=0.1 -o "$tmp/x.json" \
    >/dev/null 2>"$tmp/err" || status=$?
[ "$status" -eq 1 ] && grep -q 'BPCER=x or APCER=x' "$tmp/err" || { cat "$tmp/err"; exit 1; }
[ ! -e "$tmp/x.json" ] || { echo "a refused calibrate wrote a file"; exit 1; }
for bad in '{"format":"other"}' \
           '{"format":"liveproof-operating-point/1","name":"x","thresholds":{"liveness_threshold":2,"c_liveness_threshold":0.5}}' \
           '[]'; do
    echo "$bad" >"$tmp/bad.json"
    status=0
    "$bin" analyze --operating-point "$tmp/bad.json" "$shared/models/samples/image_T1.jpg" \
        >/dev/null 2>"$tmp/err" || status=$?
    [ "$status" -eq 3 ] && grep -q 'operating point' "$tmp/err" || { echo "$bad"; cat "$tmp/err"; exit 1; }
done
echo "cli calibrate: refusals ok"

#!/usr/bin/env bash
# `liveproof eval` end to end on a subset of ../shared/data/labels.csv: JSON shape, exit codes.
set -euo pipefail
bin=$1; shared=$2
data=$shared/data
[ -f "$data/labels.csv" ] || { echo "skip: $data/labels.csv absent"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# Header, a few NUAA rows of each label and every eyes/mouth row; the images stay in $data.
{ head -1 "$data/labels.csv"
  grep -m3 '^antispoof/nuaa/live/' "$data/labels.csv"
  grep -m3 '^antispoof/nuaa/spoof/' "$data/labels.csv"
  grep ',eyes,\|,mouth,' "$data/labels.csv"; } > "$tmp/labels.csv"
out=$("$bin" eval --labels "$tmp/labels.csv" --root "$data" --json --threshold-for BPCER=0.05 \
      2>"$tmp/stderr")
grep -q '^eval: ' "$tmp/stderr" || { echo "no progress lines on stderr"; exit 1; }
python3 - "$out" <<'PY'
import json, sys
j = json.loads(sys.argv[1])
g = j["antispoof"][0]
assert g["name"] == "antispoof" and g["items"] == 6, g
e = g["excluded"]
assert {a["attack_type"] for a in e["per_attack"]} >= {"print", "mask", "replay"}, e
assert 0.0 <= e["auc"] <= 1.0 and e["live"] + g["no_face_live"] == 3, e
assert [p["constraint"] for p in g["sweep"]] == ["BPCER=1%", "BPCER=5%", "APCER=1%", "APCER=5%"]
assert j["calibration"] and j["calibration"][0]["metric"] == "BPCER"
assert j["accuracy"]["eyes"]["total"] == 9 and j["accuracy"]["mouth"]["total"] == 2
assert j["errors"] == [] and len(j["items"]) == 17
print("cli eval --json: ok")
PY
# Text mode prints the tables; a path escaping --root is refused and listed (exit 1).
"$bin" eval --labels "$tmp/labels.csv" --root "$data" --tasks eyes >"$tmp/text.out" 2>/dev/null
grep -q '== eyes ==' "$tmp/text.out" || { echo "no eyes table in text mode"; exit 1; }
printf 'file,task,label\n../labels.csv,eyes,eyes_open\n' > "$tmp/bad.csv"
set +e; "$bin" eval --labels "$tmp/bad.csv" --root "$data" >"$tmp/bad.out" 2>/dev/null; s1=$?
"$bin" eval --labels "$tmp/missing.csv" --root "$data" >/dev/null 2>&1; s2=$?; set -e
[ $s1 -eq 1 ] && grep -q "'..' in path" "$tmp/bad.out" || { echo "bad path: exit $s1"; exit 1; }
[ $s2 -eq 1 ] || { echo "missing labels: expected exit 1, got $s2"; exit 1; }
echo "cli eval error paths: ok"

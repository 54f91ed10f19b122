#!/usr/bin/env bash
# `liveproof eval --report` on all of ../shared/data: one self-contained HTML page, JSON alongside.
set -euo pipefail
bin=$1; shared=$2
data=$shared/data
[ -f "$data/labels.csv" ] || { echo "skip: $data/labels.csv absent"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
report=$tmp/report.html
"$bin" eval --labels "$data/labels.csv" --root "$data" --json --report "$report" \
    >"$tmp/out.json" 2>"$tmp/stderr"
[ -s "$report" ] || { echo "no report written"; exit 1; }
[ ! -e "$report.tmp" ] || { echo "temporary file left behind"; exit 1; }
grep -q '<svg' "$report" || { echo "no inline SVG in the report"; exit 1; }
if grep -Eqi 'https?://|src=|<script|<link|url\(' "$report"; then
    echo "external reference or script in the report:"
    grep -Eoi '.{0,40}(https?://|src=|<script|<link|url\().{0,40}' "$report" | head -5
    exit 1
fi
# --json still prints the whole document, and every headline number in it appears in the page
# exactly as the report prints percentages ("12.5%") and AUC ("0.975").
python3 - "$tmp/out.json" "$report" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
html = open(sys.argv[2], encoding="utf-8").read()
assert j["antispoof"], "no anti-spoofing groups in the JSON"
def pct(v):
    return "n/a" if v is None else "%.1f%%" % (v * 100.0)
missing = []
for g in j["antispoof"]:
    e = g["excluded"]
    if g["name"] not in html:
        missing.append(g["name"])
    for a in e["per_attack"]:
        if ">%s<" % pct(a["apcer"]) not in html:
            missing.append("%s %s APCER %s" % (g["name"], a["attack_type"], pct(a["apcer"])))
    wanted = [">%s<" % pct(e["max_apcer"]), ">%s (%d/%d)<" % (pct(e["bpcer"]), e["live_rejected"], e["live"]),
              ">%s<" % pct(e["acer"])]
    if e["auc"] is not None:
        wanted.append(">%.3f<" % e["auc"])
    missing += ["%s: %s" % (g["name"], w) for w in wanted if w not in html]
assert not missing, "not in the report: %s" % missing
assert html.count("<svg") == 1 + len(j["antispoof"]), html.count("<svg")
print("cli eval --report: ok (%d groups, %d bytes)" % (len(j["antispoof"]), len(html)))
PY

#!/usr/bin/env bash
# The deploy/ files are valid for the tools that read them: nginx accepts the site file
# (`nginx -t` on a minimal nginx.conf that includes it), systemd accepts the unit
# (`systemd-analyze verify`, with ExecStart pointed at the built binary), and the unit's
# command line parses (`--print-config` with a config file of the keys it documents).
# Usage: tests/deploy/check_deploy.sh LIVEPROOF_BIN. Exit 77 when nginx or systemd is absent.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "$1")
nginx=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$nginx" ] || ! command -v systemd-analyze >/dev/null; then
    echo "check_deploy: nginx or systemd-analyze is not installed" >&2
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/nginx.conf" <<CONF
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events {}
http {
  client_body_temp_path $tmp/body;
  proxy_temp_path $tmp/proxy;
  include $root/deploy/nginx/liveproof-nodes.conf;
  include $root/deploy/nginx/liveproof.conf;
}
CONF
"$nginx" -t -q -c "$tmp/nginx.conf" -p "$tmp"
echo "check_deploy: nginx accepts deploy/nginx/liveproof.conf with liveproof-nodes.conf"
# compose.yaml mounts the same site file beside compose-nodes.conf, and its YAML must parse.
python3 - "$root/deploy/compose.yaml" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
assert {"db", "node-1", "node-2", "nginx"} <= set(c["services"]), c["services"].keys()
mounts = " ".join(c["services"]["nginx"]["volumes"])
assert "nginx/liveproof.conf" in mounts and "nginx/compose-nodes.conf" in mounts, mounts
for node in ("node-1", "node-2"):
    env = c["services"][node]["environment"]
    assert env["LIVEPROOF_NODE_ID"] == node and "LIVEPROOF_STORE_URL" in env, env
PY
echo "check_deploy: deploy/compose.yaml parses and mounts the site file"

sed "s|/usr/bin/liveproof|$bin|" "$root/deploy/systemd/liveproof.service" >"$tmp/liveproof.service"
(cd "$tmp" && systemd-analyze verify "$tmp/liveproof.service")
echo "check_deploy: systemd accepts deploy/systemd/liveproof.service"

# The unit's command line, with its config file and folders moved into the temporary folder.
cat >"$tmp/config.json" <<CONF
{"store_url": "postgresql://liveproof@db.invalid/liveproof", "node_id": "node-a",
 "signing_key_file": "$tmp/keys.json", "trusted_proxies": ["127.0.0.1"],
 "store_threads": 8, "store_pool_size": 8}
CONF
cmd=$(sed -n 's/^ExecStart=//p' "$tmp/liveproof.service")
cmd=${cmd//\/etc\/liveproof\/config.json/$tmp\/config.json}
cmd=${cmd//\/usr\/share\/liveproof\/models/$root\/models}
cmd=${cmd//\/var\/lib\/liveproof/$tmp\/data}
read -r -a argv <<<"$cmd"
"${argv[@]}" --print-config >"$tmp/effective.json"
python3 - "$tmp/effective.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
assert c["node_id"] == "node-a" and c["store_threads"] == 8, c
assert c["trusted_proxies"] == ["127.0.0.1"], c
assert c["store_url"] == "(set)", c  # a secret (it may hold a password): never printed
PY
echo "check_deploy: the unit's command line parses (--print-config)"

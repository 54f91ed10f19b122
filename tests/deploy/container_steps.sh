#!/usr/bin/env bash
# The Dockerfile's two stages run without a Docker engine: each stage script in a Debian bookworm
# root made by debootstrap (minbase), the build stage on the committed source and the shared
# models, the runtime stage on what it produced; then the server starts in the runtime root as the
# image starts it (same command, user liveproof), its health check passes, and one image is
# judged. Not part of ctest (a bare build takes ~15 minutes). Run as root:
#   tests/deploy/container_steps.sh [WORK_DIR=/tmp/liveproof-container] [SHARED=../shared]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-/tmp/liveproof-container}
shared=$(realpath "${2:-$root/../shared}")
[ "$(id -u)" -eq 0 ] || { echo "container_steps: run as root (debootstrap, chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "container_steps: apt-get install debootstrap" >&2; exit 2; }
mkdir -p "$work"
for stage in build runtime; do
    if [ ! -x "$work/$stage/bin/bash" ]; then
        debootstrap --variant=minbase bookworm "$work/$stage" http://deb.debian.org/debian >/dev/null
    fi
    cp /etc/resolv.conf "$work/$stage/etc/resolv.conf"
    # The build machine's own trusted CAs (an egress proxy's, say) go to the roots as they would
    # to a docker build's network; npm reads them through NODE_EXTRA_CA_CERTS, kept by chroot.
    if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
        mkdir -p "$work/$stage/usr/local/share/ca-certificates"
        cp /usr/local/share/ca-certificates/*.crt "$work/$stage/usr/local/share/ca-certificates/"
        [ -x "$work/$stage/usr/sbin/update-ca-certificates" ] &&
            chroot "$work/$stage" update-ca-certificates >/dev/null 2>&1 || true
    fi
    mountpoint -q "$work/$stage/proc" || mount -t proc proc "$work/$stage/proc"
    mountpoint -q "$work/$stage/dev" || mount --bind /dev "$work/$stage/dev"
done
cleanup() {
    [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true
    for stage in build runtime; do
        umount "$work/$stage/proc" "$work/$stage/dev" 2>/dev/null || true
    done
}
trap cleanup EXIT

# COPY . /src (the committed tree, as .dockerignore leaves it) and COPY --from=shared models.
rm -rf "$work/build/src" "$work/build/shared" "$work/build/out"
mkdir -p "$work/build/src" "$work/build/shared"
git -C "$root" archive HEAD | tar -x -C "$work/build/src"
cp -r "$shared/models" "$work/build/shared/models"
start=$(date +%s)
chroot "$work/build" /src/deploy/container/build-stage.sh /src
echo "container_steps: build stage done in $(( $(date +%s) - start )) s"

# COPY --from=build /out /out, then the runtime stage.
rm -rf "$work/runtime/out"
cp -a "$work/build/out" "$work/runtime/out"
mkdir -p "$work/runtime/usr/local/lib/liveproof"
cp "$root/deploy/container/runtime-stage.sh" "$root/deploy/container/healthcheck.sh" \
    "$work/runtime/usr/local/lib/liveproof/"
chroot "$work/runtime" /usr/local/lib/liveproof/runtime-stage.sh
rm -rf "$work/runtime/out"
echo "container_steps: runtime root $(du -sh --exclude=proc --exclude=dev "$work/runtime" | cut -f1)"

# ENTRYPOINT as USER liveproof in WORKDIR /var/lib/liveproof, then HEALTHCHECK.
entry=$(python3 -c 'import json,re,sys; t=open(sys.argv[1]).read(); m=re.search(r"ENTRYPOINT (\[.*?\])", t, re.S); print(" ".join(json.loads(m.group(1).replace("\\\n", ""))))' "$root/Dockerfile")
chroot --userspec=liveproof:liveproof "$work/runtime" /bin/bash -c "cd /var/lib/liveproof && exec $entry" \
    >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 60); do
    if chroot "$work/runtime" /usr/local/lib/liveproof/healthcheck.sh 2>/dev/null; then break; fi
    sleep 1
done
chroot "$work/runtime" /usr/local/lib/liveproof/healthcheck.sh
echo "container_steps: the health check passes"
answer=$(python3 - "$shared/models/samples/image_T1.jpg" <<'PY'
import base64, json, sys, urllib.request
body = json.dumps({"image_base64": base64.b64encode(open(sys.argv[1], "rb").read()).decode()})
r = urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:8001/liveness", body.encode(),
                                                  {"Content-Type": "application/json"}), timeout=30)
print(r.read().decode())
PY
)
echo "container_steps: POST /liveness -> $answer"
python3 -c 'import json,sys; a=json.loads(sys.argv[1]); assert a["liveness_label"] == "real", a' "$answer"
# The host may not know the user: compare its number.
uid=$(chroot "$work/runtime" id -u liveproof)
[ "$(ps -o uid= -p "$(pgrep -f 'liveproof serve --host 0.0.0.0' | head -1)" | tr -d ' ')" = "$uid" ]
echo "container_steps: the server runs as liveproof (uid $uid), not root"

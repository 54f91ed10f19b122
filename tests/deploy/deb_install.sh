#!/usr/bin/env bash
# The Debian packages in a clean Debian bookworm root (debootstrap minbase): `dpkg -i` then
# `apt-get -f install` must pull only Debian's packages; the installed server, started as its
# unit starts it (user liveproof, /etc/liveproof/config.json), answers /healthz and scores a
# sample on /liveness; a C program (pkg-config) and a C++ program (find_package) build against
# the installed SDK and analyse the sample, as does the Python package; purge removes the data.
# Needs root (debootstrap, chroot) and Debian's mirror; without them it skips (exit 77, which
# ctest reports as skipped). The packages are built first (packaging/build_debs.sh, incremental)
# in PACKAGE_BUILD_DIR. Usage: deb_install.sh PACKAGE_BUILD_DIR SHARED_DIR [WORK_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
package_build=$1
shared=$(realpath "$2")
keep_work=${3:+yes}
work=${3:-$(mktemp -d /tmp/liveproof-deb.XXXXXX)}
skip() { echo "deb_install: SKIPPED: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, chroot)"
command -v debootstrap >/dev/null || skip "debootstrap is not installed (apt-get install debootstrap)"
start=$(date +%s)
"$root/packaging/build_debs.sh" "$package_build" >"${TMPDIR:-/tmp}/liveproof-build-debs.log" 2>&1 ||
    { tail -30 "${TMPDIR:-/tmp}/liveproof-build-debs.log"; exit 1; }
debs=$(realpath "$package_build/debs")
echo "deb_install: packages built in $(( $(date +%s) - start )) s: $(cd "$debs" && echo *.deb)"

mkdir -p "$work"
sysroot=$work/root
cleanup() {
    [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
    umount "$sysroot/proc" "$sysroot/dev" 2>/dev/null || true
    # (only once nothing is mounted in it)
    if [ -z "$keep_work" ] && ! mountpoint -q "$sysroot/proc" && ! mountpoint -q "$sysroot/dev"; then
        rm -rf "$work"
    fi
}
trap cleanup EXIT
start=$(date +%s)
if ! debootstrap --variant=minbase bookworm "$sysroot" http://deb.debian.org/debian \
        >"$work/debootstrap.log" 2>&1; then
    tail -5 "$work/debootstrap.log"
    skip "debootstrap could not make a bookworm root (no mirror?)"
fi
echo "deb_install: clean bookworm root in $(( $(date +%s) - start )) s"
cp /etc/resolv.conf "$sysroot/etc/resolv.conf"
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$sysroot/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$sysroot/usr/local/share/ca-certificates/"
fi
mount -t proc proc "$sysroot/proc"
mount --bind /dev "$sysroot/dev"
in_root() { chroot "$sysroot" /usr/bin/env DEBIAN_FRONTEND=noninteractive "$@"; }

# dpkg -i (fails: the dependencies are missing), then apt-get -f install resolves them.
mkdir -p "$sysroot/debs"
cp "$debs"/*.deb "$sysroot/debs/"
in_root apt-get update -qq
in_root sh -c 'dpkg -i /debs/*.deb >/dev/null 2>&1 || true'
in_root apt-get -f install -y -qq --no-install-recommends >"$work/apt.log" 2>&1 ||
    { cat "$work/apt.log"; exit 1; }
for pkg in liveproof liveproof-models libliveproof0 libliveproof-dev python3-liveproof; do
    in_root dpkg-query -W -f='${Status}\n' "$pkg" | grep -q "install ok installed" ||
        { echo "deb_install: $pkg is not installed" >&2; exit 1; }
done
# Every installed package other than ours comes from Debian's archive ("local" = from no archive).
in_root apt list --installed 2>/dev/null | grep ',local\]' | cut -d/ -f1 | sort >"$work/local.txt"
printf '%s\n' libliveproof-dev libliveproof0 liveproof liveproof-models python3-liveproof \
    >"$work/ours.txt"
diff "$work/ours.txt" "$work/local.txt" ||
    { echo "deb_install: packages from outside Debian's archive (above)" >&2; exit 1; }
echo "deb_install: dpkg -i + apt-get -f install: $(in_root dpkg-query -W | wc -l) packages, all from Debian but ours"
# One version everywhere (CMake's project()): the package, the binary, GET / (below), the library.
version=$(sed -n 's/^project(liveproof VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
[ "$(in_root dpkg-query -W -f='${Version}' liveproof)" = "$version-1" ]
[ "$(in_root liveproof --version)" = "liveproof $version" ]
[ "$(in_root python3 -c 'import liveproof; print(liveproof.version())')" = "$version" ]
echo "deb_install: version $version from the package, the binary and libliveproof.so.0"
in_root id liveproof
[ "$(in_root stat -c '%U %a' /var/lib/liveproof)" = "liveproof 700" ]
[ "$(in_root stat -c '%U:%G %a' /etc/liveproof/config.json)" = "root:liveproof 640" ]

# The server as its unit starts it (ExecStart, as User=liveproof), on a free port.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
exec_start=$(sed -n 's/^ExecStart=//p' "$sysroot/lib/systemd/system/liveproof.service")
chroot --userspec=liveproof:liveproof "$sysroot" /bin/sh -c "cd /var/lib/liveproof && exec $exec_start --port $port" \
    >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 60); do
    python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/healthz', timeout=1)" \
        2>/dev/null && break
    kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 1; }
    sleep 1
done
python3 - "$port" "$shared/models/samples/image_T1.jpg" "$shared/models/samples/image_F1.jpg" "$version" <<'PY'
import base64, json, sys, urllib.request
port = sys.argv[1]
base = f"http://127.0.0.1:{port}"
assert json.load(urllib.request.urlopen(base + "/healthz", timeout=5))
root = json.load(urllib.request.urlopen(base + "/", timeout=5))
assert root["version"] == sys.argv[4], root
print("deb_install: GET / version", root["version"])
for image, want in ((sys.argv[2], "real"), (sys.argv[3], "fake")):
    body = json.dumps({"image_base64": base64.b64encode(open(image, "rb").read()).decode()})
    r = urllib.request.urlopen(urllib.request.Request(
        base + "/liveness", body.encode(), {"Content-Type": "application/json"}), timeout=30)
    answer = json.load(r)
    assert answer["liveness_label"] == want, (image, answer)
    print("deb_install: POST /liveness", image.rsplit("/", 1)[1], "->", answer["liveness_label"],
          "%.3f" % answer["confidence_score"])
PY
[ -f "$sysroot/var/lib/liveproof/liveproof.db" ] ||
    { echo "deb_install: the store is not in /var/lib/liveproof" >&2; exit 1; }
kill "$server"; wait "$server" 2>/dev/null || true; server=

# The SDK: C with pkg-config, C++ with find_package, Python, on the installed models.
in_root apt-get install -y -qq --no-install-recommends gcc g++ make cmake pkg-config \
    >"$work/apt-dev.log" 2>&1 || { cat "$work/apt-dev.log"; exit 1; }
mkdir -p "$sysroot/sdk"
cp -r "$root/tests/sdk/consumer_c" "$root/tests/sdk/consumer_cpp" "$sysroot/sdk/"
cp "$shared/models/samples/image_T1.jpg" "$sysroot/sdk/"
in_root sh -c 'cd /sdk && cc -std=c11 -Wall -Werror consumer_c/main.c -o consumer_c.bin $(pkg-config --cflags --libs liveproof)'
in_root sh -c 'cmake -S /sdk/consumer_cpp -B /sdk/cpp -DCMAKE_BUILD_TYPE=Release >/sdk/cpp.log 2>&1 &&
               cmake --build /sdk/cpp >>/sdk/cpp.log 2>&1' || { cat "$sysroot/sdk/cpp.log"; exit 1; }
models=/usr/share/liveproof/models
c_out=$(in_root /sdk/consumer_c.bin "$models" /sdk/image_T1.jpg)
cpp_out=$(in_root /sdk/cpp/consumer_cpp "$models" /sdk/image_T1.jpg 2>/dev/null)
py_out=$(in_root python3 -c '
import liveproof, sys
with liveproof.Engine(sys.argv[1]) as e:
    f = e.analyze(open(sys.argv[2], "rb").read())["faces"]
    print(len(f), "%.4f" % f[0]["antispoof"]["p_real"])' "$models" /sdk/image_T1.jpg)
echo "deb_install: pkg-config C: $c_out"
echo "deb_install: find_package C++: $cpp_out"
echo "deb_install: python3-liveproof: $py_out"
python3 - "$c_out" "$cpp_out" "$py_out" <<'PY'
import sys
c, cpp, py = sys.argv[1:]
p = float(py.split()[1])
assert py.split()[0] == "1" and p > 0.5, py
for line in (c, cpp):  # "IMAGE FACES P_REAL"
    _, faces, p_real = line.split()
    assert faces == "1" and abs(float(p_real) - p) < 1e-3, (line, p)
PY

# Purge: the data folder goes, the unit and the binary too.
in_root dpkg --purge liveproof >/dev/null
[ ! -e "$sysroot/var/lib/liveproof" ] && [ ! -e "$sysroot/usr/bin/liveproof" ] &&
    [ ! -e "$sysroot/lib/systemd/system/liveproof.service" ] ||
    { echo "deb_install: purge left files behind" >&2; exit 1; }
echo "deb_install: passed in $(( $(date +%s) - start )) s"

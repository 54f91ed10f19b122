#!/usr/bin/env bash
# The installed SDK: `cmake --install` into a temporary prefix, then a C program built with
# pkg-config and a C++ program built with find_package(liveproof), both out of tree, analyse the
# samples and must agree with `liveproof analyze` (face count, and P(real) within 1e-4), as must
# the installed Python package; the installed faceplugin.so (system C's name) loads and inits.
# Usage: install_test.sh BUILD_DIR LIVEPROOF_BINARY MODEL_DIR SHARED_DIR
set -euo pipefail
build=$1 binary=$2 models=$3 shared=$4
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" --component lib >"$work/install.log"
cmake --install "$build" --prefix "$prefix" --component dev >>"$work/install.log"
cmake --install "$build" --prefix "$prefix" --component python >>"$work/install.log"
libdir=$(dirname "$(find "$prefix" -name 'libliveproof.so' | head -1)")
images=("$shared/models/samples/image_T1.jpg" "$shared/models/samples/image_F1.jpg"
        "$shared/models/samples/image_F2.jpg")

# C via pkg-config.
export PKG_CONFIG_PATH=$libdir/pkgconfig
cc -std=c11 -Wall -Werror "$here/consumer_c/main.c" -o "$work/consumer_c" \
    $(pkg-config --cflags --libs liveproof)
# C++ via find_package.
cmake -S "$here/consumer_cpp" -B "$work/cpp" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release >"$work/cpp.log" 2>&1 || { cat "$work/cpp.log"; exit 1; }
cmake --build "$work/cpp" >>"$work/cpp.log" 2>&1 || { cat "$work/cpp.log"; exit 1; }

export LD_LIBRARY_PATH=$libdir
"$work/consumer_c" "$models" "${images[@]}" >"$work/c.txt"
"$work/cpp/consumer_cpp" "$models" "${images[@]}" >"$work/cpp.txt" 2>/dev/null
# Neither may pick up the build tree's library.
ldd "$work/consumer_c" >"$work/ldd.txt"  # (not piped into grep -q: pipefail and SIGPIPE)
grep -q "$libdir/libliveproof.so" "$work/ldd.txt" ||
    { echo "consumer_c is not linked to the installed library"; cat "$work/ldd.txt"; exit 1; }

# Python from the installed package, and system C's library under the name C's app loads.
PYTHONPATH=$prefix/lib/python3/dist-packages LIVEPROOF_LIBRARY=$libdir/libliveproof.so.0 \
    python3 - "$models" "${images[@]}" >"$work/py.txt" <<'PY'
import sys
import liveproof
assert "dist-packages" in liveproof.__file__, liveproof.__file__  # the installed copy
with liveproof.Engine(sys.argv[1]) as engine:
    for img in sys.argv[2:]:
        f = engine.analyze(open(img, "rb").read())["faces"]
        print(img, len(f), "%.6f" % (f[0]["antispoof"]["p_real"] if f else -1.0))
PY
LIVEPROOF_MODEL_DIR=$models python3 - "$libdir/faceplugin.so" <<'PY'
import ctypes, sys
sdk = ctypes.CDLL(sys.argv[1])
sdk.getMachineCode.restype = ctypes.c_char_p
assert sdk.getMachineCode().startswith(b"LP1-"), sdk.getMachineCode()
assert sdk.initSDK(b"data") == 0
print("installed faceplugin.so: initSDK 0")
PY

for img in "${images[@]}"; do
    "$binary" analyze --models "$models" --json "$img" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
f = d["faces"]
p = f[0]["antispoof"]["p_real"] if f else -1.0
print(sys.argv[1], len(f), "%.6f" % p)' "$img"
done >"$work/cli.txt"

python3 - "$work/cli.txt" "$work/c.txt" "$work/cpp.txt" "$work/py.txt" <<'PY'
import sys
def rows(path):
    return [line.split() for line in open(path) if line.strip()]
cli = rows(sys.argv[1])
for name in sys.argv[2:]:
    got = rows(name)
    assert len(got) == len(cli), (name, got, cli)
    for a, b in zip(cli, got):
        assert a[0] == b[0] and a[1] == b[1], (name, a, b)
        assert abs(float(a[2]) - float(b[2])) <= 1e-4, (name, a, b)
print("installed SDK: C (pkg-config), C++ (find_package) and Python agree with liveproof analyze:")
for row in cli:
    print("  " + " ".join(row))
PY

#!/usr/bin/env bash
# Copies the model files listed in models/MANIFEST from a source folder and verifies their sha256.
# Usage: scripts/install_models.sh [SOURCE_DIR] [DEST_DIR]
#   SOURCE_DIR defaults to $LIVEPROOF_MODEL_SOURCE, else ../shared/models (next to the project)
#   DEST_DIR   defaults to $LIVEPROOF_MODEL_DIR, else models/ in the project
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=${1:-${LIVEPROOF_MODEL_SOURCE:-$root/../shared/models}}
dest=${2:-${LIVEPROOF_MODEL_DIR:-$root/models}}
manifest=$root/models/MANIFEST

if [ ! -d "$src" ]; then
    echo "install_models: source folder not found: $src" >&2
    exit 1
fi
mkdir -p "$dest"
[ "$(realpath "$dest")" = "$(realpath "$root/models")" ] || cp "$manifest" "$dest/MANIFEST"
status=0
while IFS='|' read -r file sha bytes _rest; do
    file=$(echo "$file" | xargs); sha=$(echo "$sha" | xargs)
    case "$file" in ''|'#'*) continue ;; esac
    if [ ! -f "$src/$file" ]; then
        echo "install_models: missing in $src: $file" >&2
        status=1
        continue
    fi
    actual=$(sha256sum "$src/$file" | cut -d' ' -f1)
    if [ "$actual" != "$sha" ]; then
        echo "install_models: sha256 mismatch for $file (expected $sha, got $actual)" >&2
        status=1
        continue
    fi
    if [ ! -f "$dest/$file" ] || [ "$(sha256sum "$dest/$file" | cut -d' ' -f1)" != "$sha" ]; then
        install -m 0644 "$src/$file" "$dest/$file"
    fi
done < "$manifest"
if [ $status -ne 0 ]; then
    echo "install_models: FAILED; models in $dest are incomplete" >&2
    exit 1
fi
echo "install_models: $(grep -cv '^\s*\(#\|$\)' "$manifest") files verified in $dest"

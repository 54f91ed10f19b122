#!/usr/bin/env bash
# The dynamic symbols libliveproof.so defines must be exactly the committed list (a symbol added
# to or dropped from the ABI is a decision, not an accident). Usage: check_symbols.sh LIB LIST
set -euo pipefail
actual=$(nm -D --defined-only "$1" | awk '{print $3}' | sed 's/@@.*//' | sort)
if ! diff <(sort "$2") <(echo "$actual"); then
    echo "exported symbols differ from $2 (< expected, > actual)"
    exit 1
fi
echo "exported symbols: $(echo "$actual" | wc -l), as listed"

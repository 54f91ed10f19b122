#!/usr/bin/env bash
# Runs a command beside a real PostgreSQL of its own: initdb in a temporary folder, the server on
# a free loopback port (no system service, no other database touched), LIVEPROOF_TEST_PG_URL set
# for the command; stopped and erased afterwards. As root, PostgreSQL runs as the `postgres`
# user the Debian package creates (it refuses to run as root). Exit 77 (ctest: skipped) when
# PostgreSQL is not installed. Usage: tests/store/with_postgres.sh COMMAND [ARGS...]
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "with_postgres: PostgreSQL is not installed (scripts/setup.sh installs it)" >&2
    exit 77
fi
dir=$(mktemp -d /tmp/liveproof-pg.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as=()
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
    as=(runuser -u postgres --)
fi
cleanup() {
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
"${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U liveproof -E UTF8 >/dev/null
"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir" start >/dev/null
"${as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U liveproof liveproof
export LIVEPROOF_TEST_PG_URL="postgresql://liveproof@127.0.0.1:$port/liveproof"
export LIVEPROOF_TEST_PG_DIR="$dir" LIVEPROOF_TEST_PG_BIN="$bin"
status=0
"$@" || status=$?
exit $status

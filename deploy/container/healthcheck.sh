#!/usr/bin/env bash
# The container's health check: GET /readyz on the node's own port, 200 or fail. bash's
# /dev/tcp, because the slim image has no curl.
set -euo pipefail
port=${LIVEPROOF_PORT:-8001}
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /readyz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
read -r -t 3 status_line <&3
[[ "$status_line" == *" 200 "* ]]

#!/usr/bin/env bash
# Runs every test against services it starts itself: a throwaway ClickHouse on free ports (data in
# a temporary directory, removed afterwards). The embedded Kafka broker and Chromium are started by
# the tests. Extra arguments go to `go test` (default ./...).
set -euo pipefail
cd "$(dirname "$0")/.."
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
dir=$(mktemp -d /tmp/citypulse-test-ch.XXXXXX)
cleanup() { deploy/clickhouse/clickhouse.sh stop "$dir" || true; rm -rf "$dir"; }
trap cleanup EXIT
tcp=$(free_port); http=$(free_port)
deploy/clickhouse/clickhouse.sh start "$dir" "$tcp" "$http"
echo "test ClickHouse on 127.0.0.1:$tcp (data in $dir)"
export CITYPULSE_TEST_CLICKHOUSE_ADDR="127.0.0.1:$tcp"
export CITYPULSE_SCREENSHOT_DIR="${CITYPULSE_SCREENSHOT_DIR:-$PWD/var/screenshots}"
mkdir -p "$CITYPULSE_SCREENSHOT_DIR"
go vet ./...
if [ $# -eq 0 ]; then set -- ./...; fi
go test -count=1 -timeout 20m "$@"

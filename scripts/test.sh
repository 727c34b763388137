#!/usr/bin/env bash
# Runs every test against services it starts itself: a throwaway ClickHouse and PostgreSQL on free
# ports (data in temporary directories, removed afterwards). The embedded Kafka broker and Chromium are started by
# the tests. Extra arguments go to `go test` (default ./...).
# Then the real-engine suites: the broker-facing tests again on a real single-node Apache Kafka
# (KRaft), and the broker-kill fault test on a three-node cluster. ENGINES_ONLY=1 runs only those
# (make test-engines); SKIP_ENGINES=1 skips them.
set -euo pipefail
cd "$(dirname "$0")/.."
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
dir=$(mktemp -d /tmp/citypulse-test-ch.XXXXXX)
pgdir=$(mktemp -d /tmp/citypulse-test-pg.XXXXXX)
kdir=$(mktemp -d /tmp/citypulse-test-kafka.XXXXXX)
cleanup() {
  deploy/kafka/kafka.sh stop "$kdir" || true
  deploy/clickhouse/clickhouse.sh stop "$dir" || true
  deploy/postgres/postgres.sh stop "$pgdir" || true
  rm -rf "$dir" "$pgdir" "$kdir"
}
trap cleanup EXIT
tcp=$(free_port); http=$(free_port)
deploy/clickhouse/clickhouse.sh start "$dir" "$tcp" "$http"
echo "test ClickHouse on 127.0.0.1:$tcp (data in $dir)"
export CITYPULSE_TEST_CLICKHOUSE_ADDR="127.0.0.1:$tcp"
deploy/postgres/postgres.sh start "$pgdir"
CITYPULSE_TEST_POSTGRES_DSN=$(deploy/postgres/postgres.sh dsn "$pgdir")
export CITYPULSE_TEST_POSTGRES_DSN
echo "test PostgreSQL at $CITYPULSE_TEST_POSTGRES_DSN (data in $pgdir)"
export CITYPULSE_SCREENSHOT_DIR="${CITYPULSE_SCREENSHOT_DIR:-$PWD/var/screenshots}"
mkdir -p "$CITYPULSE_SCREENSHOT_DIR"
if [ -z "${ENGINES_ONLY:-}" ]; then
  go vet ./...
  if [ $# -eq 0 ]; then set -- ./...; fi
  # Every distinct statement the tests send to ClickHouse 18.16 is recorded, then replayed on
  # current ClickHouse (chDB) after the migrations: a statement it rejects fails the run.
  rec="$PWD/var/chdb/recorded"; rm -rf "$rec"; mkdir -p "$rec"
  CITYPULSE_RECORD_STATEMENTS="$rec" go test -count=1 -timeout 20m "$@"
  start=$SECONDS
  deploy/chdb/chdb.sh replay "$rec"
  echo "chDB replay: $((SECONDS - start)) s (report in var/chdb/replay-report.jsonl)"
fi
if [ -z "${SKIP_ENGINES:-}" ]; then
  start=$SECONDS
  deploy/kafka/kafka.sh start "$kdir"
  echo "test Kafka (single KRaft node) at $(deploy/kafka/kafka.sh bootstrap "$kdir") (data in $kdir)"
  CITYPULSE_TEST_KAFKA="$kdir" go test -count=1 -timeout 10m ./internal/testenv/ ./ingest/collector/ ./pipelines/kafkaio/ ./pipelines/ ./ingest/sdk/go/analytics/ ./ingest/sdk/segmentcompat/ ./ingest/sdk/js/
  deploy/kafka/kafka.sh stop "$kdir"
  echo "real Kafka single-node suite: $((SECONDS - start)) s"
  start=$SECONDS
  CITYPULSE_TEST_KAFKA_CLUSTER=start go test -count=1 -timeout 10m -v -run TestBrokerKilledUnderLoad ./internal/engines/kafkatest/
  echo "real Kafka 3-broker fault suite: $((SECONDS - start)) s"
  if [ -n "${ENGINES_ONLY:-}" ]; then
    start=$SECONDS
    go test -count=1 -timeout 5m ./internal/engines/clientstest/
    echo "off-the-shelf clients suite: $((SECONDS - start)) s"
  fi
fi

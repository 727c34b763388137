#!/usr/bin/env bash
# Collector against a real Apache Kafka (`make bench`): starts a single-node Kafka with
# deploy/kafka/kafka.sh in a temporary directory, runs BenchmarkCollectorBrokers
# (ingest/collector/broker_bench_test.go) on three sides in the same process and run — a bare
# net/http handler (the baseline), the collector on the embedded broker (data dir on disk) and
# the collector on the real broker — and prints events/s and p99 of each with its ratio to the
# baseline, then stops the broker. The generator runs in the benchmark's process, so compare
# ratios, not absolute figures, with scripts/bench-collector.sh (loadgen, generator apart).
#
#   scripts/bench-collector-real.sh                    # 10 s per side, each side twice
#   BENCHTIME=20s COUNT=3 scripts/bench-collector-real.sh
#   CITYPULSE_TEST_KAFKA=/tmp/k1 scripts/bench-collector-real.sh   # use a broker already running
#   scripts/bench-collector-real.sh --write            # also write its section of BENCHMARKS.md
#
# Environment: BENCHTIME (go test -benchtime per side, default 10s), COUNT (runs of each side,
# default 2), CITYPULSE_TEST_KAFKA (a running broker's kafka.sh directory or bootstrap list: no
# broker is started or stopped), and kafka.sh's own (KAFKA_DIST, KAFKA_HEAP).
set -euo pipefail
cd "$(dirname "$0")/.."
write=false
case "${1:-}" in
	--write) write=true ;;
	"") ;;
	*) echo "usage: $0 [--write]" >&2; exit 2 ;;
esac
benchtime=${BENCHTIME:-10s}
count=${COUNT:-2}

tmp=$(mktemp -d /tmp/citypulse-bench-real.XXXXXX)
kafka=${CITYPULSE_TEST_KAFKA:-}
started=""
cleanup() {
	if [ -n "$started" ]; then
		deploy/kafka/kafka.sh stop "$started" >/dev/null 2>&1 || echo "bench-collector-real: could not stop the broker in $started" >&2
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
if [ -z "$kafka" ]; then
	deploy/kafka/kafka.sh install
	kafka="$tmp/kafka"
	started="$kafka"
	# KAFKA_WATCH_PID: the broker also stops if this script is killed before its trap runs.
	KAFKA_WATCH_PID=$$ deploy/kafka/kafka.sh start "$kafka" 1
fi
{
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), nproc $(nproc), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- Kafka: $(ls "${KAFKA_DIST:-var/kafka-dist}"/libs/kafka_2.13-*.jar 2>/dev/null | sed 's/.*kafka_2.13-//; s/\.jar$//' | head -1) single node at $(cat "$kafka/bootstrap" 2>/dev/null || echo "$kafka")"
echo "- go test -bench BenchmarkCollectorBrokers -benchtime $benchtime -count $count ($(go env GOVERSION))"
} | tee "$tmp/machine.md"

CITYPULSE_TEST_KAFKA="$kafka" go test -run '^$' -bench '^BenchmarkCollectorBrokers$' \
	-benchtime "$benchtime" -count "$count" ./ingest/collector/ | tee "$tmp/out.txt"

grep -q 'BenchmarkCollectorBrokers/kafka' "$tmp/out.txt" || { echo "bench-collector-real: the real-broker side did not run" >&2; exit 1; }
echo
awk '
/^BenchmarkCollectorBrokers\// {
	split($1, a, "/"); side = a[2]; sub(/-[0-9]+$/, "", side)
	for (i = 2; i < NF; i++) {
		if ($(i+1) == "events/s") ev[side] = ev[side] " " $i
		if ($(i+1) == "p99-ms") p99[side] = p99[side] " " $i
	}
	n[side]++
	if (!(side in seen)) { seen[side] = 1; order[++sides] = side }
}
function mean(list,   k, m, s, v) { m = split(list, v, " "); s = 0; for (k = 1; k <= m; k++) s += v[k]; return m ? s / m : 0 }
END {
	base = mean(ev["bare"])
	printf "| side | events/s (mean of %d) | runs | p99 ms (mean) | share of bare |\n|---|---|---|---|---|\n", n["bare"]
	names["bare"] = "bare net/http"; names["embedded"] = "collector, embedded broker"; names["kafka"] = "collector, Apache Kafka (1 node)"
	for (k = 1; k <= sides; k++) {
		s = order[k]
		printf "| %s | %.0f | %s | %.1f | %.2f |\n", names[s], mean(ev[s]), ev[s], mean(p99[s]), base ? mean(ev[s]) / base : 0
	}
}' "$tmp/out.txt" | tee "$tmp/table.md"

if $write; then
	{
		echo "<!-- collector-real:begin (written by scripts/bench-collector-real.sh --write) -->"
		echo "## Collector on a real Apache Kafka broker"
		echo
		echo "Command: \`scripts/bench-collector-real.sh\` (BenchmarkCollectorBrokers: the three sides in one"
		echo "process and run, generator included, so only the shares of bare compare with the section above)."
		echo
		cat "$tmp/machine.md"
		echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
		echo
		cat "$tmp/table.md"
		echo "<!-- collector-real:end -->"
	} >"$tmp/section.md"
	python3 - "$tmp/section.md" <<'PY'
import re, sys
section = open(sys.argv[1]).read().rstrip("\n")
path = "BENCHMARKS.md"
text = open(path).read()
pat = re.compile(r"<!-- collector-real:begin.*?<!-- collector-real:end -->", re.S)
if pat.search(text):
    text = pat.sub(lambda m: section, text, count=1)
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
print("wrote the real-broker collector section of BENCHMARKS.md")
PY
fi

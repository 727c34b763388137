#!/usr/bin/env bash
# Cleaning benchmark (issue 4, `make bench`): builds internal/e2e/community's test binary and runs
# BenchmarkCleanPerson once at each size. For each size it starts a fresh ClickHouse database (the
# test server, CITYPULSE_TEST_CLICKHOUSE_ADDR, default 127.0.0.1:19000) and the embedded broker
# in a process of its own; the simulator's person files (community office, UTF-8; police, GBK with
# Chinese columns and labels; 2% defects, 3% dirty) cut to the size go through the real feeds
# gateway (signed uploads: Kafka and ods_feed_records), then the cleaning pipeline runs from Kafka
# to dwd_person until nothing is unread. The baseline, same run: clickhouse-client inserting the
# rows the pipeline wrote (exported as CSV) into a table of the same shape. It prints rows/s end
# to end, of the cleaning alone and of the baseline, CPU per record (the ClickHouse server's too, when
# it runs on this machine), peak RSS of each process, and
# the top of a CPU profile of each phase at the largest size.
#
#   scripts/bench-cleaning.sh                          # 1M and 5M person records
#   scripts/bench-cleaning.sh --records 20000,200000   # other sizes
#   scripts/bench-cleaning.sh --write                  # also replace the cleaning section of BENCHMARKS.md
#   KEEP_CITY=/var/tmp/city scripts/bench-cleaning.sh  # keep the generated city (several GB) for the next run
#
# Generating the city is not measured; at 5M records it takes minutes and ~4 GB of disk, and the
# run itself needs ~10 GB more (the cut files, the broker's log, ClickHouse, the baseline's CSV).
set -euo pipefail
cd "$(dirname "$0")/.."
records=1000000,5000000
write=false
while [ $# -gt 0 ]; do
	case "$1" in
	--records) records=$2; shift 2 ;;
	--write) write=true; shift ;;
	*) echo "usage: $0 [--records n,n…] [--write]" >&2; exit 2 ;;
	esac
done
export CITYPULSE_TEST_CLICKHOUSE_ADDR=${CITYPULSE_TEST_CLICKHOUSE_ADDR:-127.0.0.1:19000}

tmp=$(mktemp -d /tmp/citypulse-bench-cleaning.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
city=${KEEP_CITY:-$tmp/city}
mkdir -p "$city"
go test -c -o "$tmp/e2e.test" ./internal/e2e/community

machine() {
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), nproc $(nproc)"
	echo "- memory: $(free -g | awk '/^Mem:/ {print $2 " GiB total, " $7 " GiB available"}')"
	echo "- load average before the run (other processes share the machine): $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- ClickHouse: $(clickhouse-client --host "${CITYPULSE_TEST_CLICKHOUSE_ADDR%:*}" --port "${CITYPULSE_TEST_CLICKHOUSE_ADDR##*:}" --query 'SELECT version()' 2>/dev/null || echo unknown) at $CITYPULSE_TEST_CLICKHOUSE_ADDR"
	echo "- Go: $(go env GOVERSION), GOMAXPROCS default"
}

machine | tee "$tmp/machine.md"
# The Beam runner logs every job at info level on stderr: leave those lines out.
"$tmp/e2e.test" -test.run '^$' -test.bench '^BenchmarkCleanPerson$' -test.benchtime 1x -test.timeout 4h \
	-cleaning.records "$records" -cleaning.dir "$city" -cleaning.profile "$tmp" -cleaning.report "$tmp/table.md" 2>&1 |
	grep -v 'level=INFO' | tee "$tmp/out.txt"
echo "- load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$tmp/machine.md"
[ -s "$tmp/table.md" ] || { echo "no results" >&2; exit 1; }
cat "$tmp/table.md"

largest=${records##*,}
# Where the time goes: the cumulative share of the main parts of each phase (a part's share
# includes what it calls), then the flat top.
parts_push='feeds\.\(\*Gateway\)\.stream$|feeds\.encode$|feeds\.appendObject$|feeds\.appendRecord$|encoding/json\.Marshal$|formats\.\(\*csvReader\)\.Next$|warehouse\.\(\*BatchWriter\)\.(Write|Flush)$|kgo\.\(\*Client\)\.Produce$|kgo\.\(\*sink\)\.produce$|feeds\.PushFile$|runtime\.gcBgMarkWorker$|runtime\.mallocgc$'
parts_clean='prism/internal\.\(\*stage\)\.Execute$|runtime\.selectgo$|cleaning\.\(\*chunk\)\.clean$|cleaning\.\(\*Cleaner\)\.Clean$|cleaning\.decodeRecord$|encoding/json\.\(\*Decoder\)\.Decode$|cleaning\.\(\*Cleaner\)\.valid$|cleaning\.\(\*valuer\)\.values$|warehouse\.\(\*BatchWriter\)\.Flush$|standard\.\(\*Dataset\)\.ValidateRecordAt$|cleaning\.\(\*sealer\)\.seal$|cleaning\.\(\*writeCleanFn\)\.ProcessElement$|chsink\.\(\*Sink\)\.(Write|Flush)$|kafkaio\.\(\*ReadFn\)\.ProcessElement$|kgo\.\(\*source\)\.loopFetch$|runtime\.gcBgMarkWorker$|runtime\.mallocgc$'
for phase in push clean; do
	parts=parts_$phase
	echo
	echo "CPU profile, $phase phase, $largest records (this process only: not the broker, not ClickHouse)"
	go tool pprof -top -cum -nodecount=100000 "$tmp/e2e.test" "$tmp/$phase-$largest.pprof" 2>/dev/null |
		sed -n '/^Duration/p;/flat%/p' | sed 's/^Duration/cumulative, main parts. Duration/'
	go tool pprof -top -cum -nodecount=100000 "$tmp/e2e.test" "$tmp/$phase-$largest.pprof" 2>/dev/null | grep -E "${!parts}" || true
	echo "flat top:"
	go tool pprof -top -nodecount=12 "$tmp/e2e.test" "$tmp/$phase-$largest.pprof" 2>/dev/null | sed -n '/flat%/,$p'
done | tee "$tmp/profile.txt"

if $write; then
	{
		echo "<!-- cleaning:begin (written by scripts/bench-cleaning.sh --write) -->"
		echo "Command: \`scripts/bench-cleaning.sh${records:+ --records $records}\`"
		echo
		cat "$tmp/machine.md"
		echo
		cat "$tmp/table.md"
		echo
		echo '```'
		sed '/^$/d' "$tmp/profile.txt"
		echo '```'
		echo "<!-- cleaning:end -->"
	} >"$tmp/section.md"
	python3 - "$tmp/section.md" <<'PY'
import re, sys
section = open(sys.argv[1]).read().rstrip("\n")
path = "BENCHMARKS.md"
text = open(path).read()
pat = re.compile(r"<!-- cleaning:begin.*?<!-- cleaning:end -->", re.S)
if not pat.search(text):
    sys.exit("BENCHMARKS.md has no cleaning:begin/end markers")
open(path, "w").write(pat.sub(lambda m: section, text, count=1))
print("wrote the cleaning section of BENCHMARKS.md")
PY
fi

#!/usr/bin/env bash
# Collector benchmark (`make bench`): builds ingest/collector/internal/loadgen and runs it three
# times, once per load generator. Each run starts the embedded broker (data dir on disk, in a temp
# dir), the real collector and a bare net/http handler that reads and discards request bodies, both
# on loopback, and loads each in turn with the same batches of 50 events over the same keep-alive
# connections, closed loop, in alternating rounds: events/s, p50/p99 latency, CPU per event
# (servers and generator apart: the generator runs in a child process), and the collector's share
# of the baseline. The generators:
#   1. raw (64 connections): requests encoded once, one write each — the cheapest Go generator.
#      This run also loads each side open loop at 50,000 events/s for the latency target, and
#      times the collector's two unavoidable steps alone (-floor: parsing+encoding, and
#      producing+acknowledgement) against what the ratio target allows.
#   2. wrk (64 connections, Debian's wrk, `deploy/install.sh --bench` installs it): the same
#      requests, from the C generator the issue names.
#   3. nethttp (128 connections): net/http's Client, about 1 µs more per event on both sides.
# The share of the baseline depends on the generator (it shares the two cores with the server it
# measures), which is why all three are written down.
#
#   scripts/bench-collector.sh                 # the three runs, 15 s per side in 3 rounds each
#   scripts/bench-collector.sh --write         # also replace the collector section of BENCHMARKS.md
#   scripts/bench-collector.sh -- -duration 30s -cpuprofile /tmp/collector.prof   # the raw run only
#   scripts/bench-collector.sh -- -variant l3:linger=3ms -variant lz4:codec=lz4   # A/B in one run
#
# Arguments after -- go to loadgen (see `go run ./ingest/collector/internal/loadgen -h`); with
# them, only the raw run is made, with those flags.
set -euo pipefail
cd "$(dirname "$0")/.."
write=false
while [ $# -gt 0 ]; do
	case "$1" in
	--write) write=true; shift ;;
	--) shift; break ;;
	*) echo "usage: $0 [--write] [-- loadgen flags]" >&2; exit 2 ;;
	esac
done

tmp=$(mktemp -d /tmp/citypulse-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/loadgen" ./ingest/collector/internal/loadgen

machine() {
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), nproc $(nproc)"
	echo "- memory: $(free -g | awk '/^Mem:/ {print $2 " GiB total, " $7 " GiB available"}')"
	echo "- load average before the run (other processes share the machine): $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- Go: $(go env GOVERSION), GOMAXPROCS default"
}

machine | tee "$tmp/machine.md"
runs=(raw)
if [ $# -eq 0 ]; then
	runs=(raw wrk nethttp)
	command -v wrk >/dev/null || { echo "wrk is missing: deploy/install.sh --bench installs it" >&2; exit 1; }
fi
for run in "${runs[@]}"; do
	case "$run" in
	raw) flags=(-floor 8s "$@") ;;
	wrk) flags=(-client wrk -latency-rate 0) ;;
	nethttp) flags=(-client nethttp -conns 128 -latency-rate 0) ;;
	esac
	echo
	echo "== generator: $run (loadgen ${flags[*]})"
	TMPDIR="$tmp" "$tmp/loadgen" -markdown "${flags[@]}" | tee "$tmp/out-$run.txt"
done

if $write; then
	{
		echo "<!-- collector:begin (written by scripts/bench-collector.sh --write) -->"
		echo "Command: \`scripts/bench-collector.sh${*:+ -- $*}\`"
		echo
		cat "$tmp/machine.md"
		for run in "${runs[@]}"; do
			echo
			echo "Generator: **$run**"
			echo
			echo '```'
			sed -n '1,/^$/p' "$tmp/out-$run.txt" | sed '/^$/d'
			echo '```'
			if [ "$run" = raw ]; then
				echo
				sed -n '/^| side/,$p' "$tmp/out-$run.txt"
			fi
		done
		echo "<!-- collector:end -->"
	} >"$tmp/section.md"
	python3 - "$tmp/section.md" <<'PY'
import re, sys
section = open(sys.argv[1]).read().rstrip("\n")
path = "BENCHMARKS.md"
text = open(path).read()
pat = re.compile(r"<!-- collector:begin.*?<!-- collector:end -->", re.S)
if not pat.search(text):
    sys.exit("BENCHMARKS.md has no collector:begin/end markers")
open(path, "w").write(pat.sub(lambda m: section, text, count=1))
print("wrote the collector section of BENCHMARKS.md")
PY
fi

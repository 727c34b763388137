#!/usr/bin/env bash
# Installs what CityPulse needs and is missing on a Debian machine: ClickHouse (server and client)
# for the warehouse and, with --test, Chromium (and CJK fonts) for the browser tests and PostgreSQL
# for the metadata-store tests, a JDK with Maven to fetch and run the real Apache Kafka the engine
# tests use and wrk for the collector benchmark's smoke test; with --bench, wrk alone (`make bench`
# loads the collector with it). Needs root (or sudo).
set -euo pipefail
want=(clickhouse-server clickhouse-client)
[ "${1:-}" = "--test" ] && want+=(chromium fonts-noto-cjk postgresql openjdk-17-jdk-headless maven wrk)
[ "${1:-}" = "--bench" ] && want+=(wrk)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v go >/dev/null || { echo "Go is required (https://go.dev/doc/install); install it first" >&2; exit 1; }
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# policy-rc.d keeps Debian from starting its own ClickHouse service; ours runs with its own config.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

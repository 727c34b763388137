#!/usr/bin/env bash
# Starts and stops a project-owned ClickHouse server: its own config, ports and data directory,
# never the system service. Usage:
#   deploy/clickhouse/clickhouse.sh start DIR [TCP_PORT] [HTTP_PORT]   # prints nothing on success
#   deploy/clickhouse/clickhouse.sh stop DIR
#   deploy/clickhouse/clickhouse.sh status DIR
# DIR holds config.xml, users.xml, data/, logs/ and clickhouse.pid. Ports default to 19000/18123.
set -euo pipefail
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|status DIR [TCP_PORT] [HTTP_PORT]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
pidfile="$dir/clickhouse.pid"

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

case "$cmd" in
start)
  tcp=${3:-19000}; http=${4:-18123}
  if running; then echo "clickhouse already running (pid $(cat "$pidfile")) in $dir"; exit 0; fi
  [ -x /usr/sbin/clickhouse-server ] || { echo "clickhouse-server is not installed: run deploy/install.sh" >&2; exit 1; }
  mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas" "$dir/logs"
  sed -e "s#@DIR@#$dir#g" -e "s#@TCP@#$tcp#g" -e "s#@HTTP@#$http#g" "$here/config.xml.in" > "$dir/config.xml"
  cp "$here/users.xml" "$dir/users.xml"
  nohup /usr/sbin/clickhouse-server --config-file="$dir/config.xml" >"$dir/logs/stdout.log" 2>&1 &
  echo $! > "$pidfile"
  for _ in $(seq 1 200); do
    if curl -fsS "http://127.0.0.1:$http/ping" >/dev/null 2>&1; then
      echo "$tcp" > "$dir/tcp_port"; echo "$http" > "$dir/http_port"; exit 0
    fi
    running || { echo "clickhouse exited; see $dir/logs" >&2; tail -20 "$dir/logs/clickhouse-server.err.log" >&2 || true; exit 1; }
    sleep 0.1
  done
  echo "clickhouse did not answer on port $http within 20 s; see $dir/logs" >&2; exit 1
  ;;
stop)
  if running; then
    pid=$(cat "$pidfile"); kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" || true
  fi
  rm -f "$pidfile"
  ;;
status)
  if running; then echo "running pid $(cat "$pidfile") tcp $(cat "$dir/tcp_port" 2>/dev/null)"; else echo "stopped"; exit 1; fi
  ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac

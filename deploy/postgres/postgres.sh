#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL from Debian's packages (apt-get install postgresql) for
# the metadata store's tests or a local trial: its own data directory, a loopback port, trust
# authentication for the superuser "citypulse", and a database "citypulse". Never the system
# service. Works as root: the server then runs as the "postgres" user (or $PG_USER), which owns DIR.
# Usage:
#   deploy/postgres/postgres.sh start DIR [PORT]   # PORT defaults to a free one; prints nothing on success
#   deploy/postgres/postgres.sh dsn DIR            # prints postgres://citypulse@127.0.0.1:PORT/citypulse?sslmode=disable
#   deploy/postgres/postgres.sh stop DIR
#   deploy/postgres/postgres.sh status DIR
# DIR holds data/, the server log postgres.log, the socket and the port file.
set -euo pipefail
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|status|dsn DIR [PORT]" >&2; exit 2; }
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)

bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
  v=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1 || true)
  [ -n "$v" ] && bindir=/usr/lib/postgresql/$v/bin
fi
[ -n "$bindir" ] && [ -x "$bindir/pg_ctl" ] || { echo "PostgreSQL is not installed: run deploy/install.sh --test (or apt-get install postgresql)" >&2; exit 1; }

# As root, run the server as an ordinary user: PostgreSQL refuses to run as root.
as=()
if [ "$(id -u)" -eq 0 ]; then
  pguser=${PG_USER:-postgres}
  id "$pguser" >/dev/null 2>&1 || { echo "user $pguser does not exist (the postgresql package creates postgres)" >&2; exit 1; }
  as=(runuser -u "$pguser" --)
fi
pg() { "${as[@]}" "$@"; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null && return
  for p in $(seq 15432 15532); do (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done
  echo "no free port found" >&2; return 1
}
running() { [ -f "$dir/data/postmaster.pid" ] && pg "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; }

case "$cmd" in
start)
  if running; then echo "postgres already running in $dir on port $(cat "$dir/port")"; exit 0; fi
  port=${3:-$(free_port)}
  if [ ${#as[@]} -gt 0 ]; then
    chown "$pguser" "$dir"
    # The server user must be able to reach DIR through its parents.
    pg test -x "$dir" || { echo "user $pguser cannot reach $dir (a parent directory is not searchable); choose another DIR" >&2; exit 1; }
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    pg "$bindir/initdb" -D "$dir/data" -U citypulse -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || { tail -20 "$dir/postgres.log" >&2; exit 1; }
  echo "$port" > "$dir/port"
  if ! pg "$bindir/psql" -h 127.0.0.1 -p "$port" -U citypulse -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='citypulse'" | grep -q 1; then
    pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U citypulse citypulse
  fi
  ;;
dsn)
  [ -f "$dir/port" ] || { echo "no postgres started in $dir" >&2; exit 1; }
  echo "postgres://citypulse@127.0.0.1:$(cat "$dir/port")/citypulse?sslmode=disable"
  ;;
stop)
  if running; then pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null; fi
  ;;
status)
  if running; then echo "running on port $(cat "$dir/port")"; else echo "stopped"; exit 1; fi
  ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac

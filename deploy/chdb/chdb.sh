#!/usr/bin/env bash
# The current-ClickHouse half of the compatibility rule (docs/clickhouse-compat.md): chDB from PyPI
# in a venv under var/chdb, and the replay of every statement the tests recorded against 18.16.
#   deploy/chdb/chdb.sh install              # venv + pinned requirements.txt (idempotent)
#   deploy/chdb/chdb.sh replay [RECORDING…]  # default var/chdb/recorded; exit 1 on a rejected statement
#   deploy/chdb/chdb.sh python               # prints the venv's interpreter (the golden test uses it)
# Record with CITYPULSE_RECORD_STATEMENTS=DIR set while the Go tests run (warehouse.RecordStatementsEnv).
# Environment: CHDB_VENV (default var/chdb/venv), CHDB_REPORT (replay: per-statement JSON lines,
# default var/chdb/replay-report.jsonl).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${CHDB_VENV:-$root/var/chdb/venv}

die() { echo "chdb.sh: $*" >&2; exit 1; }

install() {
  local stamp
  stamp=$(cat "$here/requirements.txt" | sha256sum | cut -d' ' -f1)
  if [ -f "$venv/.stamp" ] && [ "$(cat "$venv/.stamp")" = "$stamp" ] && [ -x "$venv/bin/python" ]; then
    return
  fi
  command -v python3 >/dev/null || die "python3 is required"
  python3 -c 'import venv, ensurepip' 2>/dev/null || {
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  }
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --disable-pip-version-check -q -r "$here/requirements.txt" \
    || die "pip could not install $here/requirements.txt"
  "$venv/bin/python" -c 'import chdb' || die "chdb does not import in $venv"
  echo "$stamp" >"$venv/.stamp"
}

case "${1:-}" in
  install) install ;;
  replay)
    shift
    [ -x "$venv/bin/python" ] || die "no chDB venv at $venv: run $0 install"
    [ $# -gt 0 ] || set -- "$root/var/chdb/recorded"
    exec "$venv/bin/python" "$here/replay.py" --report "${CHDB_REPORT:-$root/var/chdb/replay-report.jsonl}" "$@"
    ;;
  python)
    [ -x "$venv/bin/python" ] || die "no chDB venv at $venv: run $0 install"
    echo "$venv/bin/python"
    ;;
  *) die "usage: $0 install | replay [RECORDING…] | python" ;;
esac

#!/usr/bin/env bash
# Installs the off-the-shelf clients that the client tests (internal/engines/clientstest) run,
# unmodified, against our collector and warehouse:
#   python: a venv with Segment's Python library (segment-analytics-python) and clickhouse-driver,
#           every package pinned in deploy/clients/requirements.txt;
#   java:   Segment's Java library (com.segment.analytics.java:analytics, pinned in
#           deploy/clients/java/pom.xml) and its dependencies from Maven Central, and our small
#           driver (SegmentSend.java) compiled against them.
# Usage:
#   deploy/clients/install.sh [all|python|java]   # default all; idempotent
#   deploy/clients/install.sh check               # exit 0 when both are installed and current
# Idempotent: a stamp of the inputs makes a second run a no-op. Offline after the first run: the
# wheels are kept in $CLIENTS_DIR/wheels and installed from there (--no-index) before PyPI is
# asked; Maven runs offline first (a warm ~/.m2 needs no network).
# Environment: CLIENTS_DIR (default var/clients; the tests read $CITYPULSE_CLIENTS_DIR, same default).
# Layout: $CLIENTS_DIR/venv (bin/python, .stamp), wheels/, java/{classes,libs,.stamp}.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=${CLIENTS_DIR:-$root/var/clients}
java_src=(java/pom.xml java/src/main/java/io/github/citypulse/clients/SegmentSend.java)

die() { echo "clients/install.sh: $*" >&2; exit 1; }

apt_install() {
  echo "installing: $*"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The stamps: the Go tests compute the Java one the same way (sha256 of the files, concatenated).
python_stamp() { { cat "$here/requirements.txt"; python3 -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1; }
java_stamp() { (cd "$here" && cat "${java_src[@]}") | sha256sum | cut -d' ' -f1; }

python_current() {
  [ -x "$dir/venv/bin/python" ] && [ -f "$dir/venv/.stamp" ] && [ "$(cat "$dir/venv/.stamp")" = "$(python_stamp)" ]
}

java_current() {
  [ -f "$dir/java/classes/io/github/citypulse/clients/SegmentSend.class" ] && [ -f "$dir/java/.stamp" ] &&
    [ "$(cat "$dir/java/.stamp")" = "$(java_stamp)" ]
}

install_python() {
  command -v python3 >/dev/null || apt_install python3 python3-venv
  python_current && return
  mkdir -p "$dir/wheels"
  rm -rf "$dir/venv"
  if ! python3 -m venv "$dir/venv" >/dev/null 2>&1; then
    apt_install python3-venv
    rm -rf "$dir/venv"
    python3 -m venv "$dir/venv"
  fi
  local log="$dir/pip.log"
  local pip=("$dir/venv/bin/python" -m pip --disable-pip-version-check --no-input)
  if ! "${pip[@]}" install --no-index --find-links "$dir/wheels" -r "$here/requirements.txt" >"$log" 2>&1; then
    "${pip[@]}" download --dest "$dir/wheels" -r "$here/requirements.txt" >>"$log" 2>&1 ||
      { cat "$log" >&2; die "pip could not download the pinned Python clients"; }
    "${pip[@]}" install --no-index --find-links "$dir/wheels" -r "$here/requirements.txt" >>"$log" 2>&1 ||
      { cat "$log" >&2; die "pip could not install the pinned Python clients"; }
  fi
  "$dir/venv/bin/python" -c 'import segment.analytics, clickhouse_driver' || die "the venv in $dir/venv cannot import the clients"
  python_stamp > "$dir/venv/.stamp"
}

install_java() {
  local missing=()
  command -v java >/dev/null || missing+=(openjdk-17-jdk-headless)
  command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null || missing+=(maven)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
  java_current && return
  rm -rf "$dir/java"
  mkdir -p "$dir/java"
  local mvn=(mvn -B -q -f "$here/java/pom.xml" -Dstyle.color=never -Dclients.dist="$dir/java" compile)
  if ! "${mvn[@]}" -o >"$dir/java/mvn.log" 2>&1; then
    "${mvn[@]}" >"$dir/java/mvn.log" 2>&1 || { cat "$dir/java/mvn.log" >&2; die "maven could not build the Segment Java driver"; }
  fi
  ls "$dir"/java/libs/analytics-*.jar >/dev/null 2>&1 || die "no analytics jar in $dir/java/libs"
  java_stamp > "$dir/java/.stamp"
}

case "${1:-all}" in
all) install_python; install_java ;;
python) install_python ;;
java) install_java ;;
check)
  ok=0
  if python_current; then echo "python clients: $dir/venv"; else echo "python clients: missing or stale (run $0 python)"; ok=1; fi
  if java_current; then echo "java client: $dir/java"; else echo "java client: missing or stale (run $0 java)"; ok=1; fi
  exit $ok
  ;;
*) echo "usage: $0 [all|python|java|check]" >&2; exit 2 ;;
esac

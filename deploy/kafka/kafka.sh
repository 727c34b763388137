#!/usr/bin/env bash
# Installs, starts and stops a project-owned Apache Kafka (KRaft): one node for everyday tests and
# `make run`, or a cluster of three for the fault tests. Each node is a combined broker+controller
# (process.roles=broker,controller); three nodes form a controller quorum of three. The jars come
# from Maven Central through deploy/kafka/pom.xml and run on the machine's JDK (no tarball, no bin/
# scripts: the main classes are called directly). Usage:
#   deploy/kafka/kafka.sh install                 # resolve the jars into $KAFKA_DIST (idempotent)
#   deploy/kafka/kafka.sh start DIR [NODES]       # NODES 1 (default) or 3; prints nothing on success
#   deploy/kafka/kafka.sh stop DIR [NODE]         # SIGTERM (SIGKILL after 30 s); all nodes, or one
#   deploy/kafka/kafka.sh kill DIR NODE           # SIGKILL one node (fault tests)
#   deploy/kafka/kafka.sh status DIR              # one line per node; exit 1 unless all run
#   deploy/kafka/kafka.sh bootstrap DIR           # prints 127.0.0.1:PORT[,...]
#   deploy/kafka/kafka.sh wait DIR [SECONDS]      # until every node answers a metadata request
# start is idempotent: on a DIR that already has a cluster it starts the nodes that are not
# running (e.g. one that was killed) on their old ports and data, and waits until all are ready.
# A new DIR gets free loopback ports, a fresh cluster id and formatted storage.
# DIR holds cluster.env, bootstrap (the file tests read), node<N>/{server.properties,data/,
# kafka.pid} and logs/node<N>/. Topics default to replication factor NODES and, with three nodes,
# min.insync.replicas=2.
# Environment: KAFKA_DIST (jars, default var/kafka-dist), KAFKA_HEAP (default -Xms64m -Xmx320m per
# node), KAFKA_OVERRIDES (extra server properties for a new DIR, space-separated key=value),
# KAFKA_WATCH_PID (start: stop the nodes when that process ends, e.g. a test that was killed),
# KAFKA_START_TIMEOUT (seconds to wait for readiness, default 120), KAFKA_PORT (a new DIR: node N's
# client port is KAFKA_PORT+N-1 instead of a free one, e.g. 19092 for `make run`).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dist=${KAFKA_DIST:-$root/var/kafka-dist}
heap=${KAFKA_HEAP:--Xms64m -Xmx320m}

die() { echo "kafka.sh: $*" >&2; exit 1; }

need_tools() {
  local missing=()
  command -v java >/dev/null || missing+=(openjdk-17-jdk-headless)
  command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null || missing+=(maven)
  [ ${#missing[@]} -eq 0 ] && return
  echo "installing: ${missing[*]}"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# install resolves the jars (offline first: a warm ~/.m2 needs no network) and compiles the
# readiness probe. A stamp of the pom and the probe's source makes a second run a no-op.
install() {
  local stamp
  stamp=$(cat "$here/pom.xml" "$here/KafkaReady.java" | sha256sum | cut -d' ' -f1)
  if [ -f "$dist/.stamp" ] && [ "$(cat "$dist/.stamp")" = "$stamp" ] && [ -f "$dist/tools/KafkaReady.class" ]; then
    return
  fi
  need_tools
  rm -rf "$dist/libs" "$dist/tools"
  mkdir -p "$dist"
  local mvn=(mvn -B -q -f "$here/pom.xml" -Dstyle.color=never -Dkafka.dist="$dist" package)
  if ! "${mvn[@]}" -o >"$dist/mvn.log" 2>&1; then
    "${mvn[@]}" >"$dist/mvn.log" 2>&1 || { cat "$dist/mvn.log" >&2; die "maven could not resolve the Kafka jars"; }
  fi
  ls "$dist"/libs/kafka_2.13-*.jar >/dev/null 2>&1 || die "no kafka_2.13 jar in $dist/libs"
  mkdir -p "$dist/tools"
  javac -nowarn -cp "$dist/libs/*" -d "$dist/tools" "$here/KafkaReady.java"
  echo "$stamp" > "$dist/.stamp"
}

free_ports() { # N free loopback ports, held open together so that they differ
  python3 - "$1" <<'EOF'
import socket, sys
ss = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ss.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ss))
EOF
}

# A Kafka cluster id: 16 random bytes, URL-safe base64. Like Kafka's own Uuid.randomUuid, never one
# starting with "-" (1 in 64 would, and the storage tool would read it as an option).
cluster_id() { python3 -c '
import base64, uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not s.startswith("-"):
        print(s)
        break'; }

pid_of() { cat "$dir/node$1/kafka.pid" 2>/dev/null || true; }
running() { local p; p=$(pid_of "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# configure writes the server.properties of every node of a new DIR.
configure() {
  local n=$1 ports broker=() ctrl=() voters="" i rf=1 isr=1
  read -r -a ports <<<"$(free_ports $((2 * n)))"
  for i in $(seq 1 "$n"); do
    broker[i]=${ports[$((2 * i - 2))]}; ctrl[i]=${ports[$((2 * i - 1))]}
    if [ -n "${KAFKA_PORT:-}" ]; then broker[i]=$((KAFKA_PORT + i - 1)); fi
    voters+="${voters:+,}$i@127.0.0.1:${ctrl[i]}"
  done
  if [ "$n" -ge 3 ]; then rf=3; isr=2; fi
  for i in $(seq 1 "$n"); do
    mkdir -p "$dir/node$i/data" "$dir/logs/node$i"
    cat > "$dir/node$i/server.properties" <<EOF
# Written by deploy/kafka/kafka.sh for a $n-node test cluster; node $i.
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:${broker[i]},CONTROLLER://127.0.0.1:${ctrl[i]}
advertised.listeners=PLAINTEXT://127.0.0.1:${broker[i]}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/node$i/data
num.partitions=4
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
# Two shared cores: few threads per node.
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
background.threads=2
log.cleaner.threads=1
EOF
    for kv in ${KAFKA_OVERRIDES:-}; do echo "$kv" >> "$dir/node$i/server.properties"; done
  done
  local b=""
  for i in $(seq 1 "$n"); do b+="${b:+,}127.0.0.1:${broker[i]}"; done
  echo "$b" > "$dir/bootstrap.tmp"
  printf 'NODES=%s\nCLUSTER_ID=%s\n' "$n" "$(cluster_id)" > "$dir/cluster.env"
}

format() { # node: format its storage unless already formatted
  local i=$1
  [ -f "$dir/node$i/data/meta.properties" ] && return
  java -Xmx128m -XX:TieredStopAtLevel=1 -Dlog4j2.configurationFile="$here/log4j2-tool.properties" -cp "$dist/libs/*" \
    kafka.tools.StorageTool format --config "$dir/node$i/server.properties" --cluster-id "$CLUSTER_ID" --ignore-formatted \
    >"$dir/logs/node$i/format.log" 2>&1 || { cat "$dir/logs/node$i/format.log" >&2; die "formatting node $i failed"; }
}

launch() { # node: start it in the background, its PID in node<N>/kafka.pid
  local i=$1
  # shellcheck disable=SC2086 # heap holds several JVM options
  nohup java $heap -XX:+UseSerialGC -XX:MaxMetaspaceSize=128m -Djava.awt.headless=true \
    -Dkafka.logs.dir="$dir/logs/node$i" -Dlog4j2.configurationFile="$here/log4j2.properties" \
    -cp "$dist/libs/*" kafka.Kafka "$dir/node$i/server.properties" \
    >>"$dir/logs/node$i/stdout.log" 2>&1 </dev/null &
  echo $! > "$dir/node$i/kafka.pid"
}

wait_ready() { # seconds: every node answers metadata and sees all NODES brokers
  java -Xmx64m -XX:TieredStopAtLevel=1 -Dlog4j2.configurationFile="$here/log4j2-tool.properties" \
    -cp "$dist/tools:$dist/libs/*" KafkaReady "$(cat "$dir/bootstrap")" "$NODES" "$1" || {
    for i in $(seq 1 "$NODES"); do
      running "$i" || echo "node $i is not running; last lines of $dir/logs/node$i:" >&2
      tail -5 "$dir/logs/node$i/server.log" 2>/dev/null >&2 || tail -5 "$dir/logs/node$i/stdout.log" >&2 || true
    done
    die "kafka in $dir not ready within $1 s"
  }
}

stop_node() { # node signal
  local i=$1 sig=$2 p
  p=$(pid_of "$i")
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
    kill "-$sig" "$p"
  fi
}

wait_gone() { # seconds node...: SIGKILL what is still there after the grace period
  local secs=$1 i p left; shift
  for _ in $(seq 1 $((secs * 10))); do
    left=0
    for i in "$@"; do running "$i" && left=1; done
    [ $left -eq 0 ] && break
    sleep 0.1
  done
  for i in "$@"; do
    p=$(pid_of "$i")
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then kill -9 "$p" 2>/dev/null || true; fi
    for _ in $(seq 1 200); do { [ -n "$p" ] && kill -0 "$p" 2>/dev/null; } || break; sleep 0.05; done
    rm -f "$dir/node$i/kafka.pid"
  done
}

# watch stops the nodes of DIR when process $1 ends (a test that died without cleaning up):
# one watcher per DIR, detached, its PID in watch.pid.
watch() {
  local w; w=$(cat "$dir/watch.pid" 2>/dev/null || true)
  if [ -n "$w" ] && kill -0 "$w" 2>/dev/null; then return; fi
  nohup setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; exec "$2" stop "$3"' \
    kafka-watch "$1" "$here/kafka.sh" "$dir" >/dev/null 2>&1 </dev/null &
  echo $! > "$dir/watch.pid"
}

cmd=${1:-}
[ "$cmd" = install ] && { install; exit 0; }
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 install | start DIR [1|3] | stop DIR [NODE] | kill DIR NODE | status DIR | bootstrap DIR | wait DIR [SECONDS]" >&2; exit 2; }
if [ "$cmd" = start ]; then
  case "${3:-1}" in 1|3) ;; *) die "NODES must be 1 or 3, not $3" ;; esac
  mkdir -p "$dir"
fi
if [ ! -d "$dir" ]; then [ "$cmd" = stop ] && exit 0; die "no such directory $dir"; fi
dir=$(cd "$dir" && pwd)
# shellcheck disable=SC1091
[ -f "$dir/cluster.env" ] && . "$dir/cluster.env"

case "$cmd" in
start)
  want=${3:-${NODES:-1}}
  [ -z "${NODES:-}" ] || [ "$NODES" = "$want" ] || die "$dir holds a $NODES-node cluster; use another DIR for $want"
  install
  if [ -z "${NODES:-}" ]; then
    configure "$want"
    # shellcheck disable=SC1091
    . "$dir/cluster.env"
  fi
  for i in $(seq 1 "$NODES"); do running "$i" || format "$i" & done
  wait
  for i in $(seq 1 "$NODES"); do [ -f "$dir/node$i/data/meta.properties" ] || die "node $i storage was not formatted"; done
  for i in $(seq 1 "$NODES"); do running "$i" || launch "$i"; done
  [ -f "$dir/bootstrap" ] || mv "$dir/bootstrap.tmp" "$dir/bootstrap"
  if [ -n "${KAFKA_WATCH_PID:-}" ]; then watch "$KAFKA_WATCH_PID"; fi
  wait_ready "${KAFKA_START_TIMEOUT:-120}"
  ;;
wait)
  [ -n "${NODES:-}" ] || die "no kafka in $dir"
  wait_ready "${3:-60}"
  ;;
stop)
  [ -n "${NODES:-}" ] || exit 0
  if [ -n "${3:-}" ]; then nodes=("$3"); else mapfile -t nodes < <(seq 1 "$NODES"); fi
  for i in "${nodes[@]}"; do stop_node "$i" TERM; done
  wait_gone 30 "${nodes[@]}"
  if [ -z "${3:-}" ] && [ -f "$dir/watch.pid" ]; then
    w=$(cat "$dir/watch.pid"); rm -f "$dir/watch.pid"
    if [ "$w" != "$$" ]; then kill "$w" 2>/dev/null || true; fi
  fi
  ;;
kill)
  [ -n "${3:-}" ] || die "kill needs a node number"
  stop_node "$3" KILL
  wait_gone 5 "$3"
  ;;
status)
  [ -n "${NODES:-}" ] || { echo "stopped (no cluster in $dir)"; exit 1; }
  all=0
  for i in $(seq 1 "$NODES"); do
    if running "$i"; then echo "node $i running pid $(pid_of "$i")"; else echo "node $i stopped"; all=1; fi
  done
  echo "bootstrap $(cat "$dir/bootstrap" 2>/dev/null)"
  exit $all
  ;;
bootstrap)
  [ -f "$dir/bootstrap" ] || die "no kafka started in $dir"
  cat "$dir/bootstrap"
  ;;
*) die "unknown command $cmd" ;;
esac

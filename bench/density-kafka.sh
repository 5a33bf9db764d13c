#!/usr/bin/env bash
# Partition density of Apache Kafka 4.4.0, measured as bench/density.sh measures Skiff (the same
# steps, from bench/density-lib.sh): three combined broker+controller KRaft nodes started with
# /work/shared/bench/kafka-peer.sh (RF=3, min.insync.replicas=2), one topic of N partitions, then
# per broker: time until every partition is led, threads, RSS, heap, idle CPU, Metadata latency;
# kill -9 of one node and the time until every partition it led has a new leader; its restart and
# the time until it is back in every partition's ISR.
#
#   bench/density-kafka.sh           N=1000, 4 GiB heap (the Skiff small tier's)
#   N=2000 bench/density-kafka.sh    N=2000
#
# One run:
#   1. starts `kafka-peer.sh start 3` with its data in a temp dir (PEER=that dir, the Kafka jars
#      linked from $PEER/libs, default /tmp/kafka-peer; `kafka-peer.sh setup` fetches them if
#      missing), on ports KAFKA_BASE+10*i (clients) and +1 (controller), heap KAFKA_PEER_HEAP
#      (default 4g: -Xms4g -Xmx4g, as deploy/jvm/small.options; no pre-touch, as density.sh runs
#      Skiff), and waits until Metadata lists all three brokers
#   2.-6. as density.sh: topic, one acks=all record per partition, idle footprint (heap from
#      `jcmd PID GC.heap_info`, leaders per broker from Metadata), threads by name, Metadata latency,
#      kill -9 of node $KILL (also a controller voter; the active controller is printed first) and
#      the time until Metadata from the survivors shows another leader for every partition it led.
#      Kafka moves them once the controller fences the broker: broker.session.timeout.ms (9 000 ms
#      by default, heartbeats every broker.heartbeat.interval.ms, 2 000 ms)
#   7. restarts node $KILL on its data (`kafka-peer.sh startone`): time until Metadata lists it
#      (registered and unfenced), until every partition is led, and until it is in every
#      partition's ISR; leaders per broker 10 s later (Kafka moves leadership back to preferred
#      replicas only every leader.imbalance.check.interval.seconds, 300 s)
#   8. `kafka-peer.sh stop` and deletes the temp dir unless KEEP=DIR (then the node logs, their
#      properties and the measurement files are copied there first)
#
# Environment (defaults): N (1000), KAFKA_PEER_HEAP (4g), KAFKA_BASE (27092), SETTLE (20), IDLE (60),
#   METADATA_REQUESTS (200), KILL (3; `controller` kills the active controller, so the quorum elects
#   a new one before it fences the node), LED_TIMEOUT (900 s), PEER (/tmp/kafka-peer), KEEP.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEER_SCRIPT=${PEER_SCRIPT:-/work/shared/bench/kafka-peer.sh}
KAFKA_PEER_HEAP=${KAFKA_PEER_HEAP:-4g}
KAFKA_BASE=${KAFKA_BASE:-27092}
DENSITY_LABEL=density-kafka
# shellcheck source=bench/density-lib.sh
. "$HERE/density-lib.sh"

require_clients
for i in 1 2 3; do require_free_ports $((KAFKA_BASE + 10 * i)) $((KAFKA_BASE + 10 * i + 1)); done

WORK=$(mktemp -d /tmp/density-kafka.XXXXXX)
NODES=$WORK/kafka
mkdir -p "$NODES"
ln -s "$PEER/libs" "$NODES/libs"
peer() { PEER=$NODES KAFKA_PEER_BASE_PORT=$KAFKA_BASE KAFKA_PEER_HEAP=$KAFKA_PEER_HEAP bash "$PEER_SCRIPT" "$@"; }
bootstrap() { # bootstrap [EXCEPT]
  local s="" i
  for i in 1 2 3; do [ "$i" = "${1:-}" ] || s+="${s:+,}127.0.0.1:$((KAFKA_BASE + 10 * i))"; done
  echo "$s"
}
broker_pid() { cat "$NODES/k$1.pid"; }
heap_used_bytes() {
  jcmd "$(broker_pid "$1")" GC.heap_info 2>/dev/null | sed -n 's/.* used \([0-9][0-9]*\)K.*/\1/p' | head -1 |
    awk '{print $1 * 1024}'
}
leads() { client per-broker "$(bootstrap)" "$TOPIC" | tr ' ' '\n' | awk -F: -v i="$1" '$1 == i {n = $2} END {print n + 0}'; }
active_controller() { # the KRaft quorum's leader, as kafka-metadata-quorum describes it
  java -cp "$PEER/libs/*" org.apache.kafka.tools.MetadataQuorumCommand --bootstrap-server "$(bootstrap "${1:-}")" \
    describe --status 2>/dev/null | awk '$1 == "LeaderId:" {print $2}'
}
check_pids() { # kafka-peer.sh records $! of `setsid java`: make sure that is the JVM
  local i
  for i in 1 2 3; do
    [ "$(cat "/proc/$(broker_pid "$i")/comm" 2>/dev/null)" = java ] ||
      { say "pid $(broker_pid "$i") of node $i is not its JVM; see $NODES/k$i.log"; exit 1; }
  done
}

cleanup() {
  set +e
  stop_load_sampler
  peer stop
  [ ! -s "$WORK/load.txt" ] || say "load average (1 min) during the run: $(load_range)"
  if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP"
    cp "$NODES"/k*.log "$NODES"/s*.properties "$WORK"/*.txt "$KEEP"/ 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
write_client
start_load_sampler

# ---- nodes ----------------------------------------------------------------------------------
say "starting 3 Kafka $(basename "$(ls "$PEER"/libs/kafka_2.13-*.jar)" .jar | sed 's/kafka_2.13-//') nodes (broker+controller), heap $KAFKA_PEER_HEAP, $(java -version 2>&1 | head -1), data in $NODES"
peer start 3 >&2 || { say "kafka-peer.sh start 3 failed; the nodes' logs end:"; tail -n 20 "$NODES"/k*.log >&2; exit 1; }
check_pids
UP=$(client await-brokers "$(bootstrap)" "$TOPIC" 120 1 2 3)
case $UP in timeout*) say "Metadata does not list all three brokers after 120 s: $UP"; exit 1 ;; esac
say "brokers ready: $(bootstrap)"
if [ "$KILL" = controller ]; then
  KILL=$(active_controller)
  [ -n "$KILL" ] || { say "KILL=controller, but kafka-metadata-quorum names no active controller"; exit 1; }
  say "KILL=controller: node $KILL, the active controller, is the one killed"
fi

# ---- topic, idle footprint, Metadata latency, kill -9 (density-lib.sh) ----------------------
create_topic_and_produce
measure_idle
thread_names
metadata_latency
kill_and_fail_over "active controller: node $(active_controller); broker.session.timeout.ms 9000 (default)"
say "active controller now: node $(active_controller "$KILL")"

# ---- restart --------------------------------------------------------------------------------
say "restarting node $KILL"
R0=$(date +%s.%N)
peer startone "$KILL"
READY=$(client await-brokers "$(bootstrap "$KILL")" "$TOPIC" "$LED_TIMEOUT" "$KILL")
READY_AT=$(seconds_since "$R0")
RELED=$(client await-led "$(bootstrap)" "$TOPIC" "$N" "$LED_TIMEOUT" -1)
IN_SYNC=$(client await-in-sync "$(bootstrap)" "$TOPIC" "$LED_TIMEOUT" "$KILL")
REJOINED=$(seconds_since "$R0")
case "$READY $RELED $IN_SYNC" in *timeout*) say "restart did not complete within $LED_TIMEOUT s per step: listed $READY, all led $RELED, in sync $IN_SYNC"; exit 1 ;; esac
sleep 10
say "node $KILL listed in Metadata $READY_AT s after its restart, Metadata all led after $RELED s more, in every ISR after $REJOINED s; leaders per broker (10 s later): $(client per-broker "$(bootstrap)" "$TOPIC")"

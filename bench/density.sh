#!/usr/bin/env bash
# Partition density of real Skiff brokers: three broker processes configured as `./skiff dev`
# configures them (RF=3, min.insync.replicas=2) on the tier $SKIFF_TIER, one topic of N partitions,
# then per broker: time until every partition is led, threads, RSS, heap, idle CPU, Metadata latency;
# kill -9 of one broker and the time until every partition it led has a new leader; its restart and
# the time until all are led again, with the elections that took.
#
#   bench/density.sh                 N=1000 on the small tier
#   N=2000 bench/density.sh          N=2000
#
# One run:
#   1. writes one properties file per broker under a temp dir (the keys `./skiff dev` writes; ports
#      $BASE, $BASE+100, $BASE+200 for Kafka, +1 Raft, +2 admin HTTP, so it runs next to a
#      `./skiff dev`) and starts each with `SKIFF_TIER=$SKIFF_TIER ./skiff broker --config FILE`
#      (the tier's deploy/jvm options, then $DENSITY_JAVA_OPTS, default -XX:-AlwaysPreTouch: the
#      tier pre-touches its whole fixed heap, which would make RSS the heap size, not what the
#      broker uses); the shipped logging (INFO, libraries at WARN)
#   2. creates topic "density" (N partitions, RF=3) with Kafka 4.4.0's kafka-topics (TopicCommand,
#      from /tmp/kafka-peer/libs; /work/shared/bench/kafka-peer.sh setup fetches it if missing) and
#      polls Metadata (confluent-kafka-python, /usr/bin/python3) every 0.5 s until every partition
#      has a leader: "all led after"
#   3. one acks=all record to every partition (confluent-kafka-python), failures counted
#   4. idles $SETTLE s, then measures each broker over $IDLE s: utime+stime from /proc/PID/stat
#      (idle CPU, % of one core), then Threads and VmRSS from /proc/PID/status, heap used from the
#      admin port's /metrics (jvm_memory_used_bytes{area="heap"}) before and after `jcmd PID GC.run`
#      and the broker's platform threads grouped by name (jcmd Thread.print, digits folded to #)
#   5. Metadata latency for the topic: $METADATA_REQUESTS requests, one at a time, p50/p99/max
#   6. kill -9 of broker $KILL: time until Metadata (from the survivors) shows a leader other than
#      $KILL for every partition it led; one acks=all record to every partition again
#   7. restarts broker $KILL on its data: time until its log says ready, until Metadata shows every
#      partition led, and until the restarted broker itself reports no partition without a leader
#      (skiff_partitions_offline 0); elections each broker ran (skiff_raft_elections) meanwhile
#   8. stops the brokers (SIGTERM, SIGKILL after 30 s) and deletes the temp dir unless KEEP=DIR
#      (then broker logs and the measurement files are copied there first)
# The machine's load average (1 min) is printed at every step and its range over the run at the
# end: on a shared machine it decides every wall-clock number. Steps 2-6 are bench/density-lib.sh,
# which bench/density-kafka.sh runs against Apache Kafka 4.4.0 the same way.
#
# Environment (defaults): N (1000), SKIFF_TIER (small), BASE (26092), SETTLE (20), IDLE (60),
#   METADATA_REQUESTS (200), KILL (3), LED_TIMEOUT (900 s), DENSITY_JAVA_OPTS (-XX:-AlwaysPreTouch),
#   SKIFF_HOME (this checkout), KEEP, BROKER_PROPS (extra broker settings, `key=value;key=value`,
#   e.g. "raft.election.timeout.min.ms=30000;raft.election.timeout.max.ms=60000"), PROFILE (the
#   path of a `jfr` tool: records each broker with JFR's profile settings through the idle window,
#   into idle-I.jfr, and writes `jfr view hot-methods` beside it; the idle CPU then includes JFR's).
#   Build first: ./mvnw -B -q -DskipTests package -pl broker -am
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SKIFF_HOME=${SKIFF_HOME:-$(cd "$HERE/.." && pwd)}
SKIFF_TIER=${SKIFF_TIER:-small}
BASE=${BASE:-26092}
DENSITY_JAVA_OPTS=${DENSITY_JAVA_OPTS:--XX:-AlwaysPreTouch}
DENSITY_LABEL=density
# shellcheck source=bench/density-lib.sh
. "$HERE/density-lib.sh"

[ -f "$SKIFF_HOME/broker/target/skiff-broker-0.1.0-SNAPSHOT.jar" ] || {
  echo "Skiff is not built: (cd $SKIFF_HOME && ./mvnw -B -q -DskipTests package -pl broker -am)"; exit 1; }
require_clients
for i in 1 2 3; do require_free_ports $((BASE + 100 * (i - 1))) $((BASE + 100 * (i - 1) + 1)) $((BASE + 100 * (i - 1) + 2)); done

WORK=$(mktemp -d /tmp/density.XXXXXX)
declare -A PIDS
kafka_port() { echo $((BASE + 100 * ($1 - 1))); }
admin_port() { echo $((BASE + 2 + 100 * ($1 - 1))); }
bootstrap() { # bootstrap [EXCEPT]
  local s="" i
  for i in 1 2 3; do [ "$i" = "${1:-}" ] || s+="${s:+,}127.0.0.1:$(kafka_port "$i")"; done
  echo "$s"
}
broker_pid() { echo "${PIDS[$1]}"; }
metric() { # metric I REGEX: the first sample of the admin port's /metrics matching REGEX
  curl -s "http://127.0.0.1:$(admin_port "$1")/metrics" | grep -E "^$2" | head -1 | awk '{print $2}'
}
heap_used_bytes() { metric "$1" 'jvm_memory_used_bytes\{area="heap"'; }
leads() { metric "$1" 'skiff_partitions_leader'; }
elections() { local s="" i; for i in 1 2 3; do s+=" $i:$(metric "$i" 'skiff_raft_elections' || echo -)"; done; echo "${s# }"; }

cleanup() {
  set +e
  local p alive
  stop_load_sampler
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for _ in $(seq 1 60); do
    alive=""; for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive+=" $p"; done
    [ -z "$alive" ] && break; sleep 0.5
  done
  for p in $alive; do say "broker pid $p still stopping 30 s after SIGTERM (a graceful stop hands every leadership over); SIGKILL"; kill -9 "$p"; done
  [ ! -s "$WORK/load.txt" ] || say "load average (1 min) during the run: $(load_range)"
  if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP"
    for i in 1 2 3; do cp "$WORK/broker-$i/broker.log" "$KEEP/broker-$i.log" 2>/dev/null; done
    cp "$WORK"/*.txt "$KEEP"/ 2>/dev/null
    cp "$WORK"/*.jfr "$KEEP"/ 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
write_client
start_load_sampler

# ---- brokers --------------------------------------------------------------------------------
write_config() { # write_config I
  local i=$1 dir="$WORK/broker-$1" voters="" j
  for j in 1 2 3; do voters+="${voters:+,}$j@127.0.0.1:$(( $(kafka_port "$j") + 1 ))"; done
  mkdir -p "$dir"
  cat > "$dir/server.properties" <<PROPS
node.id=$i
skiff.tier=$SKIFF_TIER
listener.host=127.0.0.1
listener.port=$(kafka_port "$i")
raft.port=$(( $(kafka_port "$i") + 1 ))
admin.port=$(admin_port "$i")
log.dirs=$dir/data
metadata.voters=$voters
auto.create.topics.enable=true
num.partitions=1
default.replication.factor=3
min.insync.replicas=2
offsets.topic.num.partitions=3
PROPS
  if [ -n "${BROKER_PROPS:-}" ]; then tr ';' '\n' <<< "$BROKER_PROPS" >> "$dir/server.properties"; fi
}
start_broker() { # start_broker I: in the background; setsid -> skiff -> exec java, so $! is the JVM
  local dir="$WORK/broker-$1"
  SKIFF_TIER=$SKIFF_TIER JAVA_OPTS="$DENSITY_JAVA_OPTS" \
    setsid "$SKIFF_HOME/skiff" broker --config "$dir/server.properties" >> "$dir/broker.log" 2>&1 < /dev/null &
  PIDS[$1]=$!
  disown "$!" # kill -9 below is the measurement, not news for the shell
}
await_ready() { # await_ready I COUNT: until the log shows COUNT "ready" lines
  local waited=0
  until [ "$(grep -c "Skiff broker $1 ready" "$WORK/broker-$1/broker.log" 2>/dev/null)" -ge "$2" ]; do
    kill -0 "${PIDS[$1]}" 2>/dev/null || { say "broker $1 exited:"; tail -30 "$WORK/broker-$1/broker.log" >&2; exit 1; }
    sleep 0.5; waited=$((waited + 1))
    [ $waited -lt 1200 ] || { say "broker $1 not ready after 600 s"; exit 1; }
  done
}
for i in 1 2 3; do write_config "$i"; start_broker "$i"; done
say "starting 3 brokers, tier $SKIFF_TIER, JAVA_OPTS $DENSITY_JAVA_OPTS, data in $WORK"
for i in 1 2 3; do await_ready "$i" 1; done
say "brokers ready: $(bootstrap)"

# ---- topic, idle footprint, Metadata latency, kill -9 (density-lib.sh) ----------------------
create_topic_and_produce
measure_idle
thread_names
metadata_latency
kill_and_fail_over "elections so far $(elections)"

# ---- restart --------------------------------------------------------------------------------
BEFORE_RESTART=$(elections)
say "restarting broker $KILL; elections so far $BEFORE_RESTART"
R0=$(date +%s.%N)
start_broker "$KILL"
await_ready "$KILL" 2
READY=$(seconds_since "$R0")
RELED=$(client await-led "$(bootstrap)" "$TOPIC" "$N" "$LED_TIMEOUT" -1)
until [ "$(metric "$KILL" 'skiff_partitions_offline')" = 0 ]; do
  sleep 0.5
  [ "$(seconds_since "$R0" | cut -d. -f1)" -lt "$LED_TIMEOUT" ] ||
    { say "broker $KILL still has partitions without a leader $LED_TIMEOUT s after its restart"; exit 1; }
done
REJOINED=$(seconds_since "$R0")
sleep 10
say "broker $KILL ready $READY s after its restart, Metadata all led after $RELED s more, its replicas all see a leader after $REJOINED s; elections $BEFORE_RESTART -> $(elections) (10 s later); leaders per broker: $(client per-broker "$(bootstrap)" "$TOPIC")"

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
#   5. Metadata latency for the topic: $METADATA_REQUESTS requests, one at a time, p50/p99/max
#   6. kill -9 of broker $KILL: time until Metadata (from the survivors) shows a leader other than
#      $KILL for every partition it led; one acks=all record to every partition again
#   7. restarts broker $KILL on its data: time until its log says ready, until Metadata shows every
#      partition led, and until the restarted broker itself reports no partition without a leader
#      (skiff_partitions_offline 0); elections each broker ran (skiff_raft_elections) meanwhile
#   8. stops the brokers (SIGTERM, SIGKILL after 30 s) and deletes the temp dir unless KEEP=DIR
#      (then broker logs and the measurement files are copied there first)
# The machine's load average (1 min) is printed at every step: on a shared machine it decides
# every wall-clock number.
#
# Environment (defaults): N (1000), SKIFF_TIER (small), BASE (26092), SETTLE (20), IDLE (60),
#   METADATA_REQUESTS (200), KILL (3), LED_TIMEOUT (900 s), DENSITY_JAVA_OPTS (-XX:-AlwaysPreTouch),
#   SKIFF_HOME (this checkout), KEEP. Build first: ./mvnw -B -q -DskipTests package -pl broker -am
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SKIFF_HOME=${SKIFF_HOME:-$(cd "$HERE/.." && pwd)}
N=${N:-1000}
SKIFF_TIER=${SKIFF_TIER:-small}
BASE=${BASE:-26092}
SETTLE=${SETTLE:-20}
IDLE=${IDLE:-60}
METADATA_REQUESTS=${METADATA_REQUESTS:-200}
KILL=${KILL:-3}
LED_TIMEOUT=${LED_TIMEOUT:-900}
DENSITY_JAVA_OPTS=${DENSITY_JAVA_OPTS:--XX:-AlwaysPreTouch}
PEER=${PEER:-/tmp/kafka-peer}
PY=/usr/bin/python3
TOPIC=density
TICKS=$(getconf CLK_TCK)

[ -f "$SKIFF_HOME/broker/target/skiff-broker-0.1.0-SNAPSHOT.jar" ] || {
  echo "Skiff is not built: (cd $SKIFF_HOME && ./mvnw -B -q -DskipTests package -pl broker -am)"; exit 1; }
[ -d "$PEER/libs" ] || bash /work/shared/bench/kafka-peer.sh setup
"$PY" -c 'import confluent_kafka' || { echo "needs confluent-kafka for $PY"; exit 1; }

for i in 1 2 3; do
  for offset in 0 1 2; do
    port=$((BASE + 100 * (i - 1) + offset))
    if ss -ltnH "sport = :$port" | grep -q .; then echo "port $port is in use; pick another BASE"; exit 1; fi
  done
done

WORK=$(mktemp -d /tmp/density.XXXXXX)
declare -A PIDS
say() { echo "[density $(date +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)] $*" >&2; }
kafka_port() { echo $((BASE + 100 * ($1 - 1))); }
admin_port() { echo $((BASE + 2 + 100 * ($1 - 1))); }
bootstrap() { # bootstrap [EXCEPT]
  local s="" i
  for i in 1 2 3; do [ "$i" = "${1:-}" ] || s+="${s:+,}127.0.0.1:$(kafka_port "$i")"; done
  echo "$s"
}

cleanup() {
  set +e
  local p alive
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for _ in $(seq 1 60); do
    alive=""; for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive+=" $p"; done
    [ -z "$alive" ] && break; sleep 0.5
  done
  for p in $alive; do say "broker pid $p still stopping 30 s after SIGTERM (a graceful stop hands every leadership over); SIGKILL"; kill -9 "$p"; done
  if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP"
    for i in 1 2 3; do cp "$WORK/broker-$i/broker.log" "$KEEP/broker-$i.log" 2>/dev/null; done
    cp "$WORK"/*.txt "$KEEP"/ 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- Metadata and produce through confluent-kafka-python (librdkafka) -------------------------
cat > "$WORK/client.py" <<'PY'
import sys, time, json
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

def leaders(admin, topic):
    md = admin.list_topics(topic, timeout=30)
    t = md.topics.get(topic)
    return {} if t is None or t.error is not None else {p: m.leader for p, m in t.partitions.items()}

cmd, bootstrap, topic = sys.argv[1], sys.argv[2], sys.argv[3]
admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 3})
if cmd == "await-led":  # await-led N TIMEOUT_S EXCLUDED [PARTITIONS_FILE]: seconds until all led
    n, timeout, excluded = int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
    wanted = set(range(n)) if len(sys.argv) < 8 else set(json.load(open(sys.argv[7])))
    start = time.time()
    while True:
        try:
            ls = leaders(admin, topic)
            missing = [p for p in wanted if ls.get(p, -1) in (-1, excluded)]
        except Exception as e:
            missing = wanted
        if not missing:
            print("%.1f" % (time.time() - start)); break
        if time.time() - start > timeout:
            print("timeout(%d-missing)" % len(missing)); break
        time.sleep(0.5)
elif cmd == "led-by":  # led-by ID: JSON list of the partitions broker ID leads
    me = int(sys.argv[4])
    print(json.dumps(sorted(p for p, l in leaders(admin, topic).items() if l == me)))
elif cmd == "per-broker":  # leaders per broker
    counts = {}
    for l in leaders(admin, topic).values():
        counts[l] = counts.get(l, 0) + 1
    print(" ".join("%s:%d" % (k, v) for k, v in sorted(counts.items())))
elif cmd == "latency":  # latency COUNT: Metadata for the topic, one request at a time
    samples = []
    leaders(admin, topic)
    for _ in range(int(sys.argv[4])):
        t0 = time.perf_counter(); leaders(admin, topic); samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    pick = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
    print("p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (pick(0.5), pick(0.99), samples[-1]))
elif cmd == "produce":  # produce N: one acks=all record per partition
    n, failed = int(sys.argv[4]), []
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                  "message.timeout.ms": 180000, "log_level": 3})
    cb = lambda err, msg: failed.append(err) if err is not None else None
    start = time.time()
    for i in range(n):
        p.produce(topic, b"v%d" % i, partition=i, on_delivery=cb)
        p.poll(0)
    left = p.flush(200)
    print("%d of %d acked in %.1f s%s" % (n - len(failed) - left, n, time.time() - start,
          (", first error: %s" % failed[0]) if failed else ""))
PY
client() { "$PY" "$WORK/client.py" "$@"; }

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
metric() { # metric I REGEX: the first sample of the admin port's /metrics matching REGEX
  curl -s "http://127.0.0.1:$(admin_port "$1")/metrics" | grep -E "^$2" | head -1 | awk '{print $2}'
}
status() { awk -v k="$2:" '$1 == k {print $2}' "/proc/${PIDS[$1]}/status"; }
cpu_ticks() { sed 's/.*) //' "/proc/${PIDS[$1]}/stat" | awk '{print $12 + $13}'; }
elections() { local s="" i; for i in 1 2 3; do s+=" $i:$(metric "$i" 'skiff_raft_elections' || echo -)"; done; echo "${s# }"; }

for i in 1 2 3; do write_config "$i"; start_broker "$i"; done
say "starting 3 brokers, tier $SKIFF_TIER, JAVA_OPTS $DENSITY_JAVA_OPTS, data in $WORK"
for i in 1 2 3; do await_ready "$i" 1; done
say "brokers ready: $(bootstrap)"

# ---- topic ----------------------------------------------------------------------------------
T0=$(date +%s.%N)
java -cp "$PEER/libs/*" org.apache.kafka.tools.TopicCommand --bootstrap-server "$(bootstrap)" \
  --create --topic "$TOPIC" --partitions "$N" --replication-factor 3 > "$WORK/topic.txt" 2>&1 ||
  { cat "$WORK/topic.txt" >&2; exit 1; }
CREATED=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
say "CreateTopics for $N partitions answered after $CREATED s"
LED=$(client await-led "$(bootstrap)" "$TOPIC" "$N" "$LED_TIMEOUT" -1)
LED_TOTAL=$(awk -v a="$T0" -v c="$CREATED" -v l="$LED" 'BEGIN{printf "%.1f", c + l}')
say "all $N partitions led $LED_TOTAL s after the topic was requested; leaders per broker: $(client per-broker "$(bootstrap)" "$TOPIC")"
say "produce: $(client produce "$(bootstrap)" "$TOPIC" "$N")"

# ---- idle footprint -------------------------------------------------------------------------
say "idle $SETTLE s, then measuring CPU over $IDLE s"
sleep "$SETTLE"
declare -A C0
for i in 1 2 3; do C0[$i]=$(cpu_ticks "$i"); done
S0=$(date +%s.%N); sleep "$IDLE"; S1=$(date +%s.%N)
{
  printf '| broker | leads | threads | RSS MiB | heap used MiB | heap after GC MiB | idle CPU %% of a core |\n|---|---|---|---|---|---|---|\n'
  for i in 1 2 3; do
    cpu=$(awk -v c=$(( $(cpu_ticks "$i") - C0[$i] )) -v t="$TICKS" -v a="$S0" -v b="$S1" 'BEGIN{printf "%.1f", 100 * c / t / (b - a)}')
    heap=$(metric "$i" 'jvm_memory_used_bytes\{area="heap"')
    jcmd "${PIDS[$i]}" GC.run > /dev/null 2>&1 || true
    sleep 1
    after=$(metric "$i" 'jvm_memory_used_bytes\{area="heap"')
    printf '| %d | %s | %s | %s | %s | %s | %s |\n' "$i" "$(metric "$i" 'skiff_partitions_leader')" \
      "$(status "$i" Threads)" "$(( $(status "$i" VmRSS) / 1024 ))" \
      "$(awk -v b="${heap:-0}" 'BEGIN{printf "%.0f", b / 1048576}')" \
      "$(awk -v b="${after:-0}" 'BEGIN{printf "%.0f", b / 1048576}')" "$cpu"
  done
} | tee "$WORK/idle.txt" >&2
say "Metadata for $TOPIC ($N partitions): $(client latency "$(bootstrap)" "$TOPIC" "$METADATA_REQUESTS")"

# ---- kill -9 and restart --------------------------------------------------------------------
client led-by "$(bootstrap)" "$TOPIC" "$KILL" > "$WORK/led-by-killed.txt"
LED_BY_KILLED=$("$PY" -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$WORK/led-by-killed.txt")
BEFORE_KILL=$(elections)
say "kill -9 broker $KILL (leads $LED_BY_KILLED); elections so far $BEFORE_KILL"
kill -9 "${PIDS[$KILL]}"
FAILOVER=$(client await-led "$(bootstrap "$KILL")" "$TOPIC" "$N" "$LED_TIMEOUT" "$KILL" "$WORK/led-by-killed.txt")
say "every partition broker $KILL led has a new leader after $FAILOVER s; leaders per broker: $(client per-broker "$(bootstrap "$KILL")" "$TOPIC")"
say "produce: $(client produce "$(bootstrap "$KILL")" "$TOPIC" "$N")"
BEFORE_RESTART=$(elections)
say "restarting broker $KILL; elections so far $BEFORE_RESTART"
R0=$(date +%s.%N)
start_broker "$KILL"
await_ready "$KILL" 2
READY=$(awk -v a="$R0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
RELED=$(client await-led "$(bootstrap)" "$TOPIC" "$N" "$LED_TIMEOUT" -1)
until [ "$(metric "$KILL" 'skiff_partitions_offline')" = 0 ]; do sleep 0.5; done
REJOINED=$(awk -v a="$R0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
sleep 10
say "broker $KILL ready $READY s after its restart, Metadata all led after $RELED s more, its replicas all see a leader after $REJOINED s; elections $BEFORE_RESTART -> $(elections) (10 s later); leaders per broker: $(client per-broker "$(bootstrap)" "$TOPIC")"

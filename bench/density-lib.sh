# Measuring steps of the partition-density runs, shared by bench/density.sh (Skiff) and
# bench/density-kafka.sh (Apache Kafka 4.4.0), so both systems are measured by the same code.
# Sourced, not run. The sourcing script sets DENSITY_LABEL and WORK (a temp dir it owns and deletes)
# and defines three functions for its brokers 1..3:
#   broker_pid I          the pid of broker I's JVM
#   bootstrap [EXCEPT]    the bootstrap servers of all brokers, or of all but broker EXCEPT
#   heap_used_bytes I     the bytes of heap broker I uses now
#   leads I               the partitions of the topic broker I leads
# Clients: Metadata and produce through confluent-kafka-python (librdkafka) with /usr/bin/python3,
# the topic created with Kafka 4.4.0's kafka-topics (TopicCommand) from $PEER/libs.

N=${N:-1000}
SETTLE=${SETTLE:-20}
IDLE=${IDLE:-60}
METADATA_REQUESTS=${METADATA_REQUESTS:-200}
KILL=${KILL:-3}
LED_TIMEOUT=${LED_TIMEOUT:-900}
PEER=${PEER:-/tmp/kafka-peer}
PY=/usr/bin/python3
TOPIC=density
TICKS=$(getconf CLK_TCK)

say() { echo "[$DENSITY_LABEL $(date +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)] $*" >&2; }
seconds_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}'; }

require_clients() { # Kafka's tools and confluent-kafka, or exit saying how to get them
  [ -d "$PEER/libs" ] || bash /work/shared/bench/kafka-peer.sh setup
  "$PY" -c 'import confluent_kafka' || { echo "needs confluent-kafka for $PY"; exit 1; }
}

require_free_ports() { # require_free_ports PORT...: exit if any is listened on
  local port
  for port in "$@"; do
    if ss -ltnH "sport = :$port" | grep -q .; then echo "port $port is in use; pick another BASE"; exit 1; fi
  done
}

# The load average (1 min) every 5 s while the run lasts: `load_range` reports it at the end.
start_load_sampler() {
  (while cut -d' ' -f1 /proc/loadavg >> "$WORK/load.txt"; do sleep 5; done) &
  LOAD_SAMPLER=$!
  disown "$LOAD_SAMPLER"
}
stop_load_sampler() { [ -z "${LOAD_SAMPLER:-}" ] || kill "$LOAD_SAMPLER" 2>/dev/null || true; }
load_range() {
  sort -g "$WORK/load.txt" | awk 'NR == 1 {lo = $1} {hi = $1; s += $1} END {printf "%s-%s (mean %.1f, %d samples)", lo, hi, s / NR, NR}'
}

# ---- Metadata and produce through confluent-kafka-python (librdkafka) -------------------------
write_client() {
  cat > "$WORK/client.py" <<'PY'
import sys, time, json
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

def partitions(admin, topic):
    md = admin.list_topics(topic, timeout=30)
    t = md.topics.get(topic)
    return {} if t is None or t.error is not None else t.partitions

def leaders(admin, topic):
    return {p: m.leader for p, m in partitions(admin, topic).items()}

def wait_until(timeout, missing_now):  # seconds until missing_now() is empty, or timeout(K-missing)
    start = time.time()
    while True:
        try:
            missing = missing_now()
        except Exception:
            missing = None
        if missing is not None and not missing:
            return "%.1f" % (time.time() - start)
        if time.time() - start > timeout:
            return "timeout(%s-missing)" % ("all" if missing is None else len(missing))
        time.sleep(0.5)

cmd, bootstrap, topic = sys.argv[1], sys.argv[2], sys.argv[3]
admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 3})
if cmd == "await-led":  # await-led N TIMEOUT_S EXCLUDED [PARTITIONS_FILE]: seconds until all led
    n, timeout, excluded = int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
    wanted = set(range(n)) if len(sys.argv) < 8 else set(json.load(open(sys.argv[7])))
    def unled():
        ls = leaders(admin, topic)
        return [p for p in wanted if ls.get(p, -1) in (-1, excluded)]
    print(wait_until(timeout, unled))
elif cmd == "await-brokers":  # await-brokers TIMEOUT_S ID...: seconds until Metadata lists them all
    timeout, ids = float(sys.argv[4]), {int(a) for a in sys.argv[5:]}
    print(wait_until(timeout, lambda: ids - set(admin.list_topics(timeout=30).brokers)))
elif cmd == "await-in-sync":  # await-in-sync TIMEOUT_S ID: seconds until ID is in every ISR
    timeout, me = float(sys.argv[4]), int(sys.argv[5])
    def out_of_sync():
        ps = partitions(admin, topic)
        return [p for p, m in ps.items() if me not in m.isrs] if ps else None
    print(wait_until(timeout, out_of_sync))
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
}
client() { "$PY" "$WORK/client.py" "$@"; }

# ---- the measuring steps, in the order the scripts run them -----------------------------------

# Creates the topic (N partitions, RF=3), waits until Metadata shows every partition led and
# writes one acks=all record to each.
create_topic_and_produce() {
  local t0 created led
  t0=$(date +%s.%N)
  java -cp "$PEER/libs/*" org.apache.kafka.tools.TopicCommand --bootstrap-server "$(bootstrap)" \
    --create --topic "$TOPIC" --partitions "$N" --replication-factor 3 > "$WORK/topic.txt" 2>&1 ||
    { say "creating the topic failed:"; cat "$WORK/topic.txt" >&2; exit 1; }
  created=$(seconds_since "$t0")
  say "CreateTopics for $N partitions answered after $created s"
  led=$(client await-led "$(bootstrap)" "$TOPIC" "$N" "$LED_TIMEOUT" -1)
  case $led in
    timeout*) say "not every partition led within $LED_TIMEOUT s after CreateTopics: $led" ;;
    *) say "all $N partitions led $(awk -v c="$created" -v l="$led" 'BEGIN{printf "%.1f", c + l}') s after the topic was requested" ;;
  esac
  say "leaders per broker: $(client per-broker "$(bootstrap)" "$TOPIC")"
  say "produce: $(client produce "$(bootstrap)" "$TOPIC" "$N")"
}

cpu_ticks() { sed 's/.*) //' "/proc/$(broker_pid "$1")/stat" | awk '{print $12 + $13}'; }
proc_status() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$(broker_pid "$1")/status"; }
mib() { awk -v b="${1:-0}" 'BEGIN{printf "%.0f", b / 1048576}'; }
thread_ticks() { # thread_ticks I: "tid ticks name" per thread of broker I (utime+stime; the kernel's
  # 15-character thread name, digits folded to #)
  local t
  for t in /proc/"$(broker_pid "$1")"/task/*; do
    echo "${t##*/} $(sed 's/.*) //' "$t/stat" 2>/dev/null | awk '{print $12 + $13}') $(sed 's/[0-9][0-9]*/#/g' "$t/comm" 2>/dev/null)"
  done
}
thread_cpu() { # thread_cpu BEFORE AFTER SECONDS: % of a core per thread name between two thread_ticks
  awk -v t="$TICKS" -v s="$3" '
    NR == FNR {before[$1] = $2; next}
    NF < 3 {next}
    {tid = $1; n = $2; $1 = ""; $2 = ""; name = substr($0, 3); used[name] += n - before[tid]; count[name]++}
    END {for (k in used) printf "%.1f %s (%d)\n", 100 * used[k] / t / s, k, count[k]}' "$1" "$2" | sort -rn
}

# Per broker after SETTLE s: idle CPU over IDLE s, then threads, RSS, heap before and after a
# full GC. The table goes to stderr and $WORK/idle.txt; the idle CPU per thread name (threads that
# ended inside the window are missed) to $WORK/idle-cpu-by-thread-I.txt, its top to stderr.
measure_idle() {
  local i s0 s1
  local -A c0
  say "idle $SETTLE s, then measuring CPU over $IDLE s"
  sleep "$SETTLE"
  if [ -n "${PROFILE:-}" ]; then # JFR's own sampling costs CPU: idle figures of a profiled run run high
    for i in 1 2 3; do
      jcmd "$(broker_pid "$i")" JFR.start name=idle settings=profile duration="${IDLE}s" \
        filename="$WORK/idle-$i.jfr" > /dev/null 2>&1 || say "broker $i: JFR did not start"
    done
  fi
  for i in 1 2 3; do c0[$i]=$(cpu_ticks "$i"); thread_ticks "$i" > "$WORK/ticks-$i.before"; done
  s0=$(date +%s.%N); sleep "$IDLE"; s1=$(date +%s.%N)
  for i in 1 2 3; do thread_ticks "$i" > "$WORK/ticks-$i.after"; done
  {
    printf '| broker | leads | threads | RSS MiB | heap used MiB | heap after GC MiB | idle CPU %% of a core |\n|---|---|---|---|---|---|---|\n'
    for i in 1 2 3; do
      local cpu heap
      cpu=$(awk -v c=$(( $(cpu_ticks "$i") - c0[$i] )) -v t="$TICKS" -v a="$s0" -v b="$s1" 'BEGIN{printf "%.1f", 100 * c / t / (b - a)}')
      heap=$(heap_used_bytes "$i")
      jcmd "$(broker_pid "$i")" GC.run > /dev/null 2>&1 || true
      sleep 1
      printf '| %d | %s | %s | %s | %s | %s | %s |\n' "$i" "$(leads "$i")" "$(proc_status "$i" Threads)" \
        "$(( $(proc_status "$i" VmRSS) / 1024 ))" "$(mib "$heap")" "$(mib "$(heap_used_bytes "$i")")" "$cpu"
    done
  } | tee "$WORK/idle.txt" >&2
  for i in 1 2 3; do
    thread_cpu "$WORK/ticks-$i.before" "$WORK/ticks-$i.after" "$(awk -v a="$s0" -v b="$s1" 'BEGIN{print b - a}')" \
      > "$WORK/idle-cpu-by-thread-$i.txt"
    say "broker $i idle CPU by thread name, % of a core (threads): $(head -6 "$WORK/idle-cpu-by-thread-$i.txt" | paste -sd, | sed 's/,/, /g')"
  done
  if [ -n "${PROFILE:-}" ]; then
    sleep 3 # the recordings end with the idle window and are written out
    for i in 1 2 3; do
      [ -s "$WORK/idle-$i.jfr" ] || continue
      "$PROFILE" view --width 160 hot-methods "$WORK/idle-$i.jfr" > "$WORK/idle-hot-methods-$i.txt" 2>&1 || true
      say "broker $i idle profile: $WORK/idle-$i.jfr (hot methods in idle-hot-methods-$i.txt)"
    done
  fi
}

# Platform threads per broker by name, digits folded to '#' (jcmd Thread.print), into
# $WORK/threads-I.txt; the largest groups go to stderr.
thread_names() {
  local i
  for i in 1 2 3; do
    jcmd "$(broker_pid "$i")" Thread.print 2>/dev/null | sed -n 's/^"\([^"]*\)".*/\1/p' | sed 's/[0-9][0-9]*/#/g' |
      sort | uniq -c | sort -rn > "$WORK/threads-$i.txt"
    say "broker $i threads by name: $(head -8 "$WORK/threads-$i.txt" | awk '{c = $1; $1 = ""; printf "%s%s %d", (NR > 1 ? ", " : ""), substr($0, 2), c}')"
  done
}

metadata_latency() {
  say "Metadata for $TOPIC ($N partitions): $(client latency "$(bootstrap)" "$TOPIC" "$METADATA_REQUESTS")"
}

# kill -9 of broker KILL; the time until Metadata from the survivors shows another leader for every
# partition it led; one acks=all record to every partition again. $WORK/led-by-killed.txt keeps
# the partitions it led.
kill_and_fail_over() {
  local led_by failover
  client led-by "$(bootstrap)" "$TOPIC" "$KILL" > "$WORK/led-by-killed.txt"
  led_by=$("$PY" -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$WORK/led-by-killed.txt")
  say "kill -9 broker $KILL (leads $led_by)${1:+; $1}"
  kill -9 "$(broker_pid "$KILL")"
  failover=$(client await-led "$(bootstrap "$KILL")" "$TOPIC" "$N" "$LED_TIMEOUT" "$KILL" "$WORK/led-by-killed.txt")
  case $failover in
    timeout*) say "the partitions broker $KILL led not all led elsewhere within $LED_TIMEOUT s: $failover" ;;
    *) say "every partition broker $KILL led has a new leader after $failover s" ;;
  esac
  say "leaders per broker: $(client per-broker "$(bootstrap "$KILL")" "$TOPIC")"
  say "produce: $(client produce "$(bootstrap "$KILL")" "$TOPIC" "$N")"
}

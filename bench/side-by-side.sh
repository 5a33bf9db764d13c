#!/usr/bin/env bash
# Side-by-side throughput of Skiff and Apache Kafka on loopback, driven by Kafka's own perf tools.
#
#   bench/side-by-side.sh SYSTEM RF      SYSTEM = skiff | kafka, RF = 1 | 3
#   bench/side-by-side.sh all            skiff 1, kafka 1, skiff 3, kafka 3, one after the other
#
# One run:
#   1. starts a cluster of RF brokers on 127.0.0.1
#      - kafka: $KAFKA_PEER start RF (Apache Kafka 4.4.0, KRaft, combined broker+controller nodes,
#        heap $HEAP via KAFKA_PEER_HEAP; data and logs under /tmp/kafka-peer); `setup` is run first
#        if /tmp/kafka-peer/libs is missing
#      - skiff: writes one properties file per broker under a temp dir and runs
#        `./skiff broker --config FILE` for each in the background with
#        SKIFF_TIER=dev (deploy/jvm/dev.options) and
#        JAVA_OPTS="-Xms$HEAP -Xmx$HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:MaxDirectMemorySize=2g",
#        then waits for "Skiff broker N ready" in each log. Ports: 29092/29192/29292 (Kafka API),
#        +1 Raft, +2 admin HTTP. Logging: the broker jar carries no logback.xml, so as shipped
#        logback logs everything (Ratis included) at DEBUG to stdout; with SKIFF_LOG=warn (default)
#        the script passes -Dlogback.configurationFile with root level WARN, the level the Kafka
#        peer runs at; SKIFF_LOG=shipped runs Skiff as shipped (row labelled accordingly).
#      min.insync.replicas is 1 for RF=1 and 2 for RF=3 on both systems.
#   2. creates topic "sbs" with $PARTITIONS partitions and replication factor RF (kafka-topics,
#      i.e. org.apache.kafka.tools.TopicCommand, CreateTopics)
#   3. org.apache.kafka.tools.ProducerPerformance --num-records $RECORDS --record-size $RECORD_SIZE
#      --throughput -1 with $PRODUCER_PROPS (acks=all linger.ms=5 batch.size=131072
#      compression.type=none; the client's default idempotence is on for both systems. The first
#      rounds in docs/benchmarks.md ran with enable.idempotence=false, before Skiff had it)
#   4. org.apache.kafka.tools.ConsumerPerformance --num-records $RECORDS (a consumer group:
#      FindCoordinator/JoinGroup/SyncGroup/OffsetCommit are needed), then a group-less consumer
#      (assign() + seekToBeginning, the Java source below; only Metadata/ListOffsets/Fetch) that reads
#      the same $RECORDS records, so both systems get a consumer number even without group support
#   5. samples VmRSS of every broker process (sum over the RF broker JVMs) every 0.5 s from the
#      moment the brokers are up until the end of step 4; reports the value after start and the peak
#   6. records every broker JVM with JFR (jcmd JFR.start, default settings plus per-second
#      jdk.ThreadAllocationStatistics) from just before step 3 to the end of step 4, and summarises
#      the recordings with io.skiff.bench.memory.JfrMemoryReport (bench/target/skiff-benchmarks.jar):
#      heap bytes the brokers allocated, per MB produced, and GC pauses (p99, max) — the same
#      measurement for both systems. In that window each produced MB is written on RF replicas and
#      read twice by consumers.
#   7. stops the brokers (trap on EXIT/INT/TERM) and deletes all data and the temp dir
#
# It prints one table row per run (MB = 2^20 bytes, as the Kafka tools print it):
#   system | RF | producer MB/s | records/s | avg ms | p99 ms | broker CPU while producing | consumer MB/s (ConsumerPerformance)
#   | consumer MB/s (assign) | broker heap alloc MB per MB produced | GC pause p99 / max ms
#   | RSS after start MB | peak RSS MB | load1 before / after | errors
# "errors" counts lines with Exception/ERROR/WARN in the producer output, and ERROR and WARN lines in
# the broker logs.
# Rows are appended to $RESULTS if set. If KEEP=DIR is set, tool outputs and broker logs of each run
# are copied to DIR/<system>-rf<RF>/ before cleanup (otherwise nothing is left behind; on a failure
# the script prints the first error lines of the tool output and the broker logs).
#
# Environment (defaults): RECORDS (4000000), RECORD_SIZE (1024), PARTITIONS (3), HEAP (1g),
#   PRODUCER_PROPS (above), SKIFF_LOG (warn), KAFKA_PEER (/work/shared/bench/kafka-peer.sh), SKIFF_HOME (this
#   checkout), RESULTS, KEEP. Build Skiff first: ./mvnw -B -q -DskipTests package -pl broker,bench -am
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SKIFF_HOME=${SKIFF_HOME:-$(cd "$HERE/.." && pwd)}
KAFKA_PEER=${KAFKA_PEER:-/work/shared/bench/kafka-peer.sh}
PEER=${PEER:-/tmp/kafka-peer}
RECORDS=${RECORDS:-4000000}
RECORD_SIZE=${RECORD_SIZE:-1024}
PARTITIONS=${PARTITIONS:-3}
HEAP=${HEAP:-${KAFKA_PEER_HEAP:-1g}}
PRODUCER_PROPS=${PRODUCER_PROPS:-"acks=all linger.ms=5 batch.size=131072 compression.type=none"}
SKIFF_LOG=${SKIFF_LOG:-warn}
TOPIC=sbs
SKIFF_BASE=29092

header() {
  printf '| system | RF | producer MB/s | records/s | avg ms | p99 ms | broker CPU while producing | consumer MB/s (ConsumerPerformance) | consumer MB/s (assign) | broker heap alloc MB per MB produced | GC pause p99 / max ms | RSS after start MB | peak RSS MB | load1 before / after | errors |\n'
  printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
}

if [ "${1:-}" = all ]; then
  header
  for run in "skiff 1" "kafka 1" "skiff 3" "kafka 3"; do
    # shellcheck disable=SC2086
    NO_HEADER=1 "$0" $run || echo "| ${run% *} | ${run#* } | run failed (exit $?) |"
  done
  exit 0
fi

SYSTEM=${1:-}; RF=${2:-}
case "$SYSTEM:$RF" in skiff:1|skiff:3|kafka:1|kafka:3) ;; *) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;; esac
case "$SKIFF_LOG" in warn|shipped) ;; *) echo "SKIFF_LOG must be warn or shipped"; exit 2 ;; esac
LABEL=$SYSTEM; [ "$SYSTEM:$SKIFF_LOG" = skiff:shipped ] && LABEL="skiff (shipped DEBUG logging)"

[ -d "$PEER/libs" ] || KAFKA_PEER_HEAP=$HEAP bash "$KAFKA_PEER" setup
CP="$PEER/libs/*"
WORK=$(mktemp -d /tmp/sbs.XXXXXX)
BROKER_PIDS=()
SAMPLER=""

say() { echo "[sbs $(date +%H:%M:%S)] $*" >&2; }

broker_logs() {
  if [ "$SYSTEM" = kafka ]; then ls "$PEER"/k*.log 2>/dev/null || true; else ls "$WORK"/broker-*/broker.log 2>/dev/null || true; fi
}

cleanup() {
  set +e
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null && wait "$SAMPLER" 2>/dev/null
  if [ -n "${KEEP:-}" ]; then
    local dst="$KEEP/$SYSTEM-rf$RF"; [ "$LABEL" = "$SYSTEM" ] || dst+="-shipped-logging"; mkdir -p "$dst"
    cp "$WORK"/*.out "$WORK"/*.txt "$dst"/ 2>/dev/null
    for f in $(broker_logs); do cp "$f" "$dst/$(basename "$(dirname "$f")")-$(basename "$f")"; done
  fi
  if [ "$SYSTEM" = kafka ]; then
    bash "$KAFKA_PEER" stop >/dev/null 2>&1
    rm -rf "$PEER"/data* "$PEER"/k*.log "$PEER"/s*.properties
  else
    for p in "${BROKER_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for _ in $(seq 1 60); do
      alive=""; for p in "${BROKER_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive+=" $p"; done
      [ -z "$alive" ] && break; sleep 0.5
    done
    for p in $alive; do say "broker pid $p ignored SIGTERM for 30 s; SIGKILL"; kill -9 "$p" 2>/dev/null; done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Client-side logging: WARN and above to stderr, so client errors end up in the tool output.
printf 'rootLogger.level=WARN\nrootLogger.appenderRef.err.ref=ERR\nappender.err.type=Console\nappender.err.name=ERR\nappender.err.target=SYSTEM_ERR\nappender.err.layout.type=PatternLayout\nappender.err.layout.pattern=[%%d] %%p %%m (%%c)%%n\n' > "$WORK/client-log4j2.properties"
tool() { java -Xmx1g -Dlog4j2.configurationFile="file:$WORK/client-log4j2.properties" -cp "$CP" "$@"; }

# ---- start the cluster ----------------------------------------------------------------------
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
if [ "$SYSTEM" = kafka ]; then
  say "starting Apache Kafka, $RF node(s), heap $HEAP"
  KAFKA_PEER_HEAP=$HEAP bash "$KAFKA_PEER" start "$RF" >&2
  BOOTSTRAP=$(bash "$KAFKA_PEER" bootstrap "$RF")
  for i in $(seq 1 "$RF"); do BROKER_PIDS+=("$(cat "$PEER/k$i.pid")"); done
else
  [ -f "$SKIFF_HOME/broker/target/skiff-broker-0.1.0-SNAPSHOT.jar" ] || {
    echo "Skiff is not built: (cd $SKIFF_HOME && ./mvnw -B -q -DskipTests package -pl broker -am)"; exit 1; }
  say "starting Skiff, $RF broker(s), heap $HEAP"
  voters=""; BOOTSTRAP=""
  for i in $(seq 1 "$RF"); do
    voters+="${voters:+,}$i@127.0.0.1:$((SKIFF_BASE + 1 + 100 * (i - 1)))"
    BOOTSTRAP+="${BOOTSTRAP:+,}127.0.0.1:$((SKIFF_BASE + 100 * (i - 1)))"
  done
  minisr=$(( RF > 1 ? 2 : 1 ))
  SKIFF_LOG_OPT=""
  if [ "$SKIFF_LOG" = warn ]; then
    # The broker jar has no logback.xml, so logback's default (everything at DEBUG to the console)
    # applies; Kafka runs at WARN here. Same level for both unless SKIFF_LOG=shipped. As in the
    # shipped logback.xml, Ratis' client retry chatter (OrderedAsync) is off.
    printf '<configuration>\n  <appender name="ERR" class="ch.qos.logback.core.ConsoleAppender">\n    <target>System.err</target>\n    <encoder><pattern>%%d{HH:mm:ss.SSS} [%%thread] %%-5level %%logger -- %%msg%%n</pattern></encoder>\n  </appender>\n  <logger name="org.apache.ratis.client.impl.OrderedAsync" level="OFF"/>\n  <root level="WARN"><appender-ref ref="ERR"/></root>\n</configuration>\n' > "$WORK/logback.xml"
    SKIFF_LOG_OPT=" -Dlogback.configurationFile=$WORK/logback.xml"
  fi
  for i in $(seq 1 "$RF"); do
    dir="$WORK/broker-$i"; mkdir -p "$dir"
    cat > "$dir/server.properties" <<PROPS
node.id=$i
listener.host=127.0.0.1
listener.port=$((SKIFF_BASE + 100 * (i - 1)))
raft.port=$((SKIFF_BASE + 1 + 100 * (i - 1)))
admin.port=$((SKIFF_BASE + 2 + 100 * (i - 1)))
log.dirs=$dir/data
metadata.voters=$voters
auto.create.topics.enable=true
num.partitions=$PARTITIONS
default.replication.factor=$RF
min.insync.replicas=$minisr
PROPS
    # setsid + exec chain (setsid -> skiff -> exec java): $! is the broker JVM itself.
    # The dev tier's options (1 GiB heap, G1, no pre-touch), with the same heap as Kafka's.
    SKIFF_TIER=dev JAVA_OPTS="-Xms$HEAP -Xmx$HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:MaxDirectMemorySize=2g$SKIFF_LOG_OPT" \
      setsid "$SKIFF_HOME/skiff" broker --config "$dir/server.properties" > "$dir/broker.log" 2>&1 < /dev/null &
    BROKER_PIDS+=($!)
  done
  for i in $(seq 1 "$RF"); do
    waited=0
    until grep -q "Skiff broker $i ready" "$WORK/broker-$i/broker.log" 2>/dev/null; do
      kill -0 "${BROKER_PIDS[$((i - 1))]}" 2>/dev/null || { say "skiff broker $i exited:"; tail -30 "$WORK/broker-$i/broker.log" >&2; exit 1; }
      sleep 0.5; waited=$((waited + 1))
      [ $waited -lt 240 ] || { say "skiff broker $i not ready after 120 s:"; tail -30 "$WORK/broker-$i/broker.log" >&2; exit 1; }
    done
  done
  say "skiff up: $BOOTSTRAP"
fi

# ---- RSS sampler ----------------------------------------------------------------------------
rss_sum() { # kB over broker pids
  local s=0 v
  for p in "${BROKER_PIDS[@]}"; do v=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0); s=$((s + ${v:-0})); done
  echo "$s"
}
cpu_ticks() { # utime+stime over broker pids, in clock ticks
  local s=0 v
  for p in "${BROKER_PIDS[@]}"; do
    v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0); s=$((s + ${v:-0}))
  done
  echo "$s"
}
TICKS=$(getconf CLK_TCK)
RSS_START=$(rss_sum)
( peak=0; while :; do v=$(rss_sum); [ "$v" -gt "$peak" ] && { peak=$v; echo "$peak" > "$WORK/rss-peak.txt"; }; sleep 0.5; done ) &
SAMPLER=$!

# ---- topic ----------------------------------------------------------------------------------
say "creating topic $TOPIC ($PARTITIONS partitions, RF=$RF)"
tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --create --topic "$TOPIC" \
  --partitions "$PARTITIONS" --replication-factor "$RF" > "$WORK/topic.out" 2>&1 || { cat "$WORK/topic.out" >&2; exit 1; }
sleep 3 # let partition leaders settle before the clock starts (same for both systems)

# ---- JFR on every broker JVM, from here to the end of the consumers ---------------------------
REPORT_JAR="$SKIFF_HOME/bench/target/skiff-benchmarks.jar"
# shellcheck source=deploy/jvm/java-home.sh
. "$SKIFF_HOME/deploy/jvm/java-home.sh"
REPORT_JAVA="$(skiff_java_home || echo /nonexistent)/bin/java" # the bench jar is built for Java 25+
for i in "${!BROKER_PIDS[@]}"; do
  jcmd "${BROKER_PIDS[$i]}" JFR.start name=sbs settings=default 'jdk.ThreadAllocationStatistics#period=1s' \
    > "$WORK/jfr-start-$i.out" 2>&1 || say "JFR did not start on broker pid ${BROKER_PIDS[$i]}"
done

# ---- produce --------------------------------------------------------------------------------
say "ProducerPerformance: $RECORDS x $RECORD_SIZE B, $PRODUCER_PROPS"
CPU0=$(cpu_ticks); T0=$(date +%s.%N)
# shellcheck disable=SC2086
timeout 900 java -Xmx1g -Dlog4j2.configurationFile="file:$WORK/client-log4j2.properties" -cp "$CP" \
  org.apache.kafka.tools.ProducerPerformance --topic "$TOPIC" --num-records "$RECORDS" \
  --record-size "$RECORD_SIZE" --throughput -1 --producer-props bootstrap.servers="$BOOTSTRAP" $PRODUCER_PROPS \
  > "$WORK/producer.out" 2>&1 || say "ProducerPerformance exited with $?"
CPU1=$(cpu_ticks); T1=$(date +%s.%N)
# broker CPU during the producer run: seconds, and cores busy on average (this machine has $(nproc))
P_CPU=$(awk -v c=$((CPU1 - CPU0)) -v t="$TICKS" -v a="$T0" -v b="$T1" 'BEGIN{printf "%.0f s (%.2f cores)", c/t, (c/t)/(b-a)}')
PLINE=$(grep 'records sent' "$WORK/producer.out" | tail -1 || true)
say "producer: ${PLINE:-no summary line}"
# "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, p50 ms 50th, p95 ms 95th, p99 ms 99th, ..."
P_RPS=$(sed -nE 's/.* ([0-9.]+) records\/sec.*/\1/p' <<< "$PLINE")
[ -z "$P_RPS" ] || P_RPS=$(printf '%.0f' "$P_RPS")
P_MBS=$(sed -nE 's/.*\(([0-9.]+) MB\/sec\).*/\1/p' <<< "$PLINE")
P_AVG=$(sed -nE 's/.* ([0-9.]+) ms avg latency.*/\1/p' <<< "$PLINE")
P_P99=$(sed -nE 's/.* ([0-9.]+) ms 99th,.*/\1/p' <<< "$PLINE")

# ---- consume (group) ------------------------------------------------------------------------
say "ConsumerPerformance: $RECORDS records"
timeout 300 java -Xmx1g -Dlog4j2.configurationFile="file:$WORK/client-log4j2.properties" -cp "$CP" \
  org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$BOOTSTRAP" --topic "$TOPIC" \
  --num-records "$RECORDS" --timeout 30000 > "$WORK/consumer.out" 2>&1 || say "ConsumerPerformance exited with $?"
# header: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, ...
CLINE=$(grep -E '^[0-9]{4}-' "$WORK/consumer.out" | tail -1 || true)
C_MBS=$(awk -F', *' '{print $4}' <<< "$CLINE")
C_N=$(awk -F', *' '{print $5}' <<< "$CLINE")
say "consumer: ${CLINE:-no result line}"
if [ -n "$C_MBS" ] && [ "${C_N:-0}" -lt "$RECORDS" ]; then C_MBS="$C_MBS (only $C_N records)"; fi

# ---- consume (assign, no group) --------------------------------------------------------------
cat > "$WORK/AssignConsumerPerf.java" <<'JAVA'
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Reads N records of a topic from the beginning with assign() (no group); prints MB/s (2^20). */
public class AssignConsumerPerf {
  public static void main(String[] args) {
    final String topic = args[1];
    final long want = Long.parseLong(args[2]);
    final Properties p = new Properties();
    p.put("bootstrap.servers", args[0]);
    p.put("key.deserializer", ByteArrayDeserializer.class.getName());
    p.put("value.deserializer", ByteArrayDeserializer.class.getName());
    p.put("enable.auto.commit", "false");
    p.put("auto.offset.reset", "earliest");
    p.put("max.partition.fetch.bytes", "1048576"); // ConsumerPerformance --fetch-size default
    p.put("receive.buffer.bytes", "2097152"); // ConsumerPerformance --socket-buffer-size default
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
      final List<TopicPartition> tps = new ArrayList<>();
      for (PartitionInfo pi : c.partitionsFor(topic)) {
        tps.add(new TopicPartition(topic, pi.partition()));
      }
      final long start = System.nanoTime();
      c.assign(tps);
      c.seekToBeginning(tps);
      long n = 0, bytes = 0, last = System.nanoTime(), end = last;
      while (n < want) {
        final ConsumerRecords<byte[], byte[]> rs = c.poll(Duration.ofMillis(100));
        for (ConsumerRecord<byte[], byte[]> r : rs) {
          n++;
          bytes += Math.max(0, r.serializedKeySize()) + Math.max(0, r.serializedValueSize());
        }
        if (!rs.isEmpty()) {
          last = end = System.nanoTime();
        } else if (System.nanoTime() - last > 30_000_000_000L) {
          break;
        }
      }
      final double s = (end - start) / 1e9;
      final double mb = bytes / 1048576.0;
      System.out.printf("assign-consumer records=%d MB=%.1f sec=%.2f MB/s=%.2f records/s=%.0f%n", n, mb, s, mb / s, n / s);
    }
  }
}
JAVA
say "assign consumer: $RECORDS records"
timeout 300 java -Xmx1g -Dlog4j2.configurationFile="file:$WORK/client-log4j2.properties" -cp "$CP" \
  "$WORK/AssignConsumerPerf.java" "$BOOTSTRAP" "$TOPIC" "$RECORDS" > "$WORK/assign.out" 2>&1 || say "assign consumer exited with $?"
ALINE=$(grep '^assign-consumer' "$WORK/assign.out" | tail -1 || true)
say "assign: ${ALINE:-no result line}"
A_MBS=$(sed -nE 's/.* MB\/s=([0-9.]+).*/\1/p' <<< "$ALINE")
A_N=$(sed -nE 's/.*records=([0-9]+) .*/\1/p' <<< "$ALINE")
if [ -n "$A_MBS" ] && [ "${A_N:-0}" -lt "$RECORDS" ]; then A_MBS="$A_MBS (only $A_N records)"; fi

# ---- JFR summary ----------------------------------------------------------------------------
JFRS=()
for i in "${!BROKER_PIDS[@]}"; do
  if jcmd "${BROKER_PIDS[$i]}" JFR.dump name=sbs filename="$WORK/broker-$i.jfr" > /dev/null 2>&1; then
    JFRS+=("$WORK/broker-$i.jfr")
  fi
  jcmd "${BROKER_PIDS[$i]}" JFR.stop name=sbs > /dev/null 2>&1 || true
done
ALLOC_PER_MB=n/a; GC_P99=n/a
if [ -f "$REPORT_JAR" ] && [ "${#JFRS[@]}" -gt 0 ]; then
  JLINE=$("$REPORT_JAVA" -cp "$REPORT_JAR" io.skiff.bench.memory.JfrMemoryReport "${JFRS[@]}" 2> "$WORK/jfr-report.out" || true)
  say "jfr: ${JLINE:-no summary}"
  ALLOC=$(sed -nE 's/.*allocated_bytes=([0-9]+).*/\1/p' <<< "$JLINE")
  [ -z "$ALLOC" ] || ALLOC_PER_MB=$(awk -v a="$ALLOC" -v r="$RECORDS" -v s="$RECORD_SIZE" 'BEGIN{printf "%.2f", a / (r * s)}')
  GC_P99="$(sed -nE 's/.*gc_pause_p99_ms=([0-9.]+).*/\1/p' <<< "$JLINE") / $(sed -nE 's/.*gc_pause_max_ms=([0-9.]+).*/\1/p' <<< "$JLINE")"
else
  say "no JFR summary: build $REPORT_JAR (./mvnw -B -q -DskipTests package -pl bench -am)"
fi

# ---- report ---------------------------------------------------------------------------------
kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null || true; SAMPLER=""
RSS_PEAK=$(cat "$WORK/rss-peak.txt" 2>/dev/null || echo 0)
P_ERR=$(grep -cE 'Exception|ERROR|WARN' "$WORK/producer.out" || true)
B_ERR=0; B_WARN=0
for f in $(broker_logs); do
  B_ERR=$((B_ERR + $(grep -acE ' ERROR ' "$f" || true))); B_WARN=$((B_WARN + $(grep -acE ' WARN ' "$f" || true)))
done
if [ "$P_ERR" -gt 0 ] || [ "$B_ERR" -gt 0 ] || [ "$B_WARN" -gt 0 ] || [ -z "$PLINE" ] || [ -z "$CLINE" ] || [ -z "$ALINE" ]; then
  say "problems in this run; first error lines:"
  for f in "$WORK/producer.out" "$WORK/consumer.out" "$WORK/assign.out" $(broker_logs); do
    { grep -anE 'Exception|ERROR|WARN' "$f" 2>/dev/null || true; } | head -8 | sed "s|^|  $(basename "$(dirname "$f")")/$(basename "$f"):|" >&2
  done
fi
[ -n "${NO_HEADER:-}" ] || header
ROW=$(printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %d | %s / %s | producer %s; broker %s ERROR, %s WARN |' \
  "$LABEL" "$RF" "${P_MBS:-n/a}" "${P_RPS:-n/a}" "${P_AVG:-n/a}" "${P_P99:-n/a}" "$P_CPU" "${C_MBS:-failed}" "${A_MBS:-failed}" \
  "$ALLOC_PER_MB" "$GC_P99" \
  $((RSS_START / 1024)) $((RSS_PEAK / 1024)) "$LOAD_BEFORE" "$(cut -d' ' -f1 /proc/loadavg)" "$P_ERR" "$B_ERR" "$B_WARN")
echo "$ROW"
[ -z "${RESULTS:-}" ] || echo "$ROW" >> "$RESULTS"

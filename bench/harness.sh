#!/usr/bin/env bash
# Skiff and Apache Kafka 4.4.0 side by side on this machine, one command:
#   bench/harness.sh [--quick] [--runs N] [--duration S] [--warmup S] [--workloads ...] [--profile] ...
# Builds the broker and bench jars if needed, then runs io.skiff.bench.sbs.SideBySide (options:
# bench/harness.sh --help). Three Skiff brokers (as ./skiff dev starts them) and three Kafka
# KRaft nodes (/work/shared/bench/kafka-peer.sh) run one after the other, never together; the
# table goes to stdout, JSON and a PNG chart to bench/results/. See docs/benchmarks.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
JAR=bench/target/skiff-benchmarks.jar
BROKER_JAR=broker/target/skiff-broker-0.1.0-SNAPSHOT.jar
SOURCES="ratis-patched/patches ratis-patched/src partition-log/src raft/src broker/src bench/src ./*/pom.xml pom.xml"
# shellcheck disable=SC2086
if [ ! -f "$JAR" ] || [ ! -f "$BROKER_JAR" ] || \
   [ -n "$(find $SOURCES -newer "$JAR" -print -quit)" ] || [ -n "$(find $SOURCES -newer "$BROKER_JAR" -print -quit)" ]; then
  echo "harness: building broker and bench..." >&2
  ./mvnw -q -B -DskipTests -Dspotless.check.skip=true package -pl broker,bench -am >&2
  # Maven keeps an unchanged module's jar (and its time) as it was; ./skiff, which starts each
  # broker, rebuilds whenever a source is newer than the broker jar, so it would build again in
  # every broker start while they are being timed. The jars are current now: say so.
  touch "$JAR" "$BROKER_JAR"
fi
# The bench classes are built for Skiff's Java (25+), which need not be the java on PATH.
# shellcheck source=deploy/jvm/java-home.sh
. "$ROOT/deploy/jvm/java-home.sh"
JAVA_HOME_SKIFF=$(skiff_java_home) || exit 2
exec "$JAVA_HOME_SKIFF/bin/java" -Xmx1g -Djava.awt.headless=true -cp "$JAR" io.skiff.bench.sbs.SideBySide "$@"

#!/bin/bash
# Container entry point: runs one Skiff broker in the foreground as PID 1.
# Settings: SKIFF_<KEY> variables (SKIFF_METADATA_VOTERS, SKIFF_MIN_INSYNC_REPLICAS, ...) override
# the optional properties file SKIFF_CONFIG (default /etc/skiff/server.properties). Defaults
# derived here when unset:
#   SKIFF_NODE_ID          from a StatefulSet-style host name "name-N": N + SKIFF_NODE_ID_OFFSET (1)
#   SKIFF_ADVERTISED_HOST  the container's first IP address
#   SKIFF_METADATA_VOTERS  this broker alone (a one-broker cluster)
# JVM options: /opt/skiff/jvm/runtime.options, /opt/skiff/jvm/$SKIFF_TIER[-$SKIFF_GC].options, then
# JAVA_OPTS. Java: 25 or newer,
# the base image's (JAVA_HOME or java on PATH; /opt/skiff/jvm/java-home.sh).
set -euo pipefail

SKIFF_HOME=/opt/skiff
config=${SKIFF_CONFIG:-/etc/skiff/server.properties}

fail() {
  echo "skiff: $*" >&2
  exit 2
}

if [ -z "${SKIFF_NODE_ID:-}" ]; then
  host=$(hostname)
  if [[ $host =~ -([0-9]+)$ ]]; then
    SKIFF_NODE_ID=$((BASH_REMATCH[1] + ${SKIFF_NODE_ID_OFFSET:-1}))
  elif ! grep -q '^[[:space:]]*node\.id' "$config" 2>/dev/null; then
    fail "set SKIFF_NODE_ID (or node.id in $config), or use a host name ending in -N"
  fi
fi
if [ -z "${SKIFF_ADVERTISED_HOST:-}" ]; then
  read -r SKIFF_ADVERTISED_HOST _ < <(hostname -i)
fi
[ -z "${SKIFF_NODE_ID:-}" ] || export SKIFF_NODE_ID
export SKIFF_ADVERTISED_HOST

# shellcheck source=../jvm/java-home.sh
. "$SKIFF_HOME/jvm/java-home.sh"
java_home=$(skiff_java_home) || fail "the image's base (BASE_IMAGE) needs a Java 25+ runtime, e.g. eclipse-temurin:25-jre"

tier=$(echo "${SKIFF_TIER:-small}" | tr '[:upper:]' '[:lower:]')
options="$SKIFF_HOME/jvm/$tier${SKIFF_GC:+-$SKIFF_GC}.options"
[ -f "$options" ] || fail "no JVM options for SKIFF_TIER=$tier SKIFF_GC=${SKIFF_GC:-} ($options);" \
  "the tier must be dev, small, medium or large, SKIFF_GC empty or zgc"
# The broker sizes its pools for the same tier the JVM was sized for.
export SKIFF_SKIFF_TIER="$tier"

if [ ! -f "$config" ]; then
  config=$(mktemp /tmp/skiff-XXXXXX.properties)
  echo "# empty: every setting comes from SKIFF_* variables" > "$config"
fi
[ -w "${SKIFF_LOG_DIRS:-/var/lib/skiff}" ] ||
  fail "data directory ${SKIFF_LOG_DIRS:-/var/lib/skiff} is not writable by uid $(id -u)"

# shellcheck disable=SC2086
exec "$java_home/bin/java" "@$SKIFF_HOME/jvm/runtime.options" "@$options" ${JAVA_OPTS:-} \
  -cp "$SKIFF_HOME/skiff-broker.jar:$SKIFF_HOME/lib/*" io.skiff.broker.BrokerMain --config "$config"

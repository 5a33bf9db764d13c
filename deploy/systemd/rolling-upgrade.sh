#!/usr/bin/env bash
# Rolling upgrade (or restart) of a Skiff cluster run by systemd, one broker at a time.
#   deploy/systemd/rolling-upgrade.sh HOSTS_FILE [RELEASE_TARBALL]
# HOSTS_FILE lists one SSH destination per line (user@host or host; '#' starts a comment); each
# host runs the skiff service with its admin port on 9644. With RELEASE_TARBALL, the tarball is
# copied to each host and unpacked over /opt/skiff before the restart.
# Per broker: wait until the cluster has no under-replicated partition, stop (the broker hands its
# leaderships away on SIGTERM), install, start, wait for /health, and move on. It stops at the first
# broker that does not come back healthy; nothing else is touched then.
set -euo pipefail

HOSTS_FILE=${1:?usage: rolling-upgrade.sh HOSTS_FILE [RELEASE_TARBALL]}
RELEASE=${2:-}
ADMIN_PORT=${SKIFF_ADMIN_PORT:-9644}
SSH=${SSH:-ssh -o BatchMode=yes}
WAIT_SECONDS=${WAIT_SECONDS:-300}

mapfile -t HOSTS < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$HOSTS_FILE" | grep -v '^$')
[ "${#HOSTS[@]}" -gt 0 ] || { echo "no hosts in $HOSTS_FILE" >&2; exit 2; }

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }

remote() { # remote HOST COMMAND...
  $SSH "$1" "${@:2}"
}

# Sum of skiff_partitions_under_replicated over every broker that answers.
under_replicated() {
  local total=0 host n
  for host in "${HOSTS[@]}"; do
    n=$(remote "$host" "curl -fsS http://127.0.0.1:$ADMIN_PORT/metrics" 2>/dev/null |
      awk '/^skiff_partitions_under_replicated /{print int($2)}')
    total=$((total + ${n:-0}))
  done
  echo "$total"
}

wait_for() { # wait_for DESCRIPTION COMMAND...
  local deadline=$((SECONDS + WAIT_SECONDS))
  until "${@:2}"; do
    if [ $SECONDS -ge $deadline ]; then
      log "gave up after ${WAIT_SECONDS}s waiting for $1"
      exit 1
    fi
    sleep 2
  done
}

healthy() { remote "$1" "curl -fsS http://127.0.0.1:$ADMIN_PORT/health" >/dev/null 2>&1; }
in_sync() { [ "$(under_replicated)" = 0 ]; }

for host in "${HOSTS[@]}"; do
  wait_for "no under-replicated partitions before $host" in_sync
  if [ -n "$RELEASE" ]; then
    log "$host: copying $RELEASE"
    scp -q "$RELEASE" "$host:/tmp/skiff-release.tar.gz"
  fi
  log "$host: stopping (leaderships move to the other brokers)"
  remote "$host" "sudo systemctl stop skiff"
  if [ -n "$RELEASE" ]; then
    remote "$host" "sudo tar -xzf /tmp/skiff-release.tar.gz -C /opt/skiff && rm /tmp/skiff-release.tar.gz"
  fi
  remote "$host" "sudo systemctl start skiff"
  wait_for "$host to report healthy" healthy "$host"
  log "$host: healthy; waiting for its replicas to catch up"
  wait_for "$host to catch up" in_sync
done
log "rolling upgrade done: ${#HOSTS[@]} brokers"

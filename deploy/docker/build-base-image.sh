#!/usr/bin/env bash
# Builds skiff-base:25, a local base image for deploy/docker/Dockerfile where no registry is
# reachable (CI, the container tests): Debian bookworm from its apt mirror (mmdebstrap; bookworm
# has no Java 25 package) plus a Java 25 runtime jlinked from this machine's JDK 25, installed the
# way eclipse-temurin images install theirs (JAVA_HOME=/opt/java/openjdk, on PATH). Needs root,
# mmdebstrap, a running Docker daemon and a JDK 25 (deploy/jvm/java-home.sh finds it).
#   deploy/docker/build-base-image.sh [IMAGE]      default skiff-base:25
# Then: docker build -f deploy/docker/Dockerfile --build-arg BASE_IMAGE=skiff-base:25 -t skiff:dev .
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IMAGE=${1:-skiff-base:25}
# What a Temurin JRE holds, less the desktop-only modules: the broker, kafka-clients (SASL/GSSAPI),
# JMX and JFR for operators.
MODULES=java.se,jdk.unsupported,jdk.management,jdk.management.agent,jdk.management.jfr,jdk.jfr,\
jdk.crypto.ec,jdk.crypto.cryptoki,jdk.charsets,jdk.localedata,jdk.naming.dns,jdk.net,jdk.zipfs,\
jdk.security.auth,jdk.security.jgss,jdk.nio.mapmode

# shellcheck source=../jvm/java-home.sh
. "$ROOT/deploy/jvm/java-home.sh"
jdk=$(skiff_java_home jdk)
command -v mmdebstrap >/dev/null || { echo "build-base-image: mmdebstrap is missing (apt-get install mmdebstrap)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$jdk/bin/jlink" --add-modules "$MODULES" --strip-debug --no-header-files --no-man-pages \
  --compress=zip-6 --output "$work/openjdk"

mmdebstrap --quiet --variant=apt --include=iproute2,iptables,procps,ca-certificates \
  --customize-hook='mkdir -p "$1/opt/java"' \
  --customize-hook="copy-in $work/openjdk /opt/java" \
  bookworm - |
  docker import \
    --change 'ENV JAVA_HOME=/opt/java/openjdk' \
    --change 'ENV PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL io.skiff.java.release=$(skiff_java_feature "$work/openjdk")" \
    - "$IMAGE" >/dev/null
echo "built $IMAGE: Debian bookworm, Java $("$work/openjdk/bin/java" -version 2>&1 | head -n 1)"

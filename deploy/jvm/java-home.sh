# Finds the Java that runs Skiff: Java 25 or newer (virtual threads that `synchronized` does not
# pin, JEP 491). Sourced (POSIX sh) by ./mvnw, ./skiff and the container entry point; defines
#   skiff_java_home [jdk]   prints the home of a Java >= 25 (with javac when "jdk" is given),
#                           or explains on stderr how to get one and returns 1.
# Where it looks, first match wins:
#   1. SKIFF_JAVA_HOME (must be 25+: an explicit choice is never overridden)
#   2. JAVA_HOME, when it is 25+
#   3. the `java` on PATH, when it is 25+
#   4. the newest 25+ Java in a directory of SKIFF_JAVA_SEARCH (space-separated; default
#      /usr/lib/jvm /usr/java /opt/java ~/.sdkman/candidates/java ~/.jdks)
# Debian 12 ships no JDK 25: install Temurin 25 from Adoptium (README.md, "Java").

SKIFF_JAVA_MIN=25

# skiff_java_feature HOME: the feature release (17, 25, ...) of the Java in HOME, or nothing.
skiff_java_feature() {
  if [ -r "$1/release" ]; then
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" | head -n 1
  elif [ -x "$1/bin/java" ]; then
    "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
  fi
}

# skiff_java_fits HOME [jdk]: HOME has bin/java (and bin/javac for jdk) of release 25 or newer.
skiff_java_fits() {
  [ -x "$1/bin/java" ] || return 1
  [ "${2:-}" != jdk ] || [ -x "$1/bin/javac" ] || return 1
  _skiff_feature=$(skiff_java_feature "$1")
  [ -n "$_skiff_feature" ] && [ "$_skiff_feature" -ge "$SKIFF_JAVA_MIN" ]
}

skiff_java_home() (
  kind=${1:-jre}
  what="Java runtime"
  [ "$kind" != jdk ] || what="JDK (with javac)"
  set +f # ./mvnw runs with globbing off
  if [ -n "${SKIFF_JAVA_HOME:-}" ]; then
    if skiff_java_fits "$SKIFF_JAVA_HOME" "$kind"; then
      echo "$SKIFF_JAVA_HOME"
      return 0
    fi
    echo "skiff: SKIFF_JAVA_HOME=$SKIFF_JAVA_HOME is not a Java $SKIFF_JAVA_MIN+ $what" \
      "(found release '$(skiff_java_feature "$SKIFF_JAVA_HOME")'); point it at one or unset it." >&2
    return 1
  fi
  if [ -n "${JAVA_HOME:-}" ] && skiff_java_fits "$JAVA_HOME" "$kind"; then
    echo "$JAVA_HOME"
    return 0
  fi
  on_path=$(command -v java 2>/dev/null || true)
  if [ -n "$on_path" ]; then
    on_path=$(dirname "$(dirname "$(readlink -f "$on_path")")")
    if skiff_java_fits "$on_path" "$kind"; then
      echo "$on_path"
      return 0
    fi
  fi
  best="" best_feature=0
  search=${SKIFF_JAVA_SEARCH:-/usr/lib/jvm /usr/java /opt/java ${HOME:-/nonexistent}/.sdkman/candidates/java ${HOME:-/nonexistent}/.jdks}
  for dir in $search; do
    for home in "$dir"/*; do
      [ -d "$home" ] && skiff_java_fits "$home" "$kind" || continue
      feature=$(skiff_java_feature "$home")
      if [ "$feature" -gt "$best_feature" ]; then best=$home best_feature=$feature; fi
    done
  done
  if [ -n "$best" ]; then
    [ -z "${JAVA_HOME:-}" ] ||
      echo "skiff: JAVA_HOME=$JAVA_HOME is Java $(skiff_java_feature "$JAVA_HOME"); using $best" >&2
    echo "$best"
    return 0
  fi
  cat >&2 <<EOF
skiff: no Java $SKIFF_JAVA_MIN or newer found (a $what is needed; JAVA_HOME=${JAVA_HOME:-unset}, java on PATH: ${on_path:-none}${on_path:+, Java $(skiff_java_feature "$on_path")}).
  Install one, e.g. Eclipse Temurin $SKIFF_JAVA_MIN from https://adoptium.net (Debian/Ubuntu:
  Adoptium's apt repository, package temurin-$SKIFF_JAVA_MIN-jdk; see README.md, "Java"),
  then run again, or set SKIFF_JAVA_HOME to its directory (searched: $search).
EOF
  return 1
)

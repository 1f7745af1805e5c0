# Sourced by ./mvn25, ./kawi and .ci/run: finds a JDK whose major version is >= 25
# and sets KAWI_JAVA_HOME to it. Order: $JAVA_HOME, `java` on PATH, the standard
# install folders (/usr/lib/jvm, /usr/java, /opt/java, /Library/Java/JavaVirtualMachines,
# ~/.sdkman/candidates/java, ~/.jdks). Prints a clear error and returns 1 when none is found.

KAWI_MIN_JAVA=25

# Prints the major version of the JDK at $1 (a JDK home), or nothing.
kawi_java_major() {
  local home="$1"
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 0
  local release="$home/release"
  local v="" line
  # Bash builtins only (no sed, no subshell): ./kawi runs this on every start.
  if [ -r "$release" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      if [[ $line == JAVA_VERSION=\"* ]]; then
        v=${line#JAVA_VERSION=\"}
        v=${v%%\"*}
        break
      fi
    done < "$release"
  fi
  if [ -z "$v" ]; then
    v=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)
  fi
  v=${v#1.}
  echo "${v%%[.+-]*}"
}

kawi_find_jdk() {
  local home major
  # An explicit choice wins when it is new enough: JAVA_HOME, then the java on PATH.
  local preferred=()
  [ -n "${JAVA_HOME:-}" ] && preferred+=("$JAVA_HOME")
  local j
  if j=$(command -v java 2>/dev/null); then
    [ -L "$j" ] && j=$(readlink -f "$j" 2>/dev/null || echo "$j")
    j=${j%/*}
    preferred+=("${j%/*}")
  fi
  for home in "${preferred[@]}"; do
    major=$(kawi_java_major "$home")
    if [ -n "$major" ] && [ "$major" -ge "$KAWI_MIN_JAVA" ]; then
      KAWI_JAVA_HOME="$home"; export KAWI_JAVA_HOME; return 0
    fi
  done
  # Otherwise the newest JDK in the standard install folders.
  local best="" best_major=0
  for home in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* \
              /Library/Java/JavaVirtualMachines/*/Contents/Home \
              "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [ -d "$home" ] || continue
    major=$(kawi_java_major "$home")
    [ -n "$major" ] || continue
    if [ "$major" -ge "$KAWI_MIN_JAVA" ] && [ "$major" -gt "$best_major" ]; then
      best="$home"; best_major=$major
    fi
  done
  if [ -z "$best" ]; then
    echo "error: Kawi needs a JDK $KAWI_MIN_JAVA or newer, and none was found." >&2
    echo "  looked at: \$JAVA_HOME (${JAVA_HOME:-unset}), 'java' on PATH, /usr/lib/jvm, /usr/java, /opt/java, ~/.sdkman, ~/.jdks" >&2
    echo "  hint: install one (for example Temurin 25 from https://adoptium.net) and set JAVA_HOME to it." >&2
    return 1
  fi
  KAWI_JAVA_HOME="$best"
  export KAWI_JAVA_HOME
}

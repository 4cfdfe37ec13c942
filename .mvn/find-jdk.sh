# Sourced by ./mvnw and ./parley: makes JAVA_HOME point at a JDK >= 21.
# The machines we build on often have an older default `java` with a newer JDK installed
# beside it, so a user should not have to find it by hand. Order: JAVA_HOME if it is new
# enough, then the newest JDK >= 21 in the folder of the default java and the usual places.
# POSIX sh; reads each JDK's `release` file instead of starting a JVM.

parley_jdk_major() {
  [ -f "$1/release" ] || { echo 0; return; }
  v=$(sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$1/release" 2>/dev/null | head -n 1)
  case "$v" in 1) echo 0 ;; '') echo 0 ;; *) echo "$v" ;; esac
}

parley_find_jdk() {
  if [ -n "${JAVA_HOME-}" ] && [ "$(parley_jdk_major "$JAVA_HOME")" -ge 21 ]; then
    return 0
  fi
  dirs=""
  if command -v java >/dev/null 2>&1; then
    real=$(readlink -f "$(command -v java)" 2>/dev/null || true)
    [ -n "$real" ] && dirs="$(dirname "$(dirname "$(dirname "$real")")")"
  fi
  best="" best_major=0
  case $- in *f*) parley_noglob=1; set +f ;; *) parley_noglob=0 ;; esac
  for d in $dirs/* /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "${HOME-}"/.sdkman/candidates/java/* \
           /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -x "$d/bin/javac" ] || continue
    m=$(parley_jdk_major "$d")
    if [ "$m" -ge 21 ] && [ "$m" -gt "$best_major" ]; then best="$d" best_major="$m"; fi
  done
  [ "$parley_noglob" = 1 ] && set -f
  if [ -n "$best" ]; then
    JAVA_HOME="$best"; export JAVA_HOME
    return 0
  fi
  echo "Parley needs a JDK 21 or newer, and none was found (JAVA_HOME=${JAVA_HOME-unset})." >&2
  echo "Install one (for example Temurin 21 or 25) and set JAVA_HOME to it." >&2
  return 1
}

parley_find_jdk || exit 1

# Shared by the benchmarks' run.sh scripts (sourced from the repository root).

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    echo "bench: need root (or sudo) to run: $*" >&2
    return 1
  fi
}

# nginx from the Debian archive, when it is missing
need_nginx() {
  command -v nginx >/dev/null 2>&1 && return 0
  export PATH="$PATH:/usr/sbin:/sbin"
  command -v nginx >/dev/null 2>&1 && return 0
  echo "bench: installing nginx (Debian package)" >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y -q nginx-light >/dev/null 2>&1 || {
    as_root apt-get update -q >/dev/null
    as_root apt-get install -y -q nginx-light >/dev/null 2>&1 || as_root apt-get install -y -q nginx >/dev/null
  }
  # the package may start a system nginx on port 80; the benchmark does not need it
  command -v nginx >/dev/null 2>&1
}

# npm ci when node_modules is missing; the project's build when any TypeScript is newer than the benchmark's output
build_if_needed() {
  [ -d node_modules ] || npm ci --no-audit --no-fund
  local marker=dist/bench/lib/harness.js
  [ "${BENCH_SKIP_BUILD:-0}" = 1 ] && return 0
  if [ ! -f "$marker" ] || [ -n "$(find src test bench -name '*.ts' -newer "$marker" -print -quit)" ]; then
    local out
    if ! out="$(npm run build --silent 2>&1)"; then
      # tsc still emits on type errors; errors only in test files do not change what is measured
      if [ -n "$out" ] && ! grep -E '^[^ ]+\([0-9]+,[0-9]+\): error' <<<"$out" | grep -qvE '^test/'; then
        echo "bench: warning: the build reported type errors in test files only; benchmarking the emitted code:" >&2
        echo "$out" | sed 's/^/  /' >&2
      else
        echo "$out" >&2
        echo "bench: the build failed" >&2
        return 1
      fi
    fi
  fi
}

# stops, by pid, whatever the benchmark started and left behind (it stops its children itself when it can)
cleanup_pids() {
  local status=$?
  if [ -n "${BENCH_PIDFILE:-}" ] && [ -f "$BENCH_PIDFILE" ]; then
    local signal pid started
    for signal in TERM KILL; do
      while read -r pid started; do
        [ -n "$pid" ] && [ "$pid" != dir ] || continue
        # the same process only: its start time (field 22 of /proc/PID/stat) must match the recorded one
        [ "$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f20)" = "$started" ] || continue
        kill "-$signal" "$pid" 2>/dev/null || true
      done <"$BENCH_PIDFILE"
      [ "$signal" = TERM ] && sleep 0.5
    done
    # the benchmark's private temporary directories (they hold private keys), unless asked to keep them
    if [ "${BENCH_KEEP_TMP:-0}" != 1 ]; then
      while read -r kind path; do
        [ "$kind" = dir ] && case "$path" in */certgate-bench-*) rm -rf -- "$path" ;; esac
      done <"$BENCH_PIDFILE"
    fi
    rm -f "$BENCH_PIDFILE"
  fi
  trap - EXIT
  exit "$status"
}

# Builds if needed, tracks every process the benchmark starts (stopped on exit), and runs dist/bench/NAME/main.js
# within a time bound (the bound only matters when measurements must be repeated).
# usage: run_bench NAME [args...]
run_bench() {
  local name="$1"
  shift
  build_if_needed
  BENCH_PIDFILE="$(mktemp -t certgate-bench-pids.XXXXXX)"
  export BENCH_PIDFILE
  trap cleanup_pids EXIT INT TERM
  # BENCH_TIMEOUT_S: the whole run's bound (600 s; a growth run with a 5-minute window per size needs more)
  timeout --signal=TERM --kill-after=10 "${BENCH_TIMEOUT_S:-600}" node "dist/bench/$name/main.js" "$@"
}

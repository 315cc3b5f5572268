#!/usr/bin/env bash
# bench/hostile: 2,200 idle connections plus 100 slow-header and 100 slow-body requests against certgate serve and
# certgate gateway, each under prlimit --nofile=2048. Writes bench/results/hostile.{json,md}. About 1.5 minutes.
# Knobs: BENCH_IDLE (2200), BENCH_SLOW (100), BENCH_NOFILE (2048).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib/prepare.sh
build_if_needed
ulimit -n 20000 2>/dev/null || true
timeout --signal=TERM --kill-after=10 300 node dist/bench/hostile/main.js "$@"

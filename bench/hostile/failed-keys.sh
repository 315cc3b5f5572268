#!/usr/bin/env bash
# bench/hostile/failed-keys: 2,000 wrong admin keys a second from one address for 5 s against certgate serve, and a
# legitimate client on another address meanwhile. Writes bench/results/failed-keys.{json,md}. About 15 seconds.
# Knobs: BENCH_RATE (2000), BENCH_SECONDS (5), CERTGATE_WORKERS (1).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib/prepare.sh
build_if_needed
ulimit -n 20000 2>/dev/null || true
timeout --signal=TERM --kill-after=10 120 node dist/bench/hostile/failed-keys.js "$@"

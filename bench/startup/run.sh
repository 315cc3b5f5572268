#!/usr/bin/env bash
# bench/startup: start-up to ready and idle RSS of certgate serve and certgate gateway, against node -e 0 and a
# bare node:http server. Writes bench/results/startup.{json,md,svg}. See bench/README.md.
#
# Knobs (environment): BENCH_RUNS (15), BENCH_IDLE_S (2; RSS is read this long after ready), BENCH_PROBE_MS (5),
# BENCH_QUIET_WAIT_S (30).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib/prepare.sh

run_bench startup "$@"

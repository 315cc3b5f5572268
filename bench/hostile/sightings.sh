#!/usr/bin/env bash
# bench/hostile/sightings: N distinct clients remembered (half with a padded 10-certificate chain), then the lockout
# preview timed on `certgate serve` while /healthz is asked every 5 ms. Writes bench/results/sightings.{json,md}.
# Knobs: BENCH_SIGHTINGS (10000), BENCH_DATABASE_URL (PostgreSQL instead of SQLite).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib/prepare.sh
build_if_needed
timeout --signal=TERM --kill-after=10 900 node dist/bench/hostile/sightings.js "$@"

#!/usr/bin/env bash
# bench/writes: uploads and toggle + list per second through certgate serve, SQLite and PostgreSQL, at
# 1 and 1,000 projects. Writes bench/results/writes.{json,md,svg}. See bench/README.md.
#
# Knobs (environment): BENCH_CLIENTS (4), BENCH_WARMUP_S (1), BENCH_DURATION_S (5), BENCH_SIZES (1,1000), BENCH_ROUNDS (2),
# BENCH_ENGINES (sqlite,postgres), BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/postgres),
# BENCH_WORKERS (1: certgate --workers), BENCH_PIN (1; 0 = no CPU pinning), BENCH_QUIET_WAIT_S (30).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib/prepare.sh

run_bench writes "$@"

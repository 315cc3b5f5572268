#!/usr/bin/env bash
# bench/propagation: activation through the admin API -> enforced by every gateway process, SQLite and PostgreSQL.
# Writes bench/results/propagation.{json,md,svg} (with workers or replicas: propagation-wW-gG.*). See bench/README.md.
#
# Knobs (environment): BENCH_SAMPLES (120 per engine), BENCH_GATEWAYS (1: gateway replicas),
# BENCH_POLLERS (2 × workers × replicas, at least 2), BENCH_BOUND_MS (5000), BENCH_ENGINES (sqlite,postgres),
# BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/postgres),
# BENCH_WORKERS (1: certgate --workers), BENCH_PIN (1; 0 = no CPU pinning), BENCH_QUIET_WAIT_S (30).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib/prepare.sh

run_bench propagation "$@"

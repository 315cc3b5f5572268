#!/usr/bin/env bash
# bench/admin-list: GET /v1/organization/certificates through certgate serve vs a bare node:http server.
# Writes bench/results/admin-list.json and bench/results/admin-list.md. See bench/README.md.
#
# Knobs (environment): BENCH_ROUNDS (3), BENCH_WARMUP_S (2), BENCH_DURATION_S (6), BENCH_LATENCY_S (3),
# BENCH_CONNECTIONS (32), BENCH_CERTIFICATES (20), BENCH_PIN (1; 0 = no CPU pinning),
# BENCH_CPU_PROF (0; 1 = node --cpu-prof for certgate serve, profiles in bench/work/prof), BENCH_CERTGATE_CLI,
# BENCH_WORKERS (1: certgate serve --workers).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib/prepare.sh

run_bench admin-list "$@"

#!/usr/bin/env bash
# bench/growth: a store grown to 10k, 100k and 1M audit events (and 10,000 client sightings) by direct SQL inserts;
# at each size, /healthz latency and event-loop delay of certgate serve and certgate gateway, admin list and gateway
# requests per CPU-second. Writes bench/results/growth.{json,md,svg}. See bench/README.md.
#
# Knobs (environment): BENCH_SIZES (0,10000,100000,1000000 audit events), BENCH_SIGHTINGS (10000: at most, and a tenth
# of the events below that), BENCH_WINDOW_S (20: the /healthz window per size; the issue's target is over 300),
# BENCH_PROBE_MS (25: one /healthz per server every so often), BENCH_WARMUP_S (1), BENCH_DURATION_S (4),
# BENCH_CONNECTIONS (32), BENCH_ENGINES (sqlite; sqlite,postgres adds PostgreSQL), BENCH_POSTGRES_URL,
# BENCH_WORKERS (1: certgate --workers), BENCH_PIN (1; 0 = no CPU pinning), BENCH_QUIET_WAIT_S (30).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib/prepare.sh

run_bench growth "$@"

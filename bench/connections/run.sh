#!/usr/bin/env bash
# bench/connections: 1,000 concurrent kept-alive mTLS connections through certgate's gateway and through nginx.
# Writes bench/results/connections.{json,md,svg}. See bench/README.md.
#
# Knobs (environment): BENCH_CONNECTIONS (1000), BENCH_WARMUP_S (5), BENCH_DURATION_S (20), BENCH_NGINX_WORKERS (
# 0 = one per core; default: as many as certgate), BENCH_WORKERS (1), BENCH_TARGETS (certgate,nginx), BENCH_PIN (1; 0 = no CPU pinning), BENCH_QUIET_WAIT_S (30),
# BENCH_KEEP_TMP (0; 1 = keep the temporary directory, which holds private keys).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib/prepare.sh

need_nginx
run_bench connections "$@"

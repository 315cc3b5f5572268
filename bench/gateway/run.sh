#!/usr/bin/env bash
# bench/gateway: certgate's mTLS gateway against nginx (ssl_verify_client on), side by side.
# Writes bench/results/gateway.json and bench/results/gateway.md. See bench/README.md.
#
# Knobs (environment): BENCH_ROUNDS (3), BENCH_WARMUP_S (1.5), BENCH_DURATION_S (5), BENCH_LATENCY_S (3),
# BENCH_CONNECTIONS (32), BENCH_WORKERS (1), BENCH_NGINX_WORKERS (as many as certgate; 0 = one per core), BENCH_PIN (1; 0 = no CPU pinning),
# BENCH_CPU_PROF (0; 1 = node --cpu-prof for certgate, profiles in bench/work/prof),
# BENCH_PHASES / BENCH_TARGETS (subsets, comma-separated), BENCH_CERTGATE_CLI (another build's cli.js),
# BENCH_BASELINE_CLI (an earlier build's cli.js, measured as one more target in the same rounds),
# BENCH_KEEP_TMP (0; 1 = keep the temporary directory, which holds private keys).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib/prepare.sh

need_nginx
run_bench gateway "$@"

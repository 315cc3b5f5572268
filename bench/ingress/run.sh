#!/usr/bin/env bash
# bench/ingress: certgate behind nginx (decide) and HAProxy (gateway --behind-ingress), each against the same
# ingress with no decision, per CPU-second of every process under test. Writes bench/results/ingress.{json,md,svg}.
# See bench/README.md.
#
# Knobs (environment): BENCH_ROUNDS (3), BENCH_WARMUP_S (1.5), BENCH_DURATION_S (5), BENCH_CONNECTIONS (32),
# BENCH_PHASES (handshake,keepalive; a subset writes to bench/work/results), BENCH_PIN (1; 0 = no CPU pinning),
# BENCH_QUIET_WAIT_S (60).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib/prepare.sh

need_nginx
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || node scripts/test-setup.mjs
run_bench ingress "$@"

#!/usr/bin/env bash
# Runs the benchmarks of issue 7: a release build of lockbox-bench, which runs each measure next
# to its baseline in the same run (nginx PUT, bare lapin), writes docs/BENCHMARKS.md and prints
# the table. Compare ratios within one run, never absolute times across machines or runs.
# Usage: ./scripts/bench.sh [--runs N] [--only M,…] [--quick] [--out PATH]   (passed to lockbox-bench)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

trap stop_rabbitmq EXIT
setup
ensure_rabbitmq

# 10 000 client sockets here and 10 000 in the child NotificationService: raise the soft
# open-file limit to the hard one (lockbox-bench says so if even that is too low).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

say "release build of lockbox-bench"
cargo build --release --locked -p lockbox-bench
say "running the benchmarks (minutes; the table goes to docs/BENCHMARKS.md)"
# Writes docs/BENCHMARKS.md (relative to $ROOT) unless --out says otherwise.
"${CARGO_TARGET_DIR:-$ROOT/target}/release/lockbox-bench" "$@"

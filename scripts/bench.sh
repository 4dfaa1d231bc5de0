#!/usr/bin/env bash
# Runs the benchmarks (release builds, baselines measured in the same run), prints a table and
# writes it to docs/BENCHMARKS.md. Compare ratios within one run, never absolute times across
# machines or runs.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

trap stop_rabbitmq EXIT
setup
ensure_rabbitmq

say "release build of the services and the CLI"
cargo build --release --locked -p lockbox-file-storage -p lockbox-cli

say "FileStorageService: upload throughput and memory, outbox drain (services/file-storage/bench/measure.sh)"
fs_out="$(services/file-storage/bench/measure.sh)"
echo "$fs_out"

say "NotificationService: publish → store → WebSocket (tests/throughput.rs, release)"
ns_out="$(cargo test --release --locked -p lockbox-notification --test throughput -- --nocapture 2>&1 | grep 'throughput (' || true)"
echo "$ns_out"

{
  echo "# Benchmarks"
  echo
  echo "Written by \`./scripts/bench.sh\` on $(date -u +%Y-%m-%d) at commit $(git rev-parse --short HEAD),"
  echo "on $(nproc) cores / $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) ($(uname -sr))."
  echo "Each row's baseline was measured in the same run: compare ratios, not absolute times."
  echo
  echo "| what | measured |"
  echo "|---|---|"
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    label="${line%%:*}"
    value="${line#*:}"
    printf '| %s | %s |\n' "$(echo "$label" | xargs)" "$(echo "$value" | xargs)"
  done <<<"$fs_out"
  # One row per part of the NotificationService line ("…: a in 145ms (13766/s); b in …").
  if [ -n "$ns_out" ]; then
    python3 - "$ns_out" <<'PY'
import re, sys
for part in sys.argv[1].split(": ", 1)[1].split("; "):
    m = re.match(r"(.*?)(?: in)? ([0-9.]+)(ms|s|µs) \(([0-9]+/s)(.*)\)", part)
    if m:
        what, n, unit, rate, rest = m.groups()
        ms = float(n) * {"ms": 1, "s": 1000, "µs": 0.001}[unit]
        print(f"| NotificationService: {what.strip()} | {ms:.0f} ms ({rate}{rest}) |")
PY
  fi
} > docs/BENCHMARKS.md
say "wrote docs/BENCHMARKS.md"
cat docs/BENCHMARKS.md

#!/usr/bin/env bash
# Runs every cargo-fuzz (libFuzzer) target in fuzz/ for a fixed time each, one after another,
# and prints the executions per target. Usage: scripts/fuzz.sh [seconds-per-target] [target…]
# Installs the nightly toolchain and cargo-fuzz when missing. A crash leaves its input in
# fuzz/artifacts/<target>/ and stops the script (reproduce with `cargo +nightly fuzz run <target> <file>`).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT/fuzz"

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(event_decode tus_headers file_name ws_frame)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

CARGO_FUZZ_VERSION="0.13.2"
if ! rustup toolchain list | grep -q '^nightly'; then
  say "installing the nightly toolchain (cargo-fuzz needs it)"
  rustup toolchain install nightly --profile minimal || die "rustup could not install nightly; check the network"
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  say "installing cargo-fuzz $CARGO_FUZZ_VERSION (cargo install, once per machine)"
  cargo install --quiet --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION" \
    || die "cargo install cargo-fuzz failed; check that crates.io is reachable"
fi

# Seeds: the event fixtures (valid and malformed) and the small committed seed sets.
seeds_for() {
  case "$1" in
    event_decode) echo "$ROOT/services/events/fixtures $ROOT/services/events/fixtures/malformed $ROOT/fuzz/seeds/event_decode" ;;
    *) echo "$ROOT/fuzz/seeds/$1" ;;
  esac
}

# Safe Rust only in these paths: no sanitizer (several times faster); cargo-fuzz keeps debug
# assertions and overflow checks on in its optimized build, so those bugs still abort.
say "building the fuzz targets (nightly, optimized + debug assertions)"
cargo +nightly fuzz build --sanitizer none

declare -A executions
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  log="$(mktemp)"
  say "fuzzing $target for ${seconds}s"
  # One process on one core (libFuzzer's default; `-jobs=1` would fork a child logging to
  # fuzz-0.log instead), so builds running next to it keep the other core.
  # shellcheck disable=SC2046 # the seed dirs are separate arguments
  if ! cargo +nightly fuzz run --sanitizer none "$target" "corpus/$target" $(seeds_for "$target") -- \
      -max_total_time="$seconds" -print_final_stats=1 -max_len=4096 >"$log" 2>&1; then
    tail -40 "$log" >&2
    die "$target found a failure; its input is in fuzz/artifacts/$target/"
  fi
  executions[$target]="$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)"
  say "$target: ${executions[$target]:-?} executions in ${seconds}s, corpus $(find "corpus/$target" -type f | wc -l) inputs, no failure"
  rm -f "$log"
done

printf '\n%-14s %12s %8s\n' target executions seconds
for target in "${targets[@]}"; do
  printf '%-14s %12s %8s\n' "$target" "${executions[$target]:-?}" "$seconds"
done

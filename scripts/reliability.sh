#!/usr/bin/env bash
# Runs the reliability suite at full size (LOCKBOX_RELIABILITY=full: 10 000 uploads across a
# RabbitMQ crash, 10 000 notifications while the app is offline, 200 uploaders for 60 s, …)
# and renders docs/RELIABILITY.md from the records it writes to target/reliability/full/.
#
# Debug build on purpose: it is the build `cargo test --workspace` already made, so no second
# (release) build of the whole workspace and the Tauri crate is needed, and the timing bounds
# the suite asserts (reconnect within 5 s, bounded memory) hold for the slower build too.
# Needs root: the disk-full scenario mounts a small tmpfs of its own.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

trap stop_rabbitmq EXIT
setup
ensure_rabbitmq
[ "$(id -u)" -eq 0 ] || die "run as root: the disk-full scenario mounts a small tmpfs of its own"

rm -rf target/reliability/full
say "reliability suite at full size (LOCKBOX_RELIABILITY=full, debug build)"
LOCKBOX_RELIABILITY=full cargo test -p lockbox-reliability --locked -- --test-threads=1
say "writing docs/RELIABILITY.md"
LOCKBOX_RELIABILITY_BUILD="debug (the cargo test profile), scenarios one at a time" \
  cargo run --quiet -p lockbox-reliability --locked --bin reliability-report -- target/reliability/full docs/RELIABILITY.md
say "docs/RELIABILITY.md written"

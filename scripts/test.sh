#!/usr/bin/env bash
# Runs every test of LockBox: installs what is missing, makes sure RabbitMQ runs (starting a
# local node when none answers at LOCKBOX_AMQP_URL), then clippy, the Rust tests and the UI tests.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

trap stop_rabbitmq EXIT
setup
ensure_rabbitmq

say "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
say "Rust tests (real RabbitMQ, real SQLite, real sockets)"
cargo test --workspace --locked
say "UI tests (vitest)"
npm run --silent test:ui
say "all tests passed"

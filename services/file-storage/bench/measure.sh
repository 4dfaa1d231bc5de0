#!/usr/bin/env bash
# Measures the FileStorageService (release build) on this machine, with baselines taken in the
# same run: a 1 GiB upload through `lockbox upload` (time, and the service's peak RSS) against
# `dd conv=fsync` (write to disk) and `sha256sum` (hash) of the same size; and how fast the
# outbox relay drains a backlog of events once RabbitMQ is reachable.
# Usage: services/file-storage/bench/measure.sh   (needs RabbitMQ at LOCKBOX_AMQP_URL)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
WORK="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
export LOCKBOX_TOKEN_SECRET="bench-secret-bench-secret-bench-secret"
export LOCKBOX_FS_MAX_FILE_BYTES=$((4 << 30)) LOCKBOX_FS_QUOTA_BYTES=$((64 << 30))
AMQP="${LOCKBOX_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
PREFIX="bench.$$."

start() { # start <port> <amqp url> [outbox batch]
  printf 'outbox_batch = %s\n' "${3:-256}" >"$WORK/fs.toml"
  "$BIN/lockbox-file-storage" --config "$WORK/fs.toml" --listen "127.0.0.1:$1" --data-dir "$WORK/data" --amqp-url "$2" \
    --amqp-prefix "$PREFIX" >>"$WORK/fs.log" 2>&1 &
  SERVICE=$!
  until curl -fsS -o /dev/null "http://127.0.0.1:$1/healthz" 2>/dev/null; do sleep 0.05; done
}
peak_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
secs() { python3 -c "import time; print(time.monotonic())"; }

export LOCKBOX_FS_URL="http://127.0.0.1:18710"
export LOCKBOX_TOKEN="$("$BIN/lockbox" token --user bench)"
head -c $((1 << 30)) /dev/urandom >"$WORK/big.bin"

t0=$(secs); dd if="$WORK/big.bin" of="$WORK/dd.out" bs=1M conv=fsync status=none; t1=$(secs)
echo "dd conv=fsync 1 GiB:        $(python3 -c "print(f'{$t1-$t0:.2f} s')")"
t0=$(secs); sha256sum "$WORK/big.bin" >/dev/null; t1=$(secs)
echo "sha256sum 1 GiB:            $(python3 -c "print(f'{$t1-$t0:.2f} s')")"
rm -f "$WORK/dd.out"

start 18710 "$AMQP"
idle=$(peak_kib $SERVICE)
t0=$(secs); "$BIN/lockbox" upload --quiet --chunk-size $((64 << 20)) "$WORK/big.bin" >/dev/null; t1=$(secs)
echo "lockbox upload 1 GiB:       $(python3 -c "print(f'{$t1-$t0:.2f} s')") (64 MiB chunks, checksum each)"
echo "service peak RSS:           idle $((idle / 1024)) MiB, after the upload $(( $(peak_kib $SERVICE) / 1024 )) MiB"
kill $SERVICE; wait $SERVICE 2>/dev/null || true

# Outbox drain: N uploads while the broker is unreachable, then restart pointed at it.
N=${N:-2000}
for i in $(seq 1 "$N"); do printf '%s' "$i" >"$WORK/e$i.txt"; done
start 18711 "amqp://guest:guest@127.0.0.1:1/%2f"
export LOCKBOX_FS_URL="http://127.0.0.1:18711"
t0=$(secs); "$BIN/lockbox" upload --quiet "$WORK"/e*.txt >/dev/null; t1=$(secs)
echo "$N small uploads, broker down: $(python3 -c "print(f'{$t1-$t0:.2f} s ({$N/($t1-$t0):.0f}/s)')")"
kill $SERVICE; wait $SERVICE 2>/dev/null || true
# The same backlog drained with 1 confirm in flight (the baseline) and with 256; the first
# drain leaves rows marked sent, so each run works on a copy of the data dir.
cp -a "$WORK/data" "$WORK/backlog"
port=18712
for batch in 1 256; do
  rm -rf "$WORK/data"; cp -a "$WORK/backlog" "$WORK/data"
  t0=$(secs); start $port "$AMQP" $batch
  until [ "$(curl -fsS http://127.0.0.1:$port/metrics | awk '$1=="lockbox_fs_outbox_backlog" {print $2}')" = "0" ]; do sleep 0.01; done
  t1=$(secs)
  echo "relay, $batch in flight, drained $N: $(python3 -c "print(f'{$t1-$t0:.2f} s incl. startup and connect ({$N/($t1-$t0):.0f} events/s)')")"
  kill $SERVICE; wait $SERVICE 2>/dev/null || true
  port=$((port + 1))
done
# The bench's queues on the shared broker (exchanges left are empty and harmless).
for q in lockbox.notification.file-events lockbox.notification.file-events.dead; do
  "${LOCKBOX_RABBITMQCTL:-rabbitmqctl}" delete_queue "$PREFIX$q" >/dev/null 2>&1 || true
done

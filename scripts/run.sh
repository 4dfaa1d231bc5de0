#!/usr/bin/env bash
# Runs LockBox on this machine: installs what is missing, makes sure RabbitMQ runs, builds,
# starts both services and opens the desktop app. Ctrl-C stops everything it started.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

RUN="$STATE/run"
mkdir -p "$RUN"
PIDS=()
cleanup() {
  trap - EXIT INT TERM
  say "stopping LockBox"
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  stop_rabbitmq
}
trap cleanup EXIT
trap 'exit 130' INT TERM

setup
ensure_rabbitmq

say "building the services and the desktop app"
cargo build --locked --bin lockbox-file-storage --bin lockbox-notification --bin lockbox-desktop --bin lockbox
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug"

# One shared secret for both services (kept across runs, readable only by you), and a token
# for the local user, so the app starts signed in.
if [ -z "${LOCKBOX_TOKEN_SECRET:-}" ]; then
  SECRET_FILE="$RUN/token-secret"
  if [ ! -s "$SECRET_FILE" ]; then
    (umask 077 && head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$SECRET_FILE")
  fi
  LOCKBOX_TOKEN_SECRET="$(cat "$SECRET_FILE")"
  export LOCKBOX_TOKEN_SECRET
fi
LOCAL_USER="${LOCKBOX_USER:-${USER:-local}}"
LOCKBOX_TOKEN="$("$BIN/lockbox" token --user "$LOCAL_USER")" || die "could not mint a token for $LOCAL_USER"
export LOCKBOX_TOKEN

export LOCKBOX_FS_LISTEN="${LOCKBOX_FS_LISTEN:-127.0.0.1:8710}"
export LOCKBOX_NS_LISTEN="${LOCKBOX_NS_LISTEN:-127.0.0.1:8720}"

say "starting the FileStorageService on $LOCKBOX_FS_LISTEN (log: .lockbox/run/file-storage.log)"
"$BIN/lockbox-file-storage" --data-dir "$RUN/file-storage" >"$RUN/file-storage.log" 2>&1 &
PIDS+=($!)
say "starting the NotificationService on $LOCKBOX_NS_LISTEN (log: .lockbox/run/notification.log)"
"$BIN/lockbox-notification" --data-dir "$RUN/notification" >"$RUN/notification.log" 2>&1 &
PIDS+=($!)
wait_http "http://$LOCKBOX_FS_LISTEN/healthz" 30 || die "the FileStorageService did not come up; see .lockbox/run/file-storage.log"
wait_http "http://$LOCKBOX_NS_LISTEN/healthz" 30 || die "the NotificationService did not come up; see .lockbox/run/notification.log"

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  # A headless machine: give the window a virtual screen so it still runs for real.
  export DISPLAY=:${LOCKBOX_XVFB_DISPLAY:-95}
  say "no display; starting Xvfb on $DISPLAY (screenshot: DISPLAY=$DISPLAY import -window root shot.png)"
  Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp >"$RUN/xvfb.log" 2>&1 &
  PIDS+=($!)
fi

export LOCKBOX_FS_URL="http://$LOCKBOX_FS_LISTEN" LOCKBOX_NS_URL="http://$LOCKBOX_NS_LISTEN"
say "opening the LockBox window, signed in as $LOCAL_USER (Ctrl-C stops everything)"
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  dbus-run-session -- "$BIN/lockbox-desktop" &
else
  "$BIN/lockbox-desktop" &
fi
APP=$!
PIDS+=($APP)
wait "$APP"

# Shared by scripts/run.sh and scripts/test.sh. Sourced, not run.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="$ROOT/.lockbox"
mkdir -p "$STATE"
export LOCKBOX_AMQP_URL="${LOCKBOX_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Debian packages: Tauri's build deps, the headless-window tools the tests use, RabbitMQ,
# and nginx-light (its DAV module is the benchmarks' upload baseline; the bench starts its own
# nginx in a temp prefix on a free port, so a system nginx, if the package starts one, is unused).
DEB_PACKAGES=(
  build-essential pkg-config libssl-dev
  libwebkit2gtk-4.1-dev librsvg2-dev libayatana-appindicator3-dev
  xvfb xdotool imagemagick dbus-x11 python3-gi gir1.2-gtk-3.0 python3-dbusmock
  webkit2gtk-driver rabbitmq-server curl nginx-light
)

install_debian_packages() {
  local missing=()
  for pkg in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq || die "apt-get update failed; check the network and try again"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || die "apt-get install failed for: ${missing[*]}"
}

install_npm_packages() {
  local stamp="$ROOT/node_modules/.lockbox-installed"
  if [ ! -f "$stamp" ] || [ "$ROOT/package-lock.json" -nt "$stamp" ]; then
    say "installing npm packages from package-lock.json"
    (cd "$ROOT" && npm ci --no-audit --no-fund) || die "npm ci failed"
    touch "$stamp"
  fi
}

build_ui() {
  say "building the front end (ui/ -> ui/dist)"
  (cd "$ROOT" && npm run --silent build:ui) || die "the front-end build failed"
}

# A real tus client nobody here wrote, for the FileStorageService tests: tuspy from PyPI, in a
# venv of its own (the python3 on PATH is not Debian's, so no apt package would reach it).
TUSPY_VERSION="1.1.0"
install_tuspy() {
  local venv="$STATE/venv"
  if "$venv/bin/python" -c "import tusclient" 2>/dev/null; then
    return 0
  fi
  say "installing tuspy $TUSPY_VERSION into .lockbox/venv"
  python3 -m venv "$venv" || die "python3 -m venv failed; install python3 with venv support"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "tuspy==$TUSPY_VERSION" \
    || die "pip install tuspy failed; check that PyPI is reachable"
}

# WebDriver for the end-to-end test: tauri-driver proxies to WebKitWebDriver (webkit2gtk-driver).
TAURI_DRIVER_VERSION="2.1.0"
install_tauri_driver() {
  local bin="${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver"
  if [ -x "$bin" ] && "$bin" --help >/dev/null 2>&1; then
    return 0
  fi
  say "installing tauri-driver $TAURI_DRIVER_VERSION (cargo install, once per machine)"
  cargo install --quiet --locked tauri-driver --version "$TAURI_DRIVER_VERSION" \
    || die "cargo install tauri-driver failed; check that crates.io is reachable"
}

setup() {
  install_debian_packages
  install_npm_packages
  install_tuspy
  install_tauri_driver
  build_ui
}

# --- RabbitMQ -------------------------------------------------------------------------------
# If nothing answers at LOCKBOX_AMQP_URL, start a node of our own on that port, with its data
# under .lockbox/rabbitmq, and remember to stop it.

amqp_host_port() {
  local rest="${LOCKBOX_AMQP_URL#*://}"
  rest="${rest#*@}"
  rest="${rest%%/*}"
  local host="${rest%%:*}" port="5672"
  [ "$rest" != "$host" ] && port="${rest##*:}"
  echo "$host" "$port"
}

amqp_reachable() {
  local host port
  read -r host port < <(amqp_host_port)
  timeout 2 bash -c ": </dev/tcp/$host/$port" 2>/dev/null
}

STARTED_RABBITMQ=""

ensure_rabbitmq() {
  if amqp_reachable; then
    say "RabbitMQ answers at $(amqp_host_port | tr ' ' ':')"
    return 0
  fi
  local host port
  read -r host port < <(amqp_host_port)
  case "$host" in 127.0.0.1|localhost) ;; *) die "RabbitMQ at $host:$port does not answer; start it or set LOCKBOX_AMQP_URL" ;; esac
  local base="$STATE/rabbitmq"
  mkdir -p "$base/home" "$base/mnesia" "$base/log"
  printf 'listeners.tcp.default = %s\nloopback_users.guest = true\n' "$port" > "$base/rabbitmq.conf"
  # A rabbitmqctl bound to this node and its cookie; the broker tests use it too.
  cat > "$base/rabbitmqctl" <<EOS
#!/bin/sh
HOME="$base/home" exec /usr/lib/rabbitmq/bin/rabbitmqctl -n lockbox@localhost "\$@"
EOS
  chmod +x "$base/rabbitmqctl"
  say "no RabbitMQ at $host:$port; starting a local node (data in .lockbox/rabbitmq)"
  HOME="$base/home" \
  RABBITMQ_NODENAME=lockbox@localhost \
  RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
  RABBITMQ_NODE_PORT="$port" \
  RABBITMQ_DIST_PORT=$((port + 20000)) \
  RABBITMQ_CONFIG_FILE="$base/rabbitmq.conf" \
  RABBITMQ_CONF_ENV_FILE=/dev/null \
  RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins" \
  RABBITMQ_MNESIA_BASE="$base/mnesia" \
  RABBITMQ_LOG_BASE="$base/log" \
    /usr/lib/rabbitmq/bin/rabbitmq-server >"$base/log/server.out" 2>&1 &
  STARTED_RABBITMQ=$!
  # await_startup fails at once until the node's distribution port is up, so retry it.
  local deadline=$((SECONDS + 120))
  until "$base/rabbitmqctl" await_startup --timeout 30 >/dev/null 2>&1; do
    kill -0 "$STARTED_RABBITMQ" 2>/dev/null && [ $SECONDS -lt $deadline ] \
      || die "the local RabbitMQ node did not start; see .lockbox/rabbitmq/log/server.out"
    sleep 0.5
  done
  export LOCKBOX_RABBITMQCTL="$base/rabbitmqctl"
  say "RabbitMQ node lockbox@localhost is up on 127.0.0.1:$port"
}

stop_rabbitmq() {
  [ -n "$STARTED_RABBITMQ" ] || return 0
  say "stopping the RabbitMQ node this script started"
  "$STATE/rabbitmq/rabbitmqctl" stop >/dev/null 2>&1 || kill "$STARTED_RABBITMQ" 2>/dev/null || true
  wait "$STARTED_RABBITMQ" 2>/dev/null || true
  STARTED_RABBITMQ=""
}

# Waits (with a deadline) until an HTTP URL answers 2xx.
wait_http() {
  local url="$1" deadline=$((SECONDS + ${2:-60}))
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

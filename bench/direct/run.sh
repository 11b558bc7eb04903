#!/usr/bin/env bash
# Runs bench.mjs (the direct-flow benchmark) inside a private network namespace made here and
# removed on exit: Chromium gathers no loopback candidates, so the namespace gives it a veth
# address and a default route that lead nowhere outside. Needs root (or CAP_NET_ADMIN), the
# release binaries (target/release/walletwire-server, walletwire-wallet), pkg/ and
# /usr/bin/chromium; bench/run.sh builds them. Arguments go to bench.mjs
# (--smoke, --repeats N, --out FILE).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

[ -d bench/direct/node_modules/playwright-core ] || npm ci --prefix bench/direct --no-audit --no-fund --silent

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
ns="walletwire-bench-$$"
cleanup() { $SUDO ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
$SUDO ip netns add "$ns"
$SUDO ip -n "$ns" link set lo up
$SUDO ip -n "$ns" link add veth0 type veth peer name veth1
$SUDO ip -n "$ns" addr add 10.77.0.1/24 dev veth0
$SUDO ip -n "$ns" addr add 10.77.0.2/24 dev veth1
$SUDO ip -n "$ns" link set veth0 up
$SUDO ip -n "$ns" link set veth1 up
$SUDO ip -n "$ns" route add default dev veth0

$SUDO ip netns exec "$ns" env "PATH=$PATH" "HOME=${HOME:-/root}" \
  SERVER_BIN="${SERVER_BIN:-$root/target/release/walletwire-server}" \
  WALLET_BIN="${WALLET_BIN:-$root/target/release/walletwire-wallet}" \
  PKG_DIR="${PKG_DIR:-$root/pkg}" \
  node bench/direct/bench.mjs "$@"

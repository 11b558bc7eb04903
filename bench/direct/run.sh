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

. scripts/netns.sh
netns_up "walletwire-bench-$$"

netns_exec SERVER_BIN="${SERVER_BIN:-$root/target/release/walletwire-server}" \
  WALLET_BIN="${WALLET_BIN:-$root/target/release/walletwire-wallet}" \
  PKG_DIR="${PKG_DIR:-$root/pkg}" \
  node bench/direct/bench.mjs "$@"

#!/usr/bin/env bash
# Runs the centrifuge-js compatibility suite (tests/relay-compat) against a freshly built
# relay binary. Needs cargo, node (>= 20) and npm.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
cargo build -p walletwire-server
export RELAY_BIN="$root/target/debug/walletwire-server"
cd "$root/tests/relay-compat"
npm ci --no-audit --no-fund --loglevel=error
node --test --test-concurrency=1

#!/usr/bin/env bash
# Browser tests of the SDK: wasm-bindgen-test in headless Chromium against the real relay
# binary, which this script starts on a free loopback port and stops at the end. Run the way
# Rust/wasm users run them, `wasm-pack test --headless --chrome` (no-install mode: the
# wasm-bindgen test runner and Debian's chromedriver that scripts/setup.sh provides); it
# builds every test target for wasm32 (the native-only ones are gated by target) and runs
# the browser suite, tests/web.rs. Arguments go to cargo test, e.g. `-- --test web`.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q -p walletwire-server
log=$(mktemp)
target/debug/walletwire-server --listen 127.0.0.1:0 >"$log" 2>"$log.err" &
relay=$!
trap 'kill $relay 2>/dev/null; wait $relay 2>/dev/null; rm -f "$log" "$log.err"' EXIT
for _ in $(seq 100); do
  url=$(grep -o 'ws://[^ ]*' "$log" || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "relay did not start:"; cat "$log.err"; exit 1; }
echo "relay at $url"

export WALLETWIRE_RELAY_URL="$url"
export CHROMEDRIVER=/usr/bin/chromedriver
export WASM_BINDGEN_TEST_TIMEOUT=300
command -v wasm-pack >/dev/null || scripts/setup.sh
wasm-pack test --headless --chrome --mode no-install "$@"

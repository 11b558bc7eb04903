#!/usr/bin/env bash
# End-to-end tests of the direct flow: builds the server, the wallet and the SDK's direct entry
# (wasm + wasm-bindgen bindings), fetches the published tari.js client (fetch-tarijs.mjs), then
# runs every tests/direct/*.test.mjs (direct.test.mjs: the flow; attacks.test.mjs: permission
# escalation over the data channel; tari.test.mjs: tari.js's TariConnection against our
# servers) in headless Chromium inside a private network namespace made here and removed on
# exit (Chromium gathers no loopback candidates; the namespace has a veth pair and a default
# route that lead nowhere). Needs root (or CAP_NET_ADMIN) for `ip netns`, /usr/bin/chromium,
# node and npm.
# DIRECT_TESTS="attacks.test.mjs" runs only the files named; arguments go to `node --test`.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

cargo build -q -p walletwire-server -p walletwire-wallet
# The `walletwire/direct` entry as scripts/build-pkg.sh builds it (feature `direct` only),
# without wasm-opt: pkg/direct.js, which the test pages and www/direct.html import.
cargo build -q -p walletwire --lib --target wasm32-unknown-unknown --release \
  --no-default-features --features direct
mkdir -p target/direct-e2e
wasm-bindgen --target web --out-dir target/direct-e2e/pkg --out-name direct \
  target/wasm32-unknown-unknown/release/walletwire.wasm
npm ci --prefix tests/direct --no-audit --no-fund --silent
# The published tari.js client for tari.test.mjs (fetched here: the namespace has no network).
tarijs=$(node tests/direct/fetch-tarijs.mjs)

. scripts/netns.sh
netns_up "walletwire-direct-$$"

tests=""
for t in ${DIRECT_TESTS:-$(cd tests/direct && echo *.test.mjs)}; do tests="$tests tests/direct/$t"; done
echo "== direct flow end-to-end (namespace $ns):$tests"
netns_exec SERVER_BIN="$root/target/debug/walletwire-server" WALLET_BIN="$root/target/debug/walletwire-wallet" \
  PKG_DIR="$root/target/direct-e2e/pkg" TARIJS="$tarijs" \
  node --test --test-concurrency=1 --test-timeout=180000 "$@" $tests

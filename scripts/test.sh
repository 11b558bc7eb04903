#!/usr/bin/env bash
# Sets up and runs every walletwire test: formatting, lints (native and wasm32), the native
# workspace tests (core, relay over real WebSockets, Redis broker against a real
# redis-server, reference wallet over the real relay), the centrifuge-js compatibility suite,
# the SDK's browser tests in headless Chromium against the real relay, and the end-to-end
# tests of the demo pages, the native wallet and the Vite example, the size budget of every
# npm entry (scripts/size-budget.json), the direct flow (WebRTC to
# the wallet daemon) end to end inside a private network namespace, a few seconds of every
# fuzz target, and one short iteration of the benchmark harness (so it does not rot; no
# numbers are checked). Fault-injection and attack tests are part of the native and e2e runs.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

echo "== cargo fmt"
cargo fmt --all --check
echo "== cargo clippy (native)"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo clippy (wasm32)"
cargo clippy -p walletwire --target wasm32-unknown-unknown --lib --test web -- -D warnings
echo "== cargo clippy (wasm32, each npm entry's cargo feature alone)"
for feature in dapp wallet direct; do
  cargo clippy -p walletwire --target wasm32-unknown-unknown --lib --no-default-features \
    --features "$feature" -- -D warnings
done
echo "== cargo doc"
RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps -q
echo "== native tests"
cargo test --workspace
echo "== wasm32 release build of the SDK"
cargo build -p walletwire --target wasm32-unknown-unknown --release
echo "== npm package: every entry within its size budget (scripts/size-budget.json)"
scripts/build-pkg.sh
node scripts/size.mjs --check
echo "== centrifuge-js compatibility suite"
server/tests/run-compat.sh
echo "== browser tests (headless Chromium, real relay)"
scripts/test-browser.sh
echo "== end-to-end tests of the demo (playwright-core, headless Chromium)"
tests/e2e/run.sh
echo "== direct flow end to end (Chromium, signaling server, wallet daemon, private netns)"
tests/direct/run.sh
echo "== fuzz harness: its unit tests and the committed seeds (current, and passing)"
(cd fuzz && cargo test -q --lib && cargo run -q --example seeds -- --check)
echo "== fuzz smoke (every cargo-fuzz target for a few seconds, stable toolchain)"
scripts/fuzz.sh --smoke
echo "== benchmark harness smoke (one short iteration of every benchmark)"
bench/run.sh --smoke
echo "== all tests passed"

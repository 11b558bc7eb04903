#!/usr/bin/env bash
# Sets up and runs every walletwire test: formatting, lints, the native workspace tests (core,
# relay over real WebSockets, Redis broker against a real redis-server), the wasm32 build of
# the SDK, and the centrifuge-js compatibility suite against the real relay binary.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

echo "== cargo fmt"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== native tests"
cargo test --workspace
echo "== wasm32 build of the SDK"
cargo build -p walletwire --target wasm32-unknown-unknown --release
if [ -x server/tests/run-compat.sh ]; then
  echo "== centrifuge-js compatibility suite"
  server/tests/run-compat.sh
fi
echo "== all tests passed"

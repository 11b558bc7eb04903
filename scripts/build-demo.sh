#!/usr/bin/env bash
# Builds everything the demo runs: the machine setup (scripts/setup.sh), the npm package in
# pkg/ (scripts/build-pkg.sh), the demo pages' viem bundle (scripts/vendor.mjs) and the
# release binaries. Idempotent; scripts/demo.sh and the
# end-to-end tests (tests/e2e/run.sh) both call it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
echo "== building the npm package (pkg/)"
scripts/build-pkg.sh
echo "== bundling viem for the demo pages (www/vendor/evm.js)"
[ -d tools/node_modules/viem ] && [ -d tools/node_modules/esbuild ] || npm ci --prefix tools --no-audit --no-fund --silent
node scripts/vendor.mjs
echo "== building the release binaries"
cargo build -q --release -p walletwire-server -p walletwire-wallet

#!/usr/bin/env bash
# End-to-end tests of the demo in headless Chromium (/usr/bin/chromium via playwright-core):
# builds what the demo runs (scripts/build-demo.sh, as scripts/demo.sh does), installs the
# tests' npm dependencies and the Vite example's, then runs every tests/e2e/*.test.js. Each
# test file starts the demo with scripts/serve-demo.sh on a free port and stops it at the end.
# Screenshots land in artifacts/screenshots/. E2E_VERBOSE=1 shows the services' output.
set -euo pipefail
cd "$(dirname "$0")/../.."

# WALLETWIRE_E2E_NO_BUILD=1 skips the build when the caller just did it.
[ "${WALLETWIRE_E2E_NO_BUILD:-}" = 1 ] || scripts/build-demo.sh
echo "== npm dependencies (tests/e2e, examples/vite-dapp)"
npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error
npm ci --prefix examples/vite-dapp --no-audit --no-fund --loglevel=error
echo "== end-to-end tests"
cd tests/e2e
node --test --test-concurrency=1 --test-timeout=180000 "$@" ./*.test.js

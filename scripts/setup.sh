#!/usr/bin/env bash
# Installs what building and testing walletwire needs on a fresh Debian machine. Idempotent:
# installs only what is missing. Debian's `binaryen` is deliberately not installed (its
# wasm-opt breaks current wasm-bindgen output); wasm-opt comes from npm when needed.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v node >/dev/null || need_apt+=(nodejs npm)
command -v cc >/dev/null || need_apt+=(build-essential)
command -v ip >/dev/null || need_apt+=(iproute2)
if [ "${WALLETWIRE_NO_BROWSER:-}" != 1 ]; then
  [ -x /usr/bin/chromium ] || need_apt+=(chromium)
  [ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

if ! command -v cargo >/dev/null; then
  echo "cargo not found: install Rust with rustup first (https://rustup.rs)" >&2
  exit 1
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

# wasm-bindgen's CLI (and its test runner) must match the library version in Cargo.lock
# exactly. No --locked: its own lockfile pins a crate version the registry lacks.
want=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3}' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ -n "$want" ] && [ "$want" != "$have" ]; then
  cargo install -q wasm-bindgen-cli --version "$want"
fi

# wasm-pack runs the browser tests as Rust/wasm users run them (`wasm-pack test --headless
# --chrome`, scripts/test-browser.sh), with `--mode no-install`: it takes wasm-bindgen's test
# runner installed above and Debian's chromedriver, and downloads nothing.
WASM_PACK_VERSION=0.15.1
if ! wasm-pack --version 2>/dev/null | grep -qF "$WASM_PACK_VERSION"; then
  cargo install -q wasm-pack --version "$WASM_PACK_VERSION" --locked
fi

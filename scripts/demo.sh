#!/usr/bin/env bash
# Sets up and runs the walletwire demo. Until the browser pages land, the demo pairs a dApp
# and the reference wallet through the relay-flow core in one process, in both modes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build -q --release -p walletwire-wallet
target/release/walletwire-wallet demo --mode untrusted
echo
target/release/walletwire-wallet demo --mode trusted

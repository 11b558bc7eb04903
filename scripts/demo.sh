#!/usr/bin/env bash
# Sets up, builds and runs the walletwire demo on 127.0.0.1: the relay with the memory broker,
# the demo pages and the npm package, all on one origin (PORT, default 8080). Prints the URLs
# to open; Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build-demo.sh
exec scripts/serve-demo.sh

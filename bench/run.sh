#!/usr/bin/env bash
# Runs every walletwire benchmark on this machine and writes BENCHMARKS.md at the repo root.
#
#   bench/run.sh                 full run (3 repeats; about 25 min on 2 cores, builds included)
#   bench/run.sh --repeats 5     full run, 5 repeats
#   bench/run.sh --smoke         one short iteration of every script (CI: the harness must not
#                                rot; about 2 min once the builds are warm) with debug binaries
#                                (the ones `cargo test --workspace` built); writes the report to
#                                bench/results/BENCHMARKS.smoke.md, not BENCHMARKS.md
#   bench/run.sh --smoke --release   the smoke run with release binaries
#   bench/run.sh ... --out FILE  the report goes to FILE
#
# Steps: scripts/setup.sh (apt packages, rustup target, wasm-bindgen), builds of
# walletwire-server, walletwire-wallet and wallet/examples/bench_rtt, pkg/ (scripts/build-pkg.sh),
# bench/peers/build.sh, npm ci of each bench directory, then each measurement script writes one
# JSON file into bench/results/ and bench/report.mjs renders them. Fails (non-zero) as soon as
# any step fails. Loopback only; the direct-flow bench makes (and removes) a private network
# namespace for WebRTC, so it needs root or sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

smoke=0
release=""
repeats=""
out=""
command_line="bench/run.sh${*:+ $*}"
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --release) release=1 ;;
    --repeats) repeats="$2"; shift ;;
    --out) out="$2"; shift ;;
    *) echo "bench/run.sh: unknown argument $1 (use --smoke, --release, --repeats N, --out FILE)" >&2; exit 2 ;;
  esac
  shift
done

started_ms=$(($(date +%s%N) / 1000000))
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
args=()
if [ "$smoke" = 1 ]; then
  args+=(--smoke)
  mode="smoke: one short iteration per script, numbers not meaningful"
  [ -n "$out" ] || out="bench/results/BENCHMARKS.smoke.md"
  release=${release:-0}
else
  release=1
  repeats=${repeats:-3}
  args+=(--repeats "$repeats")
  mode="full, $repeats repeats"
  [ -n "$out" ] || out="BENCHMARKS.md"
fi
step() { echo "== bench: $* ($(( $(date +%s) - started_ms / 1000 )) s)"; }

step "setup"
scripts/setup.sh

profile=debug; cargo_profile=()
if [ "$release" = 1 ]; then profile=release; cargo_profile=(--release); fi
step "$profile builds (relay, wallet, bench_rtt)"
cargo build -q "${cargo_profile[@]}" -p walletwire-server -p walletwire-wallet --bins --example bench_rtt
bin="$root/target/$profile"
# The relay's load generator is built for speed (the workspace's release profile is size-first
# for the wasm), in its own target directory; the smoke run takes the debug build.
if [ "$release" = 1 ]; then
  step "load generator, speed-first (bench/loadgen)"
  CARGO_PROFILE_RELEASE_OPT_LEVEL=3 cargo build -q --release -p walletwire-loadgen --target-dir target/loadgen
  export LOADGEN_BIN="$root/target/loadgen/release/walletwire-loadgen"
else
  cargo build -q -p walletwire-loadgen
  export LOADGEN_BIN="$bin/walletwire-loadgen"
fi
export RELAY_BIN="$bin/walletwire-server" SERVER_BIN="$bin/walletwire-server" \
  WALLET_BIN="$bin/walletwire-wallet" BENCH_RTT_BIN="$bin/examples/bench_rtt" WALLETWIRE_BIN_DIR="$bin"

step "pkg/ (scripts/build-pkg.sh)"
scripts/build-pkg.sh

step "bench/peers/build.sh"
bench/peers/build.sh

for dir in bench/relay bench/direct bench/peers; do
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    npm ci --prefix "$dir" --no-audit --no-fund --silent
  fi
done

# The relay bench holds 50,000 connections: one descriptor each in the relay (started through
# prlimit above this limit) and in the load generator (which raises its own).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

results=bench/results
rm -rf "$results"
mkdir -p "$results"
export BENCH_OUT_DIR="$root/$results"

step "bundle size (bench/peers/bundle.mjs)"
node bench/peers/bundle.mjs "${args[@]}" --out "$results/bundle.json"
step "browser: crypto, connect, rtt (bench/peers/browser.mjs)"
node bench/peers/browser.mjs "${args[@]}" --out-dir "$results"
step "relay: memory and Redis brokers, 1-3 nodes (bench/relay/bench.mjs)"
node bench/relay/bench.mjs "${args[@]}" --out "$results/relay.json"
step "direct flow (bench/direct/run.sh, private netns)"
bench/direct/run.sh "${args[@]}" --out "$results/direct.json"
step "native dApp and wallet (bench/native/bench.mjs)"
node bench/native/bench.mjs "${args[@]}" --out "$results/native.json"

step "report"
for id in bundle crypto connect rtt relay relay-scale direct native; do
  [ -s "$results/$id.json" ] || { echo "bench/run.sh: $results/$id.json is missing" >&2; exit 1; }
done
BENCH_COMMAND="$command_line" BENCH_MODE="$mode" BENCH_STARTED="$started_ms" BENCH_LOADAVG="$loadavg" \
  node bench/report.mjs --dir "$results" --out "$out"
step "done: $out"

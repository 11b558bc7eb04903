#!/usr/bin/env bash
# Builds what the bench/peers pages load, into bench/peers/build/ (gitignored):
#   build/mwp-dapp.js, build/mwp-wallet.js  MetaMask MWP dApp and wallet sides (esbuild
#                                            bundles with the Buffer polyfill browsers need)
#   build/crypto.js                          @noble/ciphers + eciesjs for the cipher page
#   build/wasm/                              walletwire's dApp entry (feature `dapp`) with
#                                            the `bench` cargo feature (src/web/bench.rs),
#                                            release profile + wasm-opt -Oz
#                                            like scripts/build-pkg.sh, in its own target dir
#                                            so it never mixes with pkg/'s build
#   build/wasm-o3/                           the same built for speed (opt-level 3, wasm-opt
#                                            -O3): the crypto table's "not shipped" column.
#                                            Skipped with --no-fast.
# Needs: node/npm, the wasm32 target, wasm-bindgen (scripts/setup.sh installs them), and
# tools/ (npm binaryen, installed here if missing). pkg/ itself is built by scripts/build-pkg.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
fast=1
for arg in "$@"; do
  case "$arg" in
    --no-fast) fast=0 ;;
    *) echo "usage: bench/peers/build.sh [--no-fast]" >&2; exit 2 ;;
  esac
done

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --silent
fi

mkdir -p build/wasm
esbuild=node_modules/.bin/esbuild
common=(--bundle --minify --format=esm --platform=browser --log-level=warning)
"$esbuild" entries/mwp-dapp.js "${common[@]}" --inject:entries/buffer-shim.js --outfile=build/mwp-dapp.js
"$esbuild" entries/mwp-wallet.js "${common[@]}" --inject:entries/buffer-shim.js --outfile=build/mwp-wallet.js
"$esbuild" entries/crypto.js "${common[@]}" --outfile=build/crypto.js

cd "$root"
[ -x tools/node_modules/.bin/wasm-opt ] || npm ci --prefix tools --no-audit --no-fund --silent
# build_wasm OUT_DIR TARGET_DIR WASM_OPT_LEVEL [CARGO_OPT_LEVEL]: the `bench` feature build of
# the root crate, with the release profile (its opt-level replaced when CARGO_OPT_LEVEL is given).
build_wasm() {
  local out="$here/build/$1" target_dir=$2 level=$3
  local -a env=()
  [ -n "${4:-}" ] && env=("CARGO_PROFILE_RELEASE_OPT_LEVEL=$4")
  env "${env[@]}" cargo build -q -p walletwire --lib --release --target wasm32-unknown-unknown \
    --no-default-features --features dapp,bench \
    --target-dir "$target_dir"
  local wasm="$target_dir/wasm32-unknown-unknown/release/walletwire.wasm"
  # Up to date when the optimised output is newer than cargo's (wasm-opt takes a while).
  if [ -f "$out/walletwire_bench.js" ] && [ "$out/walletwire_bench_bg.wasm" -nt "$wasm" ]; then
    return 0
  fi
  rm -rf "$out"
  wasm-bindgen --target web --out-dir "$out" --out-name walletwire_bench "$wasm"
  # shellcheck disable=SC2086 # $level may be several flags
  tools/node_modules/.bin/wasm-opt $level --strip-debug --strip-producers \
    --enable-bulk-memory --enable-reference-types --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-multivalue \
    "$out/walletwire_bench_bg.wasm" -o "$out/walletwire_bench_bg.wasm"
}
# As shipped: the root Cargo.toml's size-first release profile and build-pkg.sh's wasm-opt flags.
build_wasm wasm target/bench-peers "-Oz --converge --low-memory-unused"
if [ "$fast" = 1 ]; then
  build_wasm wasm-o3 target/bench-peers-o3 -O3 3
else
  rm -rf "$here/build/wasm-o3"
fi
echo "bench/peers/build: $(cd "$here/build" && ls | tr '\n' ' ')"

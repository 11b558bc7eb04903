#!/usr/bin/env bash
# Builds the npm package into pkg/: wasm-pack (ES module + typings), then wasm-opt -Oz from
# npm binaryen, then the package.json fields a bundler needs. Prints the shipped sizes.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wasm-pack >/dev/null || cargo install -q wasm-pack --version 0.15.1 --locked
[ -x tools/node_modules/.bin/wasm-opt ] || npm ci --prefix tools --no-audit --no-fund --silent

wasm-pack build --mode no-install --target web --release --out-dir pkg --out-name walletwire >/dev/null
tools/node_modules/.bin/wasm-opt -Oz --strip-debug --strip-producers \
  --enable-bulk-memory --enable-reference-types --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-multivalue \
  pkg/walletwire_bg.wasm -o pkg/walletwire_bg.wasm

node - <<'JS'
const fs = require("fs");
const path = "pkg/package.json";
const pkg = JSON.parse(fs.readFileSync(path, "utf8"));
pkg.type = "module";
pkg.main = "walletwire.js";
pkg.exports = {
  ".": { types: "./walletwire.d.ts", import: "./walletwire.js", default: "./walletwire.js" },
  "./walletwire_bg.wasm": "./walletwire_bg.wasm",
  "./package.json": "./package.json",
};
pkg.sideEffects = false;
pkg.homepage = pkg.repository ? pkg.repository.url : undefined;
fs.writeFileSync(path, JSON.stringify(pkg, null, 2) + "\n");
JS

wasm=$(stat -c %s pkg/walletwire_bg.wasm)
wasm_gz=$(gzip -9c pkg/walletwire_bg.wasm | wc -c)
js=$(stat -c %s pkg/walletwire.js)
js_gz=$(gzip -9c pkg/walletwire.js | wc -c)
echo "pkg/: wasm ${wasm} B (${wasm_gz} B gzip), js ${js} B (${js_gz} B gzip), total gzip $((wasm_gz + js_gz)) B"

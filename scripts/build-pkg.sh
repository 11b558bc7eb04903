#!/usr/bin/env bash
# Builds the npm package into pkg/: one wasm build per entry, each with only its cargo feature
# (the dApp entry carries no wallet or WebRTC code), then wasm-bindgen (ES module + typings)
# and wasm-opt -Oz --converge from npm binaryen, then the package.json with the subpath exports:
#
#   walletwire          feature dapp     pkg/walletwire.js  walletwire_bg.wasm  walletwire.d.ts
#   walletwire/wallet   feature wallet   pkg/wallet.js      wallet_bg.wasm      wallet.d.ts
#   walletwire/direct   feature direct   pkg/direct.js      direct_bg.wasm      direct.d.ts
#   walletwire/eip1193  plain JS (js/)   pkg/eip1193.js     (no wasm)           eip1193.d.ts
#   walletwire/wagmi    plain JS (js/)   pkg/wagmi.js       (no wasm)           wagmi.d.ts
#
# Each wasm entry initialises its own module (`await init()` from each entry a page imports);
# walletwire/eip1193 is an EIP-1193 provider over a DappClient the page passes it, copied as
# written; walletwire/wagmi is a wagmi connector over that provider, copied as written, which
# imports `@wagmi/core` (an optional peer dependency: only pages using that entry need it).
# Prints every entry's shipped sizes (scripts/size.mjs; `--check` there compares them with
# scripts/size-budget.json).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wasm-bindgen >/dev/null || scripts/setup.sh
[ -x tools/node_modules/.bin/wasm-opt ] || npm ci --prefix tools --no-audit --no-fund --silent

# entry name, cargo feature, output name
entries=("walletwire dapp walletwire" "wallet wallet wallet" "direct direct direct")
rm -rf pkg
mkdir -p pkg
for entry in "${entries[@]}"; do
  read -r name feature out <<<"$entry"
  cargo build -q -p walletwire --lib --release --target wasm32-unknown-unknown \
    --no-default-features --features "$feature"
  wasm-bindgen --target web --out-dir pkg --out-name "$out" \
    target/wasm32-unknown-unknown/release/walletwire.wasm
  # --low-memory-unused: wasm-ld puts data at 1024 and up (its --global-base), so addresses
  # below 1 KiB are never used and wasm-opt may fold offsets into them.
  tools/node_modules/.bin/wasm-opt -Oz --converge --low-memory-unused --strip-debug --strip-producers \
    --enable-bulk-memory --enable-reference-types --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-multivalue \
    "pkg/${out}_bg.wasm" -o "pkg/${out}_bg.wasm"
done

cp js/eip1193.js js/eip1193.d.ts js/wagmi.js js/wagmi.d.ts pkg/

node - <<'JS'
const fs = require("fs");
const cargo = fs.readFileSync("Cargo.toml", "utf8");
const field = (name) => cargo.match(new RegExp(`^${name} = "([^"]*)"`, "m"))?.[1];
const entry = (out) => ({ types: `./${out}.d.ts`, import: `./${out}.js`, default: `./${out}.js` });
const outs = ["walletwire", "wallet", "direct"];
const pkg = {
  name: "walletwire",
  type: "module",
  description: field("description"),
  version: field("version"),
  license: field("license"),
  repository: { type: "git", url: field("repository") },
  homepage: field("repository"),
  files: [
    ...outs.flatMap((out) => [`${out}.js`, `${out}.d.ts`, `${out}_bg.wasm`, `${out}_bg.wasm.d.ts`]),
    "eip1193.js",
    "eip1193.d.ts",
    "wagmi.js",
    "wagmi.d.ts",
  ],
  main: "walletwire.js",
  types: "walletwire.d.ts",
  exports: {
    ".": entry("walletwire"),
    "./wallet": entry("wallet"),
    "./direct": entry("direct"),
    "./eip1193": entry("eip1193"),
    "./wagmi": entry("wagmi"),
    ...Object.fromEntries(outs.map((out) => [`./${out}_bg.wasm`, `./${out}_bg.wasm`])),
    "./package.json": "./package.json",
  },
  peerDependencies: { "@wagmi/core": "^2.22.1 || ^3" },
  peerDependenciesMeta: { "@wagmi/core": { optional: true } },
  sideEffects: false,
  keywords: ["wallet", "webassembly", "e2ee", "websocket", "webrtc", "eip-1193", "ethereum"],
};
fs.writeFileSync("pkg/package.json", JSON.stringify(pkg, null, 2) + "\n");
JS
cp README.md LICENSE pkg/
node scripts/size.mjs

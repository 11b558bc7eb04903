#!/usr/bin/env node
// Bundle size: everything a dApp ships to connect, minified, then gzip -9 and brotli.
//
//   walletwire: pkg/ as scripts/build-pkg.sh builds it (wasm after wasm-opt -Oz, plus the
//               JS glue bundled and minified by esbuild from an entry importing `init` and
//               `DappClient`);
//   MetaMask mobile wallet protocol: dapp-client + core + centrifuge + eciesjs and the key
//               manager / localStorage store a dApp must write itself (entries/mwp-dapp.js);
//   WalletConnect: @walletconnect/sign-client (entries/wc-dapp.js).
// Each JS entry is bundled the same way: esbuild --bundle --minify --format=esm
// --platform=browser. Sizes are deterministic, so --repeats and --smoke change nothing.
//
//   node bench/peers/bundle.mjs [--smoke] [--repeats N] [--out FILE] [--pkg DIR]

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { codeByOrigin } from "./lib/wasm-code.mjs";
import { PEERS, ROOT, packageVersion, parseArgs, ratio, writeResult } from "./lib/common.mjs";

const options = parseArgs();

function compressed(bytes) {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    }).length,
  };
}

/** Bundles one entry (a file, or `{contents, resolveDir}`) and returns the minified JS. */
async function bundle(entry, extra = {}) {
  const result = await esbuild.build({
    ...(typeof entry === "string" ? { entryPoints: [entry] } : { stdin: { ...entry, loader: "js" } }),
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    write: false,
    metafile: true,
    logLevel: "error",
    ...extra,
  });
  const js = result.outputFiles[0].contents;
  // Bytes of the minified output per npm package (for the notes).
  const byPackage = {};
  for (const [path, info] of Object.entries(result.metafile.outputs)[0][1].inputs ? Object.entries(Object.values(result.metafile.outputs)[0].inputs) : []) {
    const match = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
    const name = match ? match[1] : "(own code)";
    byPackage[name] = (byPackage[name] ?? 0) + info.bytesInOutput;
  }
  return { js, byPackage };
}

function topPackages(byPackage, n = 6) {
  return Object.entries(byPackage)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(1)} KiB`)
    .join(", ");
}

const pkgJs = join(options.pkg, "walletwire.js");
const pkgWasm = join(options.pkg, "walletwire_bg.wasm");
for (const file of [pkgJs, pkgWasm]) {
  if (!existsSync(file)) throw new Error(`${file} is missing: run scripts/build-pkg.sh`);
}

// walletwire: the glue as a dApp imports it, plus the wasm file it fetches.
const ww = await bundle({
  contents: `export { default as init, DappClient } from ${JSON.stringify(pkgJs)};`,
  resolveDir: PEERS,
});
const wwWasm = readFileSync(pkgWasm);
const wwJs = compressed(ww.js);
const wwWasmSize = compressed(wwWasm);

const mwp = await bundle(join(PEERS, "entries", "mwp-dapp.js"));
const mwpShim = await bundle(join(PEERS, "entries", "mwp-dapp.js"), { inject: [join(PEERS, "entries", "buffer-shim.js")] });
const wc = await bundle(join(PEERS, "entries", "wc-dapp.js"));
const mwpJs = compressed(mwp.js);
const mwpShimJs = compressed(mwpShim.js);
const wcJs = compressed(wc.js);

const total = (a, b = { raw: 0, gzip: 0, brotli: 0 }) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli });
const wwTotal = total(wwJs, wwWasmSize);

const rows = [
  ["JS, minified (B)", wwJs.raw, mwpJs.raw, wcJs.raw, "", ""],
  ["JS, gzip -9 (B)", wwJs.gzip, mwpJs.gzip, wcJs.gzip, "", ""],
  ["wasm, after wasm-opt -Oz (B)", wwWasmSize.raw, 0, 0, "", ""],
  ["wasm, gzip -9 (B)", wwWasmSize.gzip, 0, 0, "", ""],
  ["**total, minified (B)**", wwTotal.raw, mwpJs.raw, wcJs.raw, ratio(mwpJs.raw, wwTotal.raw), ratio(wcJs.raw, wwTotal.raw)],
  ["**total, gzip -9 (B)**", wwTotal.gzip, mwpJs.gzip, wcJs.gzip, ratio(mwpJs.gzip, wwTotal.gzip), ratio(wcJs.gzip, wwTotal.gzip)],
  ["total, brotli -11 (B)", wwTotal.brotli, mwpJs.brotli, wcJs.brotli, ratio(mwpJs.brotli, wwTotal.brotli), ratio(wcJs.brotli, wwTotal.brotli)],
  ["total gzip, MWP with the Buffer polyfill a browser needs (B)", wwTotal.gzip, mwpShimJs.gzip, wcJs.gzip, ratio(mwpShimJs.gzip, wwTotal.gzip), ""],
];

// Where walletwire's wasm code comes from: build.sh's `bench` feature build (the same code and
// release profile as pkg/ plus two small benchmark loops) still has function names before
// wasm-opt, unlike pkg/.
const notes = [];
const unstripped = join(ROOT, "target", "bench-peers", "wasm32-unknown-unknown", "release", "walletwire.wasm");
if (existsSync(unstripped)) {
  const origin = codeByOrigin(readFileSync(unstripped));
  if (origin) {
    const parts = origin.groups
      .filter(([, bytes]) => bytes / origin.total >= 0.015)
      .map(([name, bytes]) => `${name} ${((100 * bytes) / origin.total).toFixed(0)}%`)
      .join(", ");
    notes.push(
      `Where walletwire's wasm code comes from (function bodies before wasm-opt, ${Math.round(origin.total / 1024)} KiB, of the bench/peers build of the same code and profile; grouped by the first crate or module each mangled name mentions, so generic code counts for the crate defining it, e.g. serde_json's parser instantiated for walletwire types counts as serde_json): ${parts}.`,
    );
  }
}

const versions = {
  esbuild: esbuild.version,
  "@metamask/mobile-wallet-protocol-dapp-client": packageVersion("@metamask/mobile-wallet-protocol-dapp-client"),
  "@metamask/mobile-wallet-protocol-core": packageVersion("@metamask/mobile-wallet-protocol-core"),
  centrifuge: packageVersion("centrifuge"),
  eciesjs: packageVersion("eciesjs"),
  "@walletconnect/sign-client": packageVersion("@walletconnect/sign-client"),
  buffer: packageVersion("buffer"),
  walletwire: JSON.parse(readFileSync(join(options.pkg, "package.json"), "utf8")).version,
};

writeResult(options, {
  id: "bundle",
  title: "Bundle size (minified + gzip)",
  about:
    "Everything a dApp ships to connect, all bundled in the same run with esbuild `--bundle --minify --format=esm " +
    "--platform=browser`, then compressed with node's zlib (gzip level 9, brotli quality 11). walletwire: `pkg/` as " +
    "`scripts/build-pkg.sh` builds it (the wasm after `wasm-opt -Oz`, which the page fetches, plus the JS glue bundled " +
    "from an entry importing `init` and `DappClient`). MetaMask MWP: `-dapp-client` + `-core` (with `centrifuge`) + " +
    "`eciesjs`, plus the key manager and localStorage store a dApp has to write itself (bench/peers/entries/mwp-dapp.js). " +
    "WalletConnect: `@walletconnect/sign-client` (`SignClient`). Bytes; ratio columns are peer / walletwire " +
    "(>1 means walletwire ships less). Sizes are deterministic: one measurement.",
  columns: [
    "measure",
    "walletwire",
    "MetaMask MWP",
    "WalletConnect sign-client",
    "ratio MWP / walletwire",
    "ratio WalletConnect / walletwire",
  ],
  rows,
  notes: [
    `walletwire's wasm holds both flows (relay and WebRTC direct), both clients (DappClient and WalletClient) and the QR encoder: a dApp using only the relay flow still downloads all of it; a relay-only size is not measurable without a cargo feature that splits them.`,
    `MWP's SessionStore calls \`Buffer\`, which browsers lack: a browser dApp also needs a Buffer polyfill (npm \`buffer\`, +${mwpShimJs.gzip - mwpJs.gzip} B gzip), shown in the last row; the main rows leave it out.`,
    `Largest parts of the MWP bundle (minified): ${topPackages(mwp.byPackage)}.`,
    `Largest parts of the WalletConnect bundle (minified): ${topPackages(wc.byPackage)}.`,
    ...notes,
  ],
  versions,
});

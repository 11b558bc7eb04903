#!/usr/bin/env node
// Bundle size: everything a dApp ships to connect, minified, then gzip -9 and brotli.
//
//   walletwire: pkg/ as scripts/build-pkg.sh builds it (wasm after wasm-opt -Oz --converge, plus the
//               JS glue bundled and minified by esbuild from an entry importing `init` and
//               `DappClient`);
//   MetaMask mobile wallet protocol: dapp-client + core + centrifuge + eciesjs and the key
//               manager / localStorage store a dApp must write itself (entries/mwp-dapp.js);
//   WalletConnect: @walletconnect/sign-client (entries/wc-dapp.js).
// Each JS entry is bundled the same way: esbuild --bundle --minify --format=esm
// --platform=browser. Sizes are deterministic, so --repeats and --smoke change nothing.
//
//   node bench/peers/bundle.mjs [--smoke] [--repeats N] [--out FILE] [--pkg DIR]

import { execFileSync } from "node:child_process";
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

// walletwire: each npm entry as an app imports it (the glue bundled and minified) plus the wasm
// file that entry fetches. The dApp entry is what a relay-flow dApp ships.
const ENTRIES = [
  { label: "walletwire (dApp, relay flow: init + DappClient)", stem: "walletwire", names: "default as init, DappClient" },
  { label: "walletwire/wallet (init + WalletClient)", stem: "wallet", names: "default as init, WalletClient" },
  { label: "walletwire/direct (init + WalletDaemonConnector)", stem: "direct", names: "default as init, WalletDaemonConnector" },
];
const entries = [];
for (const entry of ENTRIES) {
  const js = join(options.pkg, `${entry.stem}.js`);
  const wasm = join(options.pkg, `${entry.stem}_bg.wasm`);
  for (const file of [js, wasm]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run scripts/build-pkg.sh`);
  }
  const glue = await bundle({ contents: `export { ${entry.names} } from ${JSON.stringify(js)};`, resolveDir: PEERS });
  entries.push({ ...entry, js: compressed(glue.js), wasm: compressed(readFileSync(wasm)) });
}

// The adapters: plain JS over the dApp entry, measured as what each adds to it. walletwire/wagmi
// includes walletwire/eip1193 (it builds on it) and leaves out `@wagmi/core`, which the app
// already bundles for itself.
const ADAPTERS = [
  { label: "walletwire/eip1193 (createEip1193Provider, announceProvider), added to the dApp entry", stem: "eip1193", names: "createEip1193Provider, announceProvider" },
  { label: "walletwire/wagmi (the walletwire connector, with walletwire/eip1193), added to the dApp entry", stem: "wagmi", names: "walletwire", external: ["@wagmi/core"] },
];
const adapters = [];
for (const adapter of ADAPTERS) {
  const js = join(options.pkg, `${adapter.stem}.js`);
  if (!existsSync(js)) throw new Error(`${js} is missing: run scripts/build-pkg.sh`);
  const glue = await bundle(
    { contents: `export { ${adapter.names} } from ${JSON.stringify(js)};`, resolveDir: PEERS },
    adapter.external ? { external: adapter.external } : {},
  );
  adapters.push({ ...adapter, js: compressed(glue.js) });
}

const mwp = await bundle(join(PEERS, "entries", "mwp-dapp.js"));
const mwpShim = await bundle(join(PEERS, "entries", "mwp-dapp.js"), { inject: [join(PEERS, "entries", "buffer-shim.js")] });
const wc = await bundle(join(PEERS, "entries", "wc-dapp.js"));
const mwpJs = compressed(mwp.js);
const mwpShimJs = compressed(mwpShim.js);
const wcJs = compressed(wc.js);

const none = { raw: 0, gzip: 0, brotli: 0 };
const row = (label, js, wasm = none) => {
  const gzip = js.gzip + wasm.gzip;
  return [
    label, js.raw, js.gzip, wasm.raw || "", wasm.gzip || "", js.raw + wasm.raw, gzip, js.brotli + wasm.brotli,
    ratio(mwpJs.gzip, gzip), ratio(wcJs.gzip, gzip),
  ];
};
const adapterRow = (label, js) => [label, js.raw, js.gzip, "", "", js.raw, js.gzip, js.brotli, "", ""];
const rows = [
  ...entries.map((e) => row(`**${e.label}**`, e.js, e.wasm)),
  ...adapters.map((a) => adapterRow(a.label, a.js)),
  row("MetaMask MWP (dApp client)", mwpJs),
  row("MetaMask MWP with the Buffer polyfill a browser needs", mwpShimJs),
  row("WalletConnect sign-client", wcJs),
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

// twiggy's ten largest items of the dApp entry's code (same build as above, names kept), when
// twiggy is installed (`cargo install twiggy`); sizes are before wasm-opt.
const twiggy = (() => {
  if (!existsSync(unstripped)) return null;
  try {
    return JSON.parse(execFileSync("twiggy", ["top", "-n", "12", "-f", "json", unstripped], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
  } catch {
    return null;
  }
})();
if (twiggy) {
  const items = twiggy
    .filter((item) => !/^custom section|function names|\.\.\. and|Σ/.test(item.name))
    .slice(0, 10)
    .map((item) => `${item.name.replace(/\[[0-9a-f]+\]/g, "").replace(/::h[0-9a-f]{16}$/, "")} ${item.shallow_size} B`);
  notes.push(`twiggy top-10 of the dApp entry (\`twiggy top -n 10\` on the unstripped bench/peers build, before wasm-opt; the name section and data segments included as twiggy lists them): ${items.join("; ")}.`);
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
    "`scripts/build-pkg.sh` builds it, one row per npm entry (the entry's wasm after `wasm-opt -Oz --converge --low-memory-unused`, which the page " +
    "fetches, plus its JS glue bundled from an entry importing `init` and the entry's client class). MetaMask MWP: `-dapp-client` + `-core` (with `centrifuge`) + " +
    "`eciesjs`, plus the key manager and localStorage store a dApp has to write itself (bench/peers/entries/mwp-dapp.js). " +
    "WalletConnect: `@walletconnect/sign-client` (`SignClient`). Bytes; ratio columns are peer / walletwire " +
    "(>1 means walletwire ships less). Sizes are deterministic: one measurement.",
  columns: [
    "bundle",
    "JS, minified (B)",
    "JS, gzip -9 (B)",
    "wasm, after wasm-opt (B)",
    "wasm, gzip -9 (B)",
    "total, minified (B)",
    "**total, gzip -9 (B)**",
    "total, brotli -11 (B)",
    "ratio MWP / this (gzip)",
    "ratio WalletConnect / this (gzip)",
  ],
  rows,
  notes: [
    `Each walletwire entry is its own wasm build (cargo feature \`dapp\`, \`wallet\` or \`direct\`) holding only what that entry exports: a relay-flow dApp downloads the first row only, no wallet side and no WebRTC connector.`,
    `The adapter rows are plain JS with no wasm of their own: what \`walletwire/eip1193\` and \`walletwire/wagmi\` add to the dApp entry's row (the wagmi row includes the EIP-1193 provider and leaves out \`@wagmi/core\`, which a wagmi app bundles anyway), so they have no ratio of their own.`,
    `MWP's SessionStore calls \`Buffer\`, which browsers lack: a browser dApp also needs a Buffer polyfill (npm \`buffer\`, +${mwpShimJs.gzip - mwpJs.gzip} B gzip), its own row; the ratio columns compare with MWP without it.`,
    `Largest parts of the MWP bundle (minified): ${topPackages(mwp.byPackage)}.`,
    `Largest parts of the WalletConnect bundle (minified): ${topPackages(wc.byPackage)}.`,
    ...notes,
  ],
  versions,
});

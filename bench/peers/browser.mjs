#!/usr/bin/env node
// The browser benchmarks, in one headless Chromium against one real release relay:
//   rtt      request round trip p50/p99 and pipelined messages/s for 100 B, 10 KB, 60 KB:
//            walletwire dApp ↔ wallet (two pages), walletwire dApp page ↔ native reference
//            wallet, and MetaMask MWP dApp ↔ wallet (two pages, eciesjs per message);
//   connect  trusted mode, from creating the client and calling connect() to connected on
//            both sides, walletwire and MWP;
//   crypto   XChaCha20-Poly1305 seal/open MB/s in one page: walletwire (wasm) vs
//            @noble/ciphers, with eciesjs (MWP's per-message scheme) alongside.
// Needs target/release binaries, pkg/ (scripts/build-pkg.sh) and bench/peers/build.sh.
//
//   node bench/peers/browser.mjs [--smoke] [--repeats N] [--only rtt,connect,crypto]
//        [--out FILE (with one --only)] [--out-dir DIR] [--bin-dir DIR] [--pkg DIR]
//        [--count N] [--seconds S] [--window W] [--connects N] [--min-ms MS] [--systems ww,mwp,native]

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BUILD,
  Child,
  PEERS,
  launchChromium,
  median,
  packageVersion,
  parseArgs,
  percentile,
  ratio,
  relayMetrics,
  round,
  startRelay,
  startStaticServer,
  stopChildren,
  withSpread,
  withTimeout,
  writeResult,
} from "./lib/common.mjs";

const options = parseArgs();
const only = options.only ?? ["rtt", "connect", "crypto"];
for (const id of only) if (!["rtt", "connect", "crypto"].includes(id)) throw new Error(`unknown --only ${id}`);
if (options.out && only.length !== 1) throw new Error("--out needs exactly one --only");
const smoke = options.smoke;
// `--systems ww,mwp,native` narrows the round-trip and connect runs (for development).
const systems = options.extra.systems ? options.extra.systems.split(",") : ["ww", "mwp", "native", "raw"];
const repeats = options.repeats ?? (smoke ? 1 : 5);
const number = (key, fallback) => (options.extra[key] !== undefined ? Number(options.extra[key]) : fallback);
const config = {
  sizes: [100, 10_000, 60_000],
  count: number("count", smoke ? 5 : 300),
  warmup: smoke ? 2 : 30,
  seconds: number("seconds", smoke ? 0.3 : 3),
  window: number("window", 32),
  connects: number("connects", smoke ? 1 : 5),
  cryptoSizes: [100, 10_000, 60_000, 1_000_000],
  minMs: number("min-ms", smoke ? 2 : 150),
};
const SIZE_LABEL = { 100: "100 B", 10_000: "10 KB", 60_000: "60 KB", 1_000_000: "1 MB" };

for (const file of [join(options.pkg, "walletwire.js"), join(BUILD, "mwp-dapp.js"), join(BUILD, "wasm", "walletwire_bench.js")]) {
  if (!existsSync(file)) throw new Error(`${file} is missing: run scripts/build-pkg.sh and bench/peers/build.sh`);
}

// Bound the whole run: a benchmark that hangs fails instead.
// Generous: three systems, each size's sequential loop at up to 100 ms a round trip.
const perRepeatSeconds = 3 * (config.sizes.length * (config.seconds + config.count * 0.1 + 10) + config.connects * 3 + 15) + 90;
const watchdog = setTimeout(() => {
  console.error("browser.mjs: overall time limit reached");
  stopChildren().finally(() => process.exit(1));
}, (120 + repeats * perRepeatSeconds) * 1000);
watchdog.unref();

const log = (...args) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...args);

const relay = await startRelay(options.binDir);
const server = await startStaticServer({ "/pkg": options.pkg, "/build": BUILD, "/": join(PEERS, "pages") });
const browser = await launchChromium();
const tempDirs = [];

async function cleanup() {
  await withTimeout(browser.close(), 10_000, "closing Chromium").catch(() => {});
  await server.close();
  await stopChildren();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

/** A page of its own browser context (own localStorage) running `pages/<module>.js`. */
async function openPage(module, query = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.pageErrors = [];
  page.on("pageerror", (error) => page.pageErrors.push(String(error)));
  const params = new URLSearchParams({ m: module, relay: relay.url, ...query });
  await page.goto(`${server.base}/page.html?${params}`, { timeout: 20_000 });
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 20_000 });
  const state = await page.evaluate(() => [document.body.dataset.ready, document.body.dataset.error]);
  if (state[0] !== "1") throw new Error(`page ${module} failed to load: ${state[1]}`);
  page.call = (name, arg, ms = 60_000) =>
    withTimeout(page.evaluate(([n, a]) => window.bench[n](a), [name, arg]), ms, `${module}.${name}`);
  return page;
}

async function closePage(page) {
  if (page.pageErrors.length) throw new Error(`errors in the page: ${page.pageErrors.join("; ")}`);
  await page.context().close();
}

/**
 * One connection: the dApp page starts, the request (URI or MWP request object) is handed
 * to the wallet page, both sides report when they were connected. Times are absolute (ms).
 */
async function connectPages(dapp, wallet) {
  const start = await dapp.call("dappStart");
  const handoff = start.uri ?? start.request;
  const walletSide = await wallet.call("walletConnect", handoff);
  const dappSide = await dapp.call("dappConnected");
  const both = Math.max(walletSide.tConnected, dappSide.tConnected) - start.t0;
  const handOff = walletSide.tStart - start.tRequest;
  return {
    both,
    bothNoHandoff: both - handOff,
    dapp: dappSide.tConnected - start.t0,
    wallet: walletSide.tConnected - walletSide.tStart,
    handOff,
  };
}

function assertNoErrors(what, errors) {
  if (errors?.length) throw new Error(`${what}: ${errors.join("; ")}`);
}

/** Runs the size loop on a connected dApp page; returns per-size stats of this repeat. */
async function measureSizes(dapp, { kind, sizes = config.sizes, seconds = config.seconds, count = config.count }, system) {
  const out = {};
  for (const size of sizes) {
    const before = await relayMetrics(relay);
    const result = await dapp.call(
      "measure",
      { kind, size, count, warmup: config.warmup, window: config.window, seconds },
      60_000 + count * 1_000 + seconds * 3_000,
    );
    assertNoErrors(`${system} ${size} B`, result.errors);
    const after = await relayMetrics(relay);
    const publications = after.publications - before.publications;
    const changed = (key) =>
      Object.entries(after[key])
        .filter(([code, n]) => n !== (before[key][code] ?? 0))
        .map(([code, n]) => `${code}×${n - (before[key][code] ?? 0)}`);
    if (changed("errors").length || changed("disconnects").length) {
      throw new Error(`${system} ${size} B: the relay answered errors [${changed("errors")}] / closed connections [${changed("disconnects")}]`);
    }
    // Each round trip is two publications (request and answer) through the relay.
    const roundTrips = 1 + config.warmup + count + result.completed;
    if (publications < 2 * roundTrips) {
      throw new Error(`${system} ${size} B: the relay saw ${publications} publications for ${roundTrips} round trips`);
    }
    out[size] = {
      p50: percentile(result.latencies, 50),
      p99: percentile(result.latencies, 99),
      perSecond: result.perSecond,
      bytesPerCall: result.bytesPerCall,
      answer: result.answer,
      publicationsPerRoundTrip: publications / roundTrips,
    };
    log(`  ${system} ${SIZE_LABEL[size]}: p50 ${round(out[size].p50)} ms, p99 ${round(out[size].p99)} ms` + (seconds ? `, ${round(result.perSecond)} msg/s` : ""));
  }
  return out;
}

// ---- systems ----

/**
 * Two pages of one system (`ww` or `mwp`): one unmeasured warm-up connection (JIT, key
 * tables), then `connects` measured ones, then the round trips on the last session.
 */
async function runPair(system, wantRtt, wantConnect) {
  const label = { ww: "walletwire", mwp: "MWP", raw: "raw WebSocket" }[system];
  const dapp = await openPage(system, { role: "dapp" });
  const wallet = await openPage(system, { role: "wallet" });
  const closeBoth = async () => {
    assertNoErrors(`${label} close`, await dapp.call("close"));
    assertNoErrors(`${label} close`, await wallet.call("close"));
  };
  const connects = [];
  const n = wantConnect ? config.connects : 0;
  await connectPages(dapp, wallet);
  for (let i = 0; i < n; i++) {
    await closeBoth();
    connects.push(await connectPages(dapp, wallet));
  }
  const sizes = wantRtt ? await measureSizes(dapp, { kind: "echo" }, label) : null;
  await closeBoth();
  await closePage(dapp);
  await closePage(wallet);
  return { connects, sizes };
}

/**
 * The walletwire dApp page with the native reference wallet (`walletwire-wallet pair`), its
 * data directory under `base`.
 */
async function runNative(base, { sizes, pipelinedToo, count }, label) {
  const dapp = await openPage("ww", { role: "dapp" });
  const start = await dapp.call("dappStart");
  const dataDir = mkdtempSync(join(base, "walletwire-bench-wallet-"));
  tempDirs.push(dataDir);
  const walletBin = join(options.binDir, "walletwire-wallet");
  const wallet = new Child("wallet", walletBin, ["pair", start.uri, "--data-dir", dataDir, "--max-payload", "131072"]);
  await wallet.waitLine(/^CONNECTED \S+$/, 30_000);
  await dapp.call("dappConnected");
  await dapp.call("clearAccount");
  const result = await measureSizes(dapp, { kind: "sign", sizes, count, seconds: pipelinedToo ? config.seconds : 0 }, label);
  assertNoErrors("walletwire close", await dapp.call("close"));
  await wallet.waitLine(/^DISCONNECTED /, 10_000).catch(() => {});
  const status = await wallet.stop();
  if (status.error) throw status.error;
  await closePage(dapp);
  return { sizes: result };
}

async function runCrypto() {
  const page = await openPage("crypto");
  const out = {};
  const impls = await page.call("implementations");
  for (const size of config.cryptoSizes) {
    for (const op of ["seal", "open"]) {
      for (const impl of impls) {
        const result = await page.call("measure", { impl, op, size, minMs: config.minMs }, 120_000);
        out[`${impl} ${op} ${size}`] = result;
      }
    }
    log(`  crypto ${SIZE_LABEL[size]}: ` + impls.map((i) => `${i} seal ${round(out[`${i} seal ${size}`].mbPerS)} MB/s`).join(", "));
  }
  await closePage(page);
  return out;
}

// ---- the run ----

const runs = { ww: [], mwp: [], native: [], nativeDisk: [], raw: [], crypto: [] };
// The native wallet syncs its session file to disk (fsync) before every frame it sends. Its
// main column keeps the data directory on tmpfs, so that the protocol and not this VM's disk
// is measured; one extra row shows the cost on the disk (the system temp dir).
const TMPFS = existsSync("/dev/shm") ? "/dev/shm" : null;
const wantRtt = only.includes("rtt");
const wantConnect = only.includes("connect");
try {
  for (let r = 0; r < repeats; r++) {
    log(`repeat ${r + 1}/${repeats}`);
    // Alternate the order so that drift on a busy machine does not favour one side.
    const order = r % 2 === 0 ? ["ww", "mwp", "native", "raw"] : ["raw", "mwp", "native", "ww"];
    for (const system of order.filter((s) => systems.includes(s))) {
      if (system === "ww" && (wantRtt || wantConnect)) runs.ww.push(await runPair("ww", wantRtt, wantConnect));
      if (system === "mwp" && (wantRtt || wantConnect)) runs.mwp.push(await runPair("mwp", wantRtt, wantConnect));
      // The floor: no SDK, so no connect to time.
      if (system === "raw" && wantRtt) runs.raw.push(await runPair("raw", wantRtt, false));
      if (system === "native" && wantRtt) {
        runs.native.push(await runNative(TMPFS ?? tmpdir(), { sizes: config.sizes, pipelinedToo: true, count: config.count }, "walletwire → native wallet"));
        const diskCount = Math.max(5, Math.round(config.count / 3));
        runs.nativeDisk.push(await runNative(tmpdir(), { sizes: [100], pipelinedToo: false, count: diskCount }, "walletwire → native wallet, data on disk"));
      }
    }
    if (only.includes("crypto")) runs.crypto.push(await runCrypto());
  }
} catch (error) {
  await cleanup();
  console.error(error);
  process.exit(1);
}
const chromiumVersion = browser.version();
await cleanup();

const mwpVersions = {
  "@metamask/mobile-wallet-protocol-core": packageVersion("@metamask/mobile-wallet-protocol-core"),
  "@metamask/mobile-wallet-protocol-dapp-client": packageVersion("@metamask/mobile-wallet-protocol-dapp-client"),
  centrifuge: packageVersion("centrifuge"),
  eciesjs: packageVersion("eciesjs"),
};
const commonVersions = { chromium: chromiumVersion, "playwright-core": packageVersion("playwright-core"), esbuild: packageVersion("esbuild") };
const runNote = `${repeats} repeat${repeats > 1 ? "s" : ""}${smoke ? " (smoke run: one short iteration, numbers are not meaningful)" : ""}`;
const outFile = (id) => (options.out && only.length === 1 && only[0] === id ? options.out : null);

// ---- rtt ----
if (wantRtt) {
  const rows = [];
  const per = (list, size, key) => list.map((run) => run.sizes[size][key]);
  for (const size of config.sizes) {
    const label = SIZE_LABEL[size];
    const ww = (key) => per(runs.ww, size, key);
    const nat = (key) => per(runs.native, size, key);
    const mwp = (key) => per(runs.mwp, size, key);
    const raw = (key) => per(runs.raw, size, key);
    rows.push([`${label} round trip p50 (ms)`, withSpread(ww("p50")), withSpread(nat("p50")), withSpread(mwp("p50")), withSpread(raw("p50")), ratio(median(mwp("p50")), median(ww("p50")))]);
    rows.push([`${label} round trip p99 (ms)`, round(median(ww("p99"))), round(median(nat("p99"))), round(median(mwp("p99"))), round(median(raw("p99"))), ratio(median(mwp("p99")), median(ww("p99")))]);
    rows.push([`${label} round trips/s, ${config.window} in flight`, withSpread(ww("perSecond")), withSpread(nat("perSecond")), withSpread(mwp("perSecond")), withSpread(raw("perSecond")), ratio(median(ww("perSecond")), median(mwp("perSecond")))]);
  }
  for (const size of config.sizes) {
    const ww = median(per(runs.ww, size, "bytesPerCall"));
    const mwp = median(per(runs.mwp, size, "bytesPerCall"));
    rows.push([`${SIZE_LABEL[size]} request: bytes the dApp sends to the relay`, Math.round(ww), Math.round(median(per(runs.native, size, "bytesPerCall"))), Math.round(mwp), Math.round(median(per(runs.raw, size, "bytesPerCall"))), ratio(mwp, ww)]);
  }
  if (runs.nativeDisk.length) {
    const disk = (key) => runs.nativeDisk.map((run) => run.sizes[100][key]);
    rows.push(["100 B round trip p50, native wallet's data dir on disk (ms)", "", withSpread(disk("p50")), "", "", ""]);
    rows.push(["100 B round trip p99, native wallet's data dir on disk (ms)", "", round(median(disk("p99"))), "", "", ""]);
  }
  const nativeAnswers = runs.native.length ? config.sizes.map((s) => `${SIZE_LABEL[s]}: ${runs.native[0].sizes[s].answer}`).join(", ") : "not run";
  const pubs = (list) => round(median(list.flatMap((run) => config.sizes.map((s) => run.sizes[s].publicationsPerRoundTrip))));
  writeResult(options, {
    id: "rtt",
    title: "Request round trip and throughput through the same local relay",
    about:
      `One headless Chromium and one release \`walletwire-server\` on loopback (\`--max-frame-size 262144\` so 60 KB messages fit, ` +
      `and \`--publish-rate/--publish-burst/--command-rate/--command-burst 1000000\`, \`--address-command-rate 0\` so the rate limits stay out of the throughput runs). ` +
      `The dApp and the wallet are two pages in separate browser contexts; both protocols persist per message with their ` +
      `defaults (walletwire its sequence counters in localStorage, MWP its nonces through its key-value store, localStorage ` +
      `here). A round trip is a request whose params carry ` +
      `N random ASCII bytes (100 B, 10 KB = 10,000 B, 60 KB = 60,000 B) and its answer: walletwire \`DappClient.request\` ` +
      `answered by a \`WalletClient\` that echoes the params (both with \`maxPayloadBytes: 131072\`); the native reference ` +
      `wallet (\`walletwire-wallet pair --max-payload 131072\`) answering \`message.sign\` with that message (its answer is a ` +
      `small signature, and above 16 KiB a small -32602 error after reading the whole message); MetaMask MWP: their ` +
      `\`DappClient.sendRequest\` and a wallet on their \`BaseClient\`, each over its own \`WebSocketTransport\`, eciesjs per ` +
      `message as MWP does, the wallet echoing the params. Latency: ${config.count} sequential round trips (the disk rows: ` +
      `${Math.max(5, Math.round(config.count / 3))}) after ${config.warmup} unmeasured, timed with performance.now(); throughput: ${config.window} round trips kept in flight for ` +
      `${config.seconds} s. Medians over ${runNote}; p50 and rates show the min–max of the repeats in parentheses. ` +
      `The ratio column is MWP / walletwire for times and bytes and walletwire / MWP for rates, so >1 always means walletwire is better.`,
    columns: [
      "measure",
      "walletwire (browser ↔ browser)",
      "walletwire (browser ↔ native wallet)",
      "MetaMask MWP (browser ↔ browser)",
      "floor: raw Centrifugo JSON, no SDK (browser ↔ browser)",
      "MWP vs walletwire browser (×, >1 = walletwire better)",
    ],
    rows,
    notes: [
      `Native wallet answers: ${nativeAnswers}. Its data directory is on tmpfs (${TMPFS ?? "not available here: the system temp dir"}) for its column: the wallet writes its session file with two fsyncs before every frame it sends (sequence numbers must survive a crash), which on this VM's disk costs the extra shown in the "data dir on disk" rows.`,
      `The relay's own counter (/metrics \`walletwire_relay_publications_total\`) saw ${pubs(runs.ww)} publications per round trip for walletwire, ${pubs(runs.native)} with the native wallet and ${pubs(runs.mwp)} for MWP (2 = request + answer; the script fails below 2).`,
      `"Bytes the dApp sends" counts what the dApp page writes to its WebSocket per sequential round trip (Centrifugo publish command with the encrypted, encoded message).`,
      `MWP's wallet client is not published on npm: the wallet side is a minimal wallet on -core's published BaseClient (bench/peers/entries/mwp-wallet.js) that follows the trusted handshake of the published dapp-client.`,
      `The floor column is the same two pages and relay without any SDK (bench/peers/pages/raw.js): one WebSocket per page, raw Centrifugo JSON, the wallet page publishing each request's data back; no encryption, sequence numbers or storage. What walletwire adds to a browser round trip is its column minus this one; the rest is Chromium's WebSocket path (network service process → renderer) and the relay.`,
      `Both walletwire and MWP keep one publication per channel in flight in their clients (each waits for the relay's reply before the next publish), so throughput is bounded by round trips to the relay as well as by crypto.`,
    ],
    versions: { ...commonVersions, ...mwpVersions },
  }, outFile("rtt"));
}

// ---- connect ----
if (wantConnect) {
  const per = (list, key) => list.map((run) => median(run.connects.map((c) => c[key])));
  const row = (label, key) => {
    const ww = per(runs.ww, key);
    const mwp = per(runs.mwp, key);
    return [label, withSpread(ww), withSpread(mwp), ratio(median(mwp), median(ww))];
  };
  writeResult(options, {
    id: "connect",
    title: "Time to connect (trusted mode, loopback)",
    about:
      `Trusted mode, dApp and wallet in two pages of one headless Chromium, the same release relay as the round-trip table. ` +
      `Timed from creating the dApp client and calling \`connect()\` until both sides report connected (walletwire: both ` +
      `\`connect()\` promises resolved; MWP: their \`DappClient.connect()\` resolved and the wallet finished its handshake), with ` +
      `fresh clients and WebSocket connections each time. The session request reaches the wallet page through the benchmark ` +
      `harness (Playwright), standing in for the QR code; that hand-off is measured and taken out of the first row. ` +
      `Per repeat the median of ${config.connects} connections; medians over ${runNote} with the min–max of the repeats. ` +
      `Ratio MWP / walletwire: >1 means walletwire connects faster.`,
    columns: ["measure", "walletwire", "MetaMask MWP", "MWP / walletwire (×, >1 = walletwire faster)"],
    rows: [
      row("connect() → both connected, hand-off excluded (ms)", "bothNoHandoff"),
      row("connect() → both connected, as measured (ms)", "both"),
      row("dApp: connect() → connected (ms)", "dapp"),
      row("wallet: connect(request) → connected (ms)", "wallet"),
      row("harness hand-off of the request to the wallet page (ms)", "handOff"),
    ],
    notes: [
      `MWP's wallet side is a minimal wallet on -core's BaseClient following the published dapp-client's trusted handshake (subscribe to the handshake and session channels, one encrypted handshake-offer, no ack): their wallet client is not on npm.`,
    ],
    versions: { ...commonVersions, ...mwpVersions },
  }, outFile("connect"));
}

// ---- crypto ----
if (only.includes("crypto")) {
  const values = (impl, op, size, key) => runs.crypto.map((run) => run[`${impl} ${op} ${size}`][key]);
  const hasFast = runs.crypto[0]["walletwire-o3 seal 100"] !== undefined;
  const impls = hasFast ? ["walletwire", "walletwire-o3", "noble", "ecies"] : ["walletwire", "noble", "ecies"];
  const rows = [];
  for (const op of ["seal", "open"]) {
    for (const size of config.cryptoSizes) {
      const m = Object.fromEntries(impls.map((i) => [i, values(i, op, size, "mbPerS")]));
      const row = [`${op === "seal" ? "seal (encrypt)" : "open (decrypt)"} ${SIZE_LABEL[size]} (MB/s)`, ...impls.map((i) => withSpread(m[i]))];
      row.push(ratio(median(m.walletwire), median(m.noble)), ratio(median(m.walletwire), median(m.ecies)));
      if (hasFast) row.push(ratio(median(m["walletwire-o3"]), median(m.noble)));
      rows.push(row);
    }
  }
  for (const size of [100, 10_000, 60_000]) {
    const cost = (impl) => runs.crypto.map((run) => run[`${impl} seal ${size}`].usPerMessage + run[`${impl} open ${size}`].usPerMessage);
    const m = Object.fromEntries(impls.map((i) => [i, median(cost(i))]));
    const row = [`seal + open of one ${SIZE_LABEL[size]} message (µs)`, ...impls.map((i) => round(m[i]))];
    row.push(ratio(m.noble, m.walletwire), ratio(m.ecies, m.walletwire));
    if (hasFast) row.push(ratio(m.noble, m["walletwire-o3"]));
    rows.push(row);
  }
  const columns = [
    "measure",
    "walletwire (Rust → wasm, as shipped: opt-level z)",
    ...(hasFast ? ["walletwire built for speed (opt-level 3, not shipped)"] : []),
    "@noble/ciphers (JS)",
    "eciesjs (MWP's scheme)",
    "walletwire vs noble (×, >1 = walletwire faster)",
    "walletwire vs eciesjs (×, >1 = walletwire faster)",
    ...(hasFast ? ["walletwire opt-level 3 vs noble (×, >1 = walletwire faster)"] : []),
  ];
  writeResult(options, {
    id: "crypto",
    title: "Encryption throughput in the browser",
    about:
      `One page of headless Chromium. walletwire: its XChaCha20-Poly1305 (\`crypto::Key::seal_with_nonce\` / \`open\`, the ` +
      `RustCrypto chacha20poly1305 crate) compiled to wasm with the same release profile and \`wasm-opt -Oz --converge --low-memory-unused\` as \`pkg/\`, looped ` +
      `inside wasm through the \`bench\` cargo feature (src/web/bench.rs); @noble/ciphers: \`xchacha20poly1305\` in JS; eciesjs: ` +
      `\`encrypt\`/\`decrypt\` with a secp256k1 key (a fresh ephemeral key and ECDH per seal, ECDH per open, then AES-256-GCM), ` +
      `the per-message scheme MetaMask MWP uses. Same plaintexts and a 73-byte associated data (a frame's) for the AEADs. ` +
      `Each measurement doubles the iterations until one batch takes ≥ ${config.minMs} ms and reports that batch (the earlier ` +
      `ones warm up the JIT). MB/s = 10^6 plaintext bytes per second. Medians over ${runNote} with min–max. Ratios: ` +
      `>1 means walletwire is faster (rates: walletwire / peer; µs: peer / walletwire).`,
    columns,
    rows,
    notes: hasFast
      ? [
          "The opt-level 3 column is the same Rust code built for speed (`CARGO_PROFILE_RELEASE_OPT_LEVEL=3`, `wasm-opt -O3`) instead of the size-first release profile `pkg/` ships with: it shows how much of a gap to @noble/ciphers is the build profile. The RustCrypto chacha20 crate has no wasm SIMD backend, so neither build uses SIMD.",
        ]
      : [],
    versions: { ...commonVersions, "@noble/ciphers": packageVersion("@noble/ciphers"), eciesjs: packageVersion("eciesjs") },
  }, outFile("crypto"));
}
process.exit(0);

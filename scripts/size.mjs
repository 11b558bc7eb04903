#!/usr/bin/env node
// Shipped size of every npm entry in pkg/: the wasm (after wasm-opt) and the entry's JS glue,
// raw and gzip -9 (node's zlib, so the numbers are the same on every machine). Plain-JS
// entries (walletwire/eip1193, walletwire/wagmi) have no wasm: their size is their JS alone
// (walletwire/wagmi's without @wagmi/core and walletwire/eip1193, which it imports).
//
//   node scripts/size.mjs [--pkg DIR]            prints the sizes
//   node scripts/size.mjs --check [--pkg DIR]    also compares each entry's wasm + JS gzip with
//                                                scripts/size-budget.json; exits 1 naming every
//                                                entry that grew past its budget
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const check = args.includes("--check");
const pkgAt = args.indexOf("--pkg");
const pkg = pkgAt >= 0 ? args[pkgAt + 1] : join(root, "pkg");

/** npm entry → file stem in pkg/. */
export const ENTRIES = { walletwire: "walletwire", "walletwire/wallet": "wallet", "walletwire/direct": "direct", "walletwire/eip1193": "eip1193", "walletwire/wagmi": "wagmi" };
/** Entries written in plain JS, with no wasm of their own. */
const JS_ONLY = new Set(["walletwire/eip1193", "walletwire/wagmi"]);

const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;
const budget = check ? JSON.parse(readFileSync(join(root, "scripts", "size-budget.json"), "utf8")) : {};
const over = [];
for (const [entry, stem] of Object.entries(ENTRIES)) {
  const js = readFileSync(join(pkg, `${stem}.js`));
  let total = gzip(js);
  let line = `${entry.padEnd(18)} `;
  if (JS_ONLY.has(entry)) {
    line += `no wasm, js ${js.length} B (${gzip(js)} B gzip), total gzip ${total} B`;
  } else {
    const wasm = readFileSync(join(pkg, `${stem}_bg.wasm`));
    total += gzip(wasm);
    line +=
      `wasm ${wasm.length} B (${gzip(wasm)} B gzip), ` +
      `js ${js.length} B (${gzip(js)} B gzip), total gzip ${total} B`;
  }
  if (check) {
    const limit = budget.entries?.[entry]?.gzip;
    if (typeof limit !== "number") {
      over.push(`${entry}: no budget in scripts/size-budget.json`);
    } else {
      line += ` (budget ${limit} B)`;
      if (total > limit) over.push(`${entry}: ${total} B gzip is ${total - limit} B over its budget of ${limit} B`);
    }
  }
  console.log(line);
}
if (over.length > 0) {
  console.error(`size budget exceeded (scripts/size-budget.json):\n  ${over.join("\n  ")}`);
  process.exit(1);
}

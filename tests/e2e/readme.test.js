// The JS API snippet recommended for the README (fixtures/readme/index.html, verbatim between
// its markers) runs in Chromium against the real relay and the native reference wallet; so does
// the README's "EIP-1193 / viem" snippet, read from README.md itself and put in a page whose
// import map resolves "walletwire", "walletwire/eip1193" and "viem" as a bundler would.

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { verifyMessage } from "viem";
import {
  Child,
  ROOT,
  SERVER_BIN,
  bundleEvmLibraries,
  launchBrowser,
  newPage,
  pairNativeWallet,
  screenshot,
  stopAll,
  tempDir,
  serveFixture,
  withTimeout,
} from "./lib/harness.js";

let base;
let browser;

before(async () => {
  base = await serveFixture("readme");
  browser = await launchBrowser();
});

after(stopAll);

test("the README snippet connects (untrusted, a wrong code then the right one) and signs", async () => {
  const page = await newPage(browser);
  const logs = [];
  page.on("console", (message) => logs.push(message.text()));
  let codeShown;
  const printed = new Promise((resolve) => (codeShown = resolve));
  const prompts = [];
  page.on("dialog", async (dialog) => {
    prompts.push(dialog.message());
    const code = await withTimeout(printed, 20_000, "the wallet's code");
    // The first answer is wrong on purpose; the snippet asks again.
    await dialog.accept(prompts.length === 1 ? (code === "000000" ? "111111" : "000000") : code);
  });
  await page.goto(`${base}/`);
  await page.waitForFunction(() => document.querySelector("#link").href.startsWith("walletwire:"));
  const wallet = pairNativeWallet(await page.getAttribute("#link", "href"));
  codeShown((await wallet.waitLine(/^OTP \d{6}$/)).split(" ")[1]);
  await page.waitForFunction(() => document.querySelector("#out").textContent.includes("session"));
  assert.deepEqual(prompts, ["Code shown by your wallet (3 attempts left)", "Code shown by your wallet (2 attempts left)"]);
  await withTimeout(
    (async () => {
      while (!logs.some((l) => /^[0-9a-f]{128}$/.test(l))) await new Promise((r) => setTimeout(r, 50));
    })(),
    20_000,
    "the signature in the console",
  );
  assert.ok(logs.includes("connected to walletwire reference wallet"), logs.join("\n"));
  await screenshot(page, "readme-snippet-dapp");
  assert.deepEqual(page.errors, []);
});

/** The first ```js block after the README heading `heading`. */
function readmeSnippet(heading) {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf(`\n${heading}\n`));
  const match = section.match(/```js\n([\s\S]*?)```/);
  assert.ok(match, `a js block under ${heading}`);
  return match[1];
}

test("the README's EIP-1193 / viem snippet connects (trusted), and its signature verifies with viem", async () => {
  const www = tempDir("walletwire-e2e-readme-eip1193-");
  await bundleEvmLibraries(www);
  const imports = { walletwire: "/pkg/walletwire.js", "walletwire/eip1193": "/pkg/eip1193.js", viem: "/vendor/viem.js" };
  writeFileSync(
    join(www, "index.html"),
    `<!doctype html>\n<meta charset="utf-8">\n<script type="importmap">${JSON.stringify({ imports })}</script>\n` +
      `<div id="qr"></div> <a id="link">Open in wallet</a>\n<script type="module">\n${readmeSnippet("## EIP-1193 / viem")}</script>\n`,
  );
  const server = new Child("server-eip1193", SERVER_BIN, ["--listen", "127.0.0.1:0", "--www", www, "--pkg", join(ROOT, "pkg")]);
  const url = (await server.waitLine(/^pages at /)).replace(/^pages at /, "");
  const page = await newPage(browser);
  let logged;
  const printed = new Promise((resolve) => (logged = resolve));
  page.on("console", (message) => {
    const [account, signature] = message.text().split(" ");
    if (/^0x[0-9a-fA-F]{40}$/.test(account) && /^0x[0-9a-f]{130}$/.test(signature ?? "")) logged({ account, signature });
  });
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector("#link").href.startsWith("walletwire:"));
  assert.match(await page.innerHTML("#qr"), /<svg/);
  const wallet = pairNativeWallet(await page.getAttribute("#link", "href"));
  await wallet.waitLine(/^CONNECTED \S+$/);
  const { account, signature } = await withTimeout(printed, 20_000, "the account and signature in the console");
  assert.equal(await verifyMessage({ address: account, message: "hello", signature }), true);
  await screenshot(page, "readme-eip1193-dapp");
  assert.deepEqual(page.errors, []);
});

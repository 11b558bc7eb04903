// The Vite example (examples/vite-dapp) imports the package the way an application does
// (`"walletwire": "file:../../pkg"`). It is built with `vite build`, its dist/ is served by
// walletwire-server (which also carries the relay), and its page pairs with the native wallet,
// then signs through wagmi with walletwire's connector (walletwire/wagmi).

import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { verifyMessage } from "viem";
import {
  Child,
  ROOT,
  SERVER_BIN,
  launchBrowser,
  newPage,
  pairNativeWallet,
  screenshot,
  stopAll,
  withTimeout,
} from "./lib/harness.js";

const EXAMPLE = join(ROOT, "examples", "vite-dapp");

let base;
let browser;

before(async () => {
  assert.ok(existsSync(join(EXAMPLE, "node_modules", "walletwire")), "run `npm ci` in examples/vite-dapp first (tests/e2e/run.sh does)");
  const build = new Child("vite build", join(EXAMPLE, "node_modules", ".bin", "vite"), ["build"], { cwd: EXAMPLE });
  const built = await withTimeout(build.exited, 120_000, "vite build");
  assert.equal(built.code, 0, build.output);
  const assets = readdirSync(join(EXAMPLE, "dist", "assets"));
  assert.ok(assets.some((f) => f.endsWith(".wasm")), `the wasm is bundled: ${assets}`);

  const server = new Child("server", SERVER_BIN, ["--listen", "127.0.0.1:0", "--www", join(EXAMPLE, "dist")]);
  base = (await server.waitLine(/^pages at http:\/\/127\.0\.0\.1:\d+\/$/)).replace(/^pages at /, "").replace(/\/$/, "");
  browser = await launchBrowser();
});

after(stopAll);

test("the Vite-built dApp connects to the native wallet (untrusted, with the code) and gets an answer", async () => {
  const page = await newPage(browser, `${base}/`);
  assert.equal(await page.textContent("#status"), "not connected");
  await page.click("#connect");
  await page.waitForSelector("#qr svg");
  const uri = await page.getAttribute("#link", "href");
  assert.match(uri, /^walletwire:connect\?v=3&/);
  assert.ok(uri.length <= 200, `a small QR code: ${uri.length} characters`);

  const wallet = pairNativeWallet(uri);
  const code = (await wallet.waitLine(/^OTP \d{6}$/)).split(" ")[1];
  await page.waitForSelector("#otp-panel:not([hidden])");
  await page.locator("#otp").pressSequentially(code);
  await page.click("#otp-panel button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#status").textContent === "connected");
  assert.equal(await page.textContent("#peer"), "walletwire reference wallet");

  await page.click("#accounts");
  await page.waitForFunction(() => document.querySelector("#result").textContent.includes("accounts"));
  const result = JSON.parse(await page.textContent("#result"));
  assert.ok(result.accounts.length >= 1);
  assert.match(result.accounts[0].address, /^[0-9a-f]{64}$/);

  // wagmi with walletwire's connector takes the live session over (no second pairing) and
  // signs; the page verified it with viem, and so does this test.
  await page.click("#wagmi-sign");
  await page.waitForFunction(() => document.querySelector("#result").textContent.includes("wagmi") || /Error/.test(document.querySelector("#result").textContent));
  const text = await page.textContent("#result");
  assert.match(text, /"wagmi"/, text);
  const signed = JSON.parse(text).wagmi;
  assert.equal(signed.verified, true);
  assert.equal(signed.chainId, 1);
  assert.equal(await verifyMessage({ address: signed.address, message: signed.message, signature: signed.signature }), true);
  assert.equal(wallet.lines.filter((l) => /^OTP /.test(l)).length, 1, "paired once");
  await screenshot(page, "vite-example-dapp");

  await page.click("#disconnect");
  await wallet.waitLine(/^DISCONNECTED \S+ peer$/);
  await page.waitForFunction(() => document.querySelector("#status").textContent === "not connected");
  assert.deepEqual(page.errors, []);
});

// The split package: a page importing two entries (`walletwire` and `walletwire/wallet`, each
// its own wasm module with its own init()) pairs a DappClient with a WalletClient through the
// real relay, and each entry exports only its own side.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { WAIT, launchBrowser, newPage, serveFixture, stopAll } from "./lib/harness.js";

let base;
let browser;

before(async () => {
  base = await serveFixture("entries");
  browser = await launchBrowser();
});

after(stopAll);

test("a page importing the dApp and wallet entries pairs them and exchanges a request", async () => {
  const page = await newPage(browser);
  await page.goto(`${base}/`);
  await page.waitForFunction(() => window.result !== undefined, null, { timeout: WAIT });
  const result = await page.evaluate(() => window.result);
  assert.equal(result.error, undefined, result.error);
  assert.deepEqual(result.dappExports, ["DappClient", "default", "initSync", "qrSvg"]);
  assert.deepEqual(result.walletExports, ["WalletClient", "default", "initSync"]);
  assert.equal(result.peer, "two-entry wallet");
  assert.deepEqual(result.answer, { echo: { n: 42, text: "héllo" }, method: "echo" });
  assert.deepEqual(page.errors, []);
});

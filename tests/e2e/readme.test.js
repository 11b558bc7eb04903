// The JS API snippet recommended for the README (fixtures/readme/index.html, verbatim between
// its markers) runs in Chromium against the real relay and the native reference wallet.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Child, ROOT, SERVER_BIN, launchBrowser, newPage, pairNativeWallet, screenshot, stopAll, withTimeout } from "./lib/harness.js";

let base;
let browser;

before(async () => {
  const server = new Child("server", SERVER_BIN, [
    "--listen", "127.0.0.1:0",
    "--www", join(ROOT, "tests", "e2e", "fixtures", "readme"),
    "--pkg", join(ROOT, "pkg"),
  ]);
  base = (await server.waitLine(/^pages at /)).replace(/^pages at /, "").replace(/\/$/, "");
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

// Reloads at awkward moments, in headless Chromium against the demo's real relay: the dApp
// page mid-handshake (after its QR code is up, before the wallet answers; both modes) and
// mid-request, and the wallet page while a request waits for the user. What must hold: the
// handshake picks up where it was and connects; a request settles (a response, or a typed
// error on the side that still holds it); the session keeps working; nothing hangs.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  WAIT,
  openPage,
  pairNativeWallet,
  screenshot,
  sendRequest,
  startConnection,
  typeCode,
  useDemo,
  waitAnswer,
  waitConnected,
} from "./lib/harness.js";

const demo = useDemo();

/** After a reload, the dApp page shows the same pending request again. */
async function samePendingRequest(dapp, uri) {
  await dapp.waitForSelector("#request-view:not([hidden])");
  await dapp.waitForSelector("#qr svg");
  assert.equal(await dapp.getAttribute("#open-link", "href"), uri, "the stored request, not a new one");
  assert.equal(await dapp.textContent("#status"), "Waiting for wallet");
}

/** A request from the dApp page answered by the native wallet (which approves by itself). */
async function requestWorks(dapp) {
  const before = await sendRequest(dapp, "wallet.info");
  const answer = await waitAnswer(dapp, "wallet.info", before);
  assert.equal(answer.kind, "response", answer.text);
}

test("dApp page reloaded mid-handshake (trusted): the stored request comes back and the wallet's answer connects it", async () => {
  const dapp = await demo.dappPage();
  const uri = await startConnection(dapp, "trusted");
  await openPage(dapp); // reload before any wallet answered
  await samePendingRequest(dapp, uri);

  const wallet = pairNativeWallet(uri);
  const session = (await wallet.waitLine(/^CONNECTED /)).split(" ")[1];
  await waitConnected(dapp);
  assert.equal(await dapp.getAttribute("#session-id", "title"), session);
  await requestWorks(dapp);
  await screenshot(dapp, "faults-reload-handshake-trusted");
  assert.deepEqual(dapp.errors, []);
  await wallet.stop();
});

test("dApp page reloaded mid-handshake (untrusted), before the wallet answers and again after its code is up: the code still connects", async () => {
  const dapp = await demo.dappPage();
  const uri = await startConnection(dapp, "untrusted");
  await openPage(dapp);
  await samePendingRequest(dapp, uri);

  const wallet = pairNativeWallet(uri);
  const code = (await wallet.waitLine(/^OTP \d{6}$/)).split(" ")[1];
  await dapp.waitForSelector("#otp-view:not([hidden])");
  // One wrong code, then a reload: the offer is read again from the relay's history and the
  // spent attempt stays spent.
  await typeCode(dapp, code === "000000" ? "111111" : "000000");
  await dapp.waitForFunction(() => document.querySelector("#otp-attempts").textContent === "2 attempts left");
  await openPage(dapp);
  await dapp.waitForSelector("#otp-view:not([hidden])");
  assert.equal(await dapp.textContent("#otp-attempts"), "2 attempts left");
  await typeCode(dapp, code);
  await waitConnected(dapp);
  await wallet.waitLine(/^CONNECTED /);
  await requestWorks(dapp);
  await screenshot(dapp, "faults-reload-handshake-untrusted");
  assert.deepEqual(dapp.errors, []);
  await wallet.stop();
});

// ---- Mid-request: both pages ----

async function pairPages() {
  const dapp = await demo.dappPage();
  const wallet = await demo.walletPage();
  const uri = await startConnection(dapp, "trusted");
  await wallet.fill("#uri", uri);
  await wallet.click("#pair");
  await waitConnected(dapp);
  await wallet.locator("#sessions .session-item").first().waitFor();
  return { dapp, wallet };
}

/** The wallet page's newest unanswered request of `method`. */
function waitingRequest(wallet, method) {
  return wallet.locator(`.request-item[data-method="${method}"]:not([data-answered])`).first();
}

async function approve(wallet, method) {
  const item = waitingRequest(wallet, method);
  await item.waitFor();
  await item.getByRole("button", { name: "Approve" }).click();
  const answered = wallet.locator(`.request-item[data-method="${method}"][data-answered]`).first();
  await answered.waitFor();
  return answered.locator(".request-outcome").textContent();
}

test("dApp page reloaded while its request waits for approval: the wallet still answers it, the session keeps working", async () => {
  const { dapp, wallet } = await pairPages();
  const session = await dapp.getAttribute("#session-id", "title");
  await sendRequest(dapp, "accounts.list");
  await waitingRequest(wallet, "accounts.list").waitFor();

  await openPage(dapp); // the promise of that request goes with the page
  await waitConnected(dapp);
  assert.equal(await dapp.getAttribute("#session-id", "title"), session);
  // The side that still holds the request answers it; the reloaded page ignores the late
  // response (docs/PROTOCOL.md §7) without an error.
  assert.equal(await approve(wallet, "accounts.list"), "Approved and answered.");
  const before = await sendRequest(dapp, "wallet.info");
  assert.equal(await approve(wallet, "wallet.info"), "Approved and answered.");
  assert.equal((await waitAnswer(dapp, "wallet.info", before)).kind, "response");
  assert.equal(await dapp.locator('#log li[data-method="accounts.list"]').count(), 0, "no answer for a request of the old page");
  await screenshot(dapp, "faults-reload-mid-request-dapp");
  assert.deepEqual(dapp.errors, []);
  assert.deepEqual(wallet.errors, []);
});

test("wallet page reloaded while a request waits for the user: the dApp's request still settles, the session keeps working", async () => {
  const { dapp, wallet } = await pairPages();
  const timeoutMs = 6_000;
  // Sent through the SDK with a short deadline, so its settling can be watched.
  await dapp.evaluate((ms) => {
    const { client } = window.walletwireDemo;
    // Timed on the page's clock: from the call to its settling, whatever the test waits for
    // meanwhile (the wallet page's reload can take long on a busy machine).
    const sentAt = Date.now();
    window.pendingOutcome = client
      .request("balances.get", { account: "00".repeat(32) }, { timeoutMs: ms })
      .then((result) => ({ result }), (error) => ({ code: error.code }))
      .then((outcome) => ({ ...outcome, tookMs: Date.now() - sentAt }));
  }, timeoutMs);
  await waitingRequest(wallet, "balances.get").waitFor();

  await openPage(wallet);
  await wallet.locator("#sessions .session-item").first().waitFor();
  // Either the reloaded wallet page offers the request again and answers it, or the dApp's
  // request ends with the typed `timeout` at its deadline. Never silence.
  const reappeared = waitingRequest(wallet, "balances.get")
    .waitFor({ timeout: timeoutMs + 2_000 })
    .then(() => true, () => false);
  const outcome = dapp.evaluate(() => window.pendingOutcome);
  const first = await Promise.race([reappeared.then((shown) => (shown ? "shown again" : null)), outcome.then(() => "settled")]);
  if (first === "shown again") await approve(wallet, "balances.get");
  const settled = await outcome;
  const { tookMs } = settled;
  console.log(`wallet page reloaded mid-request: request ${first === "shown again" ? "shown again and answered" : "not shown again"}; dApp outcome ${JSON.stringify(settled)} after ${tookMs} ms`);
  if (first === "shown again") assert.equal(settled.result?.account, "00".repeat(32));
  else assert.equal(settled.code, "timeout");
  // Answered before its deadline, or ended at it: never later (slack for a busy machine).
  assert.ok(tookMs < timeoutMs + WAIT, `settled after ${tookMs} ms`);

  // The reloaded wallet page serves the session.
  const before = await sendRequest(dapp, "wallet.info");
  assert.equal(await approve(wallet, "wallet.info"), "Approved and answered.");
  assert.equal((await waitAnswer(dapp, "wallet.info", before)).kind, "response");
  await screenshot(wallet, "faults-reload-mid-request-wallet");
  assert.deepEqual(dapp.errors, []);
  assert.deepEqual(wallet.errors, []);
});

// The dApp page and the wallet page, each in its own browser context (separate storage, as
// two devices would be), paired through the real relay of the demo.

import assert from "node:assert/strict";
import { test } from "node:test";
import { verifyMessage } from "viem";
import {
  openPage,
  screenshot,
  sendRequest,
  startConnection,
  typeCode,
  useDemo,
  waitAnswer,
  waitConnected,
} from "./lib/harness.js";

const demo = useDemo();

/** Opens both pages in fresh contexts. */
async function pages() {
  const dapp = await demo.dappPage();
  const wallet = await demo.walletPage();
  return { dapp, wallet };
}

/** Pastes the link into the wallet page and presses Connect. */
async function pasteLink(wallet, uri) {
  await wallet.fill("#uri", uri);
  await wallet.click("#pair");
}

/** Approves or rejects the newest waiting request of `method` on the wallet page. */
async function answerOnWallet(wallet, method, approve) {
  const item = wallet.locator(`.request-item[data-method="${method}"]:not([data-answered])`).first();
  await item.waitFor();
  await item.getByRole("button", { name: approve ? "Approve" : "Reject" }).click();
  await wallet.locator(`.request-item[data-method="${method}"][data-answered]`).first().waitFor();
}

async function pairTrusted() {
  const { dapp, wallet } = await pages();
  const uri = await startConnection(dapp, "trusted");
  await pasteLink(wallet, uri);
  await waitConnected(dapp);
  await wallet.locator("#sessions .session-item").first().waitFor();
  return { dapp, wallet };
}

test("untrusted pairing: the code read from the wallet page is typed into the dApp page; one request approved, one rejected", async () => {
  const { dapp, wallet } = await pages();
  assert.equal(await dapp.textContent("#status"), "Not connected");
  const uri = await startConnection(dapp, "untrusted");
  assert.match(await dapp.textContent("#countdown"), /Expires in \d:\d\d/);
  assert.match(await dapp.innerHTML("#qr"), /<svg/);

  await pasteLink(wallet, uri);
  await wallet.waitForSelector("#otp-card:not([hidden])");
  const code = (await wallet.textContent("#otp-code")).trim();
  assert.match(code, /^\d{6}$/);
  assert.equal(await wallet.textContent("#otp-dapp"), "walletwire demo dApp");

  // A wrong code first: the page says so and counts down the attempts.
  await dapp.waitForSelector("#otp-view:not([hidden])");
  assert.equal(await dapp.textContent("#otp-attempts"), "3 attempts left");
  await typeCode(dapp, code === "000000" ? "111111" : "000000");
  await dapp.waitForFunction(() => document.querySelector("#otp-error").textContent.includes("not right"));
  assert.equal(await dapp.textContent("#otp-attempts"), "2 attempts left");
  assert.equal(await dapp.getAttribute("#otp-input", "aria-invalid"), "true");

  // Then the right one.
  await typeCode(dapp, code);
  await waitConnected(dapp);
  assert.equal(await dapp.textContent("#peer-name"), "walletwire demo wallet");
  assert.match(await dapp.textContent("#peer-sub"), /untrusted mode/);
  await wallet.waitForSelector("#otp-card", { state: "hidden" });
  await wallet.locator("#sessions .session-item").first().waitFor();
  assert.equal(await wallet.textContent("#status"), "1 connected");

  // Approved: the accounts of the page's wallet come back.
  let before = await sendRequest(dapp, "accounts.list");
  await answerOnWallet(wallet, "accounts.list", true);
  let answer = await waitAnswer(dapp, "accounts.list", before);
  assert.equal(answer.kind, "response", answer.text);
  assert.match(answer.text, /Main account/);

  // Approved: a signature the dApp page checks with WebCrypto.
  before = await sendRequest(dapp, "message.sign");
  await answerOnWallet(wallet, "message.sign", true);
  answer = await waitAnswer(dapp, "message.sign", before);
  assert.equal(answer.kind, "response", answer.text);
  await dapp.locator("#log li", { hasText: "signature verified" }).first().waitFor();

  // Rejected: the dApp sees the wallet's JSON-RPC error 4001.
  before = await sendRequest(dapp, "transaction.submit");
  await answerOnWallet(wallet, "transaction.submit", false);
  answer = await waitAnswer(dapp, "transaction.submit", before);
  assert.equal(answer.kind, "error");
  assert.equal(answer.code, "remote_error");
  assert.match(answer.text, /4001/);
  assert.match(answer.text, /User rejected/);

  await screenshot(dapp, "pages-untrusted-dapp");
  await screenshot(wallet, "pages-untrusted-wallet");
  assert.deepEqual(dapp.errors, []);
  assert.deepEqual(wallet.errors, []);
});

test("trusted pairing connects without a code; the wallet page ends the session and the dApp page sees it", async () => {
  const { dapp, wallet } = await pages();
  const uri = await startConnection(dapp, "trusted");
  await pasteLink(wallet, uri);
  await waitConnected(dapp);
  assert.match(await dapp.textContent("#peer-sub"), /trusted mode/);
  assert.equal(await wallet.isHidden("#otp-card"), true);

  const before = await sendRequest(dapp, "wallet.info");
  await answerOnWallet(wallet, "wallet.info", true);
  const answer = await waitAnswer(dapp, "wallet.info", before);
  assert.equal(answer.kind, "response");
  assert.match(answer.text, /transaction\.submit/);
  await screenshot(dapp, "pages-trusted-dapp");

  await wallet.getByRole("button", { name: /^Disconnect / }).click();
  await dapp.waitForSelector("#idle-view:not([hidden])");
  assert.equal(await dapp.textContent("#notice"), "The wallet ended the session.");
  assert.equal(await dapp.textContent("#status"), "Not connected");
  await wallet.waitForSelector("#sessions-empty:not([hidden])");
});

test("the dApp page's EVM panel: viem through walletwire/eip1193 gets a signature from the wallet page's secp256k1 key, verified by viem in the page and here; switching to Sepolia", async () => {
  const { dapp, wallet } = await pairTrusted();
  const evmAddress = await wallet.evaluate(() => window.walletwireDemo.wallet.accounts[0].evm.address);
  assert.equal(await dapp.isDisabled("#evm-sign"), false);
  await dapp.click("#evm-sign");
  await answerOnWallet(wallet, "personal_sign", true);
  await dapp.waitForFunction(() => document.querySelector("#evm-verified").dataset.tone);
  assert.equal(await dapp.textContent("#evm-verified"), `Yes: viem recovered ${evmAddress}`);
  assert.equal(await dapp.textContent("#evm-account"), evmAddress);
  assert.equal(await dapp.textContent("#evm-chain"), "Ethereum (0x1)");
  // The signature is checked again here, outside the page: over the message the page logged.
  const logged = await dapp.evaluate(() => {
    const entry = [...document.querySelectorAll("#log li")].find((li) => li.textContent.includes("EVM signature verified by viem"));
    return JSON.parse(entry.querySelector("pre").textContent);
  });
  assert.equal(logged.account, evmAddress);
  assert.equal(await verifyMessage({ address: evmAddress, message: logged.message, signature: logged.signature }), true);
  assert.equal(await dapp.textContent("#evm-signature"), logged.signature);

  await dapp.click("#evm-switch");
  await answerOnWallet(wallet, "wallet_switchEthereumChain", true);
  await dapp.waitForFunction(() => document.querySelector("#evm-chain").textContent.startsWith("Sepolia"));
  await screenshot(dapp, "pages-evm-panel");
  assert.deepEqual(dapp.errors, []);
  assert.deepEqual(wallet.errors, []);
});

test("reloading the dApp page resumes the session, and a request still works", async () => {
  const { dapp, wallet } = await pairTrusted();
  const sessionBefore = await dapp.getAttribute("#session-id", "title");

  await openPage(dapp); // reload
  await waitConnected(dapp);
  assert.equal(await dapp.getAttribute("#session-id", "title"), sessionBefore);
  await dapp.locator("#log li", { hasText: "resumed" }).first().waitFor();

  const before = await sendRequest(dapp, "accounts.list");
  await answerOnWallet(wallet, "accounts.list", true);
  const answer = await waitAnswer(dapp, "accounts.list", before);
  assert.equal(answer.kind, "response", answer.text);

  // The wallet page resumes too.
  await openPage(wallet);
  await wallet.locator("#sessions .session-item").first().waitFor();
  const again = await sendRequest(dapp, "wallet.info");
  await answerOnWallet(wallet, "wallet.info", true);
  assert.equal((await waitAnswer(dapp, "wallet.info", again)).kind, "response");
  await screenshot(dapp, "pages-reload-dapp");

  // The dApp disconnects; the wallet page's session list empties.
  await dapp.click("#disconnect");
  await dapp.waitForSelector("#idle-view:not([hidden])");
  await wallet.waitForSelector("#sessions-empty:not([hidden])");
});

test("an expired request is replaced by a fresh QR code by itself", async () => {
  const dapp = await demo.dappPage("?ttl=2500");
  const first = await startConnection(dapp, "untrusted");
  await dapp.waitForFunction((uri) => {
    const link = document.querySelector("#open-link").getAttribute("href");
    return link !== uri && link.startsWith("walletwire:connect?v=3&");
  }, first, { timeout: 15_000 });
  assert.equal(await dapp.textContent("#status"), "Waiting for wallet");
  assert.match(await dapp.innerHTML("#qr"), /<svg/);
  await screenshot(dapp, "pages-refreshed-request-dapp");
  // Cancel goes back to the start.
  await dapp.click("#cancel-request");
  await dapp.waitForSelector("#idle-view:not([hidden])");
});

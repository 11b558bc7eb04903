// The dApp page against the native reference wallet (`walletwire-wallet pair <uri>`, a child
// process of the test) through the demo's relay: both modes, requests answered by the native
// wallet, and a disconnect from the wallet side seen by the page.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  WALLET_BIN,
  Child,
  pairNativeWallet,
  screenshot,
  sendRequest,
  startConnection,
  typeCode,
  useDemo,
  waitAnswer,
  waitConnected,
  withTimeout,
} from "./lib/harness.js";

const demo = useDemo();

test("trusted: the native wallet pairs, answers requests (its signature verifies in the page), and Ctrl-C on it closes the session for the dApp", async () => {
  const dapp = await demo.dappPage();
  const uri = await startConnection(dapp, "trusted");
  const wallet = pairNativeWallet(uri);
  const connected = await wallet.waitLine(/^CONNECTED \S+$/);
  await waitConnected(dapp);
  assert.equal(await dapp.textContent("#peer-name"), "walletwire reference wallet");
  assert.equal(await dapp.getAttribute("#session-id", "title"), connected.split(" ")[1]);
  assert.equal(wallet.lines.some((l) => l.startsWith("OTP ")), false, "no code in trusted mode");

  let before = await sendRequest(dapp, "accounts.list");
  let answer = await waitAnswer(dapp, "accounts.list", before);
  assert.equal(answer.kind, "response", answer.text);
  assert.match(answer.text, /"keyType": "ed25519"/);
  await wallet.waitLine(/^REQUEST \S+ \d+ accounts\.list$/);

  before = await sendRequest(dapp, "message.sign");
  answer = await waitAnswer(dapp, "message.sign", before);
  assert.equal(answer.kind, "response", answer.text);
  await dapp.locator("#log li", { hasText: "signature verified" }).first().waitFor();

  before = await sendRequest(dapp, "balances.get");
  answer = await waitAnswer(dapp, "balances.get", before);
  assert.equal(answer.kind, "response", answer.text);
  assert.match(answer.text, /"balance": \d+/);

  // An unknown method comes back as the wallet's JSON-RPC error.
  before = await sendRequest(dapp, "wallet.selfDestruct", {});
  answer = await waitAnswer(dapp, "wallet.selfDestruct", before);
  assert.equal(answer.kind, "error");
  assert.equal(answer.code, "remote_error");
  assert.match(answer.text, /-32601/);
  await screenshot(dapp, "native-trusted-dapp");

  // Ctrl-C on the wallet closes its sessions: the page learns the wallet left.
  wallet.signal("SIGINT");
  await wallet.waitLine(/^DISCONNECTED \S+ local$/);
  await dapp.waitForSelector("#idle-view:not([hidden])");
  assert.equal(await dapp.textContent("#notice"), "The wallet ended the session.");
  const exit = await wallet.stop();
  assert.equal(exit.code, 0, wallet.output);
  assert.deepEqual(dapp.errors, []);
});

test("untrusted: the code printed by the native wallet is typed into the page; `walletwire-wallet disconnect` ends the session", async () => {
  const dapp = await demo.dappPage();
  const uri = await startConnection(dapp, "untrusted");
  const wallet = pairNativeWallet(uri, ["--keep-sessions"]);
  const code = (await wallet.waitLine(/^OTP \d{6}$/)).split(" ")[1];
  await typeCode(dapp, code);
  const session = (await wallet.waitLine(/^CONNECTED \S+$/)).split(" ")[1];
  await waitConnected(dapp);
  assert.match(await dapp.textContent("#peer-sub"), /untrusted mode/);

  const before = await sendRequest(dapp, "wallet.info");
  const answer = await waitAnswer(dapp, "wallet.info", before);
  assert.equal(answer.kind, "response", answer.text);
  assert.match(answer.text, /walletwire reference wallet/);
  await screenshot(dapp, "native-untrusted-dapp");

  // Stop serving but keep the session, then close it from the wallet's CLI: the page sees it.
  await wallet.stop("SIGTERM");
  const dataDir = wallet.process.spawnargs[wallet.process.spawnargs.indexOf("--data-dir") + 1];
  const disconnect = new Child("wallet-disconnect", WALLET_BIN, ["disconnect", session, "--data-dir", dataDir]);
  const exit = await withTimeout(disconnect.exited, 20_000, "walletwire-wallet disconnect");
  assert.equal(exit.code, 0, disconnect.output);
  await dapp.waitForSelector("#idle-view:not([hidden])");
  assert.equal(await dapp.textContent("#notice"), "The wallet ended the session.");
});

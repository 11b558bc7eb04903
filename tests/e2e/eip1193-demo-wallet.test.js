// walletwire/eip1193 under viem against the demo wallet page (www/wallet.html, its EVM keys in
// the page: www/demo-evm.js), through the real relay, in two browser contexts (two devices).
// The same checks as eip1193.test.js runs against the native wallet: every signature and the
// signed transaction are verified here with viem itself, not with walletwire or wallet code.

import assert from "node:assert/strict";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { getAddress, verifyMessage, verifyTypedData } from "viem";
import { MAIL, checkRecordedTransaction } from "./lib/evm.js";
import { Child, ROOT, SERVER_BIN, bundleEvmLibraries, launchBrowser, newPage, screenshot, stopAll, tempDir } from "./lib/harness.js";

let base;
let browser;

before(async () => {
  // The demo's pages (with their viem bundle, www/vendor/evm.js, from scripts/build-demo.sh)
  // and the EIP-1193 test page beside them.
  const www = tempDir("walletwire-e2e-eip1193-demo-");
  cpSync(join(ROOT, "www"), www, { recursive: true });
  cpSync(join(ROOT, "tests", "e2e", "fixtures", "eip1193", "index.html"), join(www, "eip1193.html"));
  await bundleEvmLibraries(www);
  const server = new Child("server", SERVER_BIN, ["--listen", "127.0.0.1:0", "--www", www, "--pkg", join(ROOT, "pkg")]);
  base = (await server.waitLine(/^pages at /)).replace(/^pages at /, "").replace(/\/$/, "");
  browser = await launchBrowser();
});

after(stopAll);

/** Approves or rejects the newest waiting request of `method` on the wallet page. */
async function answerOnWallet(wallet, method, approve) {
  const item = wallet.locator(`.request-item[data-method="${method}"]:not([data-answered])`).first();
  await item.waitFor();
  await item.getByRole("button", { name: approve ? "Approve" : "Reject" }).click();
  await wallet.locator(`.request-item[data-method="${method}"][data-answered]`).first().waitFor();
}

test("viem against the demo wallet page: requestAddresses pairs it; signMessage, signTypedData, switchChain and sendTransaction verify with viem; a refusal is UserRejectedRequestError; the user's account switch is accountsChanged", async () => {
  const dapp = await newPage(browser, `${base}/eip1193.html`);
  const wallet = await newPage(browser, `${base}/wallet.html`);
  const walletAccounts = await wallet.evaluate(() => window.walletwireDemo.wallet.accounts.map((a) => a.evm.address));
  assert.equal(walletAccounts.length, 2);

  const addresses = dapp.evaluate(() => {
    window.client = viem.createWalletClient({ transport: viem.custom(window.provider) });
    return window.client.requestAddresses();
  });
  await dapp.waitForFunction(() => document.querySelector("#link").href.startsWith("walletwire:"));
  await wallet.fill("#uri", await dapp.getAttribute("#link", "href"));
  await wallet.click("#pair");
  // eth_requestAccounts and eth_chainId are answered without a prompt (the pairing showed them).
  const accounts = await addresses;
  assert.deepEqual(accounts, walletAccounts);
  for (const a of accounts) assert.equal(getAddress(a), a, "EIP-55 checksummed");
  const [account] = accounts;
  assert.equal(await dapp.evaluate(() => window.client.getChainId()), 1);
  assert.equal(await wallet.locator(".request-item").count(), 0, "no prompt for the read-only methods");

  // personal_sign, approved on the page.
  const message = "hello from viem through walletwire to the demo wallet";
  let signing = dapp.evaluate(([a, m]) => window.client.signMessage({ account: a, message: m }), [account, message]);
  await answerOnWallet(wallet, "personal_sign", true);
  const signature = await signing;
  assert.match(signature, /^0x[0-9a-f]{130}$/);
  assert.equal(await verifyMessage({ address: account, message, signature }), true);
  // Raw bytes (hex) are signed as bytes.
  signing = dapp.evaluate((a) => window.client.signMessage({ account: a, message: { raw: "0xdeadbeef" } }), account);
  await answerOnWallet(wallet, "personal_sign", true);
  assert.equal(await verifyMessage({ address: account, message: { raw: "0xdeadbeef" }, signature: await signing }), true);

  // eth_signTypedData_v4 (the EIP-712 specification's Mail), approved.
  signing = dapp.evaluate(([a, data]) => window.client.signTypedData({ account: a, ...data }), [account, MAIL]);
  await answerOnWallet(wallet, "eth_signTypedData_v4", true);
  assert.equal(await verifyTypedData({ address: account, signature: await signing, ...MAIL }), true);

  // wallet_switchEthereumChain, approved: the page sends chainChanged; the provider emits it
  // once and getChainId follows. A switch to a chain the page does not know is prompted like
  // any switch and answered with the wallet's 4902.
  const switching = dapp.evaluate(() => window.client.switchChain({ id: viem.sepolia.id }));
  await answerOnWallet(wallet, "wallet_switchEthereumChain", true);
  await switching;
  await dapp.waitForFunction(() => window.notifications.some((n) => n.method === "chainChanged"));
  assert.deepEqual(await dapp.evaluate(() => window.notifications), [{ method: "chainChanged", params: { chainId: "0xaa36a7" } }]);
  assert.deepEqual(
    (await dapp.evaluate(() => window.events)).filter((e) => e.name === "chainChanged").map((e) => e.value),
    ["0xaa36a7"],
  );
  assert.equal(await dapp.evaluate(() => window.client.getChainId()), 11155111);
  const unknown = dapp.evaluate(() =>
    window.client.switchChain({ id: 137 }).then(
      () => null,
      (e) => ({ name: e.name, code: e.code }),
    ),
  );
  await answerOnWallet(wallet, "wallet_switchEthereumChain", true);
  assert.deepEqual(await unknown, { name: "SwitchChainError", code: 4902 });

  // Typed data for another chain than the active one is refused (-32602), not signed.
  const wrongChain = dapp.evaluate(
    ([a, data]) =>
      window.client.signTypedData({ account: a, ...data }).then(
        () => null,
        (e) => ({ code: e.code ?? e.cause?.code }),
      ),
    [account, MAIL],
  );
  await answerOnWallet(wallet, "eth_signTypedData_v4", true);
  assert.deepEqual(await wrongChain, { code: -32602 });

  // eth_sendTransaction on Sepolia, approved: the hash is keccak256 of the raw transaction the
  // page recorded in its ledger, and viem recovers the sender from that raw transaction.
  const sending = dapp.evaluate(
    (a) => window.client.sendTransaction({ account: a, chain: viem.sepolia, to: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", value: viem.parseEther("0.001") }),
    account,
  );
  await answerOnWallet(wallet, "eth_sendTransaction", true);
  const hash = await sending;
  const ledger = await wallet.evaluate(() => JSON.parse(localStorage.getItem("walletwire-demo-wallet:ledger:v1")));
  const parsed = await checkRecordedTransaction(ledger.evmTransactions, hash, { chainId: 11155111, from: account });
  assert.equal(parsed.nonce, 0);

  // The user presses Reject: viem's UserRejectedRequestError, code 4001.
  const refused = dapp.evaluate(
    (a) =>
      window.client.signMessage({ account: a, message: "no" }).then(
        () => null,
        (e) => ({ name: e.name, code: e.code, isUserRejected: e instanceof viem.UserRejectedRequestError }),
      ),
    account,
  );
  await answerOnWallet(wallet, "personal_sign", false);
  assert.deepEqual(await refused, { name: "UserRejectedRequestError", code: 4001, isUserRejected: true });

  // The user picks the other account on the wallet page: the page notifies accountsChanged,
  // the provider emits it, and viem and the wallet itself now list that account first.
  await wallet.getByRole("button", { name: "Use Savings for dApps" }).click();
  const swapped = [walletAccounts[1], walletAccounts[0]];
  await dapp.waitForFunction((n) => window.events.filter((e) => e.name === "accountsChanged").length === n, 2);
  assert.deepEqual((await dapp.evaluate(() => window.events)).filter((e) => e.name === "accountsChanged").map((e) => e.value), [walletAccounts, swapped]);
  assert.deepEqual(await dapp.evaluate(() => window.client.getAddresses()), swapped);
  assert.deepEqual(await dapp.evaluate(() => window.dapp.request("eth_accounts", [])), swapped);

  // The wallet page reloads: same keys, and the session stays on the chain it switched to.
  await wallet.reload();
  await wallet.waitForSelector("body[data-ready]", { state: "attached" });
  assert.deepEqual(await wallet.evaluate(() => window.walletwireDemo.wallet.accounts.map((a) => a.evm.address)), walletAccounts);
  assert.deepEqual(await wallet.evaluate(() => window.walletwireDemo.wallet.evmAddresses()), swapped, "the selection is kept");
  const chainAfterReload = await dapp.evaluate(() => window.dapp.request("eth_chainId", []));
  assert.equal(chainAfterReload, "0xaa36a7");

  await screenshot(wallet, "eip1193-demo-wallet");
  assert.deepEqual(dapp.errors, []);
  assert.deepEqual(wallet.errors, []);
});

/** A dApp on eip1193.html whose provider asks for CAIP-25 scopes; returns its link. */
async function scopedDapp(page, ttlMs) {
  await page.evaluate(async (ttlMs) => {
    const { DappClient } = await import("walletwire");
    const { createEip1193Provider } = await import("walletwire/eip1193");
    const client = new DappClient({ relayUrl: `ws://${location.host}/connection/websocket`, dapp: { name: "Scoped dApp", url: location.origin }, storage: "memory" });
    client.on("session_request", (req) => (window.scopedUri = req.uri));
    const scopes = {
      eip155: {
        chains: ["eip155:1", "eip155:11155111"],
        methods: ["eth_requestAccounts", "eth_accounts", "eth_chainId", "wallet_switchEthereumChain", "personal_sign"],
        events: ["accountsChanged", "chainChanged"],
      },
    };
    const provider = createEip1193Provider(client, { connect: { mode: "trusted", ttlMs, scopes } });
    window.scoped = { client, viem: viem.createWalletClient({ transport: viem.custom(provider) }) };
    window.scopedAddresses = window.scoped.viem.requestAddresses().then(
      (a) => ({ ok: a }),
      (e) => ({ code: e.code, walletwireCode: (e.cause ?? e).data?.walletwireCode }),
    );
  }, ttlMs);
  await page.waitForFunction(() => typeof window.scopedUri === "string");
  return page.evaluate(() => window.scopedUri);
}

test("the demo wallet page shows a scoped request for approval: the user leaves Sepolia out, the grant carries only Ethereum with the page's accounts, a method outside it is 4100; a rejected request is never answered", async () => {
  const dapp = await newPage(browser, `${base}/eip1193.html`);
  const wallet = await newPage(browser, `${base}/wallet.html`);
  const walletAccounts = await wallet.evaluate(() => window.walletwireDemo.wallet.evmAddresses());
  await wallet.fill("#uri", await scopedDapp(dapp, 60_000));
  await wallet.click("#pair");
  const card = wallet.locator("#proposal-card");
  await card.waitFor();
  assert.equal(await wallet.textContent("#proposal-dapp"), "Scoped dApp");
  assert.match(await card.textContent(), /personal_sign/);
  await screenshot(wallet, "demo-wallet-scopes");
  await card.getByLabel("eip155:11155111").uncheck();
  await card.getByRole("button", { name: "Allow" }).click();
  const addresses = await dapp.evaluate(() => window.scopedAddresses);
  assert.deepEqual(addresses, { ok: walletAccounts });
  const granted = await dapp.evaluate(() => window.scoped.client.sessions()[0].scopes);
  assert.deepEqual(granted.eip155.chains, ["eip155:1"]);
  assert.deepEqual(granted.eip155.accounts, walletAccounts.map((a) => `eip155:1:${a}`));
  // Inside the grant: signed on the page and verified by viem.
  const message = "scoped and signed";
  const signing = dapp.evaluate(([a, m]) => window.scoped.viem.signMessage({ account: a, message: m }), [walletAccounts[0], message]);
  await answerOnWallet(wallet, "personal_sign", true);
  assert.equal(await verifyMessage({ address: walletAccounts[0], message, signature: await signing }), true);
  // Outside it: refused in the dApp's page, no prompt on the wallet.
  const refused = await dapp.evaluate(([a, data]) =>
    window.scoped.viem.signTypedData({ account: a, ...data }).then(
      () => null,
      (e) => ({ code: e.code ?? e.cause?.code, walletwireCode: (e.cause ?? e).data?.walletwireCode }),
    ), [walletAccounts[0], MAIL]);
  assert.deepEqual(refused, { code: 4100, walletwireCode: "method_not_granted" });
  assert.equal(await wallet.locator('.request-item[data-method="eth_signTypedData_v4"]').count(), 0);
  // Sepolia was left out: the wallet refuses to switch to it (4902), the chain stays.
  const switched = dapp.evaluate(() =>
    window.scoped.viem.switchChain({ id: viem.sepolia.id }).then(
      () => null,
      (e) => ({ name: e.name, code: e.code }),
    ),
  );
  await answerOnWallet(wallet, "wallet_switchEthereumChain", true);
  assert.deepEqual(await switched, { name: "SwitchChainError", code: 4902 });
  assert.equal(await dapp.evaluate(() => window.scoped.viem.getChainId()), 1);

  // Another scoped dApp; the user rejects it: the dApp is never answered and its request runs out.
  const other = await newPage(browser, `${base}/eip1193.html`);
  await wallet.fill("#uri", await scopedDapp(other, 3_000));
  await wallet.click("#pair");
  await card.waitFor();
  await card.getByRole("button", { name: "Reject" }).click();
  await card.waitFor({ state: "hidden" });
  assert.deepEqual(await other.evaluate(() => window.scopedAddresses), { code: 4001, walletwireCode: "request_expired" });
  assert.equal(await other.evaluate(() => window.scoped.client.sessions().length), 0);
  assert.deepEqual(dapp.errors, []);
  assert.deepEqual(other.errors, []);
  assert.deepEqual(wallet.errors, []);
});

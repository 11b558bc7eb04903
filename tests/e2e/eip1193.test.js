// walletwire/eip1193 under the libraries dApps use: viem's `custom()` transport and ethers v6's
// BrowserProvider drive the provider in Chromium; it reaches the native reference wallet
// (`walletwire-wallet pair`, trusted mode, approvals answered on its stdin) through the real
// relay. Signatures and the signed transaction are checked here with viem and ethers
// themselves, not with walletwire code.

import assert from "node:assert/strict";
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { verifyMessage as ethersVerifyMessage } from "ethers";
import { getAddress, verifyMessage, verifyTypedData } from "viem";
import { MAIL, checkRecordedTransaction } from "./lib/evm.js";
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
} from "./lib/harness.js";

let base;
let browser;
let page;
let wallet;
let account;
let approvals = 0;

before(async () => {
  const www = tempDir("walletwire-e2e-eip1193-");
  cpSync(join(ROOT, "tests", "e2e", "fixtures", "eip1193"), www, { recursive: true });
  await bundleEvmLibraries(www);
  const server = new Child("server", SERVER_BIN, ["--listen", "127.0.0.1:0", "--www", www, "--pkg", join(ROOT, "pkg")]);
  base = (await server.waitLine(/^pages at /)).replace(/^pages at /, "").replace(/\/$/, "");
  browser = await launchBrowser();
});

after(stopAll);

/** Waits for the wallet's next approval prompt, checks its method and answers it. */
async function answerApproval(method, answer) {
  approvals += 1;
  const line = await wallet.waitCount(/^APPROVE /, approvals);
  assert.match(line, new RegExp(`^APPROVE \\S+ \\d+ ${method} `));
  wallet.process.stdin.write(`${answer}\n`);
}

/** Events the provider emitted so far, by name. */
async function events(name) {
  const all = await page.evaluate(() => window.events);
  return all.filter((e) => e.name === name).map((e) => e.value);
}

test("viem: requestAddresses connects the native wallet; signMessage, signTypedData, switchChain and sendTransaction verify; a refusal is UserRejectedRequestError", async () => {
  page = await newPage(browser, `${base}/`);
  const announced = await page.evaluate(() => {
    window.dispatchEvent(new Event("eip6963:requestProvider"));
    return window.announced;
  });
  assert.equal(announced.length, 2, "announced at once and when asked");
  assert.equal(announced[1].info.name, "walletwire test");
  assert.equal(announced[1].same, true);
  assert.match(announced[1].info.icon, /^data:image\/svg\+xml;base64,/);
  assert.deepEqual(await page.evaluate(() => window.provider.request({ method: "eth_accounts" })), []);

  // requestAddresses → eth_requestAccounts: no session yet, so the provider connects; the page
  // shows the link (its DappClient's session_request) and the wallet pairs with it.
  const addresses = page.evaluate(() => {
    window.client = viem.createWalletClient({ transport: viem.custom(window.provider) });
    return window.client.requestAddresses();
  });
  await page.waitForFunction(() => document.querySelector("#link").href.startsWith("walletwire:"));
  wallet = pairNativeWallet(await page.getAttribute("#link", "href"), ["--auto-approve", "false"]);
  await wallet.waitLine(/^CONNECTED \S+$/);
  const accounts = await addresses;
  assert.equal(accounts.length, 2);
  for (const a of accounts) assert.equal(getAddress(a), a, "EIP-55 checksummed");
  account = accounts[0];
  assert.deepEqual(await events("connect"), [{ chainId: "0x1" }]);
  assert.deepEqual(await events("accountsChanged"), [accounts]);
  assert.equal(await page.evaluate(() => window.client.getChainId()), 1);

  // personal_sign, approved on the wallet.
  const message = "hello from viem through walletwire";
  let signing = page.evaluate(([a, m]) => window.client.signMessage({ account: a, message: m }), [account, message]);
  await answerApproval("personal_sign", "y");
  const signature = await signing;
  assert.match(signature, /^0x[0-9a-f]{130}$/);
  assert.equal(await verifyMessage({ address: account, message, signature }), true);

  // eth_signTypedData_v4 (the EIP-712 specification's Mail), approved.
  signing = page.evaluate(([a, data]) => window.client.signTypedData({ account: a, ...data }), [account, MAIL]);
  await answerApproval("eth_signTypedData_v4", "y");
  const typedSignature = await signing;
  assert.equal(await verifyTypedData({ address: account, signature: typedSignature, ...MAIL }), true);

  // wallet_switchEthereumChain: chainChanged on the provider (once, though the wallet also
  // notifies), getChainId follows; an unknown chain is the wallet's 4902.
  await page.evaluate(() => window.client.switchChain({ id: viem.sepolia.id }));
  await page.waitForFunction(() => window.notifications.some((n) => n.method === "chainChanged"));
  assert.deepEqual(await page.evaluate(() => window.notifications), [{ method: "chainChanged", params: { chainId: "0xaa36a7" } }]);
  assert.deepEqual(await events("chainChanged"), ["0xaa36a7"]);
  assert.equal(await page.evaluate(() => window.client.getChainId()), 11155111);
  const unknown = await page.evaluate(() =>
    window.client.switchChain({ id: 137 }).then(
      () => null,
      (e) => ({ name: e.name, code: e.code }),
    ),
  );
  assert.deepEqual(unknown, { name: "SwitchChainError", code: 4902 });

  // eth_sendTransaction on Sepolia, approved: the hash is keccak256 of the raw transaction the
  // wallet recorded, and viem recovers the sender from that raw transaction.
  const sending = page.evaluate(
    (a) => window.client.sendTransaction({ account: a, chain: viem.sepolia, to: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", value: viem.parseEther("0.001") }),
    account,
  );
  await answerApproval("eth_sendTransaction", "y");
  const hash = await sending;
  const dataDir = wallet.process.spawnargs[wallet.process.spawnargs.indexOf("--data-dir") + 1];
  const ledger = JSON.parse(readFileSync(join(dataDir, "ledger.json"), "utf8"));
  await checkRecordedTransaction(ledger.evmTransactions, hash, { chainId: 11155111, from: account });

  // The wallet's user refuses: viem's UserRejectedRequestError, code 4001.
  const refused = page.evaluate(
    (a) =>
      window.client.signMessage({ account: a, message: "no" }).then(
        () => null,
        (e) => ({ name: e.name, code: e.code, isUserRejected: e instanceof viem.UserRejectedRequestError }),
      ),
    account,
  );
  await answerApproval("personal_sign", "n");
  assert.deepEqual(await refused, { name: "UserRejectedRequestError", code: 4001, isUserRejected: true });

  // The provider asked the wallet for the chain once; every getChainId after that was cached.
  assert.equal(wallet.lines.filter((l) => / eth_chainId$/.test(l)).length, 1, wallet.lines.join("\n"));
  await screenshot(page, "eip1193-viem");
  assert.deepEqual(page.errors, []);
});

test("ethers v6: BrowserProvider → getSigner → signMessage verifies with ethers; the wallet leaving is `disconnect` (4900)", async () => {
  assert.ok(wallet, "the viem test paired the wallet");
  const message = "hello from ethers through walletwire";
  const signing = page.evaluate(async (m) => {
    const browserProvider = new ethers.BrowserProvider(window.provider);
    const signer = await browserProvider.getSigner();
    const network = await browserProvider.getNetwork();
    return { address: await signer.getAddress(), chainId: network.chainId.toString(), signature: await signer.signMessage(m) };
  }, message);
  await answerApproval("personal_sign", "y");
  const signed = await signing;
  assert.equal(signed.address, account);
  assert.equal(signed.chainId, "11155111");
  assert.equal(ethersVerifyMessage(message, signed.signature), account);

  // Ctrl-C on the wallet ends the session: disconnect (4900), then no accounts.
  wallet.signal("SIGINT");
  await page.waitForFunction(() => window.events.some((e) => e.name === "disconnect"));
  const [disconnect] = await events("disconnect");
  assert.equal(disconnect.code, 4900);
  assert.equal(disconnect.data.walletwireCode, "peer_closed");
  assert.deepEqual((await events("accountsChanged")).at(-1), []);
  assert.deepEqual(await page.evaluate(() => window.provider.request({ method: "eth_accounts" })), []);
  const error = await page.evaluate(() =>
    window.provider.request({ method: "personal_sign", params: ["0x00", "0x00"] }).then(
      () => null,
      (e) => ({ name: e.name, code: e.code, walletwireCode: e.data.walletwireCode }),
    ),
  );
  assert.deepEqual(error, { name: "ProviderRpcError", code: 4900, walletwireCode: "not_connected" });
  assert.equal((await wallet.stop()).code, 0, wallet.output);
  assert.deepEqual(page.errors, []);
});

test("a provider created over a client that already has a live session follows it and answers from it", async () => {
  const fresh = await newPage(browser, `${base}/`);
  const addresses = fresh.evaluate(() => window.provider.request({ method: "eth_requestAccounts" }));
  await fresh.waitForFunction(() => document.querySelector("#link").href.startsWith("walletwire:"));
  const second = pairNativeWallet(await fresh.getAttribute("#link", "href"));
  await second.waitLine(/^CONNECTED \S+$/);
  const [first] = await addresses;
  // A second provider over the same client: it finds the session and answers from it.
  const followed = await fresh.evaluate(async () => {
    const { createEip1193Provider } = await import("walletwire/eip1193");
    const other = createEip1193Provider(window.dapp);
    return { session: other.session?.id ?? null, chainId: await other.request({ method: "eth_chainId" }), accounts: await other.request({ method: "eth_accounts" }) };
  });
  assert.equal(followed.session, (await fresh.evaluate(() => window.provider.session.id)));
  assert.equal(followed.chainId, "0x1");
  assert.equal(followed.accounts[0], first);
  assert.deepEqual(fresh.errors, []);
});

test("CAIP-25 scopes through the provider: the native wallet grants what viem's dApp asks for with its accounts, signs within the grant, and a method outside it is refused locally with 4100", async () => {
  const scopedPage = await newPage(browser, `${base}/`);
  const scopes = {
    eip155: {
      chains: ["eip155:1", "eip155:11155111"],
      methods: ["eth_requestAccounts", "eth_accounts", "eth_chainId", "personal_sign"],
      events: ["accountsChanged", "chainChanged"],
    },
  };
  await scopedPage.evaluate(async (scopes) => {
    const { DappClient } = await import("walletwire");
    const { createEip1193Provider } = await import("walletwire/eip1193");
    const client = new DappClient({
      relayUrl: `ws://${location.host}/connection/websocket`,
      dapp: { name: "Scoped dApp", url: location.origin },
      storage: "memory",
    });
    client.on("session_request", (req) => (window.scopedUri = req.uri));
    const provider = createEip1193Provider(client, { connect: { mode: "trusted", scopes } });
    window.scoped = { client, provider, wallet: viem.createWalletClient({ transport: viem.custom(provider) }) };
    window.scopedAddresses = window.scoped.wallet.requestAddresses();
  }, scopes);
  await scopedPage.waitForFunction(() => typeof window.scopedUri === "string");
  const uri = await scopedPage.evaluate(() => window.scopedUri);
  assert.ok(uri.length <= 200 && !uri.includes("personal_sign"), `scopes travel sealed: ${uri}`);
  const scopedWallet = pairNativeWallet(uri);
  assert.equal(await scopedWallet.waitLine(/^PROPOSAL /), "PROPOSAL Scoped_dApp");
  await scopedWallet.waitLine(/^CONNECTED \S+$/);
  const addresses = await scopedPage.evaluate(() => window.scopedAddresses);
  const granted = await scopedPage.evaluate(() => window.scoped.client.sessions()[0].scopes);
  assert.deepEqual(granted.eip155.methods, scopes.eip155.methods);
  assert.deepEqual(
    [...granted.eip155.accounts].sort(),
    scopes.eip155.chains.flatMap((chain) => addresses.map((a) => `${chain}:${a}`)).sort(),
    "CAIP-10 accounts of the wallet on every granted chain",
  );
  const message = "inside the grant";
  const signature = await scopedPage.evaluate(([a, m]) => window.scoped.wallet.signMessage({ account: a, message: m }), [addresses[0], message]);
  assert.equal(await verifyMessage({ address: addresses[0], message, signature }), true);
  // eth_signTypedData_v4 is not granted: refused by the dApp's own client, never sent.
  const refused = await scopedPage.evaluate(
    ([a, data]) =>
      window.scoped.wallet.signTypedData({ account: a, ...data }).then(
        () => null,
        (e) => ({ code: e.code ?? e.cause?.code, walletwireCode: (e.cause ?? e).data?.walletwireCode }),
      ),
    [addresses[0], MAIL],
  );
  assert.deepEqual(refused, { code: 4100, walletwireCode: "method_not_granted" });
  assert.ok(!scopedWallet.lines.some((l) => l.includes("eth_signTypedData_v4")), scopedWallet.lines.join("\n"));
  assert.equal((await scopedWallet.stop()).code, 0, scopedWallet.output);
  assert.deepEqual(scopedPage.errors, []);
});

// walletwire/wagmi under @wagmi/core itself: createConfig with the walletwire connector, then
// wagmi's connect, signMessage, switchChain, reconnect (after a reload, no new pairing) and
// disconnect in Chromium, against the native reference wallet (`walletwire-wallet pair`,
// trusted mode, approvals answered on its stdin) through the real relay. The signature is
// checked here with viem, not with walletwire code. The README's "wagmi" snippet runs too, read
// from README.md itself.

import assert from "node:assert/strict";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { getAddress, verifyMessage } from "viem";
import { Child, ROOT, SERVER_BIN, launchBrowser, newPage, openPage, pairNativeWallet, screenshot, stopAll, tempDir, withTimeout } from "./lib/harness.js";

let base;
let browser;
let www;

/**
 * Bundles @wagmi/core and viem into `<dir>/vendor/` with esbuild (harness.js's pattern), as
 * entries sharing their chunks, so the page and wagmi use one viem.
 */
async function bundleWagmi(dir) {
  const { build } = await import("esbuild");
  const entries = {
    "viem.js": 'export * from "viem"; export { mainnet, sepolia } from "viem/chains";',
    "wagmi-core.js": 'export * from "@wagmi/core";',
    "viem-chains.js": 'export { mainnet, sepolia } from "viem/chains";',
  };
  const src = join(dir, "vendor-src");
  mkdirSync(src, { recursive: true });
  for (const [name, contents] of Object.entries(entries)) writeFileSync(join(src, name), contents);
  await build({
    entryPoints: Object.keys(entries).map((name) => join(src, name)),
    nodePaths: [join(ROOT, "tests", "e2e", "node_modules")],
    bundle: true,
    splitting: true,
    format: "esm",
    target: "es2022",
    outdir: join(dir, "vendor"),
    logLevel: "error",
  });
}

before(async () => {
  www = tempDir("walletwire-e2e-wagmi-");
  cpSync(join(ROOT, "tests", "e2e", "fixtures", "wagmi"), www, { recursive: true });
  await bundleWagmi(www);
  const server = new Child("server", SERVER_BIN, ["--listen", "127.0.0.1:0", "--www", www, "--pkg", join(ROOT, "pkg")]);
  base = (await server.waitLine(/^pages at /)).replace(/^pages at /, "").replace(/\/$/, "");
  browser = await launchBrowser();
});

after(stopAll);

test("wagmi: connect pairs the native wallet; signMessage verifies; switchChain; reconnect after a reload restores it without pairing; disconnect", async () => {
  const page = await newPage(browser, `${base}/`);
  assert.equal(await page.evaluate(() => window.connector.id), "walletwire");
  assert.equal(await page.evaluate(() => window.connector.type), "walletwire");
  assert.equal(await page.evaluate(() => window.connector.isAuthorized()), false);
  assert.equal((await page.evaluate(() => window.account())).status, "disconnected");

  // connect → eth_requestAccounts: no session, so the client shows the link and the wallet
  // pairs with it (trusted mode: no code).
  const connecting = page.evaluate(() => window.wagmi.connect(window.config, { connector: window.connector }));
  await page.waitForFunction(() => document.querySelector("#link").href.startsWith("walletwire:"));
  const wallet = pairNativeWallet(await page.getAttribute("#link", "href"), ["--auto-approve", "false"]);
  await wallet.waitLine(/^CONNECTED \S+$/);
  const connected = await connecting;
  assert.equal(connected.chainId, 1);
  assert.equal(connected.accounts.length, 2);
  const [address] = connected.accounts;
  assert.equal(getAddress(address), address, "EIP-55 checksummed");
  const account = await page.evaluate(() => window.account());
  assert.deepEqual(account, { status: "connected", address, addresses: connected.accounts, chainId: 1, connector: "walletwire" });
  assert.equal(await page.evaluate(() => window.connector.isAuthorized()), true);
  assert.ok((await page.evaluate(() => window.accountHistory)).some((a) => a.status === "connecting"));

  // signMessage → personal_sign, approved on the wallet; verified here with viem.
  const message = "hello from wagmi through walletwire";
  const signing = page.evaluate((m) => window.wagmi.signMessage(window.config, { message: m }), message);
  const prompt = await wallet.waitLine(/^APPROVE /);
  assert.match(prompt, /^APPROVE \S+ \d+ personal_sign /);
  wallet.process.stdin.write("y\n");
  const signature = await signing;
  assert.match(signature, /^0x[0-9a-f]{130}$/);
  assert.equal(await verifyMessage({ address, message, signature }), true);

  // switchChain → wallet_switchEthereumChain: wagmi's state follows; a chain the config lacks
  // is SwitchChainError.
  const chain = await page.evaluate(() => window.wagmi.switchChain(window.config, { chainId: window.viem.sepolia.id }).then((c) => ({ id: c.id, name: c.name })));
  assert.deepEqual(chain, { id: 11155111, name: "Sepolia" });
  await page.waitForFunction(() => window.account().chainId === 11155111);
  assert.equal((await page.evaluate(() => window.account())).chainId, 11155111);
  assert.equal(await page.evaluate(() => window.wagmi.getChainId(window.config)), 11155111);
  const unknown = await page.evaluate(() =>
    window.wagmi.switchChain(window.config, { chainId: 137 }).then(
      () => null,
      (e) => ({ name: e.name, code: e.code, cause: e.cause?.name }),
    ),
  );
  assert.deepEqual(unknown, { name: "SwitchChainError", code: 4902, cause: "ChainNotConfiguredError" });
  assert.equal((await page.evaluate(() => window.account())).status, "connected");
  await screenshot(page, "wagmi-connected");

  // Reload: a new page load, a new config; reconnect() resumes the stored session. The same
  // wallet process answers: it paired once and printed no second CONNECTED.
  await openPage(page);
  // Before reconnect() the client has the session stored, not live: isAuthorized says so.
  assert.deepEqual(await page.evaluate(() => ({ live: window.dapp.sessions().length, stored: window.dapp.storedSessions().length })), { live: 0, stored: 1 });
  assert.equal(await page.evaluate(() => window.connector.isAuthorized()), true);
  const reconnected = await page.evaluate(() => window.wagmi.reconnect(window.config).then((list) => list.map((c) => ({ accounts: c.accounts, chainId: c.chainId, connector: c.connector.id }))));
  assert.equal(reconnected.length, 1);
  assert.equal(reconnected[0].connector, "walletwire");
  assert.equal(reconnected[0].accounts[0], address);
  const restored = await page.evaluate(() => window.account());
  assert.equal(restored.status, "connected");
  assert.equal(restored.address, address);
  assert.deepEqual(restored.addresses, connected.accounts);
  assert.equal(reconnected[0].chainId, 11155111, "the wallet kept the session on Sepolia");
  assert.equal(restored.chainId, 11155111);
  assert.equal(await page.getAttribute("#link", "href"), null, "no new pairing request");
  assert.equal(wallet.lines.filter((l) => /^CONNECTED /.test(l)).length, 1, wallet.lines.join("\n"));
  assert.equal(wallet.exitStatus, null, "the same wallet process");

  // disconnect: wagmi's state is disconnected, the client has no session left and the wallet
  // saw the dApp close it.
  await page.evaluate(() => window.wagmi.disconnect(window.config));
  assert.equal((await page.evaluate(() => window.account())).status, "disconnected");
  await page.waitForFunction(() => window.dapp.sessions().length === 0);
  assert.deepEqual(page.errors, []);
  const sessionId = (await wallet.waitLine(/^CONNECTED \S+$/)).split(" ")[1];
  assert.equal(await wallet.waitLine(/^DISCONNECTED /), `DISCONNECTED ${sessionId} peer`, "the wallet was told");
  await wallet.stop();

  // connect with a chainId: a new pairing (the session ended), then the connector switches the
  // wallet from its default chain (mainnet) to Sepolia before resolving.
  const linkBefore = await page.getAttribute("#link", "href");
  const again = page.evaluate(() => window.wagmi.connect(window.config, { connector: window.connector, chainId: window.viem.sepolia.id }));
  await page.waitForFunction((old) => document.querySelector("#link").href.startsWith("walletwire:") && document.querySelector("#link").href !== old, linkBefore);
  const second = pairNativeWallet(await page.getAttribute("#link", "href"), ["--auto-approve", "false"]);
  await second.waitLine(/^CONNECTED \S+$/);
  const switched = await again;
  assert.equal(switched.chainId, 11155111);
  assert.equal((await page.evaluate(() => window.account())).status, "connected");
  assert.equal((await page.evaluate(() => window.account())).chainId, 11155111);
  assert.ok(second.lines.some((l) => / wallet_switchEthereumChain$/.test(l)), second.lines.join("\n"));
  await page.evaluate(() => window.wagmi.disconnect(window.config));
  assert.equal((await page.evaluate(() => window.account())).status, "disconnected");
  await second.stop();
});

test("the README's wagmi snippet connects (trusted), and its signature verifies with viem", async () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const snippet = readme.slice(readme.indexOf("\n## wagmi\n")).match(/```js\n([\s\S]*?)```/);
  assert.ok(snippet, "a js block under ## wagmi");
  const dir = tempDir("walletwire-e2e-readme-wagmi-");
  await bundleWagmi(dir);
  const imports = {
    walletwire: "/pkg/walletwire.js",
    "walletwire/eip1193": "/pkg/eip1193.js",
    "walletwire/wagmi": "/pkg/wagmi.js",
    "@wagmi/core": "/vendor/wagmi-core.js",
    viem: "/vendor/viem.js",
    "viem/chains": "/vendor/viem-chains.js",
  };
  writeFileSync(
    join(dir, "index.html"),
    `<!doctype html>\n<meta charset="utf-8">\n<script type="importmap">${JSON.stringify({ imports })}</script>\n` +
      `<div id="qr"></div> <a id="link">Open in wallet</a>\n<script type="module">\n${snippet[1]}</script>\n`,
  );
  const server = new Child("server-readme-wagmi", SERVER_BIN, ["--listen", "127.0.0.1:0", "--www", dir, "--pkg", join(ROOT, "pkg")]);
  const url = (await server.waitLine(/^pages at /)).replace(/^pages at /, "");
  const page = await newPage(browser);
  let logged;
  const printed = new Promise((resolve) => (logged = resolve));
  page.on("console", (message) => {
    const [address, signature] = message.text().split(" ");
    if (/^0x[0-9a-fA-F]{40}$/.test(address) && /^0x[0-9a-f]{130}$/.test(signature ?? "")) logged({ address, signature });
  });
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector("#link").href.startsWith("walletwire:"));
  assert.match(await page.innerHTML("#qr"), /<svg/);
  const wallet = pairNativeWallet(await page.getAttribute("#link", "href"));
  await wallet.waitLine(/^CONNECTED \S+$/);
  const { address, signature } = await withTimeout(printed, 20_000, "the address and signature in the console");
  assert.equal(await verifyMessage({ address, message: "hello", signature }), true);
  assert.deepEqual(page.errors, []);
  await wallet.stop();
});

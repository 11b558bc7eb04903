// Wire compatibility with the Tari wallet connector: the published tari.js client,
// `TariConnection` from @tari-project/wallet-daemon-signer (fetched from npm by
// fetch-tarijs.mjs and loaded into the page as published), connects through our signaling
// server and our wallet daemon, unchanged: auth.login, add.offer and candidates, the 2 s
// answer polling, the "tari-data" channel, get.token, then wallet calls allowed and refused by
// the grant. Runs inside run.sh's private network namespace.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { WAIT, openTestPage, rpc, startDaemon, startServer, stopAll } from "./lib.mjs";

let page, signalingUrl, daemonUrl, adminToken;

before(async () => {
  const path = process.env.TARIJS;
  assert.ok(path, "TARIJS (the path of tari.js webrtc.js) is set by run.sh");
  let pagesUrl;
  ({ pagesUrl, signalingUrl } = await startServer());
  ({ daemonUrl, adminToken } = await startDaemon(signalingUrl, { dirPrefix: "walletwire-tarijs-", name: "tari.js wallet" }));
  ({ page } = await openTestPage(pagesUrl));
  // The module as published; only the binding to `window` is added after it.
  const source = readFileSync(path, "utf8");
  await page.addScriptTag({ type: "module", content: `${source}\nwindow.TariConnection = TariConnection;` });
  await page.waitForFunction(() => typeof window.TariConnection === "function", null, { timeout: WAIT });
});

after(stopAll);

test("the published tari.js TariConnection connects through our signaling server and daemon, and calls the wallet", async () => {
  const requested = ["AccountInfo", "AccountList", { AccountBalance: "All" }];
  await page.evaluate(({ signalingUrl, requested }) => {
    window.tari = { connected: false, error: null };
    // No STUN server: the namespace has no network (the default config names Google's).
    const connection = new window.TariConnection(signalingUrl, { iceServers: [] });
    window.tariConnection = connection;
    connection.init(requested, () => { window.tari.connected = true; })
      .catch((e) => { window.tari.error = String(e?.message ?? JSON.stringify(e)); });
  }, { signalingUrl, requested });
  const signalingToken = await page.waitForFunction(() => window.tariConnection._signalingServer.token, null, { timeout: WAIT })
    .then((h) => h.jsonValue());
  assert.equal(typeof signalingToken, "string");

  // The wallet UI grants less than asked, as a user may.
  const reply = await rpc(daemonUrl, adminToken, "webrtc.start", {
    signaling_server_token: signalingToken, permissions: ["AccountInfo"], name: "tari.js dApp",
  });
  assert.ok(reply.result?.sessionId, JSON.stringify(reply));
  await page.waitForFunction(() => window.tari.connected || window.tari.error, null, { timeout: WAIT });
  const state = await page.evaluate(() => ({ ...window.tari, token: window.tariConnection.token }));
  assert.equal(state.error, null);
  assert.ok(state.connected);
  assert.notEqual(state.token, signalingToken, "get.token handed over the daemon's wallet token");

  const call = (method, params) => page.evaluate(async ({ method, params }) => {
    const c = window.tariConnection;
    try {
      return { ok: await c.sendMessage({ id: Math.floor(Math.random() * 1e9), jsonrpc: "2.0", method, params }, c.token, 10) };
    } catch (e) {
      return { error: String(e?.message ?? e) };
    }
  }, { method, params });
  const info = await call("wallet.info", {});
  assert.equal(info.error, undefined, JSON.stringify(info));
  assert.equal(info.ok.name, "tari.js wallet", JSON.stringify(info));
  const refused = await call("accounts.list", {});
  assert.ok(refused.error, JSON.stringify(refused));
  assert.match(refused.error, /permission denied/);
});

// End-to-end test of the direct flow. run.sh starts this inside a private network namespace
// (Chromium gathers no loopback candidates; the namespace gives it a veth address and a
// default route that lead nowhere outside). Everything is real: the SDK (wasm) in headless
// Chromium, the walletwire-server signaling server, the walletwire-wallet daemon and its
// webrtc-rs peer. Steps: connect with the link's token through the daemon's webrtc.start,
// get.token, requests allowed and refused by the granted permissions, close with no peer
// connection left on the daemon, bad input (unreachable signaling server, a daemon that
// never answers), and the daemon killed: `disconnected` fires and pending requests reject.

import { join } from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { PKG, ROOT, SERVER, WAIT, openTestPage, rpc, start, startDaemon as startWalletDaemon, startServer, stopAll } from "./lib.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 5);

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

let browser, page, pagesUrl, signalingUrl, daemon, daemonUrl, adminToken;

async function startDaemon() {
  ({ daemon, daemonUrl, adminToken } = await startWalletDaemon(signalingUrl, { dirPrefix: "walletwire-direct-", name: "e2e wallet" }));
}

before(async () => {
  ({ pagesUrl, signalingUrl } = await startServer());
  await startDaemon();
  ({ browser, page } = await openTestPage(pagesUrl));
});

after(stopAll);

/** In the page: a connector whose link, events and connect() outcome are recorded. */
async function newConnector(options) {
  await page.evaluate(({ options, signalingUrl }) => {
    const c = new window.walletwire.WalletDaemonConnector({ signalingUrl, ...options });
    const log = { events: [], link: null, connected: null, connectedAt: null, outcome: null };
    c.on("link", (e) => { log.link = e.link; log.token = e.token; log.qr = (e.qrSvg() ?? "").slice(0, 60); });
    c.on("connected", (e) => { log.connected = e; log.connectedAt = Date.now(); });
    c.on("disconnected", (e) => log.events.push({ type: "disconnected", ...e }));
    c.on("error", (e) => log.events.push({ type: "error", code: e.code, message: e.message }));
    c.connect().then((v) => { log.outcome = { ok: true }; }, (e) => { log.outcome = { ok: false, code: e.code, message: e.message }; });
    window.c = c;
    window.log = log;
  }, { options, signalingUrl });
}

const log = () => page.evaluate(() => window.log);

async function waitLog(predicate, what) {
  const started = Date.now();
  for (;;) {
    const l = await log();
    if (predicate(l)) return l;
    if (Date.now() - started > WAIT) throw new Error(`timed out: ${what}: ${JSON.stringify(l)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const REQUESTED = ["AccountInfo", { AccountBalance: "All" }, "AccountList"];
const GRANTED = ["AccountInfo", { AccountBalance: "All" }];

/** Connects through webrtc.start as the wallet UI does; returns ms from webrtc.start to `connected`. */
async function connectThroughDaemon(options = {}) {
  await newConnector({ name: "e2e dApp", permissions: REQUESTED, ...options });
  const { link } = await waitLog((l) => l.link, "link");
  const parsed = await page.evaluate((link) => window.walletwire.parseDirectLink(link), link);
  assert.equal(parsed.name, "e2e dApp");
  assert.deepEqual(parsed.permissions, REQUESTED);
  const started = Date.now();
  const reply = await rpc(daemonUrl, adminToken, "webrtc.start", {
    signaling_server_token: parsed.token, permissions: GRANTED, name: parsed.name,
  });
  assert.ok(reply.result?.sessionId, JSON.stringify(reply));
  const l = await waitLog((l) => l.connected || l.outcome, "connected");
  assert.ok(l.connected, JSON.stringify(l));
  return { ms: l.connectedAt - started, sessionId: reply.result.sessionId };
}

async function daemonSessions() {
  return (await rpc(daemonUrl, adminToken, "webrtc.sessions", null)).result;
}

test("connect, get.token, requests allowed and refused, close leaves no peer connection", async () => {
  const times = [];
  for (let round = 0; round < ROUNDS; round++) {
    const { ms } = await connectThroughDaemon();
    times.push(ms);
    const l = await log();
    assert.ok(l.link.startsWith("tari://e2e%20dApp/"));
    assert.ok(l.qr.includes("<svg") || l.qr.startsWith("<?xml"));
    const results = await page.evaluate(async () => {
      const c = window.c;
      const settle = (p) => p.then((v) => ({ ok: v }), (e) => ({ code: e.code, message: e.message }));
      const claims = JSON.parse(atob(c.walletToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
      const info = await settle(c.request("wallet.info"));
      const refused = await settle(c.request("accounts.list"));
      const balance = await settle(c.request("balances.get", { account: "ab".repeat(32) }));
      const viaSendMessage = await settle(c.sendMessage("wallet.info", c.walletToken, {}));
      const wrongToken = await settle(c.sendMessage("wallet.info", "not a token", {}));
      const rtts = [];
      for (let i = 0; i < 50; i++) {
        const t = performance.now();
        await c.request("wallet.info");
        rtts.push(performance.now() - t);
      }
      return { claims, info, refused, balance, viaSendMessage, wrongToken, rtts, state: c.state };
    });
    assert.equal(results.state, "connected");
    assert.deepEqual(results.claims.permissions, GRANTED);
    assert.equal(results.info.ok.name, "e2e wallet");
    assert.equal(results.refused.code, "remote_error");
    assert.match(results.refused.message, /permission denied/);
    assert.equal(results.balance.ok.balance, 0);
    assert.equal(results.viaSendMessage.ok.name, "e2e wallet");
    assert.equal(results.wrongToken.code, "remote_error");
    if (round === 0) console.log(`data-channel request round trip: median ${median(results.rtts).toFixed(2)} ms over 50`);
    // The dApp closes: the daemon closes its peer connection too.
    await page.evaluate(() => window.c.close());
    const l2 = await log();
    assert.deepEqual(l2.events.filter((e) => e.type === "disconnected").map((e) => e.reason), ["local"]);
    const started = Date.now();
    while ((await daemonSessions()).length > 0) {
      assert.ok(Date.now() - started < WAIT, "daemon kept a peer connection");
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  console.log(`webrtc.start -> connected: median ${median(times)} ms of ${JSON.stringify(times)} (default poll schedule)`);
});

test("webrtc.start -> connected with fast polling (protocol cost without the poll schedule)", async () => {
  const times = [];
  for (let round = 0; round < ROUNDS; round++) {
    const { ms } = await connectThroughDaemon({ poll: { initialMs: 20, maxMs: 20 } });
    times.push(ms);
    await page.evaluate(() => window.c.close());
    const started = Date.now();
    while ((await daemonSessions()).length > 0) {
      assert.ok(Date.now() - started < WAIT, "daemon kept a peer connection");
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  console.log(`webrtc.start -> connected (20 ms polls): median ${median(times)} ms of ${JSON.stringify(times)}`);
});

test("bad input: unreachable signaling server, unknown options, a daemon that never answers", async () => {
  const outcomes = await page.evaluate(async () => {
    const W = window.walletwire.WalletDaemonConnector;
    const code = async (f) => { try { await f(); return "ok"; } catch (e) { return e.code; } };
    return {
      unreachable: await code(() => new W({ name: "x", permissions: ["Admin"], signalingUrl: "http://127.0.0.1:9/" }).connect()),
      badPermissions: await code(() => new W({ name: "x", permissions: [{ A: 1, B: 2 }] })),
      noPermissions: await code(() => new W({ name: "x" })),
      badUrl: await code(() => new W({ name: "x", permissions: [], signalingUrl: "ftp://x" })),
      notConnected: await code(() => new W({ name: "x", permissions: [] }).request("wallet.info")),
      badLink: await code(() => window.walletwire.parseDirectLink("tari://only/two")),
    };
  });
  assert.deepEqual(outcomes, {
    unreachable: "signaling_unreachable",
    badPermissions: "invalid_permissions",
    noPermissions: "invalid_params",
    badUrl: "invalid_params",
    notConnected: "not_connected",
    badLink: "invalid_link",
  });
  // Nobody starts the daemon: connect() rejects at its overall timeout.
  await newConnector({ name: "nobody", permissions: ["AccountInfo"], connectTimeoutMs: 1500 });
  const l = await waitLog((l) => l.outcome, "connect timeout");
  assert.deepEqual(l.outcome.code, "connect_timeout");
  assert.equal(await page.evaluate(() => window.c.state), "closed");
});

test("demo pages: the dApp page shows the link, the wallet page accepts it, a request goes through", async () => {
  const pages = start("pages", SERVER, ["--listen", "127.0.0.1:0", "--no-signaling", "--www", join(ROOT, "www"), "--pkg", PKG]);
  const base = (await pages.line("pages at ")).slice("pages at ".length).trim();
  const dapp = await browser.newPage();
  const wallet = await browser.newPage();
  const errors = [];
  for (const p of [dapp, wallet]) p.on("pageerror", (e) => errors.push(String(e)));
  try {
    await dapp.goto(`${base}direct.html?signaling=${encodeURIComponent(signalingUrl)}`);
    await dapp.waitForSelector("body[data-ready]", { state: "attached", timeout: WAIT });
    await dapp.fill("#permissions", JSON.stringify(["AccountInfo", "AccountList"]));
    await dapp.click("#dapp-connect");
    await dapp.waitForFunction(() => document.getElementById("link").value.startsWith("tari://"), null, { timeout: WAIT });
    assert.ok(await dapp.$eval("#qr", (e) => e.innerHTML.includes("<svg")));
    const link = await dapp.$eval("#link", (e) => e.value);
    await wallet.goto(`${base}direct.html?daemon=${encodeURIComponent(daemonUrl)}#wallet`);
    await wallet.waitForSelector("body[data-ready]", { state: "attached", timeout: WAIT });
    await wallet.fill("#admin-token", adminToken);
    await wallet.fill("#paste-link", link);
    await wallet.waitForSelector("#review:not([hidden])", { timeout: WAIT });
    // The user unticks AccountList.
    await wallet.uncheck("#review-permissions input[value='\"AccountList\"']");
    await wallet.click("#accept");
    await wallet.waitForFunction(() => /started/.test(document.getElementById("wallet-status").textContent), null, { timeout: WAIT });
    await dapp.waitForFunction(() => document.getElementById("dapp-status").textContent === "Connected", null, { timeout: WAIT });
    await dapp.click("#request-form button[type=submit]");
    await dapp.waitForFunction(() => /wallet\.info: \{/.test(document.getElementById("dapp-log").textContent), null, { timeout: WAIT });
    await dapp.fill("#method", "accounts.list");
    await dapp.click("#request-form button[type=submit]");
    await dapp.waitForFunction(() => /remote_error: .*permission denied/.test(document.getElementById("dapp-log").textContent), null, { timeout: WAIT });
    await dapp.click("#dapp-close");
    assert.deepEqual(errors, []);
  } finally {
    await dapp.close();
    await wallet.close();
    pages.child.kill("SIGKILL");
  }
});

test("daemon killed: disconnected fires and pending requests reject", async () => {
  await connectThroughDaemon({ disconnectGraceMs: 1000 });
  const killedAt = Date.now();
  daemon.child.kill("SIGKILL");
  await daemon.exited;
  const pending = await page.evaluate(async () => {
    const c = window.c;
    const started = Date.now();
    try {
      await c.request("wallet.info", {}, { timeoutMs: 30000 });
      return { ok: true };
    } catch (e) {
      return { code: e.code, after: Date.now() - started };
    }
  });
  assert.ok(["ice_failed", "peer_closed"].includes(pending.code), JSON.stringify(pending));
  const l = await waitLog((l) => l.events.some((e) => e.type === "disconnected"), "disconnected");
  const event = l.events.find((e) => e.type === "disconnected");
  assert.equal(event.reason === "failed" || event.reason === "peer", true, JSON.stringify(event));
  console.log(`daemon killed -> disconnected after ${Date.now() - killedAt} ms (${event.code})`);
  await startDaemon();
});

// Attacks on the direct flow's permissions over the data channel. run.sh starts this inside a
// private network namespace, like direct.test.mjs. Everything is real: the SDK (wasm) in
// headless Chromium, the walletwire-server signaling server, the walletwire-wallet daemon and
// its webrtc-rs peer. The page is the attacker: connected with a limited grant, it calls
// methods outside it (also the daemon's own methods and disguised names), asks `get.token`
// for more, and sends forged, altered, expired, foreign and stale tokens over its data
// channel. Every attempt must be refused by the daemon with `{id, payload: {error}}`
// (`remote_error` in the SDK); the session keeps working.

import { createHmac } from "node:crypto";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  PKG, ROOT, SERVER, WAIT, openTestPage, rpc, start, startDaemon as startWalletDaemon, startServer, stopAll, withTimeout,
} from "./lib.mjs";

// The daemon's token secret is fixed so the test can restart it with the same one (and play
// an operator minting tokens); a dApp never knows it.
const DAEMON_SECRET = "attack-test-daemon-secret-0123456789";

const b64 = (value) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const claimsOf = (token) => JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
const HS256 = { alg: "HS256", typ: "JWT" };

/** An HS256 JWT over `header`/`claims` signed with `key`. */
function sign(header, claims, key) {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
}

let daemon, browser, page, signalingUrl, daemonUrl, adminToken, accounts;

async function startDaemon() {
  ({ daemon, daemonUrl, adminToken } = await startWalletDaemon(signalingUrl, {
    dirPrefix: "walletwire-direct-attacks-", name: "attacked wallet", args: ["--secret", DAEMON_SECRET],
  }));
  accounts = (await rpc(daemonUrl, adminToken, "accounts.list", {})).result.accounts.map((a) => a.address);
  assert.ok(accounts.length >= 2);
}

async function stopDaemon() {
  daemon.child.kill("SIGTERM");
  await withTimeout(daemon.exited, WAIT, "daemon exit");
}

before(async () => {
  let pagesUrl;
  ({ pagesUrl, signalingUrl } = await startServer());
  await startDaemon();
  ({ browser, page } = await openTestPage(pagesUrl));
  await page.evaluate(() => {
    window.sessions = {};
    window.settle = (p) => p.then((ok) => ({ ok }), (e) => ({ code: e.code, message: e.message }));
  });
});

after(stopAll);

async function waitUntil(what, check) {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - started > WAIT) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A connector named `name` in the page asking for `requested`; the wallet UI (this test, with
 * the admin token) grants `granted` through webrtc.start. Returns the daemon's session id.
 */
async function connect(name, requested, granted) {
  await page.evaluate(({ name, requested, signalingUrl }) => {
    const c = new window.walletwire.WalletDaemonConnector({ name, permissions: requested, signalingUrl });
    const entry = { c, link: null, connected: false, outcome: null };
    c.on("link", (e) => { entry.link = e.link; });
    c.on("connected", () => { entry.connected = true; });
    c.connect().then(() => { entry.outcome = "ok"; }, (e) => { entry.outcome = e.code; });
    window.sessions[name] = entry;
  }, { name, requested, signalingUrl });
  const link = await waitUntil("link", () => page.evaluate((name) => window.sessions[name].link, name));
  const parsed = await page.evaluate((link) => window.walletwire.parseDirectLink(link), link);
  const reply = await rpc(daemonUrl, adminToken, "webrtc.start", {
    signaling_server_token: parsed.token, permissions: granted, name: parsed.name,
  });
  assert.ok(reply.result?.sessionId, JSON.stringify(reply));
  const state = await waitUntil("connected", () => page.evaluate((name) => {
    const s = window.sessions[name];
    return s.connected ? "connected" : s.outcome;
  }, name));
  assert.equal(state, "connected");
  return reply.result.sessionId;
}

/** In the page: `request(method, params)` on connector `name`. */
const request = (name, method, params = {}) => page.evaluate(
  ({ name, method, params }) => window.settle(window.sessions[name].c.request(method, params, { timeoutMs: 10000 })),
  { name, method, params });

/** In the page: `sendMessage(method, token, params)` on connector `name` (any token). */
const send = (name, method, token, params = {}) => page.evaluate(
  ({ name, method, token, params }) => window.settle(window.sessions[name].c.sendMessage(method, token, params)),
  { name, method, token, params });

const tokens = (name) => page.evaluate((name) => {
  const c = window.sessions[name].c;
  return { wallet: c.walletToken, signaling: c.signalingToken };
}, name);

async function close(name) {
  await page.evaluate((name) => window.sessions[name].c.close(), name);
}

function assertRefused(result, pattern, what) {
  assert.equal(result.code, "remote_error", `${what}: ${JSON.stringify(result)}`);
  assert.match(result.message, pattern, `${what}: ${JSON.stringify(result)}`);
}

const REQUESTED = ["AccountInfo", "AccountList", { AccountBalance: "All" }, "MessageSign", "TransactionSend"];

test("calls outside the granted permissions are refused, whatever their disguise", async () => {
  const granted = ["AccountInfo", { AccountBalance: accounts[0] }];
  await connect("limited", REQUESTED, granted);
  const { wallet } = await tokens("limited");
  assert.deepEqual(claimsOf(wallet).permissions, granted);

  // Inside the grant.
  assert.equal((await request("limited", "wallet.info")).ok.name, "attacked wallet");
  assert.equal((await request("limited", "balances.get", { account: accounts[0] })).ok.account, accounts[0]);
  assert.ok((await request("limited", "balances.get", { account: accounts[0].toUpperCase() })).ok,
    "the account argument matches case-insensitively");

  const denied = /permission denied/;
  const outside = [
    ["accounts.list", {}],
    ["balances.get", { account: accounts[1] }],
    ["balances.get", {}],
    ["balances.get", { account: [accounts[0]] }],
    ["balances.get", { account: { All: true } }],
    ["message.sign", { account: accounts[0], message: "hi" }],
    ["transaction.submit", { from: accounts[0], to: accounts[1], amount: 1 }],
    ["transaction.submit", { from: accounts[1], to: accounts[0], amount: 1 }],
    // The daemon's own methods and disguised names all need Admin.
    ["webrtc.start", { signaling_server_token: wallet, permissions: ["Admin"], name: "x" }],
    ["webrtc.sessions", {}],
    ["webrtc.stop", { sessionId: 1 }],
    ["Accounts.List", {}],
    ["accounts.list ", {}],
    ["accounts.list\u0000", {}],
    ["admin.grant", { permissions: ["Admin"] }],
    ["", {}],
  ];
  for (const [method, params] of outside) {
    assertRefused(await request("limited", method, params), denied, `${JSON.stringify(method)} ${JSON.stringify(params)}`);
  }
  // Nothing was spent, nothing was started.
  const sessions = (await rpc(daemonUrl, adminToken, "webrtc.sessions", null)).result;
  assert.equal(sessions.length, 1, JSON.stringify(sessions));
  // The session still works.
  assert.ok((await request("limited", "wallet.info")).ok);
  await close("limited");
});

test("get.token cannot widen the grant, and only the session's own signaling token gets one", async () => {
  const granted = ["AccountInfo"];
  await connect("asker", REQUESTED, granted);
  const { wallet, signaling } = await tokens("asker");

  // Asking again, for more: the same grant comes back.
  for (const params of [{}, { permissions: ["Admin"] }, { permissions: REQUESTED }, ["Admin"]]) {
    const again = await send("asker", "get.token", signaling, params);
    assert.equal(typeof again.ok, "string", JSON.stringify(again));
    assert.deepEqual(claimsOf(again.ok).permissions, granted, JSON.stringify(params));
    assertRefused(await send("asker", "accounts.list", again.ok), /permission denied/, "with the new token");
  }

  // get.token with anything but this session's signaling token.
  const otherLogin = (await rpc(signalingUrl, null, "auth.login", ["Admin"])).result;
  const signalingClaims = claimsOf(signaling);
  const widened = { ...signalingClaims, permissions: ["Admin"] };
  const [h, , s] = signaling.split(".");
  const attempts = {
    "the wallet token": wallet,
    "another login's signaling token": otherLogin,
    "the signaling token with its claims widened": `${h}.${b64(widened)}.${s}`,
    "the signaling token, alg none": `${b64({ alg: "none", typ: "JWT" })}.${b64(widened)}.`,
    "the signaling token re-signed with a guess": sign(HS256, widened, "secret"),
    "the signaling token plus a character": `${signaling}x`,
    "empty": "",
  };
  for (const [what, token] of Object.entries(attempts)) {
    assertRefused(await send("asker", "get.token", token, { permissions: ["Admin"] }), /needs the signaling token/, what);
  }
  assert.ok((await request("asker", "wallet.info")).ok);
  await close("asker");
});

test("forged, altered, expired and foreign wallet tokens are refused on the data channel", async () => {
  const first = await connect("first", REQUESTED, ["AccountInfo"]);
  const second = await connect("second", REQUESTED, ["AccountInfo", "AccountList"]);
  const { wallet } = await tokens("first");
  const secondWallet = (await tokens("second")).wallet;
  const claims = claimsOf(wallet);
  assert.equal(claims.id, first);
  const [h, , s] = wallet.split(".");
  const admin = { ...claims, permissions: ["Admin"] };

  const invalid = {
    "claims widened under the original signature": `${h}.${b64(admin)}.${s}`,
    "id changed under the original signature": `${h}.${b64({ ...claims, id: second })}.${s}`,
    "alg none": `${b64({ alg: "none", typ: "JWT" })}.${b64(admin)}.`,
    "alg none with the original signature": `${b64({ alg: "none" })}.${b64(admin)}.${s}`,
    "alg HS512 over the original signature": `${b64({ alg: "HS512", typ: "JWT" })}.${b64(claims)}.${s}`,
    "HS256 under a guessed secret": sign(HS256, admin, "secret"),
    "HS256 under an empty key": sign(HS256, admin, ""),
    "HS256 under the signaling token as key": sign(HS256, admin, (await tokens("first")).signaling),
    "a signaling-server token": (await rpc(signalingUrl, null, "auth.login", ["Admin"])).result,
    "signature dropped": `${h}.${b64(admin)}`,
    "junk": "not a token",
  };
  for (const [what, token] of Object.entries(invalid)) {
    assertRefused(await send("first", "accounts.list", token), /invalid token/, what);
  }

  // Genuine signatures (as the operator who holds the daemon's secret could mint), wrong use.
  const now = Math.floor(Date.now() / 1000);
  assertRefused(await send("first", "wallet.info", sign(HS256, { ...claims, exp: now - 1 }, DAEMON_SECRET)),
    /expired/, "expired");
  const foreign = {
    "the other live session's token": secondWallet,
    "the wallet UI's admin token": adminToken,
    "an Admin token minted for another session id": sign(HS256, { ...admin, id: first + 1000 }, DAEMON_SECRET),
  };
  for (const [what, token] of Object.entries(foreign)) {
    assertRefused(await send("first", "accounts.list", token), /another session/, what);
  }
  // Each session still works with its own token, within its own grant.
  assert.ok((await request("first", "wallet.info")).ok);
  assertRefused(await request("first", "accounts.list"), /permission denied/, "first, own token");
  assert.ok((await request("second", "accounts.list")).ok.accounts);
  await close("first");
  await close("second");
});

test("a wallet token from before a daemon restart is refused by a new session", async () => {
  // A fresh daemon, so "before" is its first session, as "after" will be of the next one.
  await stopDaemon();
  await startDaemon();
  // Before the restart the user granted AccountList; after it, a new session with less.
  await connect("before", REQUESTED, ["AccountInfo", "AccountList"]);
  const stale = (await tokens("before")).wallet;
  assert.ok((await request("before", "accounts.list")).ok.accounts);
  await stopDaemon();
  await waitUntil("disconnected", () => page.evaluate(() => window.sessions.before.c.state === "closed"));

  await startDaemon(); // same secret: the stale token still verifies
  const fresh = await connect("after", REQUESTED, ["AccountInfo"]);
  assert.notEqual(claimsOf(stale).id, fresh, "session ids do not repeat across restarts");
  assertRefused(await send("after", "accounts.list", stale), /another session/, "stale token");
  assertRefused(await request("after", "accounts.list"), /permission denied/, "own token");
  assert.ok((await request("after", "wallet.info")).ok);
  await close("after");
});

test("a dApp cannot mint itself Admin: every step of the escalation is refused", async () => {
  // The review's attack: a page asks for StartWebrtc (and Admin) among its optional
  // permissions, the wallet UI pre-ticks them, and with StartWebrtc the page calls the
  // daemon's own webrtc.start with its session token, granting a second connector of its own
  // ["Admin"], whose get.token then hands it an Admin token.
  const pages = start("pages", SERVER, ["--listen", "127.0.0.1:0", "--no-signaling", "--www", join(ROOT, "www"), "--pkg", PKG]);
  const base = (await pages.line("pages at ")).slice("pages at ".length).trim();
  const wallet = await browser.newPage();
  try {
    // Step 1, the wallet UI (the real demo wallet page): optional permissions start unticked,
    // Admin and StartWebrtc can't be ticked at all and say so.
    await page.evaluate(({ signalingUrl }) => {
      const c = new window.walletwire.WalletDaemonConnector({
        name: "escalator", permissions: ["AccountInfo", "StartWebrtc"],
        optionalPermissions: ["AccountList", "Admin", { StartWebrtc: null }], signalingUrl,
      });
      const entry = { c, link: null, connected: false, outcome: null };
      c.on("link", (e) => { entry.link = e.link; });
      c.on("connected", () => { entry.connected = true; });
      c.connect().then(() => { entry.outcome = "ok"; }, (e) => { entry.outcome = e.code; });
      window.sessions.escalator = entry;
    }, { signalingUrl });
    const link = await waitUntil("link", () => page.evaluate(() => window.sessions.escalator.link));
    await wallet.goto(`${base}direct.html?daemon=${encodeURIComponent(daemonUrl)}#wallet`);
    await wallet.waitForSelector("body[data-ready]", { state: "attached", timeout: WAIT });
    await wallet.fill("#admin-token", adminToken);
    await wallet.fill("#paste-link", link);
    await wallet.waitForSelector("#review:not([hidden])", { timeout: WAIT });
    const boxes = await wallet.$$eval("#review-permissions label", (labels) => labels.map((l) => ({
      value: JSON.parse(l.querySelector("input").value),
      checked: l.querySelector("input").checked,
      disabled: l.querySelector("input").disabled,
      text: l.textContent,
    })));
    assert.deepEqual(boxes.map((b) => [b.value, b.checked, b.disabled]), [
      ["AccountInfo", true, false],
      ["StartWebrtc", false, true],
      ["AccountList", false, false],
      ["Admin", false, true],
      [{ StartWebrtc: null }, false, true],
    ], JSON.stringify(boxes));
    for (const b of boxes.filter((b) => b.disabled)) assert.match(b.text, /never granted to a dApp/);
    // Even forced, a disabled box is not ticked by a click.
    await wallet.click("#review-permissions input[value='\"Admin\"']", { force: true }).catch(() => {});
    assert.equal(await wallet.$eval("#review-permissions input[value='\"Admin\"']", (i) => i.checked), false);
    await wallet.click("#accept");
    await wallet.waitForFunction(() => /started/.test(document.getElementById("wallet-status").textContent), null, { timeout: WAIT });
    await waitUntil("connected", () => page.evaluate(() => window.sessions.escalator.connected));
    const { wallet: sessionToken } = await tokens("escalator");
    const sessionId = claimsOf(sessionToken).id;
    assert.deepEqual(claimsOf(sessionToken).permissions, ["AccountInfo"]);

    // Step 2, a wallet UI that ticks them anyway (a modified page, or a careless operator with
    // the admin token): the daemon refuses to grant either, with or without an argument.
    await page.evaluate(({ signalingUrl }) => {
      const c = new window.walletwire.WalletDaemonConnector({ name: "second", permissions: ["Admin"], signalingUrl });
      const entry = { c, link: null, connected: false, outcome: null };
      c.on("link", (e) => { entry.link = e.link; });
      c.on("connected", () => { entry.connected = true; });
      c.connect().then(() => { entry.outcome = "ok"; }, (e) => { entry.outcome = e.code; });
      window.sessions.second = entry;
    }, { signalingUrl });
    const secondLink = await waitUntil("second link", () => page.evaluate(() => window.sessions.second.link));
    const secondToken = (await page.evaluate((l) => window.walletwire.parseDirectLink(l), secondLink)).token;
    for (const permissions of [["Admin"], ["AccountInfo", "StartWebrtc"], [{ StartWebrtc: null }], [{ Admin: "All" }]]) {
      const reply = await rpc(daemonUrl, adminToken, "webrtc.start", { signaling_server_token: secondToken, permissions, name: "x" });
      assert.equal(reply.error?.code, 403, `grant ${JSON.stringify(permissions)}: ${JSON.stringify(reply)}`);
      assert.match(reply.error.message, /never granted/);
    }

    // Step 3, the page calls the daemon's HTTP endpoint itself (CORS is open) with its session's
    // wallet token: webrtc.* refuse a session's token outright.
    const fromPage = (token, method, params) => page.evaluate(async ({ url, token, method, params }) => {
      const r = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      });
      return r.json();
    }, { url: daemonUrl, token, method, params });
    const startAdmin = { signaling_server_token: secondToken, permissions: ["Admin"], name: "mine" };
    const startPlain = { signaling_server_token: secondToken, permissions: ["AccountInfo"], name: "mine" };
    for (const [method, params] of [["webrtc.start", startAdmin], ["webrtc.start", startPlain], ["webrtc.sessions", null], ["webrtc.stop", { sessionId }]]) {
      const reply = await fromPage(sessionToken, method, params);
      assert.equal(reply.error?.code, 403, `${method}: ${JSON.stringify(reply)}`);
    }
    // Step 4, a session token that does hold StartWebrtc and Admin (as a daemon before this fix
    // could grant; here minted with the daemon's secret for the live session): still refused.
    const widened = sign(HS256, { ...claimsOf(sessionToken), permissions: ["StartWebrtc", "Admin"] }, DAEMON_SECRET);
    for (const params of [startAdmin, startPlain]) {
      const reply = await fromPage(widened, "webrtc.start", params);
      assert.equal(reply.error?.code, 403, JSON.stringify(reply));
      assert.match(reply.error.message, /not a session's/);
    }
    // Step 5, over the data channel: the daemon's own methods need Admin, get.token asking for
    // Admin returns the same grant.
    assertRefused(await request("escalator", "webrtc.start", startAdmin), /permission denied/, "webrtc.start on the channel");
    const again = await send("escalator", "get.token", (await tokens("escalator")).signaling, { permissions: ["Admin"] });
    assert.deepEqual(claimsOf(again.ok).permissions, ["AccountInfo"]);

    // Nothing was started for the page; the second connector never connected; the honest
    // session still works within its grant.
    const sessions = (await rpc(daemonUrl, adminToken, "webrtc.sessions", null)).result;
    assert.deepEqual(sessions.map((s) => s.id), [sessionId], JSON.stringify(sessions));
    assert.equal(await page.evaluate(() => window.sessions.second.connected), false);
    assert.ok((await request("escalator", "wallet.info")).ok);
    assertRefused(await request("escalator", "accounts.list"), /permission denied/, "outside the grant");
    await page.evaluate(() => window.sessions.second.c.close());
    await close("escalator");
  } finally {
    await wallet.close();
    pages.child.kill("SIGKILL");
  }
});

// One session, many tabs (issue 14): tabs of one browser context share localStorage, and
// exactly one of them (the Web Lock owner) drives the sessions; the others go through it.
// Real relay (walletwire-server), real native wallet, real headless Chromium tabs.

import assert from "node:assert/strict";
import { createPublicKey, verify } from "node:crypto";
import { verifyMessage } from "viem";
import { after, before, test } from "node:test";
import {
  WAIT,
  launchBrowser,
  openPage,
  pairNativeWallet,
  sendRequest,
  serveFixture,
  startConnection,
  startDemo,
  stopAll,
  waitAnswer,
  waitConnected,
} from "./lib/harness.js";

let base;
let browser;

before(async () => {
  base = await serveFixture("tabs");
  browser = await launchBrowser();
});

after(stopAll);

/** One browser context (one localStorage, one set of Web Locks) with `n` tabs (`initScript`: run first in each). */
async function tabsOf(n, initScript) {
  const context = await browser.newContext();
  context.setDefaultTimeout(WAIT);
  if (initScript) await context.addInitScript(initScript);
  const pages = [];
  for (let i = 0; i < n; i++) pages.push(await tab(context));
  return { context, pages };
}

async function tab(context) {
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (error) => page.errors.push(error));
  await openPage(page, `${base}/`);
  return page;
}

const waitFor = (page, fn, arg) => page.waitForFunction(fn, arg, { timeout: WAIT });

/**
 * Creates the `kind` client ("dapp" or "wallet") in every page, the first page's first: the
 * others are created once it holds the Web Lock, so the first page is the owner.
 */
async function clients(pages, kind) {
  const [first, ...rest] = pages;
  await first.evaluate((k) => tabs[k](), kind);
  await first.evaluate(async ([name, wait]) => {
    const deadline = Date.now() + wait;
    while (!(await navigator.locks.query()).held.some((l) => l.name === name)) {
      if (Date.now() > deadline) throw new Error(`${name} not held after ${wait} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }, [`walletwire:v1:${kind}`, WAIT]);
  for (const page of rest) await page.evaluate((k) => tabs[k](), kind);
}

/** Connects `page`'s client in trusted mode to a native wallet: `{wallet, session}` (its id). */
async function pairTrusted(page) {
  const connecting = page.evaluate(() => dapp.connect({ mode: "trusted" }).then((s) => s.id));
  const uri = (await waitFor(page, () => dappEvents.session_request[0]?.uri)).jsonValue();
  const wallet = pairNativeWallet(await uri);
  await wallet.waitLine(/^CONNECTED \S+$/);
  return { wallet, session: await connecting };
}

/** Every answer matches its own request, none failed. */
function assertOwnAnswers(outcomes, what) {
  const failed = outcomes.filter((o) => o.error || o.got !== o.asked);
  assert.deepEqual(failed, [], `${what}: ${failed.length} of ${outcomes.length} wrong or failed`);
}

const requestIds = (wallet) => wallet.lines
  .filter((l) => /^REQUEST \S+ \d+ balances\.get$/.test(l))
  .map((l) => Number(l.split(" ")[2]));

for (const n of [2, 3]) {
  test(`${n} dApp tabs share one session: every request gets its own answer, through an owner reload and an owner close`, async () => {
    const { pages, context } = await tabsOf(n);
    const [a, b] = pages;
    const rest = pages.slice(2);
    await clients(pages, "dapp");
    const { wallet, session } = await pairTrusted(a);
    // Everybody hears of the session; only the tab that asked saw the request to show.
    for (const page of pages.slice(1)) {
      await waitFor(page, (id) => dappEvents.connected.some((s) => s.id === id), session);
      assert.deepEqual(await page.evaluate(() => dapp.sessions().map((s) => s.id)), [session]);
      assert.equal(await page.evaluate(() => dappEvents.session_request.length), 0);
    }

    // Bursts from every tab at once.
    const bursts = await Promise.all(pages.map((page, i) =>
      page.evaluate(([tag]) => tabs.burst(tag, 10), [`a${i}`])));
    bursts.forEach((outcomes, i) => assertOwnAnswers(outcomes, `tab ${i}`));

    // The owner (a, the first tab) reloads in the middle of a burst: the others lose nothing.
    const others = [b, ...rest];
    await Promise.all(others.map((page, i) =>
      page.evaluate(([tag]) => { window.pending = tabs.burst(tag, 10); }, [`b${i}`])));
    await a.evaluate(() => { tabs.burst("bf", 10); });
    await openPage(a);
    for (const [i, page] of others.entries()) {
      assertOwnAnswers(await page.evaluate(() => window.pending), `after the reload, tab ${i + 1}`);
    }
    // The reloaded tab joins again and sees the session without resuming it twice.
    await a.evaluate(() => tabs.dapp());
    assert.deepEqual(await a.evaluate(() => dapp.resume().then((l) => l.map((s) => s.id))), [session]);
    assertOwnAnswers(await a.evaluate(() => tabs.burst("c0", 10)), "the reloaded tab");

    // The new owner (b: it waited for the lock first) closes in the middle of a burst.
    const left = [a, ...rest];
    await Promise.all(left.map((page, i) =>
      page.evaluate(([tag]) => { window.pending = tabs.burst(tag, 10); }, [`d${i}`])));
    await b.evaluate(() => { tabs.burst("df", 10); });
    await b.close();
    for (const [i, page] of left.entries()) {
      assertOwnAnswers(await page.evaluate(() => window.pending), `after the close, tab ${i}`);
    }
    assertOwnAnswers(await left.at(-1).evaluate(() => tabs.burst("e0", 10)), "after the close");

    // Nothing was answered twice, and the wallet saw every request id once.
    const ids = requestIds(wallet);
    assert.equal(new Set(ids).size, ids.length, "a request id reached the wallet twice");
    assert.ok(ids.length >= 30 * n, `${ids.length} requests reached the wallet`);
    for (const page of left) assert.deepEqual(page.errors, []);
    await wallet.stop();
    await context.close();
  });
}

test("30 owners in a row hand over in the same task as their last requests (a freeze): each next owner continues the counters and the frames, and every request gets its own answer", async () => {
  // The browser orders neither localStorage nor the BroadcastChannel with the Web Lock: a
  // tab granted the lock can read the previous owner's record from before its last sends, or
  // miss its last `out` copies. It waits for the previous owner's `bye` (PROTOCOL.md §12).
  const { pages: [a, b], context } = await tabsOf(2);
  await clients([a, b], "dapp");
  const { wallet, session } = await pairTrusted(a);
  await waitFor(b, (id) => dappEvents.connected.some((s) => s.id === id), session);
  let [owner, next] = [a, b];
  for (let i = 0; i < 30; i++) {
    // Three requests, then the freeze in the same task: the owner steps down at once.
    await owner.evaluate(([tag]) => {
      window.pending = tabs.burst(tag, 3, 5000);
      document.dispatchEvent(new Event("freeze"));
    }, [`a${String(i).padStart(2, "0")}`]);
    assertOwnAnswers(await next.evaluate(([tag]) => tabs.burst(tag, 3, 5000),
      [`b${String(i).padStart(2, "0")}`]), `handover ${i}, the next owner`);
    await owner.evaluate(() => document.dispatchEvent(new Event("resume")));
    assertOwnAnswers(await owner.evaluate(() => window.pending), `handover ${i}, the owner that stepped down`);
    [owner, next] = [next, owner];
  }
  const ids = requestIds(wallet);
  assert.equal(new Set(ids).size, ids.length, "a request id reached the wallet twice");
  assert.ok(ids.length >= 180, `${ids.length} requests reached the wallet`);
  assert.deepEqual([...a.errors, ...b.errors], []);
  await wallet.stop();
  await context.close();
});

test("a lone tab posts nothing for other tabs while it is alone; once a second tab says hello, it gets the session and the owner's frames are copied to it", async () => {
  // A second BroadcastChannel object in the first page sees every message walletwire posts.
  const spy = () => {
    window.spied = [];
    new BroadcastChannel("walletwire:v1:dapp").onmessage = (e) => window.spied.push(e.data.t);
  };
  const { pages, context } = await tabsOf(1, spy);
  const [a] = pages;
  await clients(pages, "dapp");
  const { wallet, session } = await pairTrusted(a);
  assertOwnAnswers(await a.evaluate(() => tabs.burst("f0", 10)), "the lone tab");
  // Only the owner's announcement went out: no event, frame or acknowledgement copies.
  assert.deepEqual([...new Set(await a.evaluate(() => window.spied))], ["owner"]);

  const b = await tab(context);
  await b.evaluate(() => tabs.dapp());
  // A tab that opens later finds the live session with resume(), as after a reload.
  assert.deepEqual(await b.evaluate(() => dapp.resume().then((l) => l.map((s) => s.id))), [session]);
  assert.deepEqual(await b.evaluate(() => dapp.sessions().map((s) => s.id)), [session]);
  assertOwnAnswers(await b.evaluate(() => tabs.burst("f1", 10)), "the second tab");
  await a.evaluate(() => { window.spied.length = 0; });
  assertOwnAnswers(await a.evaluate(() => tabs.burst("f2", 10)), "the owner with a follower");
  const kinds = new Set(await a.evaluate(() => window.spied));
  assert.ok(kinds.has("out") && kinds.has("sent"), `the follower gets copies of the owner's frames: ${[...kinds]}`);
  // The follower takes over when the owner closes, and its requests still work.
  await a.close();
  assertOwnAnswers(await b.evaluate(() => tabs.burst("f3", 10)), "after the owner closed");
  const ids = requestIds(wallet);
  assert.equal(new Set(ids).size, ids.length, "a request id reached the wallet twice");
  assert.deepEqual(b.errors, []);
  await wallet.stop();
  await context.close();
});

test("the owner tab is frozen while its requests wait for the wallet (Page Lifecycle): another tab takes over at once, and the frozen tab's requests settle with their own answers when it wakes", async () => {
  const { pages: [a, b], context } = await tabsOf(2);
  await clients([a, b], "dapp");
  await a.evaluate(() => document.addEventListener("freeze", () => { window.froze = true; }));
  const connecting = a.evaluate(() => dapp.connect({ mode: "trusted" }).then((s) => s.id));
  const uri = await (await waitFor(a, () => dappEvents.session_request[0]?.uri)).jsonValue();
  // Signing waits for a "y" on the wallet's stdin: the answers are not back before the freeze.
  const wallet = pairNativeWallet(uri, ["--auto-approve", "false"]);
  await wallet.waitLine(/^CONNECTED \S+$/);
  await connecting;
  await waitFor(b, () => dappEvents.connected.length === 1);
  const { accounts: [{ address }] } = await b.evaluate(() => dapp.request("accounts.list"));

  const messages = ["frozen 0", "frozen 1", "frozen 2"];
  await a.evaluate(([account, list]) => {
    window.signing = Promise.all(list.map((message) => dapp.request("message.sign", { account, message })
      .then((r) => ({ message, ...r }), (e) => ({ message, error: e.code }))));
  }, [address, messages]);
  await wallet.waitLine(/^APPROVE \S+ \d+ message\.sign /);
  // Chromium under automation does not freeze pages (Page.setWebLifecycleState has no
  // effect; microsoft/playwright#35207), so the test does what a freeze does: the browser's
  // `freeze` event, then no script runs in the page (the debugger holds it) until `resume`.
  const cdp = await context.newCDPSession(a);
  await a.evaluate(() => document.dispatchEvent(new Event("freeze")));
  await cdp.send("Debugger.enable");
  await cdp.send("Debugger.pause");
  for (let i = 0; i < messages.length; i++) {
    await wallet.waitCount(/^APPROVE /, i + 1);
    wallet.process.stdin.write("y\n");
  }
  // b did not wait for a to wake: it owns now.
  assertOwnAnswers(await b.evaluate(() => tabs.burst("f1", 10)), "the other tab, while the owner is frozen");

  // a wakes as a follower: the requests it sent before freezing settle, each with the
  // signature of its own message, and it goes on through b.
  await cdp.send("Debugger.resume");
  await cdp.send("Debugger.disable");
  await a.evaluate(() => document.dispatchEvent(new Event("resume")));
  assert.equal(await a.evaluate(() => window.froze), true, "the page saw the freeze event");
  const signed = await a.evaluate(() => window.signing);
  for (const answer of signed) {
    assert.equal(answer.error, undefined, `${answer.message}: ${answer.error}`);
    const key = createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(answer.publicKey, "hex").toString("base64url") },
      format: "jwk",
    });
    assert.ok(verify(null, Buffer.from(answer.message), key, Buffer.from(answer.signature, "hex")),
      `the signature answered to "${answer.message}" is over that message`);
  }
  assertOwnAnswers(await a.evaluate(() => tabs.burst("f3", 10)), "the woken tab");
  const ids = wallet.lines
    .filter((l) => /^REQUEST \S+ \d+ /.test(l))
    .map((l) => Number(l.split(" ")[2]));
  assert.equal(new Set(ids).size, ids.length, "a request id reached the wallet twice");
  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
  await wallet.stop();
  await context.close();
});

test("an owner tab whose answers never reach the followers on the channel: they find them in storage, at once (the storage event) and when the owner changes, as the new owner and as a follower", async () => {
  // What a closing tab posted last may never be delivered; here the owner's `done` messages
  // are dropped on purpose while `window.dropDone` is set, and a follower's `storage` events
  // while `window.noStorageEvents` is set (as when the owner closes before they fire).
  const { pages: [a, b, c], context } = await tabsOf(3, () => {
    const post = BroadcastChannel.prototype.postMessage;
    BroadcastChannel.prototype.postMessage = function (m) {
      if (window.dropDone && m?.t === "done") return undefined;
      return post.call(this, m);
    };
    const add = window.addEventListener;
    const remove = window.removeEventListener;
    const wrapped = new WeakMap();
    window.addEventListener = function (type, listener, options) {
      if (type !== "storage") return add.call(this, type, listener, options);
      const gated = (e) => { if (!window.noStorageEvents) listener(e); };
      wrapped.set(listener, gated);
      return add.call(this, type, gated, options);
    };
    window.removeEventListener = function (type, listener, options) {
      return remove.call(this, type, wrapped.get(listener) ?? listener, options);
    };
  });
  await clients([a, b, c], "dapp");
  const connecting = a.evaluate(() => dapp.connect({ mode: "trusted" }).then((s) => s.id));
  const uri = await (await waitFor(a, () => dappEvents.session_request[0]?.uri)).jsonValue();
  const wallet = pairNativeWallet(uri);
  const session = await connecting;
  for (const page of [b, c]) await waitFor(page, (id) => dappEvents.connected.some((s) => s.id === id), session);
  await a.evaluate(() => { window.dropDone = true; });
  const kept = (n) => waitFor(c, (count) => Object.keys(localStorage)
    .filter((k) => k.startsWith("walletwire-tabs:v1:dapp:answer:")).length === count, n);
  // No `done` arrives, and the owner is still there: the answers come from storage.
  assertOwnAnswers(await b.evaluate(() => tabs.burst("b6", 3)), "a follower, from the storage event");
  await kept(3);

  // b (the next owner: it queued for the lock first) and c each send requests through a.
  for (const page of [b, c]) await page.evaluate(() => { window.noStorageEvents = true; });
  for (const [page, tag] of [[b, "b7"], [c, "c7"]]) {
    await page.evaluate((t) => { window.pending = tabs.burst(t, 3); }, tag);
  }
  // Answered by the wallet and kept by a, but neither a `done` nor a storage event reached them.
  await kept(9);
  assert.equal(await b.evaluate(() => Promise.race([window.pending, new Promise((r) => setTimeout(() => r("waiting"), 300))])), "waiting");
  await a.close();
  assertOwnAnswers(await b.evaluate(() => window.pending), "the new owner");
  assertOwnAnswers(await c.evaluate(() => window.pending), "the follower");
  assertOwnAnswers(await c.evaluate(() => tabs.burst("c8", 3)), "after the change of owner");
  // The session ends: its kept answers go.
  for (const page of [b, c]) await page.evaluate(() => { window.noStorageEvents = false; });
  await b.evaluate(() => dapp.disconnect());
  await waitFor(c, () => !Object.keys(localStorage).some((k) => k.startsWith("walletwire-tabs:v1:dapp:answer:")));
  assert.deepEqual([...b.errors, ...c.errors], []);
  await wallet.stop();
  await context.close();
});

test("an EIP-1193 provider in each of two tabs: one session, and each tab's personal_sign is answered with the signature of its own message", async () => {
  const { pages: [a, b], context } = await tabsOf(2);
  await clients([a, b], "dapp");
  const requesting = a.evaluate(() => provider.request({ method: "eth_requestAccounts" }));
  const uri = await (await waitFor(a, () => dappEvents.session_request[0]?.uri)).jsonValue();
  const wallet = pairNativeWallet(uri);
  const [account] = await requesting;
  // The other tab's provider follows the same session.
  await waitFor(b, () => dappEvents.connected.length === 1);
  assert.deepEqual(await b.evaluate(() => provider.request({ method: "eth_accounts" })), await a.evaluate(() => provider.request({ method: "eth_accounts" })));
  const sign = (page, tag) => page.evaluate(([acct, t]) => Promise.all(Array.from({ length: 5 }, (_, i) => {
    const message = `${t} ${i}`;
    const hex = `0x${Array.from(new TextEncoder().encode(message), (x) => x.toString(16).padStart(2, "0")).join("")}`;
    return provider.request({ method: "personal_sign", params: [hex, acct] }).then((signature) => ({ message, signature }));
  })), [account, tag]);
  const [fromA, fromB] = await Promise.all([sign(a, "tab a"), sign(b, "tab b")]);
  for (const { message, signature } of [...fromA, ...fromB]) {
    assert.equal(await verifyMessage({ address: account, message, signature }), true, `signature for "${message}"`);
  }
  assert.equal(await a.evaluate(() => dapp.sessions().length), 1);
  assert.equal(await b.evaluate(() => dapp.sessions().length), 1);
  await wallet.stop();
  await context.close();
});

test("a pending untrusted handshake open in two tabs: one code prompt, three attempts in total", async () => {
  const { pages: [a, b], context } = await tabsOf(2);
  await clients([a, b], "dapp");
  await a.evaluate(() => {
    window.outcome = dapp.connect({ mode: "untrusted" }).then(() => "connected", (e) => e.code);
  });
  const uri = await (await waitFor(a, () => dappEvents.session_request[0]?.uri)).jsonValue();
  const wallet = pairNativeWallet(uri);
  const code = (await wallet.waitLine(/^OTP \d{6}$/)).split(" ")[1];
  const wrong = code === "000000" ? "111111" : "000000";
  await waitFor(a, () => dappEvents.otp_required.length === 1);
  assert.equal(await b.evaluate(() => dappEvents.otp_required.length), 0, "one prompt");
  for (const left of [2, 1]) {
    const result = await a.evaluate((w) => dappEvents.otp_required[0].submit(w)
      .then(() => "ok", (e) => `${e.code} ${e.attemptsLeft}`), wrong);
    assert.equal(result, `otp_mismatch ${left}`);
  }
  // The tab that asked goes away; the other takes over the handshake with one attempt left.
  await a.close();
  await waitFor(b, () => dappEvents.otp_required.length === 1);
  assert.equal(await b.evaluate(() => dappEvents.otp_required[0].attemptsLeft), 1);
  const last = await b.evaluate((w) => dappEvents.otp_required[0].submit(w)
    .then(() => "ok", (e) => e.code), wrong);
  assert.equal(last, "otp_attempts_exhausted");
  await wallet.stop();
  await context.close();
});

test("a connect started in a follower tab shows its prompts in that tab: the QR code (trusted), then the code (untrusted)", async () => {
  const { pages: [a, b], context } = await tabsOf(2);
  await clients([a, b], "dapp");
  // b is a follower: its connect runs in a, and the request to show comes back to b only,
  // even though it is emitted later, once the relay confirms the subscription.
  const connecting = b.evaluate(() => dapp.connect({ mode: "trusted" }).then((s) => s.id));
  const uri = await (await waitFor(b, () => dappEvents.session_request[0]?.uri)).jsonValue();
  assert.equal(await a.evaluate(() => dappEvents.session_request.length), 0, "the owner showed no QR code");
  assert.equal(await b.evaluate(() => typeof dappEvents.session_request[0].qrSvg()), "string");
  const wallet = pairNativeWallet(uri);
  const session = await connecting;
  await waitFor(a, (id) => dappEvents.connected.some((s) => s.id === id), session);
  assertOwnAnswers(await b.evaluate(() => tabs.burst("c1", 5)), "the follower");
  await wallet.stop();

  // Untrusted: the code prompt also goes to b, and b's submit reaches the handshake in a.
  const untrusted = b.evaluate(() => dapp.connect({ mode: "untrusted" }).then((s) => s.id));
  const uri2 = await (await waitFor(b, () => dappEvents.session_request[1]?.uri)).jsonValue();
  const wallet2 = pairNativeWallet(uri2);
  const code = (await wallet2.waitLine(/^OTP \d{6}$/)).split(" ")[1];
  await waitFor(b, () => dappEvents.otp_required.length === 1);
  assert.equal(await a.evaluate(() => dappEvents.otp_required.length), 0, "the owner asked for no code");
  await b.evaluate((c) => dappEvents.otp_required[0].submit(c), code);
  const second = await untrusted;
  await waitFor(a, (id) => dappEvents.connected.some((s) => s.id === id), second);
  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
  await wallet2.stop();
  await context.close();
});

test("two wallet tabs: a request is prompted in one tab and answered once", async () => {
  const { pages: [w1, w2], context } = await tabsOf(2);
  await clients([w1, w2], "wallet");
  // The dApp is another browser profile, on memory storage.
  const dappContext = await browser.newContext();
  const dappPage = await tab(dappContext);
  await dappPage.evaluate(() => tabs.dapp({ storage: "memory" }));
  const connecting = dappPage.evaluate(() => dapp.connect({ mode: "trusted" }).then((s) => s.id));
  const uri = await (await waitFor(dappPage, () => dappEvents.session_request[0]?.uri)).jsonValue();
  // The second tab pairs: its call runs in the owner tab.
  assert.equal(await w2.evaluate((u) => wallet.connect({ uri: u }).then((s) => s.peer.name), uri), "tabs dApp");
  const session = await connecting;
  await waitFor(w1, (id) => walletEvents.connected.some((s) => s.id === id), session);
  // Both tabs answer whatever they are shown.
  for (const page of [w1, w2]) {
    await page.evaluate(() => wallet.on("request", (r) => r.respond({ by: document.title, n: r.params.n })));
  }
  const answers = await dappPage.evaluate(() =>
    Promise.all([1, 2, 3].map((n) => dapp.request("count", { n }))));
  assert.deepEqual(answers.map((a) => a.n), [1, 2, 3]);
  const shown = await Promise.all([w1, w2].map((p) => p.evaluate(() => walletEvents.request.length)));
  assert.deepEqual(shown.sort(), [0, 3], "each request prompted in exactly one tab");
  await dappContext.close();
  await context.close();
});

test("two tabs of the demo wallet page: one prompt per request, one answer, and the other tab takes over when the first closes", async () => {
  const demo = await startDemo();
  const walletContext = await browser.newContext();
  walletContext.setDefaultTimeout(WAIT);
  const w1 = await walletContext.newPage();
  await openPage(w1, demo.walletUrl);
  const w2 = await walletContext.newPage();
  await openPage(w2, demo.walletUrl);
  const dappContext = await browser.newContext();
  dappContext.setDefaultTimeout(WAIT);
  const dapp = await dappContext.newPage();
  await openPage(dapp, `${demo.base}/`);

  // The second tab pairs; both list the session.
  const uri = await startConnection(dapp, "trusted");
  await w2.fill("#uri", uri);
  await w2.click("#pair");
  await waitConnected(dapp);
  for (const w of [w1, w2]) await w.locator("#sessions .session-item").first().waitFor();

  const pending = (w) => w.locator(".request-item:not([data-answered])").count();
  const answerIn = async (w, method) => {
    const item = w.locator(`.request-item[data-method="${method}"]:not([data-answered])`).first();
    await item.waitFor();
    await item.getByRole("button", { name: "Approve" }).click();
  };
  for (const method of ["wallet.info", "accounts.list"]) {
    const before = await sendRequest(dapp, method);
    // The owner tab (the first) shows it; the other never does.
    await answerIn(w1, method);
    assert.equal((await waitAnswer(dapp, method, before)).kind, "response");
    assert.equal(await w2.locator(".request-item").count(), 0, "prompted in one tab only");
  }

  // The owner tab closes: the other tab takes the session over and prompts for the requests
  // that arrive from then on.
  await w1.close();
  const before = await sendRequest(dapp, "wallet.info");
  await answerIn(w2, "wallet.info");
  assert.equal((await waitAnswer(dapp, "wallet.info", before)).kind, "response");
  assert.equal(await pending(w2), 0);
  await dappContext.close();
  await walletContext.close();
  await demo.demo.stop();
});

test("without Web Locks a second tab cannot share silently: storage local refuses with tabs_unsupported", async () => {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, "locks", { get: () => undefined, configurable: true });
  });
  const page = await tab(context);
  const refused = await page.evaluate(() => {
    try { tabs.dapp(); return "created"; } catch (e) { return e.code; }
  });
  assert.equal(refused, "tabs_unsupported");
  assert.equal(await page.evaluate(() => tabs.dapp({ storage: "memory" })), true);
  await context.close();
});

// One session, many tabs (issue 14): tabs of one browser context share localStorage, and
// exactly one of them (the Web Lock owner) drives the sessions; the others go through it.
// Real relay (walletwire-server), real native wallet, real headless Chromium tabs.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  Child,
  ROOT,
  SERVER_BIN,
  WAIT,
  launchBrowser,
  openPage,
  pairNativeWallet,
  stopAll,
} from "./lib/harness.js";

let base;
let browser;

before(async () => {
  const server = new Child("server", SERVER_BIN, [
    "--listen", "127.0.0.1:0",
    "--www", join(ROOT, "tests", "e2e", "fixtures", "tabs"),
    "--pkg", join(ROOT, "pkg"),
  ]);
  base = (await server.waitLine(/^pages at /)).replace(/^pages at /, "").replace(/\/$/, "");
  browser = await launchBrowser();
});

after(stopAll);

/** One browser context (one localStorage, one set of Web Locks) with `n` tabs. */
async function tabsOf(n) {
  const context = await browser.newContext();
  context.setDefaultTimeout(WAIT);
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

/** Every answer matches its own request, none failed. */
function assertOwnAnswers(outcomes, what) {
  const failed = outcomes.filter((o) => o.error || o.got !== o.asked);
  assert.deepEqual(failed, [], `${what}: ${failed.length} of ${outcomes.length} wrong or failed`);
}

const requestIds = (wallet) => wallet.lines
  .filter((l) => /^REQUEST \S+ \d+ balances\.get$/.test(l))
  .map((l) => Number(l.split(" ")[2]));

test("three dApp tabs share one session: every request gets its own answer, through an owner reload and an owner close", async () => {
  const { pages: [a, b, c], context } = await tabsOf(3);
  for (const page of [a, b, c]) await page.evaluate(() => tabs.dapp());
  const connecting = a.evaluate(() => dapp.connect({ mode: "trusted" }).then((s) => s.id));
  const uri = (await waitFor(a, () => dappEvents.session_request[0]?.uri)).jsonValue();
  const wallet = pairNativeWallet(await uri);
  await wallet.waitLine(/^CONNECTED \S+$/);
  const session = await connecting;
  // Everybody hears of the session; only the tab that asked saw the request to show.
  for (const page of [b, c]) {
    await waitFor(page, (id) => dappEvents.connected.some((s) => s.id === id), session);
    assert.deepEqual(await page.evaluate(() => dapp.sessions().map((s) => s.id)), [session]);
    assert.equal(await page.evaluate(() => dappEvents.session_request.length), 0);
  }

  // Bursts from every tab at once.
  const bursts = await Promise.all([a, b, c].map((page, i) =>
    page.evaluate(([tag]) => tabs.burst(tag, 10), [`a${i}`])));
  bursts.forEach((outcomes, i) => assertOwnAnswers(outcomes, `tab ${i}`));

  // The owner (a, the first tab) reloads in the middle of a burst: b and c lose nothing.
  await Promise.all([b, c].map((page, i) =>
    page.evaluate(([tag]) => { window.pending = tabs.burst(tag, 10); }, [`b${i}`])));
  await a.evaluate(() => { tabs.burst("bf", 10); });
  await openPage(a);
  for (const [i, page] of [b, c].entries()) {
    assertOwnAnswers(await page.evaluate(() => window.pending), `after the reload, tab ${i + 1}`);
  }
  // The reloaded tab joins again and sees the session without resuming it twice.
  await a.evaluate(() => tabs.dapp());
  assert.deepEqual(await a.evaluate(() => dapp.resume().then((l) => l.map((s) => s.id))), [session]);
  assertOwnAnswers(await a.evaluate(() => tabs.burst("c0", 10)), "the reloaded tab");

  // The new owner (b: it waited for the lock first) closes in the middle of a burst.
  await Promise.all([a, c].map((page, i) =>
    page.evaluate(([tag]) => { window.pending = tabs.burst(tag, 10); }, [`d${i}`])));
  await b.evaluate(() => { tabs.burst("df", 10); });
  await b.close();
  for (const [i, page] of [a, c].entries()) {
    assertOwnAnswers(await page.evaluate(() => window.pending), `after the close, tab ${i}`);
  }
  assertOwnAnswers(await c.evaluate(() => tabs.burst("e0", 10)), "after the close");

  // Nothing was answered twice, and the wallet saw every request id once.
  const ids = requestIds(wallet);
  assert.equal(new Set(ids).size, ids.length, "a request id reached the wallet twice");
  assert.ok(ids.length >= 100, `${ids.length} requests reached the wallet`);
  for (const page of [a, c]) assert.deepEqual(page.errors, []);
  await wallet.stop();
  await context.close();
});

test("a pending untrusted handshake open in two tabs: one code prompt, three attempts in total", async () => {
  const { pages: [a, b], context } = await tabsOf(2);
  for (const page of [a, b]) await page.evaluate(() => tabs.dapp());
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

test("two wallet tabs: a request is prompted in one tab and answered once", async () => {
  const { pages: [w1, w2], context } = await tabsOf(2);
  for (const page of [w1, w2]) await page.evaluate(() => tabs.wallet());
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

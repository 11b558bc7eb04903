// Shared machinery of the end-to-end tests: the demo started the way the README starts it
// (scripts/serve-demo.sh, which scripts/demo.sh runs after building, here on a free port),
// headless Chromium through playwright-core, the native reference wallet as a child process,
// screenshots, and bounded waits everywhere. Every process started here is killed by
// `stopAll()`, which each test file calls in its `after` hook (useDemo() registers it).

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const SCREENSHOTS = join(ROOT, "artifacts", "screenshots");
export const WALLET_BIN = join(ROOT, "target", "release", "walletwire-wallet");
export const SERVER_BIN = join(ROOT, "target", "release", "walletwire-server");

/** Default bound of every wait in the tests (ms). */
export const WAIT = 20_000;

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

const children = new Set();
const browsers = new Set();
const tempDirs = new Set();

/** Rejects with a clear message when `promise` does not settle within `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A child process whose stdout lines can be awaited. Started in its own process group. */
export class Child {
  constructor(name, command, args, options = {}) {
    this.name = name;
    this.lines = [];
    this.waiters = [];
    this.output = "";
    this.process = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    this.exited = new Promise((resolve) => {
      this.process.on("exit", (code, signal) => resolve({ code, signal }));
      this.process.on("error", (error) => resolve({ code: null, signal: null, error }));
    });
    this.exitStatus = null;
    this.exited.then((status) => {
      this.exitStatus = status;
      children.delete(this);
      for (const w of this.waiters.splice(0)) w.check(true);
    });
    let partial = "";
    this.process.stdout.setEncoding("utf8");
    this.process.stdout.on("data", (chunk) => {
      this.output += chunk;
      partial += chunk;
      const parts = partial.split("\n");
      partial = parts.pop();
      for (const line of parts) {
        this.lines.push(line);
        if (process.env.E2E_VERBOSE) console.log(`[${name}] ${line}`);
      }
      for (const w of [...this.waiters]) w.check(false);
    });
    this.process.stderr.setEncoding("utf8");
    this.process.stderr.on("data", (chunk) => {
      this.output += chunk;
      if (process.env.E2E_VERBOSE) process.stderr.write(`[${name}] ${chunk}`);
    });
    children.add(this);
  }

  /** Resolves with the first stdout line matching `pattern` (already seen or to come). */
  waitLine(pattern, ms = WAIT) {
    const found = this.lines.find((l) => pattern.test(l));
    if (found) return Promise.resolve(found);
    return withTimeout(
      new Promise((resolve, reject) => {
        const waiter = {
          check: (exited) => {
            const line = this.lines.find((l) => pattern.test(l));
            if (line) {
              this.waiters.splice(this.waiters.indexOf(waiter), 1);
              resolve(line);
            } else if (exited) {
              reject(new Error(`${this.name} exited (${JSON.stringify(this.exitStatus)}) before printing ${pattern}:\n${this.output}`));
            }
          },
        };
        this.waiters.push(waiter);
        if (this.exitStatus) waiter.check(true);
      }),
      ms,
      `${this.name} printing ${pattern}; output so far:\n${this.output}`,
    );
  }

  /** Resolves with the `count`-th stdout line matching `pattern` (already seen or to come). */
  waitCount(pattern, count, ms = WAIT) {
    const nth = () => this.lines.filter((l) => pattern.test(l))[count - 1];
    const counted = { test: (line) => pattern.test(line) && nth() !== undefined, toString: () => `${pattern} (${count} times)` };
    return this.waitLine(counted, ms).then(nth);
  }

  /** Sends `signal` to the whole process group. */
  signal(signal) {
    if (this.exitStatus) return;
    try {
      process.kill(-this.process.pid, signal);
    } catch {
      // Already gone.
    }
  }

  /** Stops the process group (SIGTERM, then SIGKILL after `graceMs`); resolves the exit. */
  async stop(signal = "SIGTERM", graceMs = 8_000) {
    this.signal(signal);
    try {
      return await withTimeout(this.exited, graceMs, `${this.name} stopping`);
    } catch {
      this.signal("SIGKILL");
      return this.exited;
    }
  }
}

/**
 * Serves `tests/e2e/fixtures/<name>` and the npm package (`pkg/`) from a real relay on a free
 * port; returns the pages' base URL (no trailing slash).
 */
export async function serveFixture(name) {
  const server = new Child("server", SERVER_BIN, [
    "--listen", "127.0.0.1:0",
    "--www", join(ROOT, "tests", "e2e", "fixtures", name),
    "--pkg", join(ROOT, "pkg"),
  ]);
  return (await server.waitLine(/^pages at /)).replace(/^pages at /, "").replace(/\/$/, "");
}

/** Starts the demo like `scripts/demo.sh` does after building, on a free port. */
export async function startDemo() {
  const demo = new Child("demo", join(ROOT, "scripts", "serve-demo.sh"), [], { env: { PORT: "0" } });
  const line = await demo.waitLine(/^\s*dApp page:\s+http:\/\/127\.0\.0\.1:\d+\/\s*$/, 30_000);
  const base = line.trim().split(/\s+/).pop().replace(/\/$/, "");
  const walletLine = await demo.waitLine(/^\s*wallet page:/);
  return { demo, base, walletUrl: walletLine.trim().split(/\s+/).pop() };
}

/**
 * For a test file on the demo: registers its `before` hook (the demo and a browser) and its
 * `after` hook (stopAll). Returns page openers to call from the tests, each page in a fresh
 * browser context: `dappPage(query)` (e.g. "?ttl=2500") and `walletPage()`.
 */
export function useDemo() {
  let demo;
  let browser;
  before(async () => {
    demo = await startDemo();
    browser = await launchBrowser();
  });
  after(stopAll);
  return {
    dappPage: (query = "") => newPage(browser, `${demo.base}/${query}`),
    walletPage: () => newPage(browser, demo.walletUrl),
  };
}

export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
  browsers.add(browser);
  return browser;
}

/** A fresh browser context (its own localStorage) and page with bounded waits. */
export async function newPage(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(WAIT);
  context.setDefaultNavigationTimeout(WAIT);
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (error) => page.errors.push(error));
  page.on("console", (message) => {
    if (process.env.E2E_VERBOSE) console.log(`[page ${message.type()}] ${message.text()}`);
  });
  if (url) await openPage(page, url);
  return page;
}

/** Navigates (or reloads) and waits until the page's script finished starting. */
export async function openPage(page, url) {
  if (url) await page.goto(url);
  else await page.reload();
  await page.waitForSelector("body[data-ready]", { state: "attached" });
}

export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Saves a full-page screenshot as artifacts/screenshots/<name>.png. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Kills every process and browser the tests started and removes their temporary files. */
export async function stopAll() {
  await Promise.all([...browsers].map((b) => withTimeout(b.close(), 10_000, "closing Chromium").catch(() => {})));
  browsers.clear();
  await Promise.all([...children].map((c) => c.stop()));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

// ---- The dApp page, driven as a person would ----

/** Chooses the mode, presses Connect and returns the link the page offers. */
export async function startConnection(dapp, mode) {
  await dapp.check(`input[name=mode][value=${mode}]`);
  await dapp.click("#connect");
  await dapp.waitForSelector("#qr svg");
  const uri = await dapp.getAttribute("#open-link", "href");
  if (!uri || !uri.startsWith("walletwire:connect?v=3&")) throw new Error(`unexpected link ${uri}`);
  return uri;
}

/** Types the code into the dApp page and presses Verify. */
export async function typeCode(dapp, code) {
  await dapp.waitForSelector("#otp-view:not([hidden])");
  await dapp.fill("#otp-input", "");
  await dapp.locator("#otp-input").pressSequentially(code);
  await dapp.click("#otp-submit");
}

export async function waitConnected(dapp) {
  await dapp.waitForSelector("#connected-view:not([hidden])");
  await dapp.waitForFunction(() => document.querySelector("#status").textContent === "Connected");
}

const PRESETS = ["wallet.info", "accounts.list", "balances.get", "message.sign", "transaction.submit"];

/** Picks a preset (or a method and params) and presses Send. */
export async function sendRequest(dapp, method, params) {
  const before = await dapp.locator(`#log li[data-method="${method}"]`).count();
  if (PRESETS.includes(method)) await dapp.click(`[data-preset="${method}"]`);
  else await dapp.fill("#method", method);
  if (params !== undefined) await dapp.fill("#params", JSON.stringify(params));
  await dapp.click("#send");
  return before;
}

/** Waits for the answer to the latest request of `method`: `{kind, text}`. */
export async function waitAnswer(dapp, method, before) {
  const selector = `#log li[data-method="${method}"]`;
  await dapp.waitForFunction(
    ([s, n]) => document.querySelectorAll(s).length > n,
    [selector, before],
  );
  return dapp.locator(selector).first().evaluate((li) => ({ kind: li.dataset.kind, code: li.dataset.code || null, text: li.textContent }));
}

/**
 * Writes ES module bundles of the EVM libraries the tests use in pages into `<dir>/vendor/`:
 * `viem.js` (viem and its `mainnet` / `sepolia` chains) and `ethers.js`, bundled by esbuild
 * from tests/e2e/node_modules, so a page can import them through an import map.
 */
export async function bundleEvmLibraries(dir) {
  const { build } = await import("esbuild");
  const bundles = {
    "viem.js": 'export * from "viem"; export { mainnet, sepolia } from "viem/chains";',
    "ethers.js": 'export * from "ethers";',
  };
  await Promise.all(
    Object.entries(bundles).map(([name, contents]) =>
      build({
        stdin: { contents, resolveDir: join(ROOT, "tests", "e2e"), loader: "js" },
        bundle: true,
        format: "esm",
        target: "es2022",
        outfile: join(dir, "vendor", name),
        logLevel: "error",
      }),
    ),
  );
}

/** Wallet process running `walletwire-wallet pair <uri>` with its own data directory. */
export function pairNativeWallet(uri, args = []) {
  const dataDir = tempDir("walletwire-e2e-wallet-");
  return new Child("wallet", WALLET_BIN, ["pair", uri, "--data-dir", dataDir, ...args]);
}

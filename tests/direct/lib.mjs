// Shared by the tests/direct/*.test.mjs files: the binaries run.sh built, child processes with
// awaitable stdout lines, the daemon's JSON-RPC, the signaling server and the wallet daemon
// started on free loopback ports, and the test page in headless Chromium. Every wait is
// bounded by WAIT; stopAll() (the files' `after`) kills what was started.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const SERVER = process.env.SERVER_BIN ?? join(ROOT, "target/debug/walletwire-server");
export const WALLET = process.env.WALLET_BIN ?? join(ROOT, "target/debug/walletwire-wallet");
export const PKG = process.env.PKG_DIR ?? join(ROOT, "target/direct-e2e/pkg");
export const WAIT = 20_000;

const children = [];
const dirs = [];
const browsers = [];

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Runs a binary (RUST_LOG=warn; its stderr shown with VERBOSE=1); `line(prefix)` resolves with
 * the first stdout line starting with prefix, `exited` with `{code, signal}`.
 */
export function start(name, command, args) {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: "warn" } });
  const lines = [];
  const waiters = [];
  let buffer = "";
  child.stdout.on("data", (chunk) => {
    buffer += chunk;
    let i;
    while ((i = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      lines.push(line);
      for (const w of [...waiters]) if (line.startsWith(w.prefix)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
    }
  });
  child.stderr.on("data", (chunk) => { if (process.env.VERBOSE) process.stderr.write(`[${name}] ${chunk}`); });
  const handle = {
    child,
    lines,
    line(prefix) {
      const seen = lines.find((l) => l.startsWith(prefix));
      if (seen) return Promise.resolve(seen);
      return withTimeout(new Promise((resolve) => waiters.push({ prefix, resolve })), WAIT, `${name}: ${prefix}`);
    },
    exited: new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal }))),
  };
  children.push(handle);
  return handle;
}

/** One JSON-RPC call to the daemon (`token`: a bearer token, or none). */
export async function rpc(url, token, method, params) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return response.json();
}

/** The signaling server, also serving tests/direct/page and the SDK. */
export async function startServer() {
  const server = start("server", SERVER, [
    "--listen", "127.0.0.1:0", "--signaling-listen", "127.0.0.1:0",
    "--www", join(ROOT, "tests/direct/page"), "--pkg", PKG,
  ]);
  const pagesUrl = (await server.line("pages at ")).slice("pages at ".length).trim();
  const signalingUrl = (await server.line("signaling listening on ")).slice("signaling listening on ".length).trim();
  return { server, pagesUrl, signalingUrl };
}

/** A wallet daemon named `name` in a fresh data directory, with `args` added. */
export async function startDaemon(signalingUrl, { dirPrefix, name, args = [] }) {
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  dirs.push(dir);
  const daemon = start("daemon", WALLET, [
    "daemon", "--data-dir", dir, "--name", name, "--listen", "127.0.0.1:0",
    "--signaling-url", signalingUrl, "--connect-timeout", "20", ...args,
  ]);
  const daemonUrl = (await daemon.line("DAEMON_LISTENING ")).split(" ")[1];
  const adminToken = (await daemon.line("ADMIN_TOKEN ")).split(" ")[1];
  return { daemon, daemonUrl, adminToken };
}

/** Headless Chromium with the test page open and its SDK loaded (`window.ready`). */
export async function openTestPage(pagesUrl) {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  browsers.push(browser);
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
  await page.goto(pagesUrl);
  await page.waitForFunction(() => window.ready === true, null, { timeout: WAIT });
  return { browser, page };
}

/** Closes the browsers, kills the processes and removes the data directories. */
export async function stopAll() {
  for (const b of browsers) await b.close().catch(() => {});
  for (const c of children) c.child.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

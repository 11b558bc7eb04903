// Shared by the bench/peers scripts: command-line options, statistics, the results file of
// the bench contract, child processes with awaitable output lines, the release relay, a
// static file server for the bench pages, and headless Chromium. Every wait is bounded.

import { spawn } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const PEERS = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const ROOT = resolve(PEERS, "../..");
export const BUILD = join(PEERS, "build");

/**
 * Options shared by every script: `--smoke`, `--repeats N`, `--out FILE`, `--out-dir DIR`
 * (default: env BENCH_OUT_DIR, else bench/results), `--only a,b`, `--bin-dir DIR` (release
 * binaries), `--pkg DIR` (the built npm package), plus script-specific `--key value` pairs.
 */
export function parseArgs(argv = process.argv.slice(2)) {
  const options = {
    smoke: false,
    repeats: null,
    out: null,
    outDir: process.env.BENCH_OUT_DIR || join(ROOT, "bench", "results"),
    only: null,
    binDir: process.env.WALLETWIRE_BIN_DIR || join(ROOT, "target", "release"),
    pkg: join(ROOT, "pkg"),
    extra: {},
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === "--smoke") options.smoke = true;
    else if (arg === "--repeats") options.repeats = Number.parseInt(value(), 10);
    else if (arg === "--out") options.out = resolve(value());
    else if (arg === "--out-dir") options.outDir = resolve(value());
    else if (arg === "--only") options.only = value().split(",");
    else if (arg === "--bin-dir") options.binDir = resolve(value());
    else if (arg === "--pkg") options.pkg = resolve(value());
    else if (arg.startsWith("--")) options.extra[arg.slice(2)] = value();
    else throw new Error(`unknown argument ${arg}`);
  }
  if (options.repeats !== null && !(options.repeats >= 1)) throw new Error("--repeats needs a positive number");
  return options;
}

/** Writes one results file of the contract: `--out FILE`, else `<out-dir>/<id>.json`. */
export function writeResult(options, result, outFile = null) {
  const path = outFile ?? options.out ?? join(options.outDir, `${result.id}.json`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(result, null, 2) + "\n");
  console.log(`wrote ${path}`);
  return path;
}

/** Version of an installed npm package of bench/peers. */
export function packageVersion(name) {
  return JSON.parse(readFileSync(join(PEERS, "node_modules", name, "package.json"), "utf8")).version;
}

// ---- statistics ----

export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100) of the samples. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Rounds for a table: 3 significant digits below 100, integers above. */
export function round(value) {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 100) return Math.round(value);
  return Number(value.toPrecision(3));
}

/** `median (min–max)` of per-repeat values; the median alone when there is one repeat. */
export function withSpread(values) {
  const m = round(median(values));
  if (values.length < 2) return m;
  return `${m} (${round(Math.min(...values))}–${round(Math.max(...values))})`;
}

/** A ratio cell: `2.8×`. */
export function ratio(numerator, denominator) {
  if (!(numerator > 0) || !(denominator > 0)) return "—";
  const r = numerator / denominator;
  return `${r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(2) : r.toFixed(3)}×`;
}

// ---- processes ----

/** Rejects with a clear message when `promise` does not settle within `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const children = new Set();

/** A child process (own process group) whose stdout lines can be awaited. */
export class Child {
  constructor(name, command, args, options = {}) {
    this.name = name;
    this.lines = [];
    this.output = "";
    this.listeners = new Set();
    this.process = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.status = null;
    this.exited = new Promise((resolvePromise) => {
      this.process.on("exit", (code, signal) => resolvePromise({ code, signal }));
      this.process.on("error", (error) => resolvePromise({ code: null, signal: null, error }));
    }).then((status) => {
      this.status = status;
      children.delete(this);
      for (const listener of this.listeners) listener();
      return status;
    });
    let partial = "";
    this.process.stdout.setEncoding("utf8");
    this.process.stdout.on("data", (chunk) => {
      this.output += chunk;
      partial += chunk;
      const parts = partial.split("\n");
      partial = parts.pop();
      this.lines.push(...parts);
      for (const listener of this.listeners) listener();
    });
    this.process.stderr.setEncoding("utf8");
    this.process.stderr.on("data", (chunk) => {
      this.output += chunk;
      if (this.output.length > 200_000) this.output = this.output.slice(-100_000);
    });
    children.add(this);
  }

  /** Resolves with the first stdout line (from `from` on) matching `pattern`. */
  waitLine(pattern, ms = 20_000, from = 0) {
    return withTimeout(
      new Promise((resolvePromise, reject) => {
        const check = () => {
          const line = this.lines.slice(from).find((l) => pattern.test(l));
          if (line !== undefined) {
            this.listeners.delete(check);
            resolvePromise(line);
          } else if (this.status) {
            this.listeners.delete(check);
            reject(new Error(`${this.name} exited (${JSON.stringify(this.status)}) before printing ${pattern}:\n${this.output.slice(-4000)}`));
          }
        };
        this.listeners.add(check);
        check();
      }),
      ms,
      `${this.name} printing ${pattern}; output:\n${this.output.slice(-4000)}`,
    ).finally(() => this.listeners.clear());
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000) {
    if (this.status) return this.status;
    const kill = (signal) => {
      try {
        process.kill(-this.process.pid, signal);
      } catch {
        // Already gone.
      }
    };
    kill("SIGTERM");
    try {
      return await withTimeout(this.exited, graceMs, `${this.name} stopping`);
    } catch {
      kill("SIGKILL");
      return this.exited;
    }
  }
}

/** Stops every child process still running. */
export async function stopChildren() {
  await Promise.all([...children].map((c) => c.stop()));
}

/**
 * The release relay on a free loopback port, configured for the benchmark: frames up to
 * 256 KiB (60 KB messages), and no per-connection publish rate limit in the way of the
 * pipelined throughput runs. Resolves `{child, url, http}`.
 */
export async function startRelay(binDir) {
  const bin = join(binDir, "walletwire-server");
  if (!existsSync(bin)) throw new Error(`${bin} is missing: cargo build --release -p walletwire-server`);
  const child = new Child("relay", bin, [
    "--listen", "127.0.0.1:0",
    "--no-signaling",
    "--public-metrics",
    "--max-frame-size", "262144",
    "--publish-rate", "1000000",
    "--publish-burst", "1000000",
    "--command-rate", "1000000",
    "--command-burst", "1000000",
    "--address-command-rate", "0",
  ], { env: { RUST_LOG: "warn" } });
  const line = await child.waitLine(/^relay listening on ws:\/\//);
  const url = line.split(" ").pop();
  return { child, url, http: url.replace(/^ws:/, "http:").replace(/\/connection\/websocket$/, "") };
}

/**
 * The relay's counters from /metrics: `{publications, deliveries, errors: {code: n},
 * disconnects: {code: n}}`.
 */
export async function relayMetrics(relay) {
  const response = await withTimeout(fetch(`${relay.http}/metrics`), 5_000, "GET /metrics");
  const text = await response.text();
  const counter = (name) => {
    const match = text.match(new RegExp(`^${name} (\\d+)$`, "m"));
    if (!match) throw new Error(`no ${name} in /metrics:\n${text}`);
    return Number(match[1]);
  };
  const labelled = (name) =>
    Object.fromEntries([...text.matchAll(new RegExp(`^${name}\\{code="(\\d+)"\\} (\\d+)$`, "gm"))].map((m) => [m[1], Number(m[2])]));
  return {
    publications: counter("walletwire_relay_publications_total"),
    deliveries: counter("walletwire_relay_deliveries_total"),
    errors: labelled("walletwire_relay_errors_total"),
    disconnects: labelled("walletwire_relay_disconnects_total"),
  };
}

// ---- static files ----

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

/**
 * Serves `mounts` (`{"/pkg": dir, "/": dir}`) on a free loopback port, no caching.
 * Resolves `{base, close()}`.
 */
export async function startStaticServer(mounts) {
  const entries = Object.entries(mounts).sort((a, b) => b[0].length - a[0].length);
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
    for (const [prefix, dir] of entries) {
      if (prefix !== "/" && path !== prefix && !path.startsWith(prefix + "/")) continue;
      const relative = normalize(path.slice(prefix === "/" ? 0 : prefix.length)).replace(/^(\.\.[/\\])+/, "");
      const file = join(dir, relative);
      if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) break;
      response.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
      });
      createReadStream(file).pipe(response);
      return;
    }
    response.writeHead(404).end("not found");
  });
  await new Promise((resolvePromise) => server.listen(0, "127.0.0.1", resolvePromise));
  const { port } = server.address();
  return { base: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
}

// ---- Chromium ----

export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
  // Pages of the benchmark run side by side; none may be throttled as a background tab.
  "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding",
  "--disable-backgrounding-occluded-windows",
];

export async function launchChromium() {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** The Chromium version string (`/usr/bin/chromium --version`). */
export function chromiumVersion(browser) {
  return browser.version();
}

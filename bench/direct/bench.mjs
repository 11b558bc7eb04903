// Direct-flow benchmark (not a test). run.sh starts this inside a private network namespace
// (Chromium gathers no loopback candidates). Real parts: the SDK (pkg/) in headless Chromium,
// the release walletwire-server's signaling server, the release walletwire-wallet daemon.
//
// 1. webrtc.start -> connected: the page's WalletDaemonConnector shows its link; after an
//    "accept delay" (the time a user takes to carry the link to the wallet and accept) the
//    script calls the daemon's webrtc.start, and measures until the connector's `connected`.
//    Schedules: walletwire's default (get.answer long polls, `waitMs`, DIRECT.md), the original
//    connector's fixed 2 s poll without long polls (poll: {initialMs: 2000, maxMs: 2000,
//    waitMs: 0}), and 20 ms polls without long polls (the protocol's own cost: offer fetch,
//    answer, ICE, DTLS, SCTP, get.token).
// 2. Data-channel request round trip (page -> daemon -> page, `wallet.info` with an N-byte
//    params string; the answer is small) p50/p99, and requests/s with a window in flight.
//
//   node bench.mjs [--smoke] [--repeats 3] [--out results/direct.json]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { benchOptions, median, sleep, withTimeout, writeOutput } from '../lib/common.mjs';

const options = benchOptions();
const smoke = options.smoke;
const repeats = Number(options.repeats ?? (smoke ? 1 : 3));
const rounds = smoke ? 1 : 5; // connections per schedule and delay, per repeat
const delays = smoke ? [0] : [0, 1000, 5000];
const rttCount = smoke ? 10 : 300;
const rttSizes = [100, 10_000, 60_000];
const window = 16;
const windowSeconds = smoke ? 0.3 : 3;
const ROOT = new URL('../../', import.meta.url).pathname;
const SERVER = process.env.SERVER_BIN ?? join(ROOT, 'target/release/walletwire-server');
const profile = SERVER.includes('/debug/') ? 'debug' : 'release'; // the binaries' cargo profile
const WALLET = process.env.WALLET_BIN ?? join(ROOT, 'target/release/walletwire-wallet');
const PKG = process.env.PKG_DIR ?? join(ROOT, 'pkg');
const WAIT = 30_000;
const log = (...args) => console.error('[direct]', ...args);

const SCHEDULES = {
  default: { label: 'walletwire (default: get.answer long poll)', poll: undefined },
  fixed: { label: 'original connector (fixed 2 s poll)', poll: { initialMs: 2000, maxMs: 2000, waitMs: 0 } },
  fast: { label: '20 ms polls (protocol cost)', poll: { initialMs: 20, maxMs: 20, waitMs: 0 } },
};

const children = [];
const dirs = [];
let browser;
async function cleanup() {
  await browser?.close().catch(() => {});
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { cleanup().finally(() => process.exit(1)); });

/** A child process whose stdout lines can be awaited by prefix. */
function start(name, command, args) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: 'warn' } });
  children.push(child);
  const lines = [];
  const waiters = [];
  let buffer = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      lines.push(line);
      for (const w of [...waiters]) if (line.startsWith(w.prefix)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
    }
  });
  child.stderr.on('data', (chunk) => { stderr += chunk; if (process.env.VERBOSE) process.stderr.write(`[${name}] ${chunk}`); });
  return {
    child,
    line(prefix) {
      const seen = lines.find((l) => l.startsWith(prefix));
      if (seen) return Promise.resolve(seen);
      return withTimeout(new Promise((resolve) => waiters.push({ prefix, resolve })), WAIT, `${name}: ${prefix} (stderr: ${stderr.slice(-2000)})`);
    },
  };
}

async function rpc(url, token, method, params) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(WAIT),
  });
  return response.json();
}

const PERMISSIONS = ['AccountInfo'];
let page, signalingUrl, daemonUrl, adminToken;

/** One connection: link, accept after `delay` ms, webrtc.start; returns ms to `connected`. */
async function connectOnce(poll, delay) {
  const link = await page.evaluate(({ signalingUrl, poll, permissions }) => {
    const c = new window.walletwire.WalletDaemonConnector({ signalingUrl, name: 'bench dApp', permissions, ...(poll ? { poll } : {}) });
    window.c = c;
    window.connectedAt = new Promise((resolve) => c.on('connected', () => resolve(Date.now())));
    const link = new Promise((resolve) => c.on('link', (e) => resolve({ link: e.link, at: Date.now() })));
    window.outcome = c.connect().then(() => ({ ok: true }), (e) => ({ ok: false, code: e.code, message: e.message }));
    // A connect() that fails before the link shows (e.g. the signaling server refused the
    // offer) must end the run with its error, not leave it waiting for the link.
    return Promise.race([link, window.outcome.then((o) => { throw new Error(`connect() ended before the link: ${JSON.stringify(o)}`); })]);
  }, { signalingUrl, poll, permissions: PERMISSIONS });
  const parsed = await page.evaluate((l) => window.walletwire.parseDirectLink(l), link.link);
  const wait = link.at + delay - Date.now();
  if (wait > 0) await sleep(wait);
  const started = Date.now();
  const reply = await rpc(daemonUrl, adminToken, 'webrtc.start', {
    signaling_server_token: parsed.token, permissions: PERMISSIONS, name: parsed.name,
  });
  if (!reply.result?.sessionId) throw new Error(`webrtc.start failed: ${JSON.stringify(reply)}`);
  const outcome = await withTimeout(page.evaluate(() => window.outcome), WAIT, 'connect()');
  if (!outcome.ok) throw new Error(`connect() failed: ${JSON.stringify(outcome)}`);
  const connectedAt = await page.evaluate(() => window.connectedAt);
  return connectedAt - started;
}

async function closeAndSettle() {
  await page.evaluate(() => window.c.close());
  const started = Date.now();
  while ((await rpc(daemonUrl, adminToken, 'webrtc.sessions', null)).result.length > 0) {
    if (Date.now() - started > WAIT) throw new Error('the daemon kept a peer connection');
    await sleep(20);
  }
}

/** Round trips and throughput over the open data channel, in the page. */
function measureRtt(size) {
  return page.evaluate(async ({ size, count, window: inFlight, seconds }) => {
    const c = window.c;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const bytes = crypto.getRandomValues(new Uint8Array(size));
    const params = { data: Array.from(bytes, (b) => alphabet[b % 64]).join('') };
    for (let i = 0; i < 10; i++) await c.request('wallet.info', params);
    const rtts = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      const answer = await c.request('wallet.info', params);
      rtts.push(performance.now() - t);
      if (!answer.name) throw new Error('wallet.info answered without a name');
    }
    rtts.sort((a, b) => a - b);
    const q = (p) => rtts[Math.min(rtts.length - 1, Math.floor(p * rtts.length))];
    let done = 0;
    const end = performance.now() + seconds * 1000;
    const started = performance.now();
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) { await c.request('wallet.info', params); done++; }
    }));
    return { p50: q(0.5), p99: q(0.99), perSecond: done / ((performance.now() - started) / 1000) };
  }, { size, count: rttCount, window, seconds: windowSeconds });
}

const connectTimes = {}; // key -> per-repeat medians
const rtt = {}; // size -> per-repeat {p50, p99, perSecond}
try {
  const server = start('server', SERVER, [
    // ~110 logins with stored data from one address per run: lift the per-address cap.
    '--listen', '127.0.0.1:0', '--signaling-listen', '127.0.0.1:0', '--signaling-max-entries-per-address', '10000', '--www', join(ROOT, 'bench/direct/page'), '--pkg', PKG,
  ]);
  const pagesUrl = (await server.line('pages at ')).slice('pages at '.length).trim();
  signalingUrl = (await server.line('signaling listening on ')).slice('signaling listening on '.length).trim();
  const dir = mkdtempSync(join(tmpdir(), 'walletwire-bench-direct-'));
  dirs.push(dir);
  const daemon = start('daemon', WALLET, [
    'daemon', '--data-dir', dir, '--name', 'bench wallet', '--listen', '127.0.0.1:0',
    '--signaling-url', signalingUrl, '--connect-timeout', '20',
  ]);
  daemonUrl = (await daemon.line('DAEMON_LISTENING ')).split(' ')[1];
  adminToken = (await daemon.line('ADMIN_TOKEN ')).split(' ')[1];
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  page = await browser.newPage();
  page.on('pageerror', (e) => log('page error:', e));
  await page.goto(pagesUrl);
  await page.waitForFunction(() => window.ready === true, null, { timeout: WAIT });

  // One connection first: Chromium's first peer connection pays one-time setup.
  await connectOnce(SCHEDULES.fast.poll, 0);
  await closeAndSettle();

  for (let r = 0; r < repeats; r++) {
    const cells = [];
    for (const delay of delays) for (const key of ['default', 'fixed']) cells.push({ key, delay });
    cells.push({ key: 'fast', delay: 0 });
    for (const { key, delay } of cells) {
      const times = [];
      for (let i = 0; i < rounds; i++) {
        times.push(await connectOnce(SCHEDULES[key].poll, delay));
        await closeAndSettle();
      }
      const id = `${key}@${delay}`;
      (connectTimes[id] ??= []).push(median(times));
      log(`repeat ${r + 1}/${repeats}: ${key} schedule, accept after ${delay} ms: ${JSON.stringify(times)} ms`);
    }
    await connectOnce(undefined, 0);
    for (const size of rttSizes) {
      const m = await measureRtt(size);
      (rtt[size] ??= []).push(m);
      log(`repeat ${r + 1}/${repeats}: ${size} B request: p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms, ${Math.round(m.perSecond)} requests/s`);
    }
    await closeAndSettle();
  }
} finally {
  await cleanup();
}

const fmt = (x, digits) => Number(x.toFixed(digits));
const cell = (xs, digits) => (xs.length > 1
  ? `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`
  : fmt(median(xs), digits));
const ratio = (a, b) => `${(median(a) / median(b)).toFixed(2)}×`;
const rows = [];
for (const delay of delays) {
  const ours = connectTimes[`default@${delay}`];
  const theirs = connectTimes[`fixed@${delay}`];
  const when = delay === 0 ? 'accepted as soon as the link shows' : `accepted ${delay / 1000} s after the link shows`;
  rows.push([`webrtc.start → connected (ms), ${when}`, cell(ours, 0), cell(theirs, 0), ratio(theirs, ours)]);
}
const fast = connectTimes['fast@0'];
rows.push(['webrtc.start → connected (ms) with 20 ms polls: the protocol\'s own cost', cell(fast, 0), cell(fast, 0), '']);
const label = (bytes) => (bytes >= 1000 ? `${bytes / 1000} KB` : `${bytes} B`);
for (const size of rttSizes) {
  const xs = rtt[size];
  rows.push([`data-channel request, ${label(size)} params: round trip p50 (ms)`, cell(xs.map((x) => x.p50), 2), 'same channel', '']);
  rows.push([`data-channel request, ${label(size)} params: round trip p99 (ms)`, cell(xs.map((x) => x.p99), 2), 'same channel', '']);
  rows.push([`data-channel request, ${label(size)} params: requests/s (${window} in flight)`, cell(xs.map((x) => x.perSecond), 0), 'same channel', '']);
}

/** Closing-note lines: what the ratios mean, from this run's numbers. */
function closing() {
  const lines = [];
  const at0 = [median(connectTimes['default@0']), median(connectTimes['fixed@0'])];
  lines.push(`A wallet that accepts at once connects in ${Math.round(at0[0])} ms with walletwire's schedule vs ${Math.round(at0[1])} ms with a fixed 2 s poll: the first polls come at 0.25 and 0.75 s instead of 2 s. The protocol itself (20 ms polls) needs ${Math.round(median(fast))} ms; the rest is waiting for a poll.`);
  const late = delays.filter((d) => d >= 3750);
  for (const d of late) {
    lines.push(`Accepted ${d / 1000} s after the link, both schedules poll every 2 s by then (walletwire\'s at 3.75, 5.75, 7.75 s…, the fixed one at 2, 4, 6 s…): ${Math.round(median(connectTimes[`default@${d}`]))} vs ${Math.round(median(connectTimes[`fixed@${d}`]))} ms depends only on where the accept falls between two polls, not on the schedule; polling faster for longer (or a push from the signaling server, e.g. a long-poll for the answer) would close that wait for both.`);
  }
  return lines;
}

const playwrightVersion = JSON.parse(readFileSync(new URL('./node_modules/playwright-core/package.json', import.meta.url), 'utf8')).version;
const result = {
  id: 'direct',
  title: 'Direct flow (WebRTC to the wallet daemon): time to connect and data-channel round trip',
  about: `Inside a private network namespace made by \`bench/direct/run.sh\` (a veth pair with a default route that leads nowhere; removed afterwards): the SDK's \`WalletDaemonConnector\` from \`pkg/\` in headless Chromium, the ${profile} \`walletwire-server\` signaling server and the ${profile} \`walletwire-wallet daemon\` (webrtc-rs). The page creates a connector and shows its link; the script waits an "accept delay" from the link (the time a user takes to carry it to the wallet and accept), calls the daemon's \`webrtc.start\` and measures until the connector's \`connected\` (after \`get.token\`). The original connector is simulated with \`poll: {initialMs: 2000, maxMs: 2000, waitMs: 0}\` (no long poll, as tari.js); 20 ms polls without long polls show the cost without any poll wait. ${rounds} connection(s) per cell and repeat; ${repeats} repeat(s): median of the per-repeat medians (min–max in parentheses). Data channel: \`wallet.info\` requests whose params carry an N-byte string (the daemon answers ~200 B), ${rttCount} sequential after 10 warm-up (performance.now in the page), then ${window} in flight for ${windowSeconds} s.`,
  columns: ['measure', SCHEDULES.default.label, SCHEDULES.fixed.label, 'ratio (original / walletwire)'],
  rows,
  notes: [
    'walletwire\'s connector asks the signaling server to hold each get.answer until the daemon posts its answer (`waitMs`, at most 5 s a call, DIRECT.md), so it sees the answer one HTTP round trip after add.answer whenever the wallet accepts; the original connector (simulated here with `waitMs: 0`, as tari.js sends none) sees it at its next 2 s poll. Against a signaling server without the long poll, walletwire falls back to polling at 0.25, 0.75, 1.75, 3.75 s, then every 2 s.',
    'The data-channel rows have no peer value: the original connector uses the same WebRTC data channel; its round trip is the channel\'s, not the poll schedule\'s.',
    'Both schedules run in the same connector, which stops waiting as soon as the data channel opens (earlier builds noticed the open channel only at the next poll, which added up to one poll interval, up to 2 s, to every connection).',
  ],
  closing: closing(),
  versions: { 'playwright-core': playwrightVersion },
  raw: { connectTimes, rtt },
};
writeOutput(options, result, log);
process.exit(0);

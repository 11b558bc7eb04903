// Native request round trip through the relay (not a test): starts the release relay on a
// free loopback port and runs `wallet/examples/bench_rtt` (a native dApp and a native wallet,
// each on its own WebSocket, trusted pairing, the wallet echoing each request's params) once
// per repeat. Reports medians over repeats of the per-run p50/p99 round trip and messages/s
// per payload size, and the pairing time.
//
//   node bench.mjs [--smoke] [--repeats 5] [--out results/native.json]
//
// RELAY_BIN / BENCH_RTT_BIN override target/release/walletwire-server and
// target/release/examples/bench_rtt (run.sh builds both).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { benchOptions, median, withTimeout, writeOutput } from '../lib/common.mjs';

const options = benchOptions();
const smoke = options.smoke;
const repeats = Number(options.repeats ?? (smoke ? 1 : 5));
const sizes = [100, 10_000, 60_000];
const count = smoke ? 20 : 300;
const seconds = smoke ? 0.3 : 3;
const window = 32;
const root = new URL('../../', import.meta.url).pathname;
const relayBin = process.env.RELAY_BIN ?? `${root}target/release/walletwire-server`;
const profile = relayBin.includes('/debug/') ? 'debug' : 'release'; // the binaries' cargo profile
const benchBin = process.env.BENCH_RTT_BIN ?? `${root}target/release/examples/bench_rtt`;
const log = (...args) => console.error('[native]', ...args);

const children = new Set();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1));

async function startRelay() {
  const child = spawn(relayBin, [
    '--listen', '127.0.0.1:0', '--no-signaling',
    // 60 KB messages: frames up to 256 KiB (the SDK's default payload limit fits 64 KiB).
    '--max-frame-size', '262144',
    // Throughput runs send thousands of publications per second on one connection.
    '--publish-rate', '1000000', '--publish-burst', '1000000',
    '--command-rate', '1000000', '--command-burst', '1000000', '--address-command-rate', '0',
  ], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, RUST_LOG: 'warn' } });
  children.add(child);
  const url = await withTimeout(new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('relay listening on ')) resolve(line.slice('relay listening on '.length).trim());
    });
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
  }), 15_000, 'relay start');
  return { child, url };
}

function runBench(url) {
  const args = [
    '--relay', url, '--sizes', sizes.join(','), '--count', String(count), '--window', String(window),
    '--seconds', String(seconds), '--max-payload', '131072',
  ];
  return withTimeout(new Promise((resolve, reject) => {
    const child = spawn(benchBin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.once('error', reject);
    child.once('exit', (code) => {
      children.delete(child);
      if (code === 0) resolve(JSON.parse(out));
      else reject(new Error(`bench_rtt exited with ${code}`));
    });
  }), 120_000, 'bench_rtt');
}

const relay = await startRelay();
const runs = [];
try {
  for (let r = 0; r < repeats; r++) {
    const run = await runBench(relay.url);
    log(`repeat ${r + 1}/${repeats}: pairing ${run.connectMs.toFixed(1)} ms; ` +
      run.sizes.map((s) => `${s.bytes} B p50 ${s.p50Ms.toFixed(2)} p99 ${s.p99Ms.toFixed(2)} ms ${Math.round(s.messagesPerSecond)} msg/s`).join('; '));
    runs.push(run);
  }
} finally {
  relay.child.kill('SIGTERM');
}

const fmt = (x, digits) => Number(x.toFixed(digits));
const spread = (xs, digits) => (xs.length > 1 ? `${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)}` : '—');
const rows = [];
const label = (bytes) => (bytes >= 1000 ? `${bytes / 1000} KB` : `${bytes} B`);
const row = (name, xs, digits) => rows.push([name, fmt(median(xs), digits), spread(xs, digits)]);
row('pairing, trusted: connect_dapp → both connected (ms)', runs.map((r) => r.connectMs), 1);
sizes.forEach((bytes, i) => {
  row(`${label(bytes)} round trip p50 (ms)`, runs.map((r) => r.sizes[i].p50Ms), 3);
  row(`${label(bytes)} round trip p99 (ms)`, runs.map((r) => r.sizes[i].p99Ms), 3);
  row(`${label(bytes)} messages/s (${window} in flight)`, runs.map((r) => r.sizes[i].messagesPerSecond), 0);
});

const result = {
  id: 'native',
  title: 'Native dApp ↔ native wallet through the relay (Rust, request echo)',
  about: `\`wallet/examples/bench_rtt\` (${profile}): a native dApp and a native wallet (the SDK's sans-IO core on the wallet crate's tokio driver, one thread for both), each on its own WebSocket to the ${profile} \`walletwire-server\` on loopback, pair in trusted mode; the dApp then sends requests whose params carry an N-byte random ASCII string and the wallet answers with the same params, so N bytes travel each way, sealed with XChaCha20-Poly1305 and base64url in Centrifugo publications. Per size: ${smoke ? 'a few' : '20'} warm-up requests, ${count} sequential requests (round trip p50/p99, Instant clock), then ${window} requests kept in flight for ${seconds} s (messages/s = answered requests per second). For 60 KB both peers run with \`max_payload\` 131072 and the relay with \`--max-frame-size 262144\`; the relay's per-connection publish limit is lifted (default 100/s would cap the throughput runs). ${repeats} repeat(s), each a fresh pairing: medians of the per-run values, spread = min–max of those.`,
  columns: ['measure', 'walletwire (native ↔ native)', 'spread (min–max over repeats)'],
  rows,
  notes: [
    'No native peer: MetaMask\'s mobile wallet protocol and WalletConnect ship JavaScript only; their numbers are in the browser tables.',
  ],
  versions: {},
  raw: runs,
};
writeOutput(options, result, log);
process.exit(0);

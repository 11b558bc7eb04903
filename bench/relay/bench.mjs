// Relay benchmark (not a test). For each broker (memory, Redis: a redis-server started here on
// a free loopback port), per repeat: starts the release relay, opens N subscriber WebSockets
// (two per `session:` channel, as a dApp and a wallet), measures the relay's RSS per held
// connection, then publishes at fixed delivery rates through a few publisher connections,
// each publication carrying its send time, and records publish->deliver latency (p50/p99),
// deliveries per second and the CPU time of the relay (and of redis-server). Medians over
// repeats; the spread (min-max of the per-repeat values) where it matters.
//
//   node bench.mjs [--smoke] [--repeats 3] [--out results/relay.json]
//                  [--connections 10000] [--rates 1000,5000] [--seconds 10] [--brokers memory,redis]
//   node bench.mjs --url ws://HOST:PORT/connection/websocket   (an already running relay,
//                  e.g. another Centrifugo-protocol server: latency and rates only, no RSS)
//
// RELAY_BIN overrides the relay binary (default target/release/walletwire-server).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { benchOptions, median, sleep, withTimeout, writeOutput } from '../lib/common.mjs';

const options = benchOptions({
  url: { type: 'string' },
  connections: { type: 'string' },
  'per-channel': { type: 'string', default: '2' },
  rates: { type: 'string' }, // deliveries per second, all channels together
  seconds: { type: 'string' },
  publishers: { type: 'string', default: '4' },
  brokers: { type: 'string', default: 'memory,redis' },
});
const smoke = options.smoke;
const repeats = Number(options.repeats ?? (smoke ? 1 : 3));
const connections = Number(options.connections ?? (smoke ? 200 : 10000));
const perChannel = Number(options['per-channel']);
const rates = (options.rates ?? (smoke ? '200' : '1000,5000')).split(',').map(Number);
const seconds = Number(options.seconds ?? (smoke ? 1 : 10));
const publisherCount = Number(options.publishers);
const brokers = options.url ? ['external'] : options.brokers.split(',');
const STEP_MS = 60_000; // longest wait for any single step
const root = new URL('../../', import.meta.url).pathname;
const relayBin = process.env.RELAY_BIN ?? `${root}target/release/walletwire-server`;
const profile = relayBin.includes('/debug/') ? 'debug' : 'release'; // the binaries' cargo profile

const log = (...args) => console.error('[relay]', ...args);
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

function rssKiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
}

async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

const children = new Set();
function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}
function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  return exited.finally(() => clearTimeout(timer));
}
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1));

async function startRedis() {
  const port = await freePort();
  const child = track(spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--daemonize', 'no', '--loglevel', 'warning', '--maxclients', '1000',
  ], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  // Ready once it accepts a PING.
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
    const pong = await new Promise((resolve) => {
      const socket = new Socket();
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
      socket.once('data', (d) => { socket.destroy(); resolve(String(d).startsWith('+PONG')); });
    });
    if (pong) break;
    if (Date.now() - started > 10_000) throw new Error(`redis-server did not start: ${output}`);
    await sleep(50);
  }
  return { child, url: `redis://127.0.0.1:${port}` };
}

async function startRelay(broker, redisUrl) {
  const args = [
    '--listen', '127.0.0.1:0', '--no-signaling', '--broker', broker,
    '--max-connections', String(connections + publisherCount + 100),
    // Load comes from a few publishers: lift the per-connection publish limit.
    '--publish-rate', '1000000', '--publish-burst', '1000000',
    // Every connection comes from 127.0.0.1: lift the command and per-address limits too.
    '--command-rate', '1000000', '--command-burst', '1000000',
    '--address-command-rate', '0', '--max-connections-per-address', '0',
  ];
  if (redisUrl) args.push('--redis-url', redisUrl, '--redis-prefix', `bench-${randomUUID().slice(0, 8)}`);
  const child = track(spawn(relayBin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: 'warn' } }));
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; if (stderr.length > 20000) stderr = stderr.slice(-10000); });
  const lines = createInterface({ input: child.stdout });
  const url = await withTimeout(new Promise((resolve, reject) => {
    lines.on('line', (line) => { if (line.startsWith('relay listening on ')) resolve(line.slice('relay listening on '.length).trim()); });
    child.once('exit', (code) => reject(new Error(`relay exited (${code}): ${stderr}`)));
  }), 15_000, 'relay start');
  return { child, url, stderr: () => stderr };
}

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(JSON.stringify({ id: 1, connect: { name: 'bench' } }));
      resolve(ws);
    });
  });
}

/** One repeat against one relay: returns the measured values. */
async function runOnce(broker) {
  const redis = broker === 'redis' ? await startRedis() : null;
  const relay = broker === 'external' ? { url: options.url, child: null } : await startRelay(broker, redis?.url);
  const pid = relay.child?.pid;
  const channels = Array.from({ length: Math.ceil(connections / perChannel) }, () => `session:${randomUUID()}`);
  let measuring = false;
  let latencies = [];
  let deliveries = 0;
  let errors = 0;
  const sockets = [];
  try {
    await sleep(300);
    const baseline = pid ? rssKiB(pid) : 0;
    const openStarted = performance.now();
    let confirmed = 0;
    for (let i = 0; i < connections; i += 200) {
      const batch = [];
      for (let j = i; j < Math.min(i + 200, connections); j++) {
        batch.push(open(relay.url).then((ws) => new Promise((resolve) => {
          ws.send(JSON.stringify({ id: 2, subscribe: { channel: channels[j % channels.length] } }));
          ws.on('message', (data) => {
            for (const line of data.toString().split('\n')) {
              if (line === '{}') { ws.send('{}'); continue; }
              if (line.includes('"error"')) errors++;
              if (line.startsWith('{"id":2,')) { confirmed++; resolve(ws); continue; }
              if (!line.includes('"push"')) continue;
              if (measuring) {
                const sent = Number(/"t":(\d+(\.\d+)?)/.exec(line)?.[1]);
                deliveries++;
                latencies.push(performance.now() - sent);
              }
            }
          });
          sockets.push(ws);
        })));
      }
      await withTimeout(Promise.all(batch), STEP_MS, `open and subscribe connections ${i}..${i + batch.length}`);
    }
    const openSeconds = (performance.now() - openStarted) / 1000;
    if (confirmed !== connections) throw new Error(`only ${confirmed} of ${connections} subscriptions confirmed`);
    await sleep(1000);
    const held = pid ? rssKiB(pid) : 0;

    const publishers = await Promise.all(Array.from({ length: publisherCount }, () => open(relay.url)));
    let publishErrors = 0;
    for (const p of publishers) {
      p.on('message', (data) => {
        for (const line of data.toString().split('\n')) {
          if (line === '{}') p.send('{}');
          else if (line.includes('"error"')) publishErrors++;
        }
      });
      sockets.push(p);
    }
    await sleep(200);
    const phases = [];
    for (const rate of rates) {
      const publicationRate = rate / perChannel;
      latencies = [];
      deliveries = 0;
      const relayCpu0 = pid ? cpuSeconds(pid) : 0;
      const redisCpu0 = redis ? cpuSeconds(redis.child.pid) : 0;
      measuring = true;
      let sequence = 0;
      const started = performance.now();
      const durationMs = seconds * 1000;
      await new Promise((resolve) => {
        const tick = () => {
          const elapsed = performance.now() - started;
          if (elapsed >= durationMs) return resolve();
          const due = Math.floor((elapsed / 1000) * publicationRate);
          while (sequence < due) {
            const publisher = publishers[sequence % publisherCount];
            const channel = channels[sequence % channels.length];
            publisher.send(JSON.stringify({ id: 10 + sequence, publish: { channel, data: { t: performance.now() } } }));
            sequence++;
          }
          setTimeout(tick, 1);
        };
        tick();
      });
      const publishSeconds = (performance.now() - started) / 1000;
      const relayCpu = pid ? cpuSeconds(pid) - relayCpu0 : NaN;
      const redisCpu = redis ? cpuSeconds(redis.child.pid) - redisCpu0 : NaN;
      // Let the last publications arrive.
      const expected = sequence * perChannel;
      const drainStart = performance.now();
      while (deliveries < expected && performance.now() - drainStart < 5000) await sleep(20);
      measuring = false;
      latencies.sort((a, b) => a - b);
      phases.push({
        rate,
        publications: sequence,
        expected,
        deliveries,
        deliveriesPerSecond: deliveries / publishSeconds,
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        relayCpuPercent: (relayCpu / publishSeconds) * 100,
        redisCpuPercent: (redisCpu / publishSeconds) * 100,
      });
      log(`${broker}: ${rate}/s target: ${deliveries}/${expected} delivered, p50 ${phases.at(-1).p50?.toFixed(2)} ms, p99 ${phases.at(-1).p99?.toFixed(2)} ms, relay CPU ${phases.at(-1).relayCpuPercent.toFixed(0)}%`);
      await sleep(500);
    }
    if (errors || publishErrors) throw new Error(`the relay answered ${errors + publishErrors} errors`);
    return {
      openSeconds,
      connectionsPerSecond: connections / openSeconds,
      rssBaselineKiB: baseline,
      rssHeldKiB: held,
      rssPerConnectionKiB: pid ? (held - baseline) / connections : NaN,
      phases,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await stop(relay.child);
    await stop(redis?.child);
  }
}

const results = {};
for (const broker of brokers) {
  results[broker] = [];
  for (let r = 0; r < repeats; r++) {
    log(`${broker} broker, repeat ${r + 1}/${repeats}: ${connections} connections, rates ${rates.join(', ')} deliveries/s for ${seconds} s each`);
    const run = await runOnce(broker);
    log(`${broker}: ${connections} connections in ${run.openSeconds.toFixed(1)} s, RSS ${(run.rssPerConnectionKiB).toFixed(2)} KiB/connection`);
    results[broker].push(run);
  }
}

// ---- the results file
const fmt = (x, digits = 2) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : 'n/a');
/** Median over repeats, with "(min–max)" when there are several repeats. */
function cell(values, digits = 2) {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return 'n/a';
  const m = fmt(median(finite), digits);
  if (finite.length < 2 || Math.min(...finite) === Math.max(...finite)) return m;
  return `${m} (${fmt(Math.min(...finite), digits)}–${fmt(Math.max(...finite), digits)})`;
}
const ratio = (a, b) => {
  const x = median(a.filter(Number.isFinite)) / median(b.filter(Number.isFinite));
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a';
};

const columns = ['measure', ...brokers.map((b) => (b === 'external' ? options.url : `${b} broker`))];
const twoBrokers = brokers.includes('memory') && brokers.includes('redis');
if (twoBrokers) columns.push('ratio (Redis / memory)');
const rows = [];
function row(label, pick, digits = 2, withRatio = true) {
  const values = brokers.map((b) => results[b].map(pick));
  const r = [label, ...values.map((v) => cell(v, digits))];
  if (twoBrokers) r.push(withRatio ? ratio(results.redis.map(pick), results.memory.map(pick)) : '');
  rows.push(r);
}
row(`connections held (${perChannel} per channel)`, () => connections, 0, false);
row('connections opened + subscribed per second', (x) => x.connectionsPerSecond, 0);
row('relay RSS per held connection (KiB)', (x) => x.rssPerConnectionKiB, 2);
row(`relay RSS with ${connections} connections (MiB)`, (x) => x.rssHeldKiB / 1024, 1);
rates.forEach((rate, i) => {
  row(`${rate} deliveries/s target: achieved deliveries/s`, (x) => x.phases[i].deliveriesPerSecond, 0);
  row(`${rate} deliveries/s: publish→deliver p50 (ms)`, (x) => x.phases[i].p50, 2);
  row(`${rate} deliveries/s: publish→deliver p99 (ms)`, (x) => x.phases[i].p99, 2);
  row(`${rate} deliveries/s: relay CPU (% of one core)`, (x) => x.phases[i].relayCpuPercent, 0);
  if (brokers.includes('redis')) {
    const r = [`${rate} deliveries/s: redis-server CPU (% of one core)`, ...brokers.map((b) => (b === 'redis' ? cell(results.redis.map((x) => x.phases[i].redisCpuPercent), 0) : '—'))];
    if (twoBrokers) r.push('');
    rows.push(r);
  }
});

/** Closing-note lines from this run's numbers (memory vs Redis; no peer relay). */
function relayClosing() {
  if (!twoBrokers) return [];
  const m = (b, pick) => median(results[b].map(pick).filter(Number.isFinite));
  const lines = [];
  lines.push(`Holding connections costs the same with either broker (${m('memory', (x) => x.rssPerConnectionKiB).toFixed(1)} vs ${m('redis', (x) => x.rssPerConnectionKiB).toFixed(1)} KiB of relay RSS per connection): the broker only changes the path of a publication.`);
  rates.forEach((rate, i) => {
    const p99 = [m('memory', (x) => x.phases[i].p99), m('redis', (x) => x.phases[i].p99)];
    const cpu = [m('memory', (x) => x.phases[i].relayCpuPercent), m('redis', (x) => x.phases[i].relayCpuPercent)];
    const redisCpu = m('redis', (x) => x.phases[i].redisCpuPercent);
    lines.push(`At ${rate} deliveries/s the Redis broker has ${(p99[1] / p99[0]).toFixed(1)}× the memory broker's p99 (${p99[1].toFixed(1)} vs ${p99[0].toFixed(1)} ms) and the relay uses ${cpu[1].toFixed(0)}% vs ${cpu[0].toFixed(0)}% of a core, plus ${redisCpu.toFixed(0)}% in redis-server.`);
  });
  lines.push('Why Redis costs more: each publication goes relay → Redis (appended to the channel\'s stream for history, then published) → back to the relay over pub/sub → subscribers, two more loopback round trips and Redis\'s own work on the same 2 cores. It buys what one process cannot: several relay nodes sharing channels and history, and history that outlives a relay restart. A single-node deployment should use the memory broker.');
  return lines;
}

const lost = brokers.flatMap((b) => results[b].flatMap((x) => x.phases.map((p) => p.expected - p.deliveries))).reduce((a, b) => a + b, 0);
const redisVersion = await new Promise((resolve) => {
  const c = spawn('redis-server', ['--version']);
  let out = '';
  c.stdout.on('data', (d) => { out += d; });
  c.on('error', () => resolve(undefined));
  c.on('exit', () => resolve(/v=(\S+)/.exec(out)?.[1]));
});
const wsVersion = JSON.parse(readFileSync(new URL('./node_modules/ws/package.json', import.meta.url), 'utf8')).version;
const result = {
  id: 'relay',
  title: 'Relay: connections held, deliveries/s and publish→deliver latency (memory vs Redis broker)',
  about: `The ${profile} \`walletwire-server\` on loopback, once with the in-process memory broker and once with the Redis broker (a \`redis-server\` started by the script on a free loopback port, no persistence). Per repeat a fresh relay (and Redis): ${connections} WebSocket connections (Node \`ws\`, one process) each connect and subscribe to a \`session:\` channel, two per channel as a dApp and a wallet would; RSS per connection = (relay RSS with them − RSS before) / ${connections}, read from /proc. Then ${publisherCount} publisher connections publish small JSON payloads carrying their send time round-robin over the channels at a fixed rate for ${seconds} s per rate (each publication is delivered to the channel's ${perChannel} subscribers; the relay's per-connection publish limit is lifted for the bench); latency is measured in the same Node process from publish to push, so it includes the load generator's own event-loop delay (one process, shared cores) and is an upper bound for the relay. CPU is the relay's (and redis-server's) utime+stime during the phase. ${repeats} repeat(s): medians, with the min–max of the per-repeat values in parentheses.`,
  columns,
  rows,
  notes: [
    `Deliveries missing at the end of all phases (expected − delivered after a 5 s drain): ${lost}.`,
    'No Centrifugo server could be benchmarked side by side: it is not packaged in Debian (`apt-cache policy centrifugo`: no candidate) nor published as an npm or PyPI package, and this machine downloads nothing else; `bench/relay/bench.mjs --url ws://…/connection/websocket` runs the same latency/rate phases against any running Centrifugo-protocol server.',
  ],
  closing: relayClosing(),
  versions: { 'redis-server': redisVersion, ws: wsVersion },
  raw: results,
};
writeOutput(options, result, log);
process.exit(0);

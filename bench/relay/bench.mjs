// Relay benchmark (not a test). The load comes from `walletwire-loadgen` (bench/loadgen, Rust,
// tokio, raw Centrifugo JSON, sockets spread over several loopback source addresses, one
// monotonic clock for publish -> deliver), so the generator is not the bottleneck. For each
// broker (memory, Redis: a redis-server started here on a free loopback port), per repeat:
// starts the release relay, has the generator open N subscriber WebSockets (two per `session:`
// channel, as a dApp and a wallet), measures the relay's RSS per held connection, then steps
// the delivery rate up (a few publisher connections; each publication carries its send time)
// and records deliveries per second, publish->deliver p50/p99 and the CPU time of the relay,
// redis-server and the generator per step; the knee is the highest rate the relay keeps up with.
// Then the scale-out: 1, 2, 3 relay nodes sharing one Redis, publishers on the first node and
// subscribers on the others. Medians over repeats; min-max spreads where they matter.
//
//   node bench.mjs [--smoke] [--repeats 3] [--out results/relay.json]
//                  [--connections 50000] [--rates 10000,25000,50000,100000,150000] [--seconds 5]
//                  [--brokers memory,redis] [--nodes 1,2,3] [--scale-connections 10000]
//                  [--scale-rates 25000,50000,100000] [--sources 4]
//   node bench.mjs --url ws://HOST:PORT/connection/websocket   (an already running relay,
//                  e.g. another Centrifugo-protocol server: latency and rates only, no RSS)
//
// RELAY_BIN overrides the relay binary (default target/release/walletwire-server), LOADGEN_BIN
// the generator (default target/loadgen/release/walletwire-loadgen, which bench/run.sh builds
// speed-first). Sockets above the open-file limit: the relay is started through `prlimit`.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { benchOptions, median, sleep, withTimeout, writeOutput } from '../lib/common.mjs';

const options = benchOptions({
  url: { type: 'string' },
  connections: { type: 'string' },
  'per-channel': { type: 'string', default: '2' },
  rates: { type: 'string' }, // deliveries per second, all channels together
  seconds: { type: 'string' },
  publishers: { type: 'string', default: '4' },
  brokers: { type: 'string', default: 'memory,redis' },
  nodes: { type: 'string' },
  'scale-connections': { type: 'string' },
  'scale-rates': { type: 'string' },
  sources: { type: 'string', default: '4' },
});
const smoke = options.smoke;
const repeats = Number(options.repeats ?? (smoke ? 1 : 3));
const asked = Number(options.connections ?? (smoke ? 200 : 50000));
const perChannel = Number(options['per-channel']);
const rates = (options.rates ?? (smoke ? '200,400' : '10000,25000,50000,100000,150000')).split(',').map(Number);
const seconds = Number(options.seconds ?? (smoke ? 1 : 5));
const publisherCount = Number(options.publishers);
const brokers = options.url ? ['external'] : options.brokers.split(',');
const nodeCounts = options.url ? [] : (options.nodes ?? (smoke ? '1,2' : '1,2,3')).split(',').map(Number);
const scaleConnections = Number(options['scale-connections'] ?? (smoke ? 200 : 10000));
const scaleRates = (options['scale-rates'] ?? (smoke ? '200' : '25000,50000,100000')).split(',').map(Number);
const sources = Number(options.sources);
const STEP_MS = 60_000; // longest wait for any single step besides opening connections
const root = new URL('../../', import.meta.url).pathname;
const relayBin = process.env.RELAY_BIN ?? `${root}target/release/walletwire-server`;
const loadgenBin = process.env.LOADGEN_BIN ?? `${root}target/loadgen/release/walletwire-loadgen`;
const profile = relayBin.includes('/debug/') ? 'debug' : 'release'; // the binaries' cargo profile
// A step keeps up when it delivers this share of its target rate with p99 under KNEE_P99_MS.
const KNEE_SHARE = 0.97;
const KNEE_P99_MS = 50;

const log = (...args) => console.error('[relay]', ...args);

function rssKiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
}

/** This process's open-file limits, [soft, hard] (children inherit them). */
function openFileLimits() {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const [, soft, hard] = line?.split(/\s{2,}/) ?? [];
  const n = (x) => (x === 'unlimited' ? Infinity : Number(x ?? 1024));
  return [n(soft), n(hard)];
}
const openFileLimit = () => openFileLimits()[0];
// One process holds at most its hard limit of descriptors, and raising a hard limit needs
// CAP_SYS_RESOURCE: where it is lower than the run asks for, hold what it allows.
const fdCeiling = Math.floor((openFileLimits()[1] - Number(options.publishers) - 1024) / 1000) * 1000;
const connections = Math.min(asked, fdCeiling);
const capped = connections < asked
  ? `Asked for ${asked} connections; this machine's open-file hard limit is ${openFileLimits()[1]} per process and raising it needs CAP_SYS_RESOURCE, which this environment lacks, so one relay held ${connections}.`
  : null;
if (capped) log(capped);

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

async function startRelay(broker, redisUrl, prefix) {
  const args = [
    '--listen', '127.0.0.1:0', '--no-signaling', '--broker', broker,
    '--max-connections', String(connections + publisherCount + 100),
    // Load comes from a few publishers: lift the per-connection publish limit.
    '--publish-rate', '1000000', '--publish-burst', '1000000',
    // The generator's sockets come from a few loopback addresses: lift the command and
    // per-address limits too.
    '--command-rate', '1000000', '--command-burst', '1000000',
    '--address-command-rate', '0', '--max-connections-per-address', '0',
  ];
  if (redisUrl) args.push('--redis-url', redisUrl, '--redis-prefix', prefix);
  // One descriptor per held connection: above this process's limit, raise the relay's own.
  const need = connections + publisherCount + 1024;
  const [command, argv] = openFileLimit() >= need ? [relayBin, args] : ['prlimit', [`--nofile=${need}:${need}`, relayBin, ...args]];
  const child = track(spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: 'warn' } }));
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; if (stderr.length > 20000) stderr = stderr.slice(-10000); });
  const lines = createInterface({ input: child.stdout });
  const url = await withTimeout(new Promise((resolve, reject) => {
    lines.on('line', (line) => { if (line.startsWith('relay listening on ')) resolve(line.slice('relay listening on '.length).trim()); });
    child.once('exit', (code) => reject(new Error(`relay exited (${code}): ${stderr}`)));
  }), 15_000, 'relay start');
  return { child, url, stderr: () => stderr };
}

/**
 * Starts the generator: subscribers on `subscribeUrls`, publishers on `publishUrls`. Resolves
 * once every subscription is confirmed, with `phase(rate)` (one step, resolves with its JSON
 * line) and `stop()`.
 */
async function startLoadgen({ subscribeUrls, publishUrls, count }) {
  const args = ['--connections', String(count), '--per-channel', String(perChannel),
    '--publishers', String(publisherCount), '--sources', String(sources)];
  for (const u of subscribeUrls) args.push('--subscribe-url', u);
  for (const u of publishUrls) args.push('--publish-url', u);
  const child = track(spawn(loadgenBin, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; if (stderr.length > 20000) stderr = stderr.slice(-10000); });
  const waiting = [];
  const failures = [];
  const fail = (error) => { for (const w of waiting.splice(0)) w.reject(error); failures.push(error); };
  createInterface({ input: child.stdout }).on('line', (line) => {
    let message;
    try { message = JSON.parse(line); } catch { return fail(new Error(`loadgen printed ${line}`)); }
    waiting.shift()?.resolve(message);
  });
  child.once('exit', (code, signal) => fail(new Error(`loadgen exited (${code ?? signal}): ${stderr.trim()}`)));
  const next = (ms, what) => {
    if (failures.length) return Promise.reject(failures[0]);
    return withTimeout(new Promise((resolve, reject) => waiting.push({ resolve, reject })), ms, what);
  };
  const held = await next(Math.max(STEP_MS, count * 5), `open and subscribe ${count} connections`);
  if (held.event !== 'held') throw new Error(`loadgen: expected "held", got ${JSON.stringify(held)}`);
  return {
    held,
    pid: child.pid,
    phase(rate) {
      child.stdin.write(`phase ${rate} ${seconds}\n`);
      return next(STEP_MS + seconds * 1000, `phase ${rate}/s`);
    },
    async stop() {
      child.stdin.end('quit\n');
      await withTimeout(new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r))), 10_000, 'loadgen exit').catch(() => child.kill('SIGKILL'));
    },
  };
}

/**
 * One repeat: `nodes` relays on one broker (several only with Redis), subscribers spread over
 * the nodes after the first (all on it when there is one), publishers on the first node.
 */
async function runOnce(broker, { nodes = 1, count = connections, steps = rates } = {}) {
  const redis = broker === 'redis' ? await startRedis() : null;
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const relays = [];
  let loadgen = null;
  try {
    if (broker === 'external') relays.push({ url: options.url, child: null });
    else for (let i = 0; i < nodes; i++) relays.push(await startRelay(broker, redis?.url, prefix));
    const pids = relays.map((r) => r.child?.pid).filter(Boolean);
    await sleep(300);
    const baseline = pids.reduce((sum, pid) => sum + rssKiB(pid), 0);
    const subscribeUrls = (relays.length > 1 ? relays.slice(1) : relays).map((r) => r.url);
    loadgen = await startLoadgen({ subscribeUrls, publishUrls: [relays[0].url], count });
    await sleep(1000);
    const held = pids.reduce((sum, pid) => sum + rssKiB(pid), 0);
    const phases = [];
    for (const rate of steps) {
      const relayCpu0 = pids.map(cpuSeconds);
      const redisCpu0 = redis ? cpuSeconds(redis.child.pid) : 0;
      const started = performance.now();
      const step = await loadgen.phase(rate);
      const elapsed = (performance.now() - started) / 1000;
      const relayCpu = pids.map((pid, i) => cpuSeconds(pid) - relayCpu0[i]);
      if (step.errors || step.closed) throw new Error(`${broker}, ${nodes} node(s), ${rate}/s: ${step.errors} errors, ${step.closed} connections closed`);
      const phase = {
        rate,
        publications: step.publications,
        expected: step.expected,
        deliveries: step.delivered,
        deliveriesPerSecond: step.deliveriesPerSecond,
        p50: step.p50Ms,
        p99: step.p99Ms,
        p999: step.p999Ms,
        relayCpuPercent: (relayCpu.reduce((a, b) => a + b, 0) / elapsed) * 100,
        relayCpuPercentPerNode: relayCpu.map((c) => (c / elapsed) * 100),
        redisCpuPercent: redis ? ((cpuSeconds(redis.child.pid) - redisCpu0) / elapsed) * 100 : NaN,
        generatorCpuPercent: step.generatorCpuPercent,
      };
      phase.keptUp = phase.deliveriesPerSecond >= KNEE_SHARE * rate && phase.deliveries === phase.expected && phase.p99 <= KNEE_P99_MS;
      phases.push(phase);
      log(`${broker}, ${nodes} node(s): ${rate}/s target: ${phase.deliveries}/${phase.expected} delivered (${phase.deliveriesPerSecond.toFixed(0)}/s), p50 ${phase.p50?.toFixed(2)} ms, p99 ${phase.p99?.toFixed(2)} ms, relay CPU ${phase.relayCpuPercent.toFixed(0)}%, generator CPU ${phase.generatorCpuPercent.toFixed(0)}%`);
      await sleep(500);
    }
    return {
      openSeconds: loadgen.held.seconds,
      connectionsPerSecond: loadgen.held.perSecond,
      rssBaselineKiB: baseline,
      rssHeldKiB: held,
      rssPerConnectionKiB: pids.length ? (held - baseline) / count : NaN,
      phases,
    };
  } finally {
    await loadgen?.stop();
    for (const r of relays) await stop(r.child);
    await stop(redis?.child);
  }
}

/** The highest stepped rate a run kept up with (all delivered, ≥ 97% of the rate, p99 ≤ 50 ms). */
const knee = (run) => run.phases.filter((p) => p.keptUp).reduce((best, p) => Math.max(best, p.rate), 0);

const results = {};
for (const broker of brokers) {
  results[broker] = [];
  for (let r = 0; r < repeats; r++) {
    log(`${broker} broker, repeat ${r + 1}/${repeats}: ${connections} connections, rates ${rates.join(', ')} deliveries/s for ${seconds} s each`);
    const run = await runOnce(broker);
    log(`${broker}: ${connections} connections in ${run.openSeconds.toFixed(1)} s, RSS ${(run.rssPerConnectionKiB).toFixed(2)} KiB/connection, knee ${knee(run)}/s`);
    results[broker].push(run);
  }
}
const scale = {};
for (const nodes of nodeCounts) {
  scale[nodes] = [];
  for (let r = 0; r < repeats; r++) {
    log(`scale-out: ${nodes} node(s) on one Redis, repeat ${r + 1}/${repeats}: ${scaleConnections} connections, rates ${scaleRates.join(', ')}`);
    scale[nodes].push(await runOnce('redis', { nodes, count: scaleConnections, steps: scaleRates }));
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
row(`knee: highest stepped rate kept up with (deliveries/s; all delivered, ≥ ${KNEE_SHARE * 100}% of the rate, p99 ≤ ${KNEE_P99_MS} ms)`, knee, 0, false);
rates.forEach((rate, i) => {
  row(`${rate} deliveries/s target: achieved deliveries/s`, (x) => x.phases[i].deliveriesPerSecond, 0);
  row(`${rate} deliveries/s: publish→deliver p50 (ms)`, (x) => x.phases[i].p50, 2);
  row(`${rate} deliveries/s: publish→deliver p99 (ms)`, (x) => x.phases[i].p99, 2);
  row(`${rate} deliveries/s: relay CPU (% of one core)`, (x) => x.phases[i].relayCpuPercent, 0);
  row(`${rate} deliveries/s: load generator CPU (% of one core)`, (x) => x.phases[i].generatorCpuPercent, 0, false);
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
  lines.push(`The memory broker kept up with ${m('memory', knee)} deliveries/s, the Redis broker with ${m('redis', knee)} (the highest stepped rates; median over repeats).`);
  rates.forEach((rate, i) => {
    const p99 = [m('memory', (x) => x.phases[i].p99), m('redis', (x) => x.phases[i].p99)];
    const cpu = [m('memory', (x) => x.phases[i].relayCpuPercent), m('redis', (x) => x.phases[i].relayCpuPercent)];
    const redisCpu = m('redis', (x) => x.phases[i].redisCpuPercent);
    lines.push(`At ${rate} deliveries/s the Redis broker has ${(p99[1] / p99[0]).toFixed(1)}× the memory broker's p99 (${p99[1].toFixed(1)} vs ${p99[0].toFixed(1)} ms) and the relay uses ${cpu[1].toFixed(0)}% vs ${cpu[0].toFixed(0)}% of a core, plus ${redisCpu.toFixed(0)}% in redis-server.`);
  });
  lines.push('Why Redis costs more: each publication goes relay → Redis (appended to the channel\'s stream for history, then published) → back to the relay over pub/sub → subscribers, two more loopback round trips and Redis\'s own work on the same 2 cores. It buys what one process cannot: several relay nodes sharing channels and history, and history that outlives a relay restart. A single-node deployment should use the memory broker.');
  return lines;
}

const lost = [...Object.values(results), ...Object.values(scale)]
  .flatMap((runs) => runs.flatMap((x) => x.phases.map((p) => p.expected - p.deliveries))).reduce((a, b) => a + b, 0);
const redisVersion = await new Promise((resolve) => {
  const c = spawn('redis-server', ['--version']);
  let out = '';
  c.stdout.on('data', (d) => { out += d; });
  c.on('error', () => resolve(undefined));
  c.on('exit', () => resolve(/v=(\S+)/.exec(out)?.[1]));
});
const loadgenAbout = `The load comes from \`walletwire-loadgen\` (bench/loadgen: Rust, tokio, raw Centrifugo JSON; its sockets spread over ${sources} loopback source addresses 127.0.0.1–127.0.0.${sources}; built speed-first by bench/run.sh), which times publish → deliver with one monotonic clock (each publication carries its send time and step) and runs on the same 2 cores as the relay: its CPU is in the table.`;
const result = {
  id: 'relay',
  title: 'Relay: connections held, deliveries/s and publish→deliver latency (memory vs Redis broker)',
  about: `The ${profile} \`walletwire-server\` on loopback, once with the in-process memory broker and once with the Redis broker (a \`redis-server\` started by the script on a free loopback port, no persistence). Per repeat a fresh relay (and Redis): ${connections} WebSocket connections each connect and subscribe to a \`session:\` channel, two per channel as a dApp and a wallet would; RSS per connection = (relay RSS with them − RSS before) / ${connections}, read from /proc. Then ${publisherCount} publisher connections publish small JSON payloads round-robin over the channels at stepped rates, ${seconds} s per rate (each publication is delivered to the channel's ${perChannel} subscribers; the relay's per-connection publish limit is lifted for the bench). ${loadgenAbout} CPU is the relay's (and redis-server's) utime+stime during the step. ${repeats} repeat(s): medians, with the min–max of the per-repeat values in parentheses.`,
  columns,
  rows,
  notes: [
    ...(capped ? [capped] : []),
    `Deliveries missing at the end of all steps, this table and the scale-out one (expected − delivered after a 5 s drain): ${lost}.`,
    'No Centrifugo server could be benchmarked side by side: it is not packaged in Debian (`apt-cache policy centrifugo`: no candidate) nor published as an npm or PyPI package, and this machine downloads nothing else; `bench/relay/bench.mjs --url ws://…/connection/websocket` runs the same steps against any running Centrifugo-protocol server. Centrifugo\'s own published figure is about 500,000 deliveries/s on 20 pods (about 25,000 per pod) with p99 200 ms.',
  ],
  closing: relayClosing(),
  versions: { 'redis-server': redisVersion },
  raw: { results, scale },
};

// ---- scale-out table: one column per node count
const scaleResult = nodeCounts.length ? {
  id: 'relay-scale',
  title: `Relay scale-out: ${nodeCounts.join(', ')} nodes sharing one Redis broker`,
  about: `${nodeCounts.join(', ')} release \`walletwire-server\` processes with the Redis broker on one \`redis-server\`, all on this machine's 2 cores. Publishers (${publisherCount}) connect to the first node; the ${scaleConnections} subscribers (${perChannel} per channel) spread over the other nodes (with one node, all on it), so every delivery crosses Redis pub/sub between nodes. ${loadgenAbout} Relay CPU is the sum over the nodes. ${repeats} repeat(s): medians (min–max).`,
  columns: ['measure', ...nodeCounts.map((n) => `${n} node${n > 1 ? 's' : ''}`)],
  rows: [
    [`knee: highest stepped rate kept up with (deliveries/s)`, ...nodeCounts.map((n) => cell(scale[n].map(knee), 0))],
    ...scaleRates.flatMap((rate, i) => [
      [`${rate} deliveries/s target: achieved deliveries/s`, ...nodeCounts.map((n) => cell(scale[n].map((x) => x.phases[i].deliveriesPerSecond), 0))],
      [`${rate} deliveries/s: publish→deliver p99 (ms)`, ...nodeCounts.map((n) => cell(scale[n].map((x) => x.phases[i].p99), 2))],
      [`${rate} deliveries/s: relay CPU, all nodes (% of one core)`, ...nodeCounts.map((n) => cell(scale[n].map((x) => x.phases[i].relayCpuPercent), 0))],
      [`${rate} deliveries/s: redis-server CPU (% of one core)`, ...nodeCounts.map((n) => cell(scale[n].map((x) => x.phases[i].redisCpuPercent), 0))],
    ]),
  ],
  notes: ['All nodes, Redis and the generator share 2 cores here, so more nodes add hops and processes, not cores: the table shows that nodes share channels correctly under load and what each hop costs, not the capacity of separate machines.'],
  versions: { 'redis-server': redisVersion },
} : null;

writeOutput(options, result, log);
if (scaleResult) {
  if (!options.out) console.log(JSON.stringify(scaleResult, null, 2));
  else writeOutput({ ...options, out: options.out.replace(/\.json$/, '') + '-scale.json' }, scaleResult, log);
}
process.exit(0);

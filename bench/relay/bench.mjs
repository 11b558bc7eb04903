// Relay benchmark (not a test): starts the relay binary (or uses --url), opens N subscriber
// connections spread over channels, publishes at a fixed rate with a send timestamp in each
// payload, and reports publish->deliver latency (p50/p99), deliveries per second, and the
// relay's RSS per connection (from /proc when it started the relay itself).
//
//   node bench.mjs --connections 10000 --channels 1000 --rate 200 --seconds 20
//   RELAY_BIN=target/release/walletwire-server node bench.mjs ...
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values: options } = parseArgs({
  options: {
    url: { type: 'string' },
    connections: { type: 'string', default: '1000' },
    channels: { type: 'string', default: '100' },
    rate: { type: 'string', default: '100' }, // publications per second, all channels together
    seconds: { type: 'string', default: '10' },
    publishers: { type: 'string', default: '4' },
  },
});
const connections = Number(options.connections);
const channelCount = Number(options.channels);
const rate = Number(options.rate);
const seconds = Number(options.seconds);
const publisherCount = Number(options.publishers);

function rssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

async function startRelay() {
  const binary = process.env.RELAY_BIN ?? new URL('../../target/release/walletwire-server', import.meta.url).pathname;
  const child = spawn(binary, [
    '--listen', '127.0.0.1:0',
    '--max-connections', String(connections + 100),
    '--publish-rate', '1000000', '--publish-burst', '1000000',
  ], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, RUST_LOG: 'warn' } });
  const line = await new Promise((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
  return { child, url: line.replace('relay listening on ', '') };
}

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(JSON.stringify({ id: 1, connect: {} }));
      resolve(ws);
    });
  });
}

const relay = options.url ? null : await startRelay();
const url = options.url ?? relay.url;
const channels = Array.from({ length: channelCount }, () => `session:${randomUUID()}`);
const latencies = [];
let deliveries = 0;
let measuring = false;

const baseline = relay ? rssKiB(relay.child.pid) : 0;
const sockets = [];
const started = Date.now();
for (let i = 0; i < connections; i += 200) {
  const batch = [];
  for (let j = i; j < Math.min(i + 200, connections); j++) {
    batch.push(open(url).then((ws) => {
      ws.send(JSON.stringify({ id: 2, subscribe: { channel: channels[j % channelCount] } }));
      ws.on('message', (data) => {
        for (const line of data.toString().split('\n')) {
          if (line === '{}') { ws.send('{}'); continue; }
          if (!line.includes('"push"')) continue;
          const sent = Number(/"t":(\d+(\.\d+)?)/.exec(line)?.[1]);
          if (measuring) {
            deliveries++;
            latencies.push(performance.timeOrigin + performance.now() - sent);
          }
        }
      });
      return ws;
    }));
  }
  sockets.push(...await Promise.all(batch));
}
console.log(`${connections} connections open in ${Date.now() - started} ms`);
await new Promise((resolve) => setTimeout(resolve, 1000));
const held = relay ? rssKiB(relay.child.pid) : 0;

const publishers = await Promise.all(Array.from({ length: publisherCount }, () => open(url)));
measuring = true;
let sequence = 0;
const interval = 1000 / rate;
const end = Date.now() + seconds * 1000;
await new Promise((resolve) => {
  const tick = () => {
    const now = Date.now();
    if (now >= end) return resolve();
    const due = Math.floor((seconds * 1000 - (end - now)) / interval);
    while (sequence < due) {
      const publisher = publishers[sequence % publisherCount];
      const channel = channels[sequence % channelCount];
      publisher.send(JSON.stringify({
        id: 10 + sequence,
        publish: { channel, data: { t: performance.timeOrigin + performance.now() } },
      }));
      sequence++;
    }
    setTimeout(tick, 1);
  };
  tick();
});
await new Promise((resolve) => setTimeout(resolve, 1000));
measuring = false;

latencies.sort((a, b) => a - b);
const quantile = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]?.toFixed(2);
const report = {
  connections,
  channels: channelCount,
  publishRate: rate,
  publications: sequence,
  deliveries,
  deliveriesPerSecond: Math.round(deliveries / seconds),
  latencyMs: { p50: quantile(0.5), p99: quantile(0.99), max: latencies.at(-1)?.toFixed(2) },
  rssKiB: relay ? { baseline, withConnections: held, perConnection: ((held - baseline) / connections).toFixed(2) } : 'n/a (--url)',
};
console.log(JSON.stringify(report, null, 2));
for (const ws of [...sockets, ...publishers]) ws.terminate();
if (relay) relay.child.kill('SIGTERM');

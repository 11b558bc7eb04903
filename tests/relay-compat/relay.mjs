// Test fixtures: the real relay binary on an ephemeral port, a TCP proxy that can cut
// connections, and small waiting helpers.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const binary = process.env.RELAY_BIN ?? path.resolve(here, '../../target/debug/walletwire-server');

/** Starts the relay with extra CLI arguments; resolves once it prints its address. */
export async function startRelay(args = []) {
  const child = spawn(binary, ['--listen', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  const lines = createInterface({ input: child.stdout });
  const line = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`relay exited early with ${code}`)));
    lines.once('line', resolve);
  });
  const match = /^relay listening on ws:\/\/127\.0\.0\.1:(\d+)\/connection\/websocket$/.exec(line);
  if (!match) throw new Error(`unexpected relay output: ${line}`);
  const port = Number(match[1]);
  return {
    port,
    url: `ws://127.0.0.1:${port}/connection/websocket`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A TCP proxy to `port` whose connections can all be cut at once. */
export async function startProxy(port) {
  const sockets = new Set();
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(port, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxyPort = server.address().port;
  return {
    url: `ws://127.0.0.1:${proxyPort}/connection/websocket`,
    /** Destroys every proxied socket: the client sees a dropped transport. */
    cut() {
      for (const socket of sockets) socket.destroy();
    },
    /** While refusing, new connections are dropped at once (the client keeps retrying). */
    refuse(on) {
      refusing = on;
    },
    close() {
      this.cut();
      server.close();
    },
  };
}

export const channel = (namespace) => `${namespace}:${randomUUID()}`;

/** Resolves with the first `event` emitted by `emitter` (optionally matching `accept`). */
export function once(emitter, event, accept = () => true, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, listener);
      reject(new Error(`timed out waiting for ${event}`));
    }, timeoutMs);
    function listener(value) {
      if (!accept(value)) return;
      clearTimeout(timer);
      emitter.removeListener(event, listener);
      resolve(value);
    }
    emitter.on(event, listener);
  });
}

/** Waits until `condition()` holds. */
export async function until(condition, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

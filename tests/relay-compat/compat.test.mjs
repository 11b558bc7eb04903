// The official centrifuge-js client (npm `centrifuge` 5.x) against the real relay binary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Centrifuge } from 'centrifuge';
import WebSocket from 'ws';
import { startRelay, startProxy, channel, once, until } from './relay.mjs';

const clients = [];
function client(url, options = {}) {
  const centrifuge = new Centrifuge(url, {
    websocket: WebSocket,
    minReconnectDelay: 50,
    maxReconnectDelay: 200,
    timeout: 3000,
    ...options,
  });
  clients.push(centrifuge);
  return centrifuge;
}

async function connected(url, options) {
  const centrifuge = client(url, options);
  centrifuge.connect();
  await centrifuge.ready(5000);
  return centrifuge;
}

/** Subscribes and records every publication's data and offset. */
async function subscribed(centrifuge, name, options) {
  const subscription = centrifuge.newSubscription(name, options);
  subscription.received = [];
  subscription.on('publication', (ctx) => subscription.received.push({ data: ctx.data, offset: ctx.offset }));
  subscription.subscribe();
  await subscription.ready(5000);
  return subscription;
}

let relay;
before(async () => {
  relay = await startRelay(['--ping-interval', '1s', '--pong-timeout', '500ms', '--handshake-history-size', '3']);
});
after(async () => {
  for (const centrifuge of clients) centrifuge.disconnect();
  await relay.stop();
});

test('connect, subscribe, publish and receive', async () => {
  const name = channel('session');
  const alice = await connected(relay.url);
  const bob = await connected(relay.url);
  const subscription = await subscribed(bob, name);
  // Publishing needs no subscription.
  await alice.publish(name, { hello: 'bob' });
  await subscribed(alice, channel('handshake'));
  await until(() => subscription.received.length === 1, 'publication');
  assert.deepEqual(subscription.received[0], { data: { hello: 'bob' }, offset: 1 });
  // Publishing through a subscription works too.
  const own = await subscribed(alice, name);
  await own.publish({ n: 2 });
  await until(() => subscription.received.length === 2 && own.received.length === 1, 'second publication');
  assert.equal(subscription.received[1].offset, 2);
  const history = await bob.history(name, { limit: -1 });
  assert.deepEqual(history.publications.map((publication) => publication.offset), [1, 2]);
});

/**
 * A reader subscribed to `name` through a TCP proxy receives publication 1; its socket is then
 * cut and kept down while publications 2..`last` go out, then let back in. Resolves once the
 * reader has resubscribed, with its subscribe contexts, the offsets it received and the writer.
 */
async function cutWhilePublishing(proxy, name, last) {
  const reader = client(proxy.url);
  reader.connect();
  const subscription = reader.newSubscription(name);
  const contexts = [];
  subscription.on('subscribed', (ctx) => contexts.push(ctx));
  const received = [];
  subscription.on('publication', (ctx) => received.push(ctx.offset));
  subscription.subscribe();
  await subscription.ready(5000);
  const writer = await connected(relay.url);
  await writer.publish(name, 1);
  await until(() => received.length === 1, 'first publication');

  const connecting = once(reader, 'connecting');
  proxy.refuse(true);
  proxy.cut();
  await connecting;
  // Published while the reader cannot reconnect.
  for (let n = 2; n <= last; n++) await writer.publish(name, n);
  proxy.refuse(false);
  await until(() => contexts.length === 2, 'resubscribe after reconnect');
  return { contexts, received, writer };
}

test('recovers missed publications after the socket is cut', async () => {
  const proxy = await startProxy(relay.port);
  try {
    const name = channel('session');
    const { contexts, received, writer } = await cutWhilePublishing(proxy, name, 4);
    assert.equal(contexts[1].wasRecovering, true);
    assert.equal(contexts[1].recovered, true);
    assert.equal(contexts[1].hasRecoveredPublications, true);
    await writer.publish(name, 5);
    await until(() => received.length === 5, 'all publications');
    assert.deepEqual(received, [1, 2, 3, 4, 5]);
  } finally {
    proxy.close();
  }
});

test('recovers after unsubscribe and subscribe', async () => {
  const name = channel('session');
  const reader = await connected(relay.url);
  const writer = await connected(relay.url);
  const subscription = await subscribed(reader, name);
  const contexts = [];
  subscription.on('subscribed', (ctx) => contexts.push(ctx));
  await writer.publish(name, 'a');
  await until(() => subscription.received.length === 1, 'first publication');
  subscription.unsubscribe();
  await writer.publish(name, 'b');
  await writer.publish(name, 'c');
  subscription.subscribe();
  await subscription.ready(5000);
  assert.equal(contexts.at(-1).wasRecovering, true);
  assert.equal(contexts.at(-1).recovered, true);
  await until(() => subscription.received.length === 3, 'recovered publications');
  assert.deepEqual(subscription.received.map((publication) => publication.data), ['a', 'b', 'c']);
  assert.deepEqual(subscription.received.map((publication) => publication.offset), [1, 2, 3]);
});

test('history overflow is reported as not recovered', async () => {
  const proxy = await startProxy(relay.port);
  try {
    const name = channel('handshake'); // history size 3 on this relay
    const { contexts, received, writer } = await cutWhilePublishing(proxy, name, 8);
    assert.equal(contexts[1].wasRecovering, true);
    assert.equal(contexts[1].recovered, false);
    assert.equal(contexts[1].streamPosition.offset, 8);
    // Nothing partial was replayed; live publications continue from the top.
    await writer.publish(name, 9);
    await until(() => received.length === 2, 'live publication');
    assert.deepEqual(received, [1, 9]);
  } finally {
    proxy.close();
  }
});

test('answers server pings and stays connected', async () => {
  const centrifuge = await connected(relay.url);
  let disconnects = 0;
  centrifuge.on('connecting', () => disconnects++);
  centrifuge.on('disconnected', () => disconnects++);
  // Ping every second, pong timeout 500 ms: without pongs this would close with 3012.
  await new Promise((resolve) => setTimeout(resolve, 3500));
  assert.equal(disconnects, 0);
  assert.equal(centrifuge.state, 'connected');
  const name = channel('session');
  const result = await centrifuge.history(name, { limit: 0 });
  assert.equal(result.offset, 0);
});

test('terminal and reconnecting close codes reach the client as Centrifugo codes', async () => {
  const oversized = await connected(relay.url);
  const disconnected = once(oversized, 'disconnected');
  // 70 KB of data in one frame: above the 64 KiB limit, the relay closes with 1009.
  oversized.publish(channel('session'), 'x'.repeat(70_000)).catch(() => {});
  const event = await disconnected;
  assert.equal(event.code, 3, 'centrifuge-js messageSizeLimit (disconnectedCodes.messageSizeLimit)');

  const other = await relay_shutdown_probe();
  assert.equal(other, true);
});

/** A second relay is shut down under a connected client: it reconnects (3001 is not terminal). */
async function relay_shutdown_probe() {
  const second = await startRelay();
  const centrifuge = await connected(second.url);
  const connecting = once(centrifuge, 'connecting');
  await second.stop();
  const event = await connecting;
  assert.equal(event.code, 3001);
  assert.equal(event.reason, 'shutdown');
  centrifuge.disconnect();
  return true;
}

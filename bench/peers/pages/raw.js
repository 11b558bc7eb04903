// The floor under every browser round trip of this benchmark: the same two pages and the same
// relay, but no SDK at all. Each page opens one WebSocket, speaks raw Centrifugo JSON
// (connect, subscribe to its own `session:` channel, publish to the other's), and the wallet
// page publishes every request's data back. No encryption, no sequence numbers, no storage:
// what is left is Chromium's WebSocket path (network service → renderer), the relay and
// JSON.parse.

import { now, payload, pipelined, sequential } from "./common.js";

const relayUrl = new URLSearchParams(location.search).get("relay");
const TIMEOUT_MS = 10_000;
let socket = null;
let peerChannel = null;
let nextId = 10;
const waiting = new Map(); // request number → resolve
const errors = [];

function uuid() {
  return crypto.randomUUID();
}

/** Opens the page's socket, subscribed to `channel`; `onData` gets each publication's data. */
function open(channel, onData) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(relayUrl);
    const timer = setTimeout(() => reject(new Error("raw: no subscribe reply")), TIMEOUT_MS);
    ws.onerror = () => errors.push("raw: WebSocket error");
    ws.onopen = () => ws.send(`{"id":1,"connect":{}}\n{"id":2,"subscribe":{"channel":"${channel}"}}`);
    ws.onmessage = (event) => {
      for (const line of event.data.split("\n")) {
        if (line === "{}") {
          ws.send("{}");
          continue;
        }
        const message = JSON.parse(line);
        if (message.error) errors.push(`raw: relay error ${message.error.code} ${message.error.message}`);
        else if (message.id === 2) {
          clearTimeout(timer);
          resolve(ws);
        } else if (message.push?.pub) onData(message.push.pub.data);
      }
    };
  });
}

function publish(channel, data) {
  socket.send(JSON.stringify({ id: nextId++, publish: { channel, data } }));
}

function close() {
  socket?.close();
  socket = null;
  for (const resolve of waiting.values()) resolve(null);
  waiting.clear();
  return errors.splice(0);
}

/** dApp page: its own channel; the "request" handed to the wallet page names both channels. */
export async function dappStart() {
  close();
  const t0 = now();
  const mine = `session:${uuid()}`;
  peerChannel = `session:${uuid()}`;
  socket = await open(mine, (data) => {
    const resolve = waiting.get(data.n);
    waiting.delete(data.n);
    resolve?.(data);
  });
  return { t0, tRequest: now(), uri: JSON.stringify({ dapp: mine, wallet: peerChannel }) };
}

export async function dappConnected() {
  return { tConnected: now() };
}

/** Wallet page: subscribes to its channel and publishes every request back to the dApp's. */
export async function walletConnect(uri) {
  close();
  const tStart = now();
  const { dapp, wallet } = JSON.parse(uri);
  socket = await open(wallet, (data) => publish(dapp, data));
  return { tStart, tConnected: now() };
}

export { close };

let counter = 0;
function roundTrip(data) {
  const n = counter++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(n);
      reject(new Error("raw: no echo"));
    }, TIMEOUT_MS);
    waiting.set(n, (answer) => {
      clearTimeout(timer);
      resolve(answer);
    });
    publish(peerChannel, { n, data });
  });
}

/** dApp page: the same loops as the SDK pages, on raw publications. */
export async function measure({ size, count, warmup, window, seconds }) {
  const data = payload(size);
  const first = await roundTrip(data);
  if (first?.data !== data) throw new Error("raw: the echo differs from the request");
  const call = () => roundTrip(data);
  const seq = await sequential(call, { count, warmup });
  const pipe = await pipelined(call, { window, seconds });
  return { ...seq, ...pipe, answer: "echo", errors: errors.splice(0) };
}

// MetaMask's mobile wallet protocol in the browser benchmark, from the published packages
// bundled by esbuild (bench/peers/build/): the dApp page runs their DappClient, the wallet
// page the minimal BaseClient wallet of entries/mwp-wallet.js; each side has its own
// WebSocketTransport (centrifuge) to the relay given as `?relay=`, their SessionStore and an
// eciesjs key manager over localStorage. Requests are `{id, method, params}` messages, and
// the wallet echoes `{id, result: params}`.

import { now, payload, pipelined, sequential } from "./common.js";

const search = new URLSearchParams(location.search);
const relayUrl = search.get("relay");
const role = search.get("role");
const mwp = await import(role === "wallet" ? "/build/mwp-wallet.js" : "/build/mwp-dapp.js");

let dapp = null;
let wallet = null;
let connecting = null;
let nextId = 1;
const pending = new Map();
const errors = [];

async function parts(name) {
  const transport = await mwp.WebSocketTransport.create({ url: relayUrl, kvstore: new mwp.LocalStorageKV(`${name}:`) });
  const sessionstore = await mwp.SessionStore.create(new mwp.LocalStorageKV(`${name}-sessions:`));
  return { transport, sessionstore, keymanager: new mwp.EciesKeyManager() };
}

/** dApp page: a new transport and DappClient, connect() in trusted mode. */
export async function dappStart() {
  await close();
  const t0 = now();
  const { transport, sessionstore, keymanager } = await parts("mwp-dapp");
  dapp = new mwp.DappClient({ transport, sessionstore, keymanager });
  dapp.on("error", (error) => errors.push(`${error.code}: ${error.message}`));
  dapp.on("message", (message) => {
    const settle = pending.get(message?.id);
    if (settle) {
      pending.delete(message.id);
      settle(message.result);
    }
  });
  const requested = new Promise((resolve) => {
    dapp.once("session_request", (request) => resolve({ request, tRequest: now() }));
  });
  connecting = dapp.connect({ mode: "trusted" }).then(() => now());
  connecting.catch(() => {});
  return { t0, ...(await requested) };
}

export async function dappConnected() {
  return { tConnected: await connecting };
}

/** Wallet page: a new wallet answers the session request and echoes every message. */
export async function walletConnect(request) {
  await close();
  const tStart = now();
  const { transport, sessionstore, keymanager } = await parts("mwp-wallet");
  wallet = new mwp.BenchWallet(transport, keymanager, sessionstore);
  wallet.on("error", (error) => errors.push(`${error.code}: ${error.message}`));
  wallet.on("message", (message) => {
    wallet.send({ id: message.id, result: message.params }).catch((error) => errors.push(String(error)));
  });
  await wallet.connect(request);
  return { tStart, tConnected: now() };
}

export async function close() {
  for (const client of [dapp, wallet]) {
    if (client) await client.disconnect().catch(() => {});
  }
  dapp = wallet = null;
  pending.clear();
  return errors.splice(0);
}

function request(method, params) {
  const id = nextId++;
  const answered = new Promise((resolve) => pending.set(id, resolve));
  return dapp.sendRequest({ id, method, params }).then(() => answered);
}

export async function measure({ size, count, warmup, window, seconds }) {
  const data = payload(size);
  const first = await request("bench.echo", { data });
  if (first?.data !== data) throw new Error("the echo differs from the request");
  const call = () => request("bench.echo", { data });
  const seq = await sequential(call, { count, warmup });
  const pipe = await pipelined(call, { window, seconds });
  return { ...seq, ...pipe, answer: "echo", errors: errors.splice(0) };
}

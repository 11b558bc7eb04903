// walletwire in the browser benchmark: the dApp page (DappClient) and the wallet page
// (WalletClient, echoing every request's params), from the real pkg/ build, through the
// relay given as `?relay=`. Both raise the payload limit to 128 KiB for 60 KB messages.

import init, { DappClient } from "/pkg/walletwire.js";
import initWallet, { WalletClient } from "/pkg/wallet.js";
import { now, payload, pipelined, sequential } from "./common.js";

// Two entries, two modules: each initialises its own wasm.
await Promise.all([init(), initWallet()]);

const relayUrl = new URLSearchParams(location.search).get("relay");
const MAX_PAYLOAD = 131072;
let dapp = null;
let wallet = null;
let connecting = null;
let account = null;
const errors = [];

function drop(client) {
  if (!client) return;
  try {
    client.close();
    client.free();
  } catch {
    // Already closed.
  }
}

/** dApp page: a new DappClient, connect() in trusted mode; resolves once the request is out. */
export async function dappStart() {
  drop(dapp);
  const t0 = now();
  dapp = new DappClient({ relayUrl, dapp: { name: "bench dApp" }, maxPayloadBytes: MAX_PAYLOAD });
  dapp.on("error", (error) => errors.push(`${error.code}: ${error.message}`));
  const requested = new Promise((resolve) => {
    dapp.on("session_request", (event) => resolve({ uri: event.uri, tRequest: now() }));
  });
  connecting = dapp.connect({ mode: "trusted" }).then(() => now());
  connecting.catch(() => {});
  return { t0, ...(await requested) };
}

/** dApp page: resolves when connect() resolved. */
export async function dappConnected() {
  return { tConnected: await connecting };
}

/** Wallet page: a new WalletClient joins `uri` and echoes every request's params. */
export async function walletConnect(uri) {
  drop(wallet);
  const tStart = now();
  wallet = new WalletClient({ wallet: { name: "bench wallet" }, maxPayloadBytes: MAX_PAYLOAD });
  wallet.on("error", (error) => errors.push(`${error.code}: ${error.message}`));
  wallet.on("request", (request) => request.respond(request.params));
  await wallet.connect({ uri });
  return { tStart, tConnected: now() };
}

/** Either page: ends the session (dApp side says so to the wallet) and frees the client. */
export async function close() {
  if (dapp) {
    try {
      dapp.disconnect();
    } catch {
      // No session.
    }
  }
  drop(dapp);
  drop(wallet);
  dapp = wallet = null;
  return errors.splice(0);
}

/**
 * dApp page: the request of one round trip of `size` bytes. `echo`: `bench.echo` with
 * `{data}` echoed by a WalletClient; `sign`: the native reference wallet's `message.sign`
 * (it refuses messages over 16 KiB with JSON-RPC -32602 after reading them: that error
 * answer ends the round trip).
 */
async function makeCall(kind, size) {
  const data = payload(size);
  if (kind === "echo") {
    const first = await dapp.request("bench.echo", { data });
    if (first?.data !== data) throw new Error("the echo differs from the request");
    return { call: () => dapp.request("bench.echo", { data }), answer: "echo" };
  }
  if (!account) {
    const { accounts } = await dapp.request("accounts.list");
    account = accounts[0].address;
  }
  const sign = () =>
    dapp.request("message.sign", { account, message: data }).catch((error) => {
      if (error.code === "remote_error" && error.remoteCode === -32602) return null;
      throw error;
    });
  const first = await sign();
  return { call: sign, answer: first ? "signature" : "error -32602" };
}

/** dApp page: sequential round trips (latencies) then pipelined ones (throughput). */
export async function measure({ kind, size, count, warmup, window, seconds }) {
  const { call, answer } = await makeCall(kind, size);
  const seq = await sequential(call, { count, warmup });
  const pipe = await pipelined(call, { window, seconds });
  return { ...seq, ...pipe, answer, errors: errors.splice(0) };
}

export function clearAccount() {
  account = null;
}

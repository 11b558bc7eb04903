// A dApp that connects to a wallet with walletwire, as an application would write it: the
// client's own API (connect, request) and, for the EVM side, wagmi with walletwire's connector.
import { connect, createConfig, getAccount, reconnect, signMessage } from "@wagmi/core";
import { http, verifyMessage } from "viem";
import { mainnet, sepolia } from "viem/chains";
import init, { DappClient } from "walletwire";
import { walletwire } from "walletwire/wagmi";
import "./style.css";

const $ = (id) => document.getElementById(id);
const show = (panel) => {
  for (const id of ["connect-panel", "request-panel", "otp-panel", "session-panel"]) $(id).hidden = id !== panel;
};

// The relay: `VITE_RELAY_URL` at build time, or the server that serves this page.
const relayUrl =
  import.meta.env.VITE_RELAY_URL ||
  `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/connection/websocket`;

await init();
const dapp = new DappClient({ relayUrl, dapp: { name: "Vite dApp", url: location.origin } });
let otp = null;

// wagmi: the walletwire connector signs through the same client and session. The transports
// serve wagmi's chain reads; this page makes none (signing goes to the wallet).
const config = createConfig({
  chains: [mainnet, sepolia],
  connectors: [walletwire({ dapp })],
  transports: { [mainnet.id]: http(), [sepolia.id]: http() },
});

dapp.on("session_request", (request) => {
  $("qr").innerHTML = request.qrSvg();
  $("link").href = request.uri;
  $("status").textContent = "waiting for the wallet";
  show("request-panel");
});

dapp.on("otp_required", (prompt) => {
  otp = prompt;
  $("status").textContent = "enter the code";
  show("otp-panel");
  $("otp").focus();
});

dapp.on("connected", (session) => {
  $("peer").textContent = session.peer.name;
  $("status").textContent = "connected";
  show("session-panel");
});

dapp.on("disconnected", (event) => {
  $("status").textContent = event.reason === "peer" ? "the wallet disconnected" : "not connected";
  show("connect-panel");
});

$("connect").addEventListener("click", () => {
  dapp.connect({ mode: $("trusted").checked ? "trusted" : "untrusted" }).catch((error) => {
    $("status").textContent = `not connected (${error.code})`;
    show("connect-panel");
  });
});

$("otp-panel").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await otp.submit($("otp").value);
  } catch (error) {
    $("otp-error").textContent =
      error.code === "otp_mismatch" ? `Wrong code, ${error.attemptsLeft} attempts left` : error.message;
  }
});

$("accounts").addEventListener("click", async () => {
  try {
    const result = await dapp.request("accounts.list", {}, { timeoutMs: 30_000 });
    $("result").textContent = JSON.stringify(result, null, 2);
  } catch (error) {
    $("result").textContent = `${error.code}: ${error.message}`;
  }
});

$("wagmi-sign").addEventListener("click", async () => {
  try {
    // With a session up, connect() takes it over without pairing again.
    if (getAccount(config).status !== "connected") await connect(config, { connector: config.connectors[0] });
    const { address, chainId } = getAccount(config);
    const message = `Vite dApp sign-in, ${new Date().toISOString()}`;
    const signature = await signMessage(config, { message });
    const verified = await verifyMessage({ address, message, signature });
    $("result").textContent = JSON.stringify({ wagmi: { address, chainId, message, signature, verified } }, null, 2);
  } catch (error) {
    $("result").textContent = `${error.name}: ${error.shortMessage || error.message}`;
  }
});

$("disconnect").addEventListener("click", () => dapp.disconnect());

// A reload keeps the session (and wagmi's reconnect() finds it through the connector).
const resumed = await dapp.resume();
await reconnect(config);
if (!resumed.length) {
  $("status").textContent = "not connected";
  show("connect-panel");
}
document.body.dataset.ready = "true";

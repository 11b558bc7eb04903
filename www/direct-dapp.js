// dApp side of the direct flow: WalletDaemonConnector, the tari:// link and its QR code,
// then requests over the data channel.

import { WalletDaemonConnector } from "/pkg/direct.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
$("signaling-url").value = params.get("signaling") ?? `http://${location.hostname || "localhost"}:9100/`;

let connector = null;

function status(text, tone) {
  $("dapp-status").textContent = text;
  $("dapp-status").dataset.tone = tone ?? "";
}

function log(kind, text) {
  const item = document.createElement("li");
  item.textContent = `${new Date().toLocaleTimeString()} ${kind}: ${text}`;
  $("dapp-log").prepend(item);
}

$("dapp-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  let permissions;
  try {
    permissions = JSON.parse($("permissions").value);
    $("permissions-error").textContent = "";
  } catch {
    $("permissions-error").textContent = "Permissions must be a JSON array.";
    return;
  }
  connector?.close();
  try {
    connector = new WalletDaemonConnector({
      name: document.title.replace(/^walletwire · /, "walletwire demo"),
      permissions,
      signalingUrl: $("signaling-url").value,
    });
  } catch (e) {
    $("permissions-error").textContent = `${e.code}: ${e.message}`;
    return;
  }
  connector.on("link", ({ link, qrSvg }) => {
    $("link").value = link;
    $("qr").innerHTML = qrSvg() ?? "";
    $("link-view").hidden = false;
    status("Waiting for the wallet", "busy");
  });
  connector.on("connected", () => { status("Connected", "ok"); log("connected", "wallet token received"); });
  connector.on("disconnected", (e) => { status(`Disconnected (${e.code})`, "warn"); log("disconnected", e.message); });
  connector.on("error", (e) => log("error", `${e.code}: ${e.message}`));
  status("Logging in", "busy");
  try {
    await connector.connect();
  } catch (e) {
    status(`Failed (${e.code})`, "bad");
  }
});

$("copy-link").addEventListener("click", () => navigator.clipboard?.writeText($("link").value));
$("dapp-close").addEventListener("click", () => { connector?.close(); $("link-view").hidden = true; status("Closed"); });

$("request-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!connector) return log("error", "connect first");
  let body;
  try {
    body = JSON.parse($("params").value || "null");
  } catch {
    return log("error", "params are not JSON");
  }
  const method = $("method").value.trim();
  try {
    const result = await connector.request(method, body, { timeoutMs: 30_000 });
    log(method, JSON.stringify(result));
  } catch (e) {
    log(method, `${e.code}: ${e.message}`);
  }
});

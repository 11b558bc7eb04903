// The demo dApp page: starts a connection (QR code + link), asks for the wallet's code in
// untrusted mode, shows the session, and sends requests from a small console.

import init, { DappClient } from "/pkg/walletwire.js";
import { $, ActivityLog, clock, copyText, describeError, relayUrl, setStatus, shortId } from "./common.js";
import { evmPanel, evmPanelEnabled } from "./dapp-evm.js";
import { verifySignature } from "./signatures.js";

const ui = {
  status: $("#status"),
  relay: $("#relay-status"),
  notice: $("#notice"),
  views: {
    idle: $("#idle-view"),
    request: $("#request-view"),
    otp: $("#otp-view"),
    connected: $("#connected-view"),
  },
  connectForm: $("#connect-form"),
  qr: $("#qr"),
  countdown: $("#countdown"),
  meter: $("#meter"),
  openLink: $("#open-link"),
  copyLink: $("#copy-link"),
  demoWalletLink: $("#demo-wallet-link"),
  requestMode: $("#request-mode"),
  otpForm: $("#otp-form"),
  otpInput: $("#otp-input"),
  otpSubmit: $("#otp-submit"),
  otpAttempts: $("#otp-attempts"),
  otpCountdown: $("#otp-countdown"),
  otpError: $("#otp-error"),
  peerName: $("#peer-name"),
  peerSub: $("#peer-sub"),
  peerAvatar: $("#peer-avatar"),
  sessionId: $("#session-id"),
  sessionMode: $("#session-mode"),
  sessionRelay: $("#session-relay"),
  sessionExpires: $("#session-expires"),
  requestForm: $("#request-form"),
  method: $("#method"),
  params: $("#params"),
  paramsError: $("#params-error"),
  send: $("#send"),
  sendNotify: $("#send-notify"),
  evm: {
    sign: $("#evm-sign"),
    switch: $("#evm-switch"),
    account: $("#evm-account"),
    chain: $("#evm-chain"),
    signature: $("#evm-signature"),
    verified: $("#evm-verified"),
  },
};
const log = new ActivityLog($("#log"));

// `?ttl=<ms>` shortens the life of each connection request (to watch the QR code refresh).
const query = new URLSearchParams(location.search);
const ttlMs = Number(query.get("ttl")) > 0 ? Number(query.get("ttl")) : undefined;

const state = {
  view: "idle",
  mode: "untrusted",
  request: null, // the current session_request event
  otp: null, // the current otp_required event
  session: null, // SessionInfo of the connected wallet
  account: null, // first account reported by accounts.list
  otherAccount: null,
};

function show(view) {
  state.view = view;
  for (const [name, element] of Object.entries(ui.views)) element.hidden = name !== view;
  const idle = view === "idle" || view === "connected";
  ui.connectForm.querySelectorAll("input, button").forEach((e) => (e.disabled = !idle));
  const connected = view === "connected";
  ui.send.disabled = !connected;
  ui.sendNotify.disabled = !connected;
  evmPanelEnabled(ui.evm, connected);
  switch (view) {
    case "idle":
      setStatus(ui.status, "Not connected");
      break;
    case "request":
      setStatus(ui.status, "Waiting for wallet", "busy");
      break;
    case "otp":
      setStatus(ui.status, "Enter the code", "warn");
      break;
    case "connected":
      setStatus(ui.status, "Connected", "ok");
      break;
  }
}

function notice(text, tone = "") {
  ui.notice.textContent = text;
  if (tone) ui.notice.dataset.tone = tone;
  else delete ui.notice.dataset.tone;
}

// ---- The SDK ----

await init();
const client = new DappClient({
  relayUrl: relayUrl(),
  dapp: { name: "walletwire demo dApp", url: location.origin },
  storage: "local",
});
window.walletwireDemo = { client }; // for poking around in the developer tools
evmPanel(client, log, ui.evm);

client.on("session_request", (request) => {
  state.request = request;
  state.mode = request.mode;
  state.otp = null;
  ui.qr.innerHTML = request.qrSvg();
  ui.qr.dataset.stale = "false";
  ui.openLink.href = request.uri;
  ui.demoWalletLink.href = `wallet.html#${request.uri}`;
  ui.requestMode.textContent = request.mode;
  show("request");
  tick();
  log.add("event", "session_request", { mode: request.mode, expiresAt: new Date(request.expiresAt).toISOString(), uri: request.uri });
});

client.on("otp_required", (prompt) => {
  state.otp = prompt;
  ui.otpInput.value = "";
  ui.otpInput.removeAttribute("aria-invalid");
  ui.otpError.textContent = "";
  ui.otpSubmit.disabled = false;
  showAttempts(prompt.attemptsLeft);
  show("otp");
  tick();
  ui.otpInput.focus();
  log.add("event", "otp_required", { attemptsLeft: prompt.attemptsLeft, deadline: new Date(prompt.deadline).toISOString() });
});

client.on("connected", (session) => {
  showSession(session);
  notice("");
  log.add("event", "connected", session);
});

client.on("disconnected", (event) => {
  log.add(event.reason === "failed" ? "error" : "event", "disconnected", event);
  const handshake = event.sessionId === null || event.sessionId === undefined;
  if (handshake) {
    if (state.view !== "request" && state.view !== "otp") return;
    if (event.code === "request_expired" && state.view === "request") {
      // Nobody scanned it in time: put up a fresh code.
      ui.qr.dataset.stale = "true";
      startConnect(state.mode);
      return;
    }
    if (event.code === "handshake_contested") {
      // Two wallets answered: the old code is known to someone else. Say so, show a new one.
      ui.qr.dataset.stale = "true";
      startConnect(state.mode);
      notice(describeError(event), "bad");
      return;
    }
    state.request = null;
    state.otp = null;
    show(state.session ? "connected" : "idle");
    if (event.reason !== "local") notice(describeError(event), "bad");
    return;
  }
  if (state.session && state.session.id === event.sessionId) {
    state.session = null;
    show("idle");
    if (event.reason === "peer") notice("The wallet ended the session.", "warn");
    else if (event.reason === "local") notice("Disconnected.");
    else notice(describeError(event), "bad");
  }
});

client.on("message", (message) => {
  if (message.type === "request") {
    log.add("request", `wallet → ${message.method}`, message.params);
    message.reject(-32601, "this dApp answers no requests");
  } else {
    log.add("event", `notification ${message.method}`, message.params);
  }
});

client.on("state", (event) => {
  if (event.state === "connecting" && state.view === "connected") setStatus(ui.status, "Reconnecting…", "busy");
  if (event.state === "connected" && state.view === "connected") setStatus(ui.status, "Connected", "ok");
});

client.on("relay", (event) => {
  if (event.online) setStatus(ui.relay, "Relay online", "ok");
  else setStatus(ui.relay, event.willRetry ? "Relay offline, retrying" : "Relay offline", "bad");
});

client.on("messages_lost", (event) => {
  log.add("error", "messages_lost", event);
});

client.on("error", (error) => {
  log.add("error", error.code, error.message);
});

// ---- Connecting ----

function startConnect(mode) {
  state.mode = mode;
  notice("");
  ui.qr.innerHTML = "";
  ui.countdown.textContent = "Preparing the request…";
  show("request");
  client.connect({ mode, ttlMs }).catch((error) => {
    // Handshake failures also arrive as `disconnected` events, which update the page.
    if (!["request_expired", "handshake_contested", "cancelled", "otp_attempts_exhausted", "otp_expired", "peer_closed"].includes(error.code)) {
      log.add("error", `connect: ${error.code}`, error.message);
      if (state.view === "request") {
        show(state.session ? "connected" : "idle");
        notice(describeError(error), "bad");
      }
    }
  });
}

ui.connectForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const mode = new FormData(ui.connectForm).get("mode") || "untrusted";
  startConnect(mode);
});

$("#cancel-request").addEventListener("click", () => {
  state.request = null;
  show("idle");
  client.disconnect();
  notice("Connection request cancelled.");
});

$("#cancel-otp").addEventListener("click", () => {
  state.otp?.cancel();
  state.otp = null;
  show("idle");
  notice("Connection cancelled.");
});

ui.copyLink.addEventListener("click", async () => {
  if (!state.request) return;
  const ok = await copyText(state.request.uri);
  ui.copyLink.textContent = ok ? "Copied" : "Copy failed";
  setTimeout(() => (ui.copyLink.textContent = "Copy link"), 1500);
});

function showAttempts(n) {
  ui.otpAttempts.textContent = n === 1 ? "1 attempt left" : `${n} attempts left`;
}

ui.otpInput.addEventListener("input", () => {
  const digits = ui.otpInput.value.replace(/\D/g, "").slice(0, 6);
  if (digits !== ui.otpInput.value) ui.otpInput.value = digits;
  ui.otpInput.removeAttribute("aria-invalid");
  ui.otpError.textContent = "";
});

ui.otpForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const prompt = state.otp;
  if (!prompt) return;
  const code = ui.otpInput.value.trim();
  if (!/^\d{6}$/.test(code)) {
    ui.otpInput.setAttribute("aria-invalid", "true");
    ui.otpError.textContent = "Type the six digits your wallet shows.";
    return;
  }
  ui.otpSubmit.disabled = true;
  try {
    await prompt.submit(code);
    log.add("event", "code accepted");
  } catch (error) {
    log.add("error", `submit: ${error.code}`, error.message);
    ui.otpInput.setAttribute("aria-invalid", "true");
    ui.otpError.textContent = describeError(error);
    if (typeof error.attemptsLeft === "number") showAttempts(error.attemptsLeft);
    ui.otpInput.select();
  } finally {
    ui.otpSubmit.disabled = false;
  }
});

// ---- Connected ----

function showSession(session) {
  state.session = session;
  state.request = null;
  state.otp = null;
  const name = session.peer?.name || "Wallet";
  ui.peerName.textContent = name;
  ui.peerAvatar.textContent = name.trim().charAt(0).toUpperCase() || "W";
  ui.peerSub.textContent = `Connected · ${session.mode} mode`;
  ui.sessionId.textContent = shortId(session.id);
  ui.sessionId.title = session.id;
  ui.sessionMode.textContent = session.mode === "trusted" ? "Trusted (no code)" : "Untrusted (confirmed with a code)";
  ui.sessionRelay.textContent = session.relay;
  ui.sessionExpires.textContent = new Date(session.expiresAt).toLocaleString();
  show("connected");
}

$("#disconnect").addEventListener("click", () => {
  if (!state.session) return;
  const id = state.session.id;
  client.disconnect({ sessionId: id });
});

// ---- Countdowns ----

function tick() {
  const now = Date.now();
  if (state.view === "request" && state.request) {
    const total = state.request.expiresAt - (state.request.startedAt ??= now);
    const left = state.request.expiresAt - now;
    ui.countdown.textContent = left > 0 ? `Expires in ${clock(left)}` : "Refreshing…";
    ui.meter.firstElementChild.style.transform = `scaleX(${Math.max(0, Math.min(1, left / Math.max(total, 1)))})`;
    if (left < 30_000) ui.meter.dataset.tone = "warn";
    else delete ui.meter.dataset.tone;
  }
  if (state.view === "otp" && state.otp) {
    const left = state.otp.deadline - now;
    ui.otpCountdown.textContent = left > 0 ? `Code valid for ${clock(left)}` : "The code expired";
  }
}
setInterval(tick, 1000);

// ---- Console ----

const DEMO_RECIPIENT = "5d".repeat(32);

function presetParams(method) {
  const account = state.account || "";
  switch (method) {
    case "balances.get":
      return { account };
    case "message.sign":
      return { account, message: "Hello from the walletwire demo dApp" };
    case "transaction.submit":
      return { from: account, to: state.otherAccount || DEMO_RECIPIENT, amount: 1 };
    default:
      return {};
  }
}

document.querySelectorAll("[data-preset]").forEach((button) => {
  button.addEventListener("click", () => {
    ui.method.value = button.dataset.preset;
    ui.params.value = JSON.stringify(presetParams(button.dataset.preset), null, 2);
    ui.params.removeAttribute("aria-invalid");
    ui.paramsError.textContent = "";
  });
});

function readParams() {
  const text = ui.params.value.trim();
  if (!text) return null;
  try {
    const value = JSON.parse(text);
    ui.params.removeAttribute("aria-invalid");
    ui.paramsError.textContent = "";
    return value;
  } catch (error) {
    ui.params.setAttribute("aria-invalid", "true");
    ui.paramsError.textContent = `Not valid JSON: ${error.message}`;
    throw error;
  }
}

ui.requestForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const method = ui.method.value.trim();
  if (!method || !state.session) return;
  let params;
  try {
    params = readParams();
  } catch {
    ui.params.focus();
    return;
  }
  const started = performance.now();
  const entry = log.add("request", method, params ?? {});
  entry.dataset.state = "pending";
  try {
    const result = await client.request(method, params, { sessionId: state.session.id });
    const ms = Math.round(performance.now() - started);
    const response = log.add("response", `${method} · ${ms} ms`, result);
    response.dataset.method = method;
    entry.dataset.state = "answered";
    await learnFrom(method, params, result);
  } catch (error) {
    entry.dataset.state = "failed";
    const failed = log.add("error", `${method} · ${error.code}`, describeError(error));
    failed.dataset.method = method;
    failed.dataset.code = error.code;
  }
});

ui.sendNotify.addEventListener("click", () => {
  const method = ui.method.value.trim();
  if (!method || !state.session) return;
  let params;
  try {
    params = readParams();
  } catch {
    return;
  }
  try {
    client.notify(method, params, { sessionId: state.session.id });
    log.add("request", `notify ${method}`, params ?? {});
  } catch (error) {
    log.add("error", `notify · ${error.code}`, describeError(error));
  }
});

async function learnFrom(method, params, result) {
  if (method === "accounts.list" && Array.isArray(result?.accounts) && result.accounts.length) {
    state.account = result.accounts[0].address;
    state.otherAccount = result.accounts[1]?.address ?? null;
  }
  if (method === "message.sign" && result?.signature && params?.message !== undefined) {
    const verdict = await verifySignature(result, params.message, params.encoding);
    if (verdict === true) log.add("event", "signature verified", `${result.algorithm} signature checked in this page with WebCrypto`);
    else if (verdict === false) log.add("error", "signature invalid", "The signature does not match the message and key.");
  }
}

$("#clear-log").addEventListener("click", () => log.clear());

// ---- Start: pick up a stored session (or a pending request) after a reload ----

show("idle");
setStatus(ui.status, "Resuming…", "busy");
try {
  const resumed = await client.resume();
  if (resumed.length && state.view !== "connected") showSession(resumed[resumed.length - 1]);
  if (resumed.length) log.add("event", "resumed", resumed.map((s) => s.id));
} catch (error) {
  log.add("error", `resume: ${error.code}`, error.message);
}
if (state.view === "idle") setStatus(ui.status, "Not connected");
document.body.dataset.ready = "true";

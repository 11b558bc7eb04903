// The demo wallet page: joins a dApp's session from its link (pasted or scanned), shows the
// code in untrusted mode, asks the user about every request and lists the sessions.

import init, { WalletClient } from "/pkg/wallet.js";
import { $, ActivityLog, clock, describeError, h, pretty, setStatus, shortId } from "./common.js";
import { DemoWallet, RpcError, answersWithoutPrompt } from "./demo-wallet.js";

const ui = {
  relay: $("#relay-status"),
  status: $("#status"),
  pairForm: $("#pair-form"),
  uri: $("#uri"),
  uriError: $("#uri-error"),
  pair: $("#pair"),
  scan: $("#scan"),
  scanHint: $("#scan-hint"),
  scanner: $("#scanner"),
  camera: $("#camera"),
  otpCard: $("#otp-card"),
  otpCode: $("#otp-code"),
  otpDapp: $("#otp-dapp"),
  otpCountdown: $("#otp-countdown"),
  proposalCard: $("#proposal-card"),
  proposalDapp: $("#proposal-dapp"),
  proposalScopes: $("#proposal-scopes"),
  proposalApprove: $("#proposal-approve"),
  proposalReject: $("#proposal-reject"),
  sessions: $("#sessions"),
  sessionsEmpty: $("#sessions-empty"),
  requests: $("#requests"),
  requestsEmpty: $("#requests-empty"),
  accounts: $("#accounts"),
  keyAlgorithm: $("#key-algorithm"),
};
const log = new ActivityLog($("#log"));

await init();
const wallet = await DemoWallet.open("walletwire demo wallet (browser)");
const client = new WalletClient({ wallet: { name: "walletwire demo wallet", url: location.origin }, storage: "local" });
// A scoped session's grant limits the chains it can switch to (demo-evm.js).
wallet.scopesOf = (sessionId) => client.sessions().find((s) => s.id === sessionId)?.scopes ?? null;
window.walletwireDemo = { client, wallet }; // for poking around in the developer tools

/** The code on display: `{sessionId, otp, deadline}`. */
let shownOtp = null;
/** Names of dApps by session id, known from the connection request or the session. */
const dappNames = new Map();

// ---- Accounts ----

function renderAccounts() {
  ui.keyAlgorithm.textContent = wallet.algorithm === "ed25519" ? "Ed25519" : "ECDSA P-256";
  const selected = wallet.selected;
  ui.accounts.replaceChildren(
    ...wallet.accounts.flatMap((account, i) => [
      h("dt", { text: account.name }),
      h(
        "dd",
        {},
        h("strong", { text: `${wallet.balance(account.address)} units` }),
        " · ",
        h("code", { title: account.address, text: shortId(account.address) }),
        h("br"),
        "EVM ",
        h("code", { class: "evm-address", title: account.evm.address, text: `${account.evm.address.slice(0, 8)}…${account.evm.address.slice(-4)}` }),
        " ",
        i === selected
          ? h("span", { class: "claim", text: "· selected for dApps" })
          : h("button", {
              class: "button small",
              type: "button",
              "aria-label": `Use ${account.name} for dApps`,
              text: "Use for dApps",
              onclick: () => selectAccount(i),
            }),
      ),
    ]),
  );
}

/** The user picks the account EVM dApps see first: every session hears `accountsChanged`. */
function selectAccount(i) {
  const accounts = wallet.select(i);
  renderAccounts();
  for (const session of client.sessions()) {
    client.notify("accountsChanged", accounts, { sessionId: session.id });
  }
  log.add("event", `sent accountsChanged to ${client.sessions().length} session(s)`, accounts);
}

// ---- Sessions ----

function renderSessions() {
  const sessions = client.sessions();
  ui.sessions.replaceChildren(
    ...sessions.map((session) => {
      const name = session.peer?.name || "dApp";
      dappNames.set(session.id, name);
      return h(
        "li",
        { class: "session-item", dataset: { sessionId: session.id } },
        h("span", { class: "avatar", "aria-hidden": "true", text: name.charAt(0).toUpperCase() }),
        h(
          "div",
          { class: "grow" },
          // Name and URL are what the dApp says of itself, not verified identity.
          h("div", { class: "peer-name", title: "Name claimed by the dApp (not verified)" }, name, h("span", { class: "claim", text: " · claimed" })),
          h("div", { class: "peer-sub" }, `${session.mode} · `, h("code", { title: session.id, text: shortId(session.id) }), session.peer?.url ? ` · claims ${session.peer.url}` : ""),
        ),
        h("button", {
          class: "button danger small",
          type: "button",
          "aria-label": `Disconnect ${name}`,
          text: "Disconnect",
          onclick: () => client.disconnect({ sessionId: session.id }),
        }),
      );
    }),
  );
  ui.sessionsEmpty.hidden = sessions.length > 0;
  if (sessions.length) setStatus(ui.status, sessions.length === 1 ? "1 connected" : `${sessions.length} connected`, "ok");
  else setStatus(ui.status, "No sessions");
}

// ---- Requests ----

function renderRequestsEmpty() {
  ui.requestsEmpty.hidden = ui.requests.querySelector("li:not([data-answered])") !== null;
}

/** Answers `request` from the wallet, then sends the notifications the answer causes. */
async function answer(request) {
  const { result, notifications } = await wallet.answer(request.method, request.params, request.sessionId);
  request.respond(result);
  log.add("response", `${answersWithoutPrompt(request.method) ? "answered" : "approved"} ${request.method}`, result);
  for (const n of notifications) {
    client.notify(n.method, n.params, { sessionId: request.sessionId });
    log.add("event", `sent ${n.method}`, n.params);
  }
}

/** Reads the pairing already allowed (accounts, chain): answered at once, no prompt. */
async function answerAtOnce(request) {
  try {
    await answer(request);
  } catch (error) {
    if (error instanceof RpcError) request.reject(error.code, error.message);
    log.add("error", `${request.method}: ${error.code || "error"}`, describeError(error));
  }
}

function addRequest(request) {
  const dapp = dappNames.get(request.sessionId) || "A dApp";
  const status = h("p", { class: "request-outcome", role: "status" });
  const approve = h("button", { class: "button success", type: "button", text: "Approve" });
  const reject = h("button", { class: "button danger", type: "button", text: "Reject" });
  const buttons = h("div", { class: "actions" }, approve, reject);
  const item = h(
    "li",
    { class: "request-item", dataset: { method: request.method, requestId: request.id, sessionId: request.sessionId }, "aria-label": `${request.method} from ${dapp}` },
    h("div", { class: "log-head" }, h("h3", { text: request.method }), h("span", { class: "log-time", text: dapp })),
    h("p", { class: "hint", style: "margin: 6px 0 0", text: wallet.describe(request.method, request.params) }),
    request.params === null || request.params === undefined ? null : h("pre", { text: pretty(request.params) }),
    buttons,
    status,
  );
  const finish = (text, tone) => {
    item.dataset.answered = "true";
    buttons.remove();
    status.textContent = text;
    status.dataset.tone = tone;
    renderRequestsEmpty();
    // Answered requests fade out of the list after a moment.
    setTimeout(() => item.remove(), 4000);
  };
  approve.addEventListener("click", async () => {
    approve.disabled = reject.disabled = true;
    try {
      await answer(request);
      finish("Approved and answered.", "ok");
      renderAccounts();
    } catch (error) {
      if (error instanceof RpcError) {
        request.reject(error.code, error.message);
        log.add("error", `${request.method} failed (${error.code})`, error.message);
        finish(`Answered with an error: ${error.message}`, "bad");
      } else {
        log.add("error", `${request.method}: ${error.code || "error"}`, describeError(error));
        finish(describeError(error), "bad");
      }
    }
  });
  reject.addEventListener("click", () => {
    approve.disabled = reject.disabled = true;
    try {
      request.reject(4001, "User rejected the request");
      log.add("error", `rejected ${request.method}`);
      finish("Rejected.", "bad");
    } catch (error) {
      finish(describeError(error), "bad");
    }
  });
  ui.requests.prepend(item);
  renderRequestsEmpty();
  approve.focus({ preventScroll: true });
}

// ---- Events ----

client.on("display_otp", (event) => {
  shownOtp = event;
  ui.otpCode.textContent = event.otp;
  ui.otpCard.hidden = false;
  tick();
  log.add("event", "code shown", "Type it into the dApp.");
});

client.on("connected", (session) => {
  dappNames.set(session.id, session.peer?.name || "dApp");
  if (shownOtp) {
    shownOtp = null;
    ui.otpCard.hidden = true;
  }
  renderSessions();
  log.add("event", `connected to ${session.peer?.name || "a dApp"}`, { session: session.id, mode: session.mode });
});

client.on("disconnected", (event) => {
  if (shownOtp && (event.sessionId === null || event.sessionId === shownOtp.sessionId)) {
    shownOtp = null;
    ui.otpCard.hidden = true;
  }
  // Requests of a closed session can no longer be answered.
  ui.requests.querySelectorAll("li:not([data-answered])").forEach((item) => {
    if (!client.sessions().some((s) => item.dataset.sessionId === s.id)) item.remove();
  });
  renderRequestsEmpty();
  renderSessions();
  if (event.sessionId) wallet.forgetChain(event.sessionId);
  const who = dappNames.get(event.sessionId) || "the dApp";
  const text = event.reason === "peer" ? `${who} ended the session` : event.reason === "local" ? `disconnected from ${who}` : `session failed: ${event.code}`;
  log.add(event.reason === "failed" ? "error" : "event", text, event.reason === "failed" ? event.message : undefined);
});

client.on("request", (request) => {
  log.add("request", request.method, request.params);
  if (answersWithoutPrompt(request.method)) answerAtOnce(request);
  else addRequest(request);
});

client.on("message", (message) => {
  if (message.type === "notification") log.add("event", `notification ${message.method}`, message.params);
});

client.on("relay", (event) => {
  if (event.online) setStatus(ui.relay, "Relay online", "ok");
  else setStatus(ui.relay, event.willRetry ? "Relay offline, retrying" : "Relay offline", "bad");
});

client.on("error", (error) => log.add("error", error.code, error.message));

// The sealed request was read: show who claims to ask (and for which scopes) beside the code.
// The sealed request was read: show who claims to ask, and (a scoped request) which chains,
// methods and events, for the user to allow (narrowing the chains) or reject.
client.on("session_proposal", (proposal) => {
  const name = proposal.request?.dapp?.name || "the dApp";
  ui.otpDapp.textContent = name;
  const asked = mergeScopes(proposal.request?.scopes, proposal.request?.optionalScopes);
  log.add("event", `request from ${name}`, asked);
  if (!asked) return; // unscoped: answered at once
  ui.proposalDapp.textContent = name;
  const boxes = [];
  ui.proposalScopes.replaceChildren(
    ...Object.entries(asked).map(([namespace, scope]) =>
      h(
        "fieldset",
        { class: "scope", dataset: { namespace } },
        h("legend", { text: namespace }),
        ...scope.chains.map((chain) => {
          const box = h("input", { type: "checkbox", checked: true, value: chain, dataset: { namespace } });
          boxes.push(box);
          return h("label", { class: "scope-chain" }, box, ` ${chain}`);
        }),
        h("p", { class: "meta", text: `methods: ${scope.methods.join(", ") || "none"}` }),
        h("p", { class: "meta", text: `events: ${scope.events.join(", ") || "none"}` }),
      ),
    ),
  );
  const done = () => {
    ui.proposalCard.hidden = true;
    ui.proposalApprove.onclick = ui.proposalReject.onclick = null;
  };
  ui.proposalApprove.onclick = () => {
    const grant = {};
    for (const [namespace, scope] of Object.entries(asked)) {
      const chains = boxes.filter((b) => b.dataset.namespace === namespace && b.checked).map((b) => b.value);
      if (chains.length > 0) grant[namespace] = { ...scope, chains };
    }
    done();
    proposal.approve(grant).then(
      () => log.add("event", `allowed ${name}`, grant),
      (error) => log.add("error", `allow: ${error.code}`, error.message),
    );
  };
  ui.proposalReject.onclick = () => {
    done();
    proposal.reject().then(() => log.add("error", `rejected the connection from ${name}`));
  };
  ui.proposalCard.hidden = false;
  ui.proposalApprove.focus({ preventScroll: true });
});

/** Required and optional scopes together: what the user is asked about. */
function mergeScopes(required, optional) {
  const out = {};
  for (const scopes of [required, optional]) {
    for (const [namespace, scope] of Object.entries(scopes || {})) {
      const into = (out[namespace] ??= { chains: [], methods: [], events: [] });
      for (const key of ["chains", "methods", "events"]) {
        for (const item of scope[key] || []) if (!into[key].includes(item)) into[key].push(item);
      }
    }
  }
  return Object.keys(out).length > 0 ? out : null;
}

// ---- Pairing ----

async function pair(uri) {
  ui.uriError.textContent = "";
  ui.uri.removeAttribute("aria-invalid");
  if (!uri.startsWith("walletwire:")) {
    ui.uri.setAttribute("aria-invalid", "true");
    ui.uriError.textContent = "Paste a link that starts with walletwire:connect?";
    return;
  }
  ui.pair.disabled = true;
  ui.pair.textContent = "Connecting…";
  try {
    // A scoped request waits for the user (the proposal card); its granted chains list the
    // wallet's EVM addresses as CAIP-10 accounts.
    const pending = client.connect({ uri, ask: true, accounts: { eip155: wallet.evmAddresses() } });
    ui.uri.value = "";
    const session = await pending;
    ui.otpDapp.textContent = session.peer?.name || "the dApp";
  } catch (error) {
    ui.uri.setAttribute("aria-invalid", "true");
    ui.uriError.textContent = describeError(error);
    log.add("error", `connect: ${error.code}`, error.message);
  } finally {
    ui.pair.disabled = false;
    ui.pair.textContent = "Connect";
  }
}

ui.pairForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const uri = ui.uri.value.trim();
  // The dApp's name arrives sealed (session_proposal), not in the link.
  ui.otpDapp.textContent = "the dApp";
  pair(uri);
});

// A link opened as `wallet.html#walletwire:connect?v=3&...` fills the form; the user still
// decides to connect.
if (location.hash.startsWith("#walletwire:")) {
  ui.uri.value = decodeURIComponent(location.hash.slice(1));
  history.replaceState(null, "", location.pathname + location.search);
  ui.pair.focus();
}

// ---- Scanning (where the browser has BarcodeDetector and a camera) ----

let scanning = null;

async function scannerAvailable() {
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices?.getUserMedia) return false;
  try {
    return (await window.BarcodeDetector.getSupportedFormats()).includes("qr_code");
  } catch {
    return false;
  }
}

function stopScan() {
  if (!scanning) return;
  scanning.stream.getTracks().forEach((t) => t.stop());
  clearInterval(scanning.timer);
  scanning = null;
  ui.scanner.hidden = true;
  ui.scan.disabled = false;
}

ui.scan.addEventListener("click", async () => {
  ui.uriError.textContent = "";
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    ui.camera.srcObject = stream;
    ui.scanner.hidden = false;
    ui.scan.disabled = true;
    await ui.camera.play();
    scanning = { stream, timer: 0 };
    scanning.timer = setInterval(async () => {
      if (!scanning) return;
      try {
        const codes = await detector.detect(ui.camera);
        const found = codes.map((c) => c.rawValue).find((v) => v.startsWith("walletwire:"));
        if (found) {
          stopScan();
          ui.uri.value = found;
          ui.pairForm.requestSubmit();
        }
      } catch {
        // The next frame may do better.
      }
    }, 250);
  } catch (error) {
    stopScan();
    ui.uriError.textContent = `The camera is not available: ${error.message}`;
  }
});

$("#stop-scan").addEventListener("click", stopScan);

if (await scannerAvailable()) {
  ui.scan.hidden = false;
  ui.scanHint.hidden = false;
}

// ---- Countdown ----

function tick() {
  if (!shownOtp) return;
  const left = shownOtp.deadline - Date.now();
  ui.otpCountdown.textContent = left > 0 ? `Valid for ${clock(left)}` : "The code expired";
}
setInterval(tick, 1000);

$("#clear-log").addEventListener("click", () => log.clear());

// ---- Start: serve the sessions stored in this browser ----

renderAccounts();
try {
  const resumed = await client.resume();
  if (resumed.length) log.add("event", "resumed", resumed.map((s) => `${s.peer?.name || "dApp"} · ${s.id}`));
} catch (error) {
  log.add("error", `resume: ${error.code}`, error.message);
}
renderSessions();
renderRequestsEmpty();
document.body.dataset.ready = "true";

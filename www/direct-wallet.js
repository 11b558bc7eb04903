// Wallet UI side of the direct flow: paste the dApp's tari:// link, review the permissions
// (required ones start ticked, optional ones unticked, Admin and StartWebrtc can't be ticked),
// and call the daemon's `webrtc.start` with the admin token.

import { parseDirectLink } from "/pkg/direct.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
$("daemon-url").value = params.get("daemon") ?? "http://127.0.0.1:9000/";
$("admin-token").value = sessionStorage.getItem("walletwire-admin-token") ?? "";

let parsed = null;

// Permissions a dApp session is never granted: either would let the page start a session of
// its own with any grant (the daemon refuses them as well).
const NEVER_GRANTED = new Set(["Admin", "StartWebrtc"]);
// Permissions that act in the user's name; shown with a warning.
const DANGEROUS = { TransactionSend: "can send funds", MessageSign: "signs in your name" };

function log(text) {
  const item = document.createElement("li");
  item.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $("wallet-log").prepend(item);
}

function review() {
  parsed = null;
  $("review").hidden = true;
  $("accept").disabled = true;
  const text = $("paste-link").value.trim();
  if (!text) return;
  try {
    parsed = parseDirectLink(text);
    $("link-error").textContent = "";
  } catch (e) {
    $("link-error").textContent = `${e.code}: ${e.message}`;
    return;
  }
  $("review-name").textContent = parsed.name || "(unnamed)";
  const list = $("review-permissions");
  list.replaceChildren();
  const entries = [
    ...parsed.permissions.map((p) => [p, true]),
    ...parsed.optionalPermissions.map((p) => [p, false]),
  ];
  for (const [permission, required] of entries) {
    const name = typeof permission === "string" ? permission : Object.keys(permission)[0];
    const never = NEVER_GRANTED.has(name);
    const label = document.createElement("label");
    label.className = "choice";
    const input = document.createElement("input");
    input.type = "checkbox";
    // Required permissions start ticked, optional ones unticked; the two that would let a
    // page start sessions of its own can't be ticked at all (the daemon refuses them too).
    input.checked = required && !never;
    input.disabled = never;
    input.value = JSON.stringify(permission);
    const body = document.createElement("span");
    body.className = "choice-body";
    const note = never ? " (never granted to a dApp)" : DANGEROUS[name] ? ` (${DANGEROUS[name]})` : "";
    body.textContent = `${typeof permission === "string" ? permission : JSON.stringify(permission)}${required ? "" : " (optional)"}${note}`;
    if (never || DANGEROUS[name]) label.dataset.tone = never ? "bad" : "warn";
    label.append(input, body);
    list.append(label);
  }
  $("review").hidden = false;
  $("accept").disabled = false;
}

$("paste-link").addEventListener("input", review);
// A link pasted while the SDK was still loading is reviewed now.
if ($("paste-link").value.trim()) review();

$("wallet-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!parsed) return;
  const token = $("admin-token").value.trim();
  sessionStorage.setItem("walletwire-admin-token", token);
  const granted = [...$("review-permissions").querySelectorAll("input:checked")].map((i) => JSON.parse(i.value));
  $("wallet-status").textContent = "Starting";
  try {
    const response = await fetch($("daemon-url").value, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({
        jsonrpc: "2.0", id: 1, method: "webrtc.start",
        params: { signaling_server_token: parsed.token, permissions: granted, name: parsed.name },
      }),
    });
    const reply = await response.json();
    if (reply.error) throw new Error(`${reply.error.code}: ${reply.error.message}`);
    $("wallet-status").textContent = `Session ${reply.result.sessionId} started`;
    $("wallet-status").dataset.tone = "ok";
    log(`webrtc.start: session ${reply.result.sessionId} with ${JSON.stringify(granted)}`);
  } catch (e) {
    $("wallet-status").textContent = "Failed";
    $("wallet-status").dataset.tone = "bad";
    log(`webrtc.start failed: ${e.message}`);
  }
});

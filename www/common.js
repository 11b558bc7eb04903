// Helpers shared by the demo pages: DOM shortcuts, time formatting, the activity log and
// human-readable messages for the SDK's error codes.

/** The relay of the server that served this page (same origin). */
export function relayUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/connection/websocket`;
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** Creates an element: `h("li", {class: "x", dataset: {kind: "a"}}, child, "text")`. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(element.dataset, value);
    else if (key === "text") element.textContent = value;
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** `m:ss` for a number of milliseconds (never negative). */
export function clock(ms) {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

export function timeOfDay(date = new Date()) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function shortId(id) {
  return id && id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id || "";
}

export function pretty(value) {
  if (value === undefined) return "";
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

/** Human-readable text for a walletwire error (its stable `code` decides). */
export function describeError(error) {
  const code = error && error.code;
  switch (code) {
    case "otp_mismatch":
      return `That code is not right. ${attempts(error.attemptsLeft)}`;
    case "otp_malformed":
      return "Type the six digits your wallet shows.";
    case "handshake_contested":
      return "Two wallets answered this request, so someone else may have seen its QR code. Scan the new one.";
    case "otp_expired":
      return "The code expired. Start a new connection.";
    case "otp_attempts_exhausted":
      return "Too many wrong codes. Start a new connection.";
    case "request_expired":
      return "The connection request expired.";
    case "handshake_timeout":
      return "The wallet did not finish connecting in time.";
    case "relay_unreachable":
      return "The relay cannot be reached. Check your connection.";
    case "relay_refused":
      return "The relay refused the connection.";
    case "timeout":
      return "The wallet did not answer in time.";
    case "remote_error": {
      const reason = String(error.message || "").replace(/^peer error -?\d+:\s*/, "");
      return `The wallet refused${error.remoteCode !== undefined ? ` (${error.remoteCode})` : ""}: ${reason}`;
    }
    case "peer_closed":
      return "The other side ended the session.";
    case "not_connected":
      return "No wallet is connected.";
    case "cancelled":
      return "Cancelled.";
    case "invalid_request":
      return "This is not a valid walletwire link.";
    case "unsupported_version":
      return "This link needs a newer wallet.";
    case "session_expired":
      return "The session expired.";
    case "payload_too_large":
      return "The message is too large to send.";
    case "invalid_params":
      return error.message || "Invalid parameters.";
    default:
      return (error && error.message) || String(error);
  }
}

function attempts(n) {
  if (typeof n !== "number") return "";
  return n === 1 ? "1 attempt left." : `${n} attempts left.`;
}

/** An activity log rendered into an `<ol>`/`<ul>`; newest entries first. */
export class ActivityLog {
  constructor(list, limit = 200) {
    this.list = list;
    this.limit = limit;
  }

  add(kind, title, body) {
    const entry = h(
      "li",
      { dataset: { kind } },
      h(
        "div",
        { class: "log-head" },
        h("span", { class: "log-kind", text: kind }),
        h("span", { class: "log-title", text: title }),
        h("time", { class: "log-time", datetime: new Date().toISOString(), text: timeOfDay() }),
      ),
      body === undefined ? null : h("pre", { text: typeof body === "string" ? body : pretty(body) }),
    );
    this.list.prepend(entry);
    while (this.list.children.length > this.limit) this.list.lastElementChild.remove();
    return entry;
  }

  clear() {
    this.list.replaceChildren();
  }
}

/** Sets a status pill's text and tone (`ok`, `busy`, `warn`, `bad` or none). */
export function setStatus(element, text, tone = "") {
  element.textContent = text;
  if (tone) element.dataset.tone = tone;
  else delete element.dataset.tone;
}

/** Copies text to the clipboard, falling back to a selection where the API is refused. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h("textarea", { "aria-hidden": "true", style: "position:fixed;opacity:0" });
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

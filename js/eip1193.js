// walletwire/eip1193: an EIP-1193 provider over a walletwire DappClient, so dApp libraries
// that speak to `window.ethereum`-style providers (viem's `custom()`, ethers' BrowserProvider,
// wagmi connectors) reach a wallet through the end-to-end encrypted relay session.
//
// Plain JavaScript with no imports: it drives the DappClient it is given (`connect`,
// `request`, `sessions`, `disconnect`, events), so it adds no wasm to the page. The typings
// are in eip1193.d.ts.
//
// * One provider follows one session: a live one of the client when created (a resumed
//   session), else the one `eth_requestAccounts` connects (the page still shows the QR code
//   or asks for the code through the client's own events), else the first one the client
//   connects by other means.
// * `eth_chainId` and `eth_accounts` are asked of the wallet once per session and then
//   answered from the cached state; the wallet's `chainChanged` / `accountsChanged`
//   notifications and successful `wallet_switchEthereumChain` calls update it.
// * Errors are ProviderRpcError objects with a numeric EIP-1193 / EIP-1474 `code` (the
//   wallet's own code when it answered with one) and `data.walletwireCode`, the client's
//   stable string code.

/** EIP-1193 and EIP-1474 error codes used by this provider. */
export const ProviderErrorCode = Object.freeze({
  userRejected: 4001,
  unauthorized: 4100,
  unsupportedMethod: 4200,
  disconnected: 4900,
  chainDisconnected: 4901,
  invalidParams: -32602,
  internal: -32603,
});

/** An EIP-1193 error: `code` is numeric; `data.walletwireCode` is walletwire's string code. */
export class ProviderRpcError extends Error {
  constructor(code, message, data) {
    super(message);
    this.name = "ProviderRpcError";
    this.code = code;
    if (data !== undefined) this.data = data;
  }
}

// Client error codes that mean the user (or nobody) accepted the connection.
const CONNECT_REFUSED = new Set(["cancelled", "request_expired", "otp_expired", "otp_attempts_exhausted", "handshake_contested"]);
// Client error codes that mean there is no session to send on.
const NO_SESSION = new Set(["not_connected", "peer_closed", "session_expired", "cancelled", "relay_unreachable", "relay_refused"]);
// Methods a walletwire session cannot carry: subscriptions need a node pushing to the page.
const UNSUPPORTED = new Set(["eth_subscribe", "eth_unsubscribe"]);

/** Maps a DappClient error (or anything thrown) to a ProviderRpcError. */
function toProviderError(error, { connecting = false } = {}) {
  if (error instanceof ProviderRpcError) return error;
  const walletwireCode = typeof error?.code === "string" ? error.code : "internal";
  const message = typeof error?.message === "string" ? error.message : String(error);
  const data = { walletwireCode };
  if (walletwireCode === "remote_error" && Number.isInteger(error.remoteCode)) {
    data.remoteCode = error.remoteCode;
    // The client writes "peer error <code>: <wallet's message>"; keep the wallet's words.
    return new ProviderRpcError(error.remoteCode, message.replace(/^peer error -?\d+: /, ""), data);
  }
  if (connecting && CONNECT_REFUSED.has(walletwireCode)) {
    return new ProviderRpcError(ProviderErrorCode.userRejected, `the wallet did not connect: ${message}`, data);
  }
  if (walletwireCode === "method_not_granted") return new ProviderRpcError(ProviderErrorCode.unauthorized, message, data);
  if (NO_SESSION.has(walletwireCode)) return new ProviderRpcError(ProviderErrorCode.disconnected, message, data);
  if (walletwireCode === "invalid_params" || walletwireCode === "payload_too_large") {
    return new ProviderRpcError(ProviderErrorCode.invalidParams, message, data);
  }
  return new ProviderRpcError(ProviderErrorCode.internal, message, data);
}

/** A chain id as EIP-1193 carries it: lowercase hex without leading zeros (`0x1`). */
function normalizeChainId(value) {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return `0x${value.toString(16)}`;
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]+$/.test(value)) return null;
  return `0x${BigInt(value).toString(16)}`;
}

function sameAccounts(a, b) {
  return a.length === b.length && a.every((x, i) => x.toLowerCase() === b[i].toLowerCase());
}

/**
 * An EIP-1193 provider over `dapp` (a DappClient). Options: `connect` (what
 * `eth_requestAccounts` passes to `dapp.connect()`, e.g. `{mode: "trusted"}`) and
 * `timeoutMs` (each request's timeout; the client's default otherwise).
 */
export function createEip1193Provider(dapp, options = {}) {
  const listeners = new Map();
  let session = null; // SessionInfo of the followed session
  let chainId = null; // cached `eth_chainId`
  let accounts = null; // cached accounts, null until asked
  let chainLoad = null; // the promise filling chainId for `session`
  let accountsLoad = null; // the promise filling accounts for `session` (eth_accounts)
  let connecting = null; // the promise of a connect started by eth_requestAccounts

  const emit = (event, payload) => {
    for (const listener of [...(listeners.get(event) ?? [])]) {
      try {
        listener(payload);
      } catch (error) {
        console.error("walletwire/eip1193: a listener threw", error);
      }
    }
  };

  const send = (method, params) =>
    dapp.request(method, params, { sessionId: session.id, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });

  const setChain = (next) => {
    const id = normalizeChainId(next);
    if (id === null || id === chainId) return;
    const first = chainId === null;
    chainId = id;
    if (!first) emit("chainChanged", id);
  };

  const setAccounts = (next) => {
    if (!Array.isArray(next) || !next.every((a) => typeof a === "string")) return;
    if (accounts !== null && sameAccounts(accounts, next)) return;
    const first = accounts === null;
    accounts = [...next];
    if (!first || accounts.length > 0) emit("accountsChanged", [...accounts]);
  };

  // Sends `method` on the followed session; its answer is kept only if the session is still
  // the followed one.
  const ask = async (method, params, keep) => {
    const followed = session;
    let result;
    try {
      result = await send(method, params);
    } catch (error) {
      throw toProviderError(error);
    }
    if (session !== followed) throw new ProviderRpcError(ProviderErrorCode.disconnected, "the session ended", { walletwireCode: "peer_closed" });
    keep(result);
    return result;
  };

  // The chain, asked of the wallet once per session; the first answer emits `connect`.
  const loadChain = () =>
    (chainLoad ??= ask("eth_chainId", [], (chain) => {
      setChain(chain);
      if (chainId === null) throw new ProviderRpcError(ProviderErrorCode.internal, "the wallet sent no valid chain id");
      emit("connect", { chainId });
    }).catch((error) => {
      chainLoad = null; // asked again by the next request
      throw error;
    }));

  const loadAccounts = () =>
    (accountsLoad ??= ask("eth_accounts", [], setAccounts).catch((error) => {
      accountsLoad = null;
      throw error;
    }));

  const follow = (info) => {
    session = info;
    chainId = null;
    accounts = null;
    chainLoad = null;
    accountsLoad = null;
  };

  dapp.on("connected", (info) => {
    if (session === null) follow(info);
  });
  dapp.on("disconnected", (event) => {
    if (session === null || event.sessionId !== session.id) return;
    const hadAccounts = accounts !== null && accounts.length > 0;
    follow(null);
    emit("disconnect", new ProviderRpcError(ProviderErrorCode.disconnected, event.message || "the session ended", { walletwireCode: event.code, reason: event.reason }));
    if (hadAccounts) emit("accountsChanged", []);
  });
  dapp.on("message", (message) => {
    if (message.type !== "notification" || session === null || message.sessionId !== session.id) return;
    const params = message.params;
    if (message.method === "chainChanged") {
      setChain(params !== null && typeof params === "object" ? params.chainId : params);
    } else if (message.method === "accountsChanged") {
      setAccounts(Array.isArray(params) ? params : params?.accounts);
    } else {
      emit("message", { type: message.method, data: params });
    }
  });

  // A session the client already has (resumed after a reload) is followed at once.
  const [live] = dapp.sessions();
  if (live) follow(live);

  const connect = async () => {
    if (session) return;
    connecting ??= dapp.connect(options.connect ?? {}).then(
      (info) => {
        connecting = null;
        if (session === null) follow(info);
      },
      (error) => {
        connecting = null;
        throw toProviderError(error, { connecting: true });
      },
    );
    await connecting;
  };

  const connected = () => {
    if (session === null) throw new ProviderRpcError(ProviderErrorCode.disconnected, "no wallet is connected: call eth_requestAccounts first", { walletwireCode: "not_connected" });
  };

  const provider = {
    /** Marks this provider (as `isMetaMask` marks MetaMask's). */
    isWalletwire: true,

    async request(args) {
      if (args === null || typeof args !== "object" || typeof args.method !== "string") {
        throw new ProviderRpcError(ProviderErrorCode.invalidParams, "request() takes {method, params?}");
      }
      const { method } = args;
      const params = args.params ?? [];
      if (typeof params !== "object") throw new ProviderRpcError(ProviderErrorCode.invalidParams, "params must be an array or an object");
      if (UNSUPPORTED.has(method)) throw new ProviderRpcError(ProviderErrorCode.unsupportedMethod, `${method} is not supported over a walletwire session`);
      switch (method) {
        case "eth_requestAccounts":
          await connect();
          await loadChain();
          // The permission request goes to the wallet until it grants accounts; then the
          // cache answers.
          if (accounts === null || accounts.length === 0) await ask("eth_requestAccounts", [], setAccounts);
          return [...accounts];
        case "eth_accounts":
          if (session === null) return [];
          await loadChain();
          if (accounts === null) await loadAccounts();
          return [...accounts];
        case "eth_chainId":
          connected();
          await loadChain();
          return chainId;
        default:
          break;
      }
      connected();
      return ask(method, params, () => {
        if (method === "wallet_switchEthereumChain" && Array.isArray(params)) setChain(params[0]?.chainId);
      });
    },

    on(event, listener) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event).add(listener);
      return provider;
    },

    removeListener(event, listener) {
      listeners.get(event)?.delete(listener);
      return provider;
    },

    /** The followed session, if any. */
    get session() {
      return session;
    },

    /** Ends the followed session (the wallet is told); `disconnect` fires. */
    disconnect() {
      if (session) dapp.disconnect({ sessionId: session.id });
    },
  };
  return provider;
}

const DEFAULT_ICON =
  "data:image/svg+xml;base64," +
  "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAzMiAzMiI+PHJlY3Qgd2lkdGg9IjMyIiBoZWlnaHQ9IjMyIiByeD0iNiIgZmlsbD0iIzFkNGVkOCIvPjxwYXRoIGQ9Ik02IDEwbDQgMTIgNi05IDYgOSA0LTEyIiBzdHJva2U9IiNmZmYiIHN0cm9rZS13aWR0aD0iMyIgZmlsbD0ibm9uZSIvPjwvc3ZnPg==";

/**
 * EIP-6963: announces `provider` to the page (`eip6963:announceProvider`) now and whenever a
 * library asks (`eip6963:requestProvider`). `info` may leave out `uuid` (a random one) and
 * `icon` (walletwire's). Returns a function that stops answering.
 */
export function announceProvider(provider, info = {}) {
  const detail = Object.freeze({
    info: Object.freeze({
      uuid: info.uuid ?? crypto.randomUUID(),
      name: info.name ?? "walletwire",
      icon: info.icon ?? DEFAULT_ICON,
      rdns: info.rdns ?? "io.github.walletwire",
    }),
    provider,
  });
  const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
  return () => window.removeEventListener("eip6963:requestProvider", announce);
}

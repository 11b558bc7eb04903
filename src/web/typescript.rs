//! Curated TypeScript declarations: every class, event and payload typed, no `any`. Each
//! section is compiled only into the entries that export what it declares, so every entry's
//! `.d.ts` describes exactly that entry.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const JSON_TYPES: &'static str = r#"
/** Any JSON value carried as params or results. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
"#;

#[cfg(any(feature = "dapp", feature = "wallet"))]
#[wasm_bindgen(typescript_custom_section)]
const RELAY_TYPES: &'static str = r#"
/** Connection mode: `untrusted` asks the user for the wallet's six-digit code. */
export type ConnectionMode = "untrusted" | "trusted";

/** What one side shows about itself. */
export interface Metadata { name: string; url?: string; icon?: string }

/** Stable error codes: `error.code` of every rejection and `error` event. */
export type ErrorCode =
  | "invalid_request" | "unsupported_version" | "request_too_large" | "invalid_message"
  | "decrypt_failed" | "weak_key" | "record_corrupt" | "otp_mismatch" | "otp_malformed"
  | "handshake_contested" | "otp_expired" | "otp_attempts_exhausted" | "request_expired" | "handshake_timeout"
  | "timeout" | "peer_closed" | "session_expired" | "cancelled" | "remote_error"
  | "messages_lost" | "invalid_state" | "payload_too_large" | "too_many_pending"
  | "unknown_request" | "invalid_params" | "not_connected" | "storage_full"
  | "tabs_unsupported" | "method_not_granted" | "request_not_found"
  | "relay_unreachable" | "relay_refused" | "relay_queue_full" | "relay_frame_too_large";

/** Errors are `Error` objects with a stable `code`. */
export interface WalletwireError extends Error {
  name: "WalletwireError";
  code: ErrorCode;
  /** `otp_mismatch`: attempts left. */
  attemptsLeft?: number;
  /** `remote_error`: the peer's JSON-RPC error code. */
  remoteCode?: number;
  /** `error` events: the session concerned, if any. */
  sessionId?: string | null;
}

/** One namespace of CAIP-25 scopes: CAIP-2 chains (`eip155:1`), methods, events; a grant
 * also lists its CAIP-10 accounts (`eip155:1:0xab…`). */
export interface Scope { chains: string[]; methods: string[]; events: string[]; accounts?: string[] }
/** CAIP-25 scopes by namespace (`{eip155: {...}}`). */
export type Scopes = { [namespace: string]: Scope };

export interface SessionInfo {
  id: string;
  channel: string;
  role: "dapp" | "wallet";
  mode: ConnectionMode;
  peer: Metadata;
  relay: string;
  /** Unix ms; slides forward on every message. */
  expiresAt: number;
  /** A scoped session (the dApp asked for scopes): what the wallet granted. Requests for
   * other methods are refused with `method_not_granted`. */
  scopes?: Scopes;
}

/** A session request (protocol v3) as the wallet read it: the QR code's part (id, mode,
 * key, relay) and the sealed part (expiry, the dApp's claimed metadata, scopes). */
export interface SessionRequestJson {
  v: 3; id: string; mode: ConnectionMode; channel: string; publicKey: string;
  expiresAt: number; relay: string; dapp: Metadata; scopes?: Scopes; optionalScopes?: Scopes;
}

export interface IncomingRequest {
  type: "request";
  sessionId: string;
  id: number;
  method: string;
  params: Json;
  /** Answers with a result; throws `unknown_request` if already answered. */
  respond(result: Json): void;
  /** Answers with an error (JSON-RPC code, e.g. 4001 user rejected). */
  reject(code: number, message: string): void;
}

export interface IncomingNotification { type: "notification"; sessionId: string; method: string; params: Json }

export interface StateEvent { sessionId: string | null; state: "connecting" | "awaiting_otp" | "connected" | "disconnected" }

export interface DisconnectedEvent {
  sessionId: string | null;
  /** `local`: we closed; `peer`: the other side closed; `failed`: see `code`. */
  reason: "local" | "peer" | "failed";
  code: ErrorCode;
  message: string;
}

export interface RelayStatusEvent { online: boolean; willRetry: boolean; url: string }
export interface MessagesLostEvent { sessionId: string | null; count: number | null }
export interface PongEvent { sessionId: string | null; n: number }

/** Events both clients emit, once a handshake is under way or a session exists. */
export interface SessionEvents {
  connected: SessionInfo;
  request: IncomingRequest;
  message: IncomingRequest | IncomingNotification;
  state: StateEvent;
  disconnected: DisconnectedEvent;
  messages_lost: MessagesLostEvent;
  relay: RelayStatusEvent;
  pong: PongEvent;
  error: WalletwireError;
}

export interface RequestOptions { sessionId?: string; timeoutMs?: number }
export interface SessionOptions { sessionId?: string }
"#;

#[cfg(feature = "dapp")]
#[wasm_bindgen(typescript_custom_section)]
const DAPP_TYPES: &'static str = r#"
export interface SessionRequestEvent {
  id: string;
  /** `walletwire:connect?v=3&...`: put it in a link or a QR code. */
  uri: string;
  mode: ConnectionMode;
  expiresAt: number;
  request: SessionRequestJson;
  /** The URI as an SVG QR code. */
  qrSvg(): string;
}

export interface OtpRequiredEvent {
  sessionId: null;
  deadline: number;
  attemptsLeft: number;
  /** Resolves when the code matched (then `connected` follows); rejects with
   * `otp_mismatch` (see `attemptsLeft`), `otp_malformed`, `otp_expired` or
   * `otp_attempts_exhausted`. */
  submit(code: string): Promise<void>;
  cancel(): void;
}

export interface DappClientEvents extends SessionEvents {
  session_request: SessionRequestEvent;
  otp_required: OtpRequiredEvent;
}

export interface DappClientOptions {
  /** `ws://` or `wss://` URL of a walletwire relay or a Centrifugo server. */
  relayUrl: string;
  dapp: Metadata;
  /** `local` (default): sessions survive reloads and are shared by the tabs of this origin
   * (one tab drives them, the others go through it; throws `tabs_unsupported` where the
   * browser lacks Web Locks or BroadcastChannel); `memory`: they do not. */
  storage?: "local" | "memory";
  /** Default request timeout (60 000). */
  requestTimeoutMs?: number;
  /**
   * Largest encoded payload of one message (48 000): a frame then fits the 64 KiB client
   * message limit of a default Centrifugo. Raise it only together with the relay's limit.
   */
  maxPayloadBytes?: number;
}

export class DappClient {
  constructor(options: DappClientOptions);
  on<K extends keyof DappClientEvents>(event: K, handler: (payload: DappClientEvents[K]) => void): () => void;
  off<K extends keyof DappClientEvents>(event: K, handler: (payload: DappClientEvents[K]) => void): void;
  /** Resolves with the session when connected; rejects with `request_expired`,
   * `otp_attempts_exhausted`, `otp_expired`, `handshake_contested` (two wallets answered:
   * call `connect()` again for a fresh request), `cancelled`, `relay_unreachable`, ... */
  connect(options?: { mode?: ConnectionMode; ttlMs?: number; scopes?: Scopes; optionalScopes?: Scopes }): Promise<SessionInfo>;
  request<T = Json>(method: string, params?: Json, options?: RequestOptions): Promise<T>;
  notify(method: string, params?: Json, options?: SessionOptions): void;
  disconnect(options?: SessionOptions): void;
  sessions(): SessionInfo[];
  storedSessions(): SessionInfo[];
  /** Resumes the stored sessions not live yet; resolves with every live session. */
  resume(): Promise<SessionInfo[]>;
  simulateNetworkLoss(): void;
  close(): void;
  free(): void;
}
"#;

#[cfg(feature = "wallet")]
#[wasm_bindgen(typescript_custom_section)]
const WALLET_TYPES: &'static str = r#"
export interface DisplayOtpEvent { sessionId: string | null; otp: string; deadline: number }

/** The wallet read the dApp's sealed request: who claims to ask, and for which scopes. With
 * `ask` set, a scoped request waits for `approve` (granting `grant`, default: everything
 * asked for) or `reject` (the handshake ends, the dApp is not answered); otherwise the wallet
 * has already answered and both reject with `invalid_state`. */
export interface SessionProposalEvent {
  sessionId: string | null;
  request: SessionRequestJson;
  approve(grant?: Scopes): Promise<void>;
  reject(): Promise<void>;
}

export interface WalletClientEvents extends SessionEvents {
  session_proposal: SessionProposalEvent;
  display_otp: DisplayOtpEvent;
}

/** What a wallet grants a scoped request: `grant` (default: everything asked for) and the
 * addresses each granted namespace lists on its chains (`{eip155: ["0xab…"]}`). */
export interface GrantOptions {
  grant?: Scopes;
  accounts?: { [namespace: string]: string[] };
  /** Wait for `session_proposal`'s approve/reject before answering a scoped request. */
  ask?: boolean;
}

export interface WalletClientOptions {
  wallet: Metadata;
  /** `local` (default): sessions survive reloads and are shared by the tabs of this origin
   * (one tab drives them, the others go through it; throws `tabs_unsupported` where the
   * browser lacks Web Locks or BroadcastChannel); `memory`: they do not. */
  storage?: "local" | "memory";
  requestTimeoutMs?: number;
  maxPayloadBytes?: number;
  /** How long the code is valid (60 000). */
  otpWindowMs?: number;
}

export class WalletClient {
  constructor(options: WalletClientOptions);
  on<K extends keyof WalletClientEvents>(event: K, handler: (payload: WalletClientEvents[K]) => void): () => void;
  off<K extends keyof WalletClientEvents>(event: K, handler: (payload: WalletClientEvents[K]) => void): void;
  /** `uri`: a scanned QR code or deep link; the request is read from the relay first
   * (`request_not_found` after 20 s without it). */
  connect(options: ({ uri: string } | { sessionRequest: SessionRequestJson | string }) & GrantOptions): Promise<SessionInfo>;
  request<T = Json>(method: string, params?: Json, options?: RequestOptions): Promise<T>;
  notify(method: string, params?: Json, options?: SessionOptions): void;
  disconnect(options?: SessionOptions): void;
  sessions(): SessionInfo[];
  storedSessions(): SessionInfo[];
  /** Resumes the stored sessions not live yet; resolves with every live session. */
  resume(): Promise<SessionInfo[]>;
  simulateNetworkLoss(): void;
  close(): void;
  free(): void;
}
"#;

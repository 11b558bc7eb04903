// Typings of walletwire/eip1193 (eip1193.js): an EIP-1193 provider over a DappClient.
import type { ConnectionMode, DappClient, ErrorCode, Scopes, SessionInfo } from "./walletwire.js";

/** EIP-1193 / EIP-1474 codes this provider produces (the wallet's own codes pass through). */
export declare const ProviderErrorCode: {
  readonly userRejected: 4001;
  readonly unauthorized: 4100;
  readonly unsupportedMethod: 4200;
  readonly disconnected: 4900;
  readonly chainDisconnected: 4901;
  readonly invalidParams: -32602;
  readonly internal: -32603;
};

/** What an error carries beside its numeric code. */
export interface ProviderRpcErrorData {
  /** walletwire's stable string code (`remote_error` when the wallet answered with an error). */
  walletwireCode: ErrorCode | "internal";
  /** `remote_error`: the wallet's JSON-RPC code (also the error's `code`). */
  remoteCode?: number;
  /** `disconnect` events: who ended the session. */
  reason?: "local" | "peer" | "failed";
}

/** EIP-1193 `ProviderRpcError`. */
export declare class ProviderRpcError extends Error {
  constructor(code: number, message: string, data?: ProviderRpcErrorData);
  name: "ProviderRpcError";
  /** 4001 user rejected, 4100 unauthorized, 4200 unsupported method, 4900 disconnected,
   * 4902 unrecognized chain (from the wallet), -32602 invalid params, -32603 internal, ... */
  code: number;
  data?: ProviderRpcErrorData;
}

export interface RequestArguments {
  readonly method: string;
  readonly params?: readonly unknown[] | object;
}

export interface ProviderConnectInfo {
  readonly chainId: string;
}

export interface ProviderMessage {
  /** The wallet's notification method. */
  readonly type: string;
  readonly data: unknown;
}

export interface Eip1193Events {
  connect: ProviderConnectInfo;
  disconnect: ProviderRpcError;
  /** EIP-55 addresses; `[]` when the session ends. */
  accountsChanged: string[];
  /** Hex chain id, e.g. `0xaa36a7`. */
  chainChanged: string;
  /** Notifications of the wallet other than `chainChanged` and `accountsChanged`. */
  message: ProviderMessage;
}

export interface Eip1193Provider {
  /** Always true: tells this provider apart from others. */
  readonly isWalletwire: true;
  /** The followed session, if any. */
  readonly session: SessionInfo | null;
  request(args: RequestArguments): Promise<unknown>;
  on<K extends keyof Eip1193Events>(event: K, listener: (payload: Eip1193Events[K]) => void): Eip1193Provider;
  removeListener<K extends keyof Eip1193Events>(event: K, listener: (payload: Eip1193Events[K]) => void): Eip1193Provider;
  /** Ends the followed session, telling the wallet; `disconnect` fires. */
  disconnect(): void;
}

export interface Eip1193ProviderOptions {
  /** What `eth_requestAccounts` passes to `dapp.connect()` when there is no session. */
  connect?: { mode?: ConnectionMode; ttlMs?: number; scopes?: Scopes; optionalScopes?: Scopes };
  /** Timeout of each request to the wallet (the client's default otherwise). */
  timeoutMs?: number;
}

/** An EIP-1193 provider over `dapp`. */
export declare function createEip1193Provider(dapp: DappClient, options?: Eip1193ProviderOptions): Eip1193Provider;

/** EIP-6963 provider info. */
export interface Eip6963ProviderInfo {
  /** UUIDv4, new per page load (default: a random one). */
  uuid?: string;
  name?: string;
  /** A data URI (default: walletwire's icon). */
  icon?: string;
  /** Reverse DNS name (default `io.github.walletwire`). */
  rdns?: string;
}

/** Announces `provider` (EIP-6963) now and on every `eip6963:requestProvider`; returns a
 * function that stops answering. */
export declare function announceProvider(provider: Eip1193Provider, info?: Eip6963ProviderInfo): () => void;

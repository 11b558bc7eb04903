// Typings of walletwire/wagmi (wagmi.js): a wagmi (@wagmi/core 2.x or 3.x) connector over a DappClient.
import type { CreateConnectorFn } from "@wagmi/core";
import type { Eip1193Provider } from "./eip1193.js";
import type { ConnectionMode, DappClient } from "./walletwire.js";

export interface WalletwireParameters {
  /** The client the connector connects through (its module initialised with `init()`). */
  dapp: DappClient;
  /** What `connect()` passes to `dapp.connect()` when there is no session, e.g. `{mode: "trusted"}`. */
  connect?: { mode?: ConnectionMode; ttlMs?: number };
}

/** Thrown by `switchChain()`: the chain is not in the config (`cause` is wagmi's
 * ChainNotConfiguredError) or the wallet did not switch (`cause` is its ProviderRpcError; a
 * user's refusal, 4001, is thrown as that ProviderRpcError itself). */
export declare class SwitchChainError extends Error {
  constructor(cause?: unknown);
  name: "SwitchChainError";
  code: 4902;
  shortMessage: string;
}

/** A wagmi connector (id, name and type `walletwire`) whose provider is walletwire/eip1193's
 * over `parameters.dapp`: pass it to `createConfig({connectors: [...]})`. */
export declare function walletwire(parameters: WalletwireParameters): CreateConnectorFn<Eip1193Provider>;

export declare namespace walletwire {
  const type: "walletwire";
}

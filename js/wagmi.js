// walletwire/wagmi: a wagmi (@wagmi/core 2.x or 3.x) connector over a walletwire DappClient, so a
// wagmi app's connect / signMessage / switchChain / reconnect / disconnect reach a wallet through
// the end-to-end encrypted relay session.
//
// Plain JavaScript; it imports only `@wagmi/core` (an optional peer dependency of the package)
// and walletwire/eip1193, whose provider it drives. The typings are in wagmi.d.ts.
//
// * `connect()` asks the provider for `eth_requestAccounts`, which pairs with a wallet when the
//   client has no session (the page shows the link or QR code through the client's own
//   `session_request` / `otp_required` events), then switches to the asked chain if it differs.
// * `isAuthorized()` is true when the client has a live or a stored session, so wagmi's
//   `reconnect()` after a reload resumes the stored session (`dapp.resume()`) with no new
//   pairing; it never starts one.
// * The provider's events reach wagmi as the connector emitter's `connect`, `change` and
//   `disconnect`, as wagmi's own injected connector does.

import { ChainNotConfiguredError, createConnector } from "@wagmi/core";
import { createEip1193Provider } from "./eip1193.js";

/**
 * Thrown by `switchChain()` (code 4902, like viem's SwitchChainError, whose name it carries):
 * the chain is not in the wagmi config, or the wallet failed to switch to it (a user's refusal
 * is the provider's 4001 error, thrown as it is).
 */
export class SwitchChainError extends Error {
  constructor(cause) {
    super("An error occurred when attempting to switch chain.", { cause });
    this.name = "SwitchChainError";
    this.code = 4902;
    this.shortMessage = this.message;
  }
}

const hexChainId = (id) => `0x${id.toString(16)}`;

walletwire.type = "walletwire";

/** A wagmi connector over `parameters.dapp` (a DappClient, its module initialised). */
export function walletwire(parameters) {
  const { dapp } = parameters;
  return createConnector((config) => {
    let provider = null;
    // The provider listeners, bound once by setup(); `connected` tells which set is subscribed
    // (null: none yet).
    let listeners = null;
    let connected = null;

    const getProvider = () => (provider ??= createEip1193Provider(dapp, { connect: parameters.connect ?? {} }));

    // While connected: account, chain and disconnect events; otherwise only `connect`.
    const subscribe = (nowConnected) => {
      const p = getProvider();
      if (connected === nowConnected) return;
      connected = nowConnected;
      const [on, off] = nowConnected ? ["on", "removeListener"] : ["removeListener", "on"];
      p[off]("connect", listeners.connect);
      p[on]("accountsChanged", listeners.accountsChanged);
      p[on]("chainChanged", listeners.chainChanged);
      p[on]("disconnect", listeners.disconnect);
    };

    // What connect() does once subscribed.
    const connectNow = async (p, { chainId, isReconnecting, withCapabilities }) => {
      let accounts;
      if (isReconnecting) {
        // After a reload: take the stored session up again; never pair anew.
        if (p.session === null && dapp.sessions().length === 0 && dapp.storedSessions().length > 0) await dapp.resume();
        accounts = await connector.getAccounts();
        if (accounts.length === 0) throw new Error("walletwire: no session to reconnect");
      } else {
        accounts = await p.request({ method: "eth_requestAccounts" });
      }
      let currentChainId = await connector.getChainId();
      if (chainId !== undefined && chainId !== currentChainId) {
        try {
          currentChainId = (await connector.switchChain({ chainId })).id;
        } catch (error) {
          // The user refused: the connection fails. Otherwise stay on the wallet's chain.
          if (error?.code === 4001 || error?.cause?.code === 4001) throw error;
        }
      }
      return {
        accounts: withCapabilities ? accounts.map((address) => ({ address, capabilities: {} })) : accounts,
        chainId: currentChainId,
      };
    };

    const connector = {
      id: "walletwire",
      name: "walletwire",
      type: walletwire.type,

      async setup() {
        if (listeners) return;
        listeners = {
          connect: (info) => connector.onConnect(info),
          accountsChanged: (accounts) => connector.onAccountsChanged(accounts),
          chainChanged: (chainId) => connector.onChainChanged(chainId),
          disconnect: (error) => connector.onDisconnect(error),
        };
        subscribe(false);
      },

      async connect({ chainId, isReconnecting, withCapabilities } = {}) {
        await connector.setup();
        const p = getProvider();
        // Connecting: the provider's own `connect` is this connection, not one to report.
        subscribe(true);
        try {
          return await connectNow(p, { chainId, isReconnecting, withCapabilities });
        } catch (error) {
          subscribe(false);
          throw error;
        }
      },

      async disconnect() {
        if (listeners) subscribe(false);
        getProvider().disconnect();
      },

      async getAccounts() {
        return getProvider().request({ method: "eth_accounts" });
      },

      async getChainId() {
        return Number(await getProvider().request({ method: "eth_chainId" }));
      },

      async getProvider() {
        return getProvider();
      },

      async isAuthorized() {
        return dapp.sessions().length > 0 || dapp.storedSessions().length > 0;
      },

      async switchChain({ chainId }) {
        const chain = config.chains.find((c) => c.id === chainId);
        if (!chain) throw new SwitchChainError(new ChainNotConfiguredError());
        try {
          await getProvider().request({ method: "wallet_switchEthereumChain", params: [{ chainId: hexChainId(chainId) }] });
        } catch (error) {
          if (error?.code === 4001) throw error;
          throw new SwitchChainError(error);
        }
        // The provider emitted chainChanged already when the chain was another; say it again
        // for wagmi in case it was not (a no-op when the state has it).
        config.emitter.emit("change", { chainId });
        return chain;
      },

      onAccountsChanged(accounts) {
        if (accounts.length === 0) connector.onDisconnect();
        else config.emitter.emit("change", { accounts });
      },

      onChainChanged(chainId) {
        config.emitter.emit("change", { chainId: Number(chainId) });
      },

      async onConnect(info) {
        const accounts = await connector.getAccounts().catch(() => []);
        if (accounts.length === 0) return;
        subscribe(true);
        config.emitter.emit("connect", { accounts, chainId: Number(info.chainId) });
      },

      onDisconnect() {
        if (!connected) return;
        subscribe(false);
        config.emitter.emit("disconnect");
      },
    };
    return connector;
  });
}

// Everything a dApp ships to connect with MetaMask's mobile wallet protocol: the dApp client,
// the WebSocket transport (centrifuge inside), the session store, and the eciesjs key manager
// and localStorage store it must supply itself. Bundled for the size table and for the dApp
// page of the browser benchmark.

export { DappClient } from "@metamask/mobile-wallet-protocol-dapp-client";
export { SessionStore, WebSocketTransport } from "@metamask/mobile-wallet-protocol-core";
export { EciesKeyManager, LocalStorageKV } from "./mwp-support.js";

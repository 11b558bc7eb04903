// The direct-flow page: the dApp side (default) or, with `#wallet`, the wallet UI side.
// Both use the SDK from /pkg; the wallet side talks to the daemon's JSON-RPC endpoint.

import init from "/pkg/direct.js";

await init();
const wallet = location.hash === "#wallet";
document.getElementById(wallet ? "wallet" : "dapp").hidden = false;
document.getElementById("role-title").textContent = wallet ? "Wallet UI (direct)" : "dApp (direct)";
await import(wallet ? "./direct-wallet.js" : "./direct-dapp.js");
// Listeners are attached: tests (and anything scripting the page) wait for this.
document.body.dataset.ready = "true";
addEventListener("hashchange", () => location.reload());

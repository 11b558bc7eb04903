// The demo dApp's EVM panel: what an Ethereum dApp writes with walletwire. The EIP-1193
// provider (walletwire/eip1193) wraps the page's DappClient and follows its session; viem
// (bundled in vendor/evm.js, loaded on first use) talks to the wallet through it and checks
// the signature it gets back.

import { createEip1193Provider } from "/pkg/eip1193.js";

let ready = null;

/** The provider and viem's wallet client over it, made on first use. */
function evm(client) {
  ready ??= import("./vendor/evm.js").then((viem) => {
    const provider = createEip1193Provider(client);
    const wallet = viem.createWalletClient({ transport: viem.custom(provider) });
    return { viem, provider, wallet };
  });
  return ready;
}

/** Wires the panel's buttons; `log` is the page's activity log. */
export function evmPanel(client, log, ui) {
  let listening = false;
  const chainName = (id) => ({ 1: "Ethereum (0x1)", 11155111: "Sepolia (0xaa36a7)" })[id] || `chain ${id}`;
  const busy = async (button, work) => {
    button.disabled = true;
    try {
      await work();
    } catch (error) {
      ui.verified.textContent = `Failed: ${error.shortMessage || error.message}`;
      ui.verified.dataset.tone = "bad";
      log.add("error", `viem: ${error.name}${error.code === undefined ? "" : ` (${error.code})`}`, error.shortMessage || error.message);
    } finally {
      button.disabled = !client.sessions().length;
    }
  };
  ui.sign.addEventListener("click", () =>
    busy(ui.sign, async () => {
      const { viem, provider, wallet } = await evm(client);
      if (!listening) {
        listening = true;
        provider.on("chainChanged", (id) => (ui.chain.textContent = chainName(Number(BigInt(id)))));
      }
      const [account] = await wallet.requestAddresses();
      const chainId = await wallet.getChainId();
      ui.account.textContent = account;
      ui.chain.textContent = chainName(chainId);
      const message = `Signed in to the walletwire demo at ${new Date().toISOString()}`;
      ui.verified.textContent = "Waiting for the wallet…";
      delete ui.verified.dataset.tone;
      const signature = await wallet.signMessage({ account, message });
      ui.signature.textContent = signature;
      const valid = await viem.verifyMessage({ address: account, message, signature });
      ui.verified.textContent = valid ? `Yes: viem recovered ${account}` : "No: the signature does not match";
      ui.verified.dataset.tone = valid ? "ok" : "bad";
      log.add(valid ? "event" : "error", valid ? "EVM signature verified by viem" : "EVM signature invalid", { account, message, signature });
    }),
  );
  ui.switch.addEventListener("click", () =>
    busy(ui.switch, async () => {
      const { viem, wallet } = await evm(client);
      await wallet.switchChain({ id: viem.sepolia.id });
      ui.chain.textContent = chainName(await wallet.getChainId());
      log.add("event", "switched to Sepolia", "wallet_switchEthereumChain through viem");
    }),
  );
}

/** Enables the panel's buttons while a session is up. */
export function evmPanelEnabled(ui, connected) {
  ui.sign.disabled = !connected;
  ui.switch.disabled = !connected;
}

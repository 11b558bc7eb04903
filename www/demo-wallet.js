// The wallet behind the wallet page: two accounts with WebCrypto keys (Ed25519, or ECDSA P-256
// where the browser lacks Ed25519) and a secp256k1 key each for the EVM methods (demo-evm.js),
// a ledger of balances in localStorage, and the same method set and JSON-RPC error codes as the
// native reference wallet (`wallet/src/api/`).

import { CHAINS, EVM_METHODS, EvmError, READ_ONLY, answerEvm, chainName, evmAccount, newEvmKey } from "./demo-evm.js";
import { ECDSA_P256, ED25519, fromHex, hasEd25519, messageBytes, toHex } from "./signatures.js";

const KEYS = "walletwire-demo-wallet:keys:v1";
const LEDGER = "walletwire-demo-wallet:ledger:v1";
/** The account the user selected for EVM dApps (its index); it comes first in `eth_accounts`. */
const SELECTED = "walletwire-demo-wallet:selected:v1";
/** Each session's active EVM chain: `{[sessionId]: chainId}`. */
const CHAINS_KEY = "walletwire-demo-wallet:chains:v1";
const TX_DOMAIN = "walletwire-demo-tx:";

export const METHODS = ["wallet.info", "accounts.list", "balances.get", "message.sign", "transaction.submit", ...EVM_METHODS];

/** Whether the page answers `method` without asking (reads the pairing already allowed). */
export const answersWithoutPrompt = (method) => READ_ONLY.has(method);

/** A JSON-RPC error a request is rejected with. */
export class RpcError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const INVALID_PARAMS = -32602;
const METHOD_NOT_FOUND = -32601;
const UNAUTHORIZED = 4100;
const INSUFFICIENT_BALANCE = -32000;

function keyParams(algorithm) {
  return algorithm === ED25519
    ? { generate: { name: "Ed25519" }, sign: { name: "Ed25519" } }
    : { generate: { name: "ECDSA", namedCurve: "P-256" }, sign: { name: "ECDSA", hash: "SHA-256" } };
}

async function newAccount(name, algorithm) {
  const params = keyParams(algorithm);
  const pair = await crypto.subtle.generateKey(params.generate, true, ["sign", "verify"]);
  const raw = await crypto.subtle.exportKey("raw", pair.publicKey);
  return { name, address: toHex(raw), privateJwk: await crypto.subtle.exportKey("jwk", pair.privateKey), evmKey: newEvmKey() };
}

export class DemoWallet {
  static async open(name) {
    let stored = null;
    try {
      stored = JSON.parse(localStorage.getItem(KEYS));
    } catch {
      stored = null;
    }
    if (!stored || !Array.isArray(stored.accounts) || !stored.accounts.length) {
      const algorithm = (await hasEd25519()) ? ED25519 : ECDSA_P256;
      stored = {
        algorithm,
        accounts: [await newAccount("Main account", algorithm), await newAccount("Savings", algorithm)],
      };
      localStorage.setItem(KEYS, JSON.stringify(stored));
    } else if (stored.accounts.some((a) => typeof a.evmKey !== "string")) {
      // Keys stored before the EVM methods: each account gets its secp256k1 key now.
      for (const account of stored.accounts) account.evmKey ??= newEvmKey();
      localStorage.setItem(KEYS, JSON.stringify(stored));
    }
    const params = keyParams(stored.algorithm);
    const accounts = [];
    for (const account of stored.accounts) {
      const key = await crypto.subtle.importKey("jwk", account.privateJwk, params.generate, false, ["sign"]);
      accounts.push({ name: account.name, address: account.address, key, evm: evmAccount(account.evmKey) });
    }
    return new DemoWallet(name, stored.algorithm, accounts);
  }

  constructor(name, algorithm, accounts) {
    this.name = name;
    this.algorithm = algorithm;
    this.accounts = accounts;
    this.ledger = this.#loadLedger();
  }

  #loadLedger() {
    try {
      const ledger = JSON.parse(localStorage.getItem(LEDGER));
      if (ledger && typeof ledger.balances === "object" && Array.isArray(ledger.transactions)) return ledger;
    } catch {
      // Rebuilt below.
    }
    const ledger = { balances: {}, transactions: [], evmTransactions: [] };
    this.accounts.forEach((a, i) => (ledger.balances[a.address] = i === 0 ? 1000 : 250));
    localStorage.setItem(LEDGER, JSON.stringify(ledger));
    return ledger;
  }

  #saveLedger() {
    localStorage.setItem(LEDGER, JSON.stringify(this.ledger));
  }

  /** The selected account's index (0 unless the user picked another). */
  get selected() {
    const i = Number(localStorage.getItem(SELECTED));
    return Number.isInteger(i) && i >= 0 && i < this.accounts.length ? i : 0;
  }

  /** Makes account `i` the one EVM dApps see first; returns the new `eth_accounts`. */
  select(i) {
    localStorage.setItem(SELECTED, String(i));
    return this.evmAddresses();
  }

  /** The EVM addresses, the selected account first (what `eth_accounts` answers). */
  evmAddresses() {
    const selected = this.selected;
    const order = [this.accounts[selected], ...this.accounts.filter((_, i) => i !== selected)];
    return order.map((a) => a.evm.address);
  }

  /** The active EVM chain of `sessionId` (sessions start on Ethereum mainnet). */
  chainOf(sessionId) {
    try {
      const chain = JSON.parse(localStorage.getItem(CHAINS_KEY))?.[sessionId];
      if (CHAINS.includes(chain)) return chain;
    } catch {
      // Unreadable: the default chain.
    }
    return CHAINS[0];
  }

  setChain(sessionId, chain) {
    let chains = {};
    try {
      chains = JSON.parse(localStorage.getItem(CHAINS_KEY)) || {};
    } catch {
      chains = {};
    }
    chains[sessionId] = chain;
    localStorage.setItem(CHAINS_KEY, JSON.stringify(chains));
  }

  /** Forgets the chain of a session that ended. */
  forgetChain(sessionId) {
    try {
      const chains = JSON.parse(localStorage.getItem(CHAINS_KEY)) || {};
      delete chains[sessionId];
      localStorage.setItem(CHAINS_KEY, JSON.stringify(chains));
    } catch {
      localStorage.removeItem(CHAINS_KEY);
    }
  }

  /** The next nonce of `from` on `chain`: how many transactions the ledger holds. */
  evmNonce(from, chain) {
    this.ledger = this.#loadLedger();
    return (this.ledger.evmTransactions ?? []).filter((t) => t.from === from && t.chainId === chain).length;
  }

  recordEvm(transaction) {
    this.ledger = this.#loadLedger();
    (this.ledger.evmTransactions ??= []).push(transaction);
    this.#saveLedger();
  }

  balance(address) {
    return this.ledger.balances[address] ?? 0;
  }

  #account(address) {
    if (typeof address !== "string" || !fromHex(address)) throw new RpcError(INVALID_PARAMS, "account must be a hex address");
    const account = this.accounts.find((a) => a.address === address.toLowerCase());
    if (!account) throw new RpcError(UNAUTHORIZED, "this wallet does not hold that account");
    return account;
  }

  async #sign(account, bytes) {
    return toHex(await crypto.subtle.sign(keyParams(this.algorithm).sign, account.key, bytes));
  }

  /** A one-line description of what a request asks, for the approval prompt. */
  describe(method, params) {
    const name = (address) => this.accounts.find((a) => a.address === address)?.name || "an unknown account";
    const recipient = (address) =>
      this.accounts.find((a) => a.address === address)?.name || (typeof address === "string" ? `${address.slice(0, 8)}…${address.slice(-4)}` : "?");
    switch (method) {
      case "wallet.info":
        return "Read this wallet's name and supported methods.";
      case "accounts.list":
        return "See the addresses of your accounts.";
      case "balances.get":
        return `Read the balance of ${name(params?.account)}.`;
      case "message.sign":
        return `Sign a message with ${name(params?.account)}.`;
      case "transaction.submit":
        return `Send ${params?.amount ?? "?"} unit${params?.amount === 1 ? "" : "s"} from ${name(params?.from)} to ${recipient(params?.to)}.`;
      case "wallet_switchEthereumChain": {
        const id = Array.isArray(params) ? params[0]?.chainId : undefined;
        let chain = null;
        try {
          chain = typeof id === "string" ? Number(BigInt(id)) : null;
        } catch {
          chain = null;
        }
        return `Switch this session to ${chain === null ? "another chain" : chainName(chain)}.`;
      }
      case "personal_sign":
        return `Sign a message with ${this.#evmName(Array.isArray(params) ? params[1] : null)}.`;
      case "eth_signTypedData_v4":
        return `Sign typed data (EIP-712) with ${this.#evmName(Array.isArray(params) ? params[0] : null)}.`;
      case "eth_sendTransaction": {
        const tx = Array.isArray(params) ? params[0] : null;
        return `Sign and send a transaction from ${this.#evmName(tx?.from)} to ${typeof tx?.to === "string" ? `${tx.to.slice(0, 8)}…${tx.to.slice(-4)}` : "a new contract"}.`;
      }
      default:
        return `Call "${method}", which this wallet does not support.`;
    }
  }

  #evmName(address) {
    const lower = typeof address === "string" ? address.toLowerCase() : "";
    return this.accounts.find((a) => a.evm.address.toLowerCase() === lower)?.name || "an unknown account";
  }

  /**
   * Answers one approved request of `sessionId`: `{result, notifications}`, the notifications
   * to send on the session after the answer (`chainChanged`). Throws `RpcError`.
   */
  async answer(method, params, sessionId) {
    if (EVM_METHODS.includes(method)) {
      try {
        return await answerEvm(this, sessionId, method, params);
      } catch (error) {
        if (error instanceof EvmError) throw new RpcError(error.code, error.message);
        throw error;
      }
    }
    return { result: await this.handle(method, params), notifications: [] };
  }

  /** Answers one approved request; throws `RpcError`. */
  async handle(method, params) {
    params = params ?? {};
    switch (method) {
      case "wallet.info":
        return { name: this.name, version: "0.1.0", protocol: 3, methods: METHODS };
      case "accounts.list":
        return {
          accounts: this.accounts.map((a) => ({ address: a.address, publicKey: a.address, name: a.name, keyType: this.algorithm })),
        };
      case "balances.get": {
        if (typeof params.account !== "string" || !fromHex(params.account)) throw new RpcError(INVALID_PARAMS, "account must be a hex address");
        const account = params.account.toLowerCase();
        return { account, balance: this.balance(account) };
      }
      case "message.sign": {
        const account = this.#account(params.account);
        if (typeof params.message !== "string") throw new RpcError(INVALID_PARAMS, "message must be a string");
        const bytes = messageBytes(params.message, params.encoding);
        if (!bytes) throw new RpcError(INVALID_PARAMS, "message is not hex");
        if (bytes.length > 16 * 1024) throw new RpcError(INVALID_PARAMS, "message longer than 16 KiB");
        if (new TextDecoder().decode(bytes.slice(0, TX_DOMAIN.length)) === TX_DOMAIN) {
          throw new RpcError(4001, "refusing to sign a transaction message");
        }
        return { account: account.address, publicKey: account.address, signature: await this.#sign(account, bytes), algorithm: this.algorithm };
      }
      case "transaction.submit": {
        const account = this.#account(params.from);
        if (typeof params.to !== "string" || !fromHex(params.to)) throw new RpcError(INVALID_PARAMS, "to must be a hex address");
        if (!Number.isSafeInteger(params.amount) || params.amount <= 0) throw new RpcError(INVALID_PARAMS, "amount must be a positive integer");
        const balance = this.balance(account.address);
        if (balance < params.amount) throw new RpcError(INSUFFICIENT_BALANCE, `insufficient balance: ${balance} < ${params.amount}`);
        const to = params.to.toLowerCase();
        const nonce = this.ledger.transactions.filter((t) => t.from === account.address).length;
        const timestamp = Date.now();
        const body = `${TX_DOMAIN}${JSON.stringify({ from: account.address, to, amount: params.amount, nonce, timestamp })}`;
        const bytes = new TextEncoder().encode(body);
        const signature = await this.#sign(account, bytes);
        const txId = toHex(await crypto.subtle.digest("SHA-256", bytes));
        this.ledger.balances[account.address] = balance - params.amount;
        this.ledger.balances[to] = this.balance(to) + params.amount;
        this.ledger.transactions.push({ txId, from: account.address, to, amount: params.amount, nonce, timestamp, signature });
        this.#saveLedger();
        return { txId, from: account.address, to, amount: params.amount, nonce, timestamp, signature, balance: this.balance(account.address) };
      }
      default:
        throw new RpcError(METHOD_NOT_FOUND, `method not found: ${String(method).slice(0, 64)}`);
    }
  }
}

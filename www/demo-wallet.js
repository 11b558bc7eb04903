// The wallet behind the wallet page: two accounts with WebCrypto keys (Ed25519, or ECDSA P-256
// where the browser lacks Ed25519), a ledger of balances in localStorage, and the same method
// set and JSON-RPC error codes as the native reference wallet (`wallet/src/api.rs`).

import { ECDSA_P256, ED25519, fromHex, hasEd25519, messageBytes, toHex } from "./signatures.js";

const KEYS = "walletwire-demo-wallet:keys:v1";
const LEDGER = "walletwire-demo-wallet:ledger:v1";
const TX_DOMAIN = "walletwire-demo-tx:";

export const METHODS = ["wallet.info", "accounts.list", "balances.get", "message.sign", "transaction.submit"];

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
  return { name, address: toHex(raw), privateJwk: await crypto.subtle.exportKey("jwk", pair.privateKey) };
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
    }
    const params = keyParams(stored.algorithm);
    const accounts = [];
    for (const account of stored.accounts) {
      const key = await crypto.subtle.importKey("jwk", account.privateJwk, params.generate, false, ["sign"]);
      accounts.push({ name: account.name, address: account.address, key });
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
    const ledger = { balances: {}, transactions: [] };
    this.accounts.forEach((a, i) => (ledger.balances[a.address] = i === 0 ? 1000 : 250));
    localStorage.setItem(LEDGER, JSON.stringify(ledger));
    return ledger;
  }

  #saveLedger() {
    localStorage.setItem(LEDGER, JSON.stringify(this.ledger));
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
      default:
        return `Call "${method}", which this wallet does not support.`;
    }
  }

  /** Answers one approved request; throws `RpcError`. */
  async handle(method, params) {
    params = params ?? {};
    switch (method) {
      case "wallet.info":
        return { name: this.name, version: "0.1.0", protocol: 2, methods: METHODS };
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

// The demo wallet's EVM side: each account also holds a secp256k1 key (viem's local accounts,
// bundled in vendor/evm.js), and the page answers the same EVM methods, params and error codes
// as the native reference wallet (`wallet/src/api/eth.rs`): EIP-55 addresses, EIP-191
// `personal_sign`, EIP-712 `eth_signTypedData_v4`, EIP-1559 `eth_sendTransaction` (signed,
// recorded in the page's ledger, its hash returned; no chain node), and a per-session active
// chain that `wallet_switchEthereumChain` changes, followed by a `chainChanged` notification.

import { generatePrivateKey, hexToBytes, isAddress, isHex, keccak256, numberToHex, privateKeyToAccount } from "./vendor/evm.js";

export const EVM_METHODS = [
  "eth_accounts",
  "eth_requestAccounts",
  "eth_chainId",
  "wallet_switchEthereumChain",
  "personal_sign",
  "eth_signTypedData_v4",
  "eth_sendTransaction",
];

/** Methods answered without a prompt: the session's pairing already showed the accounts. */
export const READ_ONLY = new Set(["eth_accounts", "eth_requestAccounts", "eth_chainId"]);

/** Chains a session can be on: Ethereum mainnet (where sessions start) and Sepolia. */
export const CHAINS = [1, 11155111];
const DEFAULT_CHAIN = 1;
const CHAIN_NAMES = { 1: "Ethereum", 11155111: "Sepolia" };

const INVALID_PARAMS = -32602;
const UNAUTHORIZED = 4100;
const UNRECOGNIZED_CHAIN = 4902;
const MAX_SIGNED_MESSAGE = 16 * 1024;
const DEFAULT_PRIORITY_FEE = 1_000_000_000n;
const DEFAULT_MAX_FEE = 2_000_000_000n;
const TRANSFER_GAS = 21_000n;
const CALL_GAS = 100_000n;
const UINT256 = 2n ** 256n;

export const newEvmKey = generatePrivateKey;

/** The viem account of a stored secp256k1 key. */
export const evmAccount = privateKeyToAccount;

export const chainHex = (chain) => numberToHex(chain);
export const chainName = (chain) => CHAIN_NAMES[chain] || `chain ${chain}`;

function positional(params) {
  if (params === null || params === undefined) return [];
  if (!Array.isArray(params)) throw new EvmError(INVALID_PARAMS, "params must be an array");
  return params;
}

function param(params, index, what) {
  if (index >= params.length) throw new EvmError(INVALID_PARAMS, `missing param ${index}: ${what}`);
  return params[index];
}

/** A hex quantity (`0x…`) or a non-negative safe integer, as a bigint below `limit`. */
function quantity(value, what, limit = UINT256) {
  let n = null;
  if (typeof value === "string" && /^0x[0-9a-fA-F]{1,64}$/.test(value)) n = BigInt(value);
  else if (Number.isSafeInteger(value) && value >= 0) n = BigInt(value);
  if (n === null || n >= limit) throw new EvmError(INVALID_PARAMS, `${what} must be a hex quantity${limit === UINT256 ? "" : " below 2^64"}`);
  return n;
}

const small = (value, what) => quantity(value, what, 2n ** 64n);

/** Thrown with a JSON-RPC code; the page turns it into the request's error. */
export class EvmError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/**
 * Answers one EVM request. `wallet` gives `accounts` (each with `evm`, a viem account),
 * `evmAddresses()` (the selected account first),
 * `chainOf(sessionId)`, `setChain(sessionId, chain)`, `recordEvm(tx)` / `evmNonce(from, chain)`,
 * and optionally `scopesOf(sessionId)` (a scoped session's granted scopes, else null).
 * Returns `{result, notifications}`; notifications go out after the answer.
 */
export async function answerEvm(wallet, sessionId, method, rawParams) {
  const params = positional(rawParams);
  // A scoped session (CAIP-25) is held to the eip155 chains its user granted.
  const granted = wallet.scopesOf?.(sessionId)?.eip155?.chains.map((c) => Number(c.split(":")[1]));
  let chain = wallet.chainOf(sessionId);
  if (granted?.length && !granted.includes(chain)) chain = granted[0];
  const find = (address) => {
    if (typeof address !== "string" || !isAddress(address, { strict: false })) {
      throw new EvmError(INVALID_PARAMS, "expected a 0x-prefixed 20-byte address");
    }
    const account = wallet.accounts.find((a) => a.evm.address.toLowerCase() === address.toLowerCase());
    if (!account) throw new EvmError(UNAUTHORIZED, "this wallet does not hold that account");
    return account.evm;
  };
  switch (method) {
    case "eth_accounts":
    case "eth_requestAccounts":
      return { result: wallet.evmAddresses(), notifications: [] };
    case "eth_chainId":
      return { result: chainHex(chain), notifications: [] };
    case "wallet_switchEthereumChain": {
      const target = param(params, 0, "{chainId}");
      const id = target?.chainId;
      if (typeof id !== "string" || !/^0x[0-9a-fA-F]{1,16}$/.test(id)) throw new EvmError(INVALID_PARAMS, "chainId must be a hex quantity");
      const next = Number(BigInt(id));
      if (!CHAINS.includes(next)) throw new EvmError(UNRECOGNIZED_CHAIN, `unrecognized chain ${chainHex(BigInt(id))}`);
      if (granted && !granted.includes(next)) throw new EvmError(UNRECOGNIZED_CHAIN, `chain ${chainHex(BigInt(id))} is not granted to this session`);
      if (next === chain) return { result: null, notifications: [] };
      wallet.setChain(sessionId, next);
      return { result: null, notifications: [{ method: "chainChanged", params: { chainId: chainHex(next) } }] };
    }
    case "personal_sign": {
      const message = param(params, 0, "message");
      if (typeof message !== "string") throw new EvmError(INVALID_PARAMS, "message must be a string");
      const account = find(param(params, 1, "address"));
      // Hex is the message's bytes; other text is signed as its UTF-8 (as MetaMask does).
      const bytes = isHex(message, { strict: true }) && message.length % 2 === 0 ? hexToBytes(message) : new TextEncoder().encode(message);
      if (bytes.length > MAX_SIGNED_MESSAGE) throw new EvmError(INVALID_PARAMS, "message longer than 16 KiB");
      return { result: await account.signMessage({ message: { raw: bytes } }), notifications: [] };
    }
    case "eth_signTypedData_v4": {
      const account = find(param(params, 0, "address"));
      let data = param(params, 1, "typed data");
      if (typeof data === "string") {
        try {
          data = JSON.parse(data);
        } catch {
          throw new EvmError(INVALID_PARAMS, "typed data is not JSON");
        }
      }
      if (!data || typeof data !== "object" || typeof data.types !== "object" || typeof data.primaryType !== "string") {
        throw new EvmError(INVALID_PARAMS, "typed data needs types, primaryType, domain and message");
      }
      const domainChain = data.domain?.chainId;
      if (domainChain !== undefined && domainChain !== null) {
        let asked;
        try {
          asked = BigInt(domainChain);
        } catch {
          throw new EvmError(INVALID_PARAMS, "domain chainId must be a number");
        }
        if (asked !== BigInt(chain)) throw new EvmError(INVALID_PARAMS, `domain chainId is not the active chain ${chainHex(chain)}`);
      }
      const { EIP712Domain: _domain, ...types } = data.types;
      try {
        return {
          result: await account.signTypedData({ domain: data.domain ?? {}, types, primaryType: data.primaryType, message: data.message ?? {} }),
          notifications: [],
        };
      } catch (error) {
        throw new EvmError(INVALID_PARAMS, `invalid typed data: ${String(error?.shortMessage || error?.message || error).slice(0, 200)}`);
      }
    }
    case "eth_sendTransaction":
      return { result: await sendTransaction(wallet, chain, param(params, 0, "transaction"), find), notifications: [] };
    default:
      throw new EvmError(-32601, `method not found: ${String(method).slice(0, 64)}`);
  }
}

async function sendTransaction(wallet, chain, request, find) {
  if (!request || typeof request !== "object") throw new EvmError(INVALID_PARAMS, "invalid params: the transaction must be an object");
  const account = find(request.from);
  if (request.chainId !== undefined && request.chainId !== null && small(request.chainId, "chainId") !== BigInt(chain)) {
    throw new EvmError(INVALID_PARAMS, `chainId is not the active chain ${chainHex(chain)}`);
  }
  let to;
  if (request.to !== undefined && request.to !== null) {
    if (typeof request.to !== "string" || !isAddress(request.to, { strict: false })) throw new EvmError(INVALID_PARAMS, "expected a 0x-prefixed 20-byte address");
    to = request.to;
  }
  const hexData = request.data ?? request.input;
  if (hexData !== undefined && hexData !== null && (typeof hexData !== "string" || !isHex(hexData, { strict: true }) || hexData.length % 2)) {
    throw new EvmError(INVALID_PARAMS, "data must be 0x-prefixed hex");
  }
  const data = hexData && hexData !== "0x" ? hexData : undefined;
  if (to === undefined && data === undefined) throw new EvmError(INVALID_PARAMS, "a transaction needs a recipient or code");
  const value = request.value === undefined || request.value === null ? 0n : quantity(request.value, "value");
  const dataBytes = data ? (data.length - 2) / 2 : 0;
  const gas =
    request.gas !== undefined && request.gas !== null
      ? small(request.gas, "gas")
      : dataBytes === 0
        ? TRANSFER_GAS
        : TRANSFER_GAS + CALL_GAS + 16n * BigInt(dataBytes);
  const legacy = request.gasPrice === undefined || request.gasPrice === null ? null : quantity(request.gasPrice, "gasPrice");
  const priority = request.maxPriorityFeePerGas != null ? quantity(request.maxPriorityFeePerGas, "maxPriorityFeePerGas") : (legacy ?? DEFAULT_PRIORITY_FEE);
  const maxFee =
    request.maxFeePerGas != null
      ? quantity(request.maxFeePerGas, "maxFeePerGas")
      : (legacy ?? (priority > DEFAULT_MAX_FEE ? priority : DEFAULT_MAX_FEE));
  if (priority > maxFee) throw new EvmError(INVALID_PARAMS, "maxPriorityFeePerGas is above maxFeePerGas");
  const from = account.address;
  const nonce = request.nonce != null ? small(request.nonce, "nonce") : BigInt(wallet.evmNonce(from, chain));
  const raw = await account.signTransaction({
    type: "eip1559",
    chainId: chain,
    nonce: Number(nonce),
    maxPriorityFeePerGas: priority,
    maxFeePerGas: maxFee,
    gas,
    to,
    value,
    data,
  });
  const hash = keccak256(raw);
  wallet.recordEvm({ hash, chainId: chain, from, to: to ?? null, nonce: Number(nonce), value: numberToHex(value), raw, timestamp: Date.now() });
  return hash;
}

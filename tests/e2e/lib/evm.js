// What the EVM tests share: the EIP-712 specification's Mail example and the checks of a
// transaction a wallet recorded, all done with viem (not with walletwire or wallet code).

import assert from "node:assert/strict";
import { keccak256, parseTransaction, recoverTransactionAddress } from "viem";

/** The EIP-712 specification's example typed data. */
export const MAIL = {
  domain: { name: "Ether Mail", version: "1", chainId: 1, verifyingContract: "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC" },
  types: {
    Person: [{ name: "name", type: "string" }, { name: "wallet", type: "address" }],
    Mail: [{ name: "from", type: "Person" }, { name: "to", type: "Person" }, { name: "contents", type: "string" }],
  },
  primaryType: "Mail",
  message: {
    from: { name: "Cow", wallet: "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826" },
    to: { name: "Bob", wallet: "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB" },
    contents: "Hello, Bob!",
  },
};

/** The recipient and value the tests send (0.001 ether). */
export const TRANSFER = { to: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", value: 1_000_000_000_000_000n };

/**
 * Checks the transaction `hash` among a wallet's recorded `evmTransactions`: an EIP-1559
 * transfer of TRANSFER on `chainId`, `hash` = keccak256 of its raw bytes, signed by `from`
 * (viem recovers the sender). Returns the parsed transaction.
 */
export async function checkRecordedTransaction(evmTransactions, hash, { chainId, from }) {
  assert.match(hash, /^0x[0-9a-f]{64}$/);
  const recorded = evmTransactions.find((t) => t.hash === hash);
  assert.ok(recorded, JSON.stringify(evmTransactions));
  assert.equal(keccak256(recorded.raw), hash);
  const parsed = parseTransaction(recorded.raw);
  assert.equal(parsed.type, "eip1559");
  assert.equal(parsed.chainId, chainId);
  assert.equal(parsed.to, TRANSFER.to.toLowerCase());
  assert.equal(parsed.value, TRANSFER.value);
  assert.equal(await recoverTransactionAddress({ serializedTransaction: recorded.raw }), from);
  return parsed;
}

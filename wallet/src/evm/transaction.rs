//! EIP-1559 (type 2) transactions: `0x02 || rlp([chainId, nonce, maxPriorityFeePerGas,
//! maxFeePerGas, gasLimit, to, value, data, accessList, yParity, r, s])`, signed over the
//! Keccak-256 of the same without the last three fields. The hash of a transaction is the
//! Keccak-256 of its signed bytes.

use super::key::EvmKey;
use super::word::{Word, trimmed};
use super::{Address, keccak256, rlp};

/// The EIP-2718 type byte of an EIP-1559 transaction.
const TRANSACTION_TYPE: u8 = 0x02;

/// An unsigned EIP-1559 transaction (no access list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eip1559Transaction {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// The sender's nonce.
    pub nonce: u64,
    /// Tip per gas, in wei.
    pub max_priority_fee_per_gas: Word,
    /// Highest total fee per gas, in wei.
    pub max_fee_per_gas: Word,
    /// Gas limit.
    pub gas: u64,
    /// Recipient; None creates a contract.
    pub to: Option<Address>,
    /// Wei sent.
    pub value: Word,
    /// Call data.
    pub data: Vec<u8>,
}

/// A signed transaction: what `eth_sendRawTransaction` would carry, and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTransaction {
    /// `0x02 || rlp(...)`.
    pub raw: Vec<u8>,
    /// Keccak-256 of `raw`.
    pub hash: [u8; 32],
}

impl Eip1559Transaction {
    fn fields(&self) -> Vec<Vec<u8>> {
        vec![
            rlp::uint(self.chain_id),
            rlp::uint(self.nonce),
            rlp::bytes(trimmed(&self.max_priority_fee_per_gas)),
            rlp::bytes(trimmed(&self.max_fee_per_gas)),
            rlp::uint(self.gas),
            rlp::bytes(self.to.as_ref().map_or(&[][..], |a| &a.0[..])),
            rlp::bytes(trimmed(&self.value)),
            rlp::bytes(&self.data),
            // No access list.
            rlp::list(&[]),
        ]
    }

    fn typed(payload: Vec<u8>) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(payload.len() + 1);
        bytes.push(TRANSACTION_TYPE);
        bytes.extend(payload);
        bytes
    }

    /// The hash the sender signs.
    pub fn signing_hash(&self) -> [u8; 32] {
        keccak256(&Self::typed(rlp::list(&self.fields())))
    }

    /// Signs with `key`.
    pub fn sign(&self, key: &EvmKey) -> SignedTransaction {
        let signature = key.sign_hash(&self.signing_hash());
        let mut fields = self.fields();
        fields.push(rlp::uint(u64::from(signature.y_parity)));
        fields.push(rlp::bytes(trimmed(&signature.r)));
        fields.push(rlp::bytes(trimmed(&signature.s)));
        let raw = Self::typed(rlp::list(&fields));
        SignedTransaction {
            hash: keccak256(&raw),
            raw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evm::to_hex;
    use crate::evm::word::Integer;

    fn word(text: &str) -> Word {
        Integer::parse(text).unwrap().to_uint(256).unwrap()
    }

    /// Expected values made by viem 2.x (`privateKeyToAccount(key).signTransaction(...)` and
    /// `keccak256(raw)`), not by this code: tests/e2e/fixtures/evm-vectors.mjs prints them.
    #[test]
    fn signed_transactions_match_viem() {
        let key = EvmKey::from_secret(&keccak256(b"cow")).unwrap();
        let transfer = Eip1559Transaction {
            chain_id: 1,
            nonce: 0,
            max_priority_fee_per_gas: word("1000000000"),
            max_fee_per_gas: word("2000000000"),
            gas: 21_000,
            to: Address::parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
            value: word("1000000000000000"),
            data: vec![],
        };
        assert_eq!(
            to_hex(&transfer.signing_hash()),
            "0x82d1fc8db4de540868e40b3f5c63ad8c6f8a1f8fb8cb36a6e9c484b5e96fb252"
        );
        let signed = transfer.sign(&key);
        assert_eq!(to_hex(&signed.raw), TRANSFER_RAW);
        assert_eq!(to_hex(&signed.hash), TRANSFER_HASH);
        let call = Eip1559Transaction {
            chain_id: 11_155_111,
            nonce: 7,
            max_priority_fee_per_gas: word("1500000000"),
            max_fee_per_gas: word("30000000000"),
            gas: 100_000,
            to: Address::parse("0x000000000000000000000000000000000000dEaD"),
            value: word("0"),
            data: crate::hex::decode("a9059cbb00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8000000000000000000000000000000000000000000000000000000000000002a").unwrap(),
        };
        let signed = call.sign(&key);
        assert_eq!(to_hex(&signed.raw), CALL_RAW);
        assert_eq!(to_hex(&signed.hash), CALL_HASH);
    }

    const TRANSFER_RAW: &str = "0x02f8710180843b9aca0084773594008252089470997970c51812dc3a010c7d01b50e0d17dc79c887038d7ea4c6800080c001a0f86e3a067e7cbe2f564c182b21309819d74b6457eaad2d0ea626f9e470ec9cf6a064a7de82c397e320fa5fec064b4d21f6e871ff72d04c02c0238567a875d468ba";
    const TRANSFER_HASH: &str =
        "0x3aaeb819a009c64be4d912adcba5d8f24d41bb2bffbac38f799e980093e0e7f6";
    const CALL_RAW: &str = "0x02f8b483aa36a7078459682f008506fc23ac00830186a094000000000000000000000000000000000000dead80b844a9059cbb00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8000000000000000000000000000000000000000000000000000000000000002ac001a0791e65c89ea6772f9989b224b0179133921867ed21c8ff66791e36b7284f2ddda05b29ac1780cfe2b624afee947625680d49a812bed48e7a88c2c60c56539c6d31";
    const CALL_HASH: &str = "0xd4272452309606ef9841e269801c461e25a9de80c78b990ce58b4d9589d0bb8a";
}

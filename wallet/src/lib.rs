//! The native reference wallet of walletwire: a tokio driver for the sans-IO relay core, a
//! sessions file, and a small honest wallet (ed25519 accounts, a local ledger) answered over
//! end-to-end encrypted sessions. The binary `walletwire-wallet` is a thin command line over
//! these modules; the integration tests drive the same modules as a native dApp.
//!
//! * [`driver`]: one WebSocket to the relay, timers and storage for a
//!   [`walletwire::relay::hub::Hub`];
//! * [`store`]: the JSON sessions file (atomic writes);
//! * [`keys`], [`ledger`], [`api`]: the wallet and the methods it answers;
//! * [`evm`]: secp256k1 keys, EIP-191 / EIP-712 signing and EIP-1559 transactions;
//! * [`serve`]: the wallet's run loop and its machine-readable output lines;
//! * [`demo`]: both peers in one process over the in-memory relay.
#![forbid(unsafe_code)]

pub mod api;
pub mod daemon;
pub mod demo;
pub mod driver;
pub mod evm;
pub mod hex;
pub mod keys;
pub mod ledger;
pub mod serve;
pub mod store;
pub mod system;

//! The browser side (wasm32 only): a WebSocket, timer and storage driver around the
//! sans-IO [`Hub`](crate::relay::hub::Hub), and the JavaScript classes `DappClient` and
//! `WalletClient`. Every class method delegates to the driver in a line or two.

#[cfg(feature = "bench")]
mod bench;
mod dapp;
mod direct;
mod driver;
mod endpoint;
mod error;
mod js;
mod storage;
mod typescript;
mod wallet;

pub use dapp::DappClient;
pub use direct::{WalletDaemonConnector, parse_direct_link, qr_svg};
pub use wallet::WalletClient;

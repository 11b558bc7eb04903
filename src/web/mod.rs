//! The browser side (wasm32 only). Each npm entry is one wasm build with one cargo feature:
//!
//! * `dapp` (`walletwire`): `DappClient` and `qrSvg`;
//! * `wallet` (`walletwire/wallet`): `WalletClient`;
//! * `direct` (`walletwire/direct`): `WalletDaemonConnector`, `parseDirectLink` and `qrSvg`.
//!
//! The relay clients share a WebSocket, timer and storage driver around the sans-IO
//! [`Hub`](crate::relay::hub::Hub). Every class method delegates to its driver in a line or
//! two.

#[cfg(feature = "bench")]
mod bench;
#[cfg(feature = "dapp")]
mod dapp;
#[cfg(feature = "direct")]
mod direct;
#[cfg(any(feature = "dapp", feature = "wallet"))]
mod driver;
#[cfg(any(feature = "dapp", feature = "wallet"))]
mod endpoint;
mod error;
mod events;
mod js;
#[cfg(any(feature = "dapp", feature = "direct"))]
mod qr;
#[cfg(any(feature = "dapp", feature = "wallet"))]
mod storage;
#[cfg(any(feature = "dapp", feature = "wallet"))]
mod tabs;
mod typescript;
#[cfg(feature = "wallet")]
mod wallet;

#[cfg(feature = "dapp")]
pub use dapp::DappClient;
#[cfg(feature = "direct")]
pub use direct::{WalletDaemonConnector, parse_direct_link};
#[cfg(any(feature = "dapp", feature = "direct"))]
pub use qr::qr_svg;
#[cfg(feature = "wallet")]
pub use wallet::WalletClient;

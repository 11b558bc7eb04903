//! Shared harness code of the walletwire fuzz targets (`fuzz_targets/*.rs`) and of the seed
//! generator (`examples/seeds.rs`).
//!
//! * [`SplitMix`]: deterministic randomness, so every input replays the same way;
//! * [`input`]: the input format of the structured targets, and its encoder;
//! * [`check`]: invariants shared by several targets (stored records round-trip, timers make
//!   progress);
//! * [`pair`]: a dApp and a wallet over [`walletwire::loopback::LoopbackRelay`] whose
//!   deliveries the fuzzer controls (drop, duplicate, reorder, reload, restart the relay);
//! * [`relay_server`]: the real relay (`walletwire-server`) served over in-memory pipes;
//! * [`signaling`]: the real signaling server's routes called in-process;
//! * [`seeds`]: valid inputs for every target, from real encodings;
//! * [`targets`]: the targets themselves (`fuzz_targets/*.rs` call their `run`).
#![forbid(unsafe_code)]

pub mod check;
pub mod input;
pub mod pair;
pub mod relay_server;
pub mod seeds;
pub mod signaling;
pub mod targets;

use walletwire::crypto::RandomSource;
use walletwire::protocol::{DappOptions, Metadata, Mode, WalletOptions};

/// Simulated start time (Unix ms) of every stateful target.
pub const T0: u64 = 1_700_000_000_000;
/// Relay URL written into session requests (never dialled).
pub const RELAY_URL: &str = "ws://127.0.0.1:8000/connection/websocket";

/// SplitMix64: deterministic, fast, good enough for keys nobody attacks.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Boxed, for the connection constructors.
    pub fn boxed(seed: u64) -> Box<dyn RandomSource> {
        Box::new(Self::new(seed))
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl RandomSource for SplitMix {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

thread_local! {
    /// One runtime per thread, reused by every input (building one cost as much as a short
    /// input). Current-thread, with a clock that only moves when every task waits, so
    /// timeouts cost no wall time and inputs replay the same way.
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a tokio runtime");
}

/// Runs `future` to completion on this thread's runtime. Nothing carries over between inputs:
/// each builds a fresh relay or signaling server, and closes and awaits every connection
/// before its future ends. A gone relay's broker sweeper ends when its broker drops (it used
/// to wait for its next tick, which the paused clock never reached: one task per input).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    RUNTIME.with(|runtime| runtime.block_on(future))
}

/// The dApp settings every target uses.
pub fn dapp_options(mode: Mode) -> DappOptions {
    let mut options = DappOptions::new(
        RELAY_URL,
        Metadata {
            name: "Fuzz dApp".into(),
            url: Some("https://dapp.example".into()),
            icon: None,
        },
    );
    options.mode = mode;
    options
}

/// The wallet settings every target uses.
pub fn wallet_options() -> WalletOptions {
    WalletOptions::new(Metadata {
        name: "Fuzz Wallet".into(),
        url: None,
        icon: None,
    })
}

/// A lowercase UUID v4 made from fuzzer bytes (a valid channel id).
pub fn uuid_from(bytes: [u8; 16]) -> String {
    struct Fixed([u8; 16]);
    impl RandomSource for Fixed {
        fn fill(&mut self, buf: &mut [u8]) {
            buf.copy_from_slice(&self.0[..buf.len()]);
        }
    }
    walletwire::protocol::random_uuid(&mut Fixed(bytes))
}

/// Prints the decoded ops of a structured target's input (for reading crash artifacts).
pub fn describe(target: &str, data: &[u8]) -> String {
    match target {
        "offer" => format!("{:#?}", targets::offer::decode(data)),
        "frame" => format!("{:#?}", targets::frame::decode(data)),
        "pair_ops" => format!("{:#?}", targets::pair_ops::decode(data)),
        "relay_replies" => format!("{:#?}", targets::relay_replies::decode(data)),
        "signaling_request" => format!("{:#?}", targets::signaling_request::decode(data)),
        _ => format!("{:?}", String::from_utf8_lossy(data)),
    }
}

//! One module per fuzz target; each `run` takes the raw input. `fuzz_targets/<name>.rs` only
//! hands libFuzzer's input to `targets::<name>::run`, and the seed generator runs every seed
//! through the same function.

pub mod channel_message;
pub mod frame;
pub mod offer;
pub mod pair_ops;
pub mod record;
pub mod relay_client_frames;
pub mod relay_replies;
pub mod session_request;
pub mod signaling_request;

/// A target's entry point.
pub type Run = fn(&[u8]);

/// Every target by name, for the seed generator.
pub const ALL: &[(&str, Run)] = &[
    ("session_request", session_request::run),
    ("offer", offer::run),
    ("frame", frame::run),
    ("record", record::run),
    ("relay_client_frames", relay_client_frames::run),
    ("relay_replies", relay_replies::run),
    ("signaling_request", signaling_request::run),
    ("channel_message", channel_message::run),
    ("pair_ops", pair_ops::run),
];

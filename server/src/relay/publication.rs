//! A publication as the relay stores and delivers it: the leaf both the brokers (which store
//! it) and the hub (which pushes it to subscribers) build on, so neither imports the other for
//! it.

use serde_json::value::RawValue;

/// A publication as stored in history.
#[derive(Debug)]
pub struct StoredPublication {
    /// Position in the channel stream (first is 1).
    pub offset: u64,
    /// The publisher's JSON payload.
    pub data: Box<RawValue>,
}

//! Invariants several targets share.

use walletwire::protocol::{Record, RecordError};

/// A record the core asked to store must read back as itself, under its own key: otherwise
/// a reload would lose the session (or resume something else).
pub fn stored_record(key: &str, record: &str, now: u64) {
    match Record::decode(record, now) {
        Ok(decoded) => {
            assert_eq!(
                decoded.encode(),
                record,
                "a stored record re-encodes identically"
            );
            assert_eq!(
                decoded.key(),
                key,
                "a stored record lives under its own key"
            );
        }
        // A wallet may store its record after the ack deadline passed, before its timer
        // fires; the record then reads as expired, which is what it is.
        Err(RecordError::Expired) => {}
        Err(error) => panic!("the core stored a record it cannot read ({error}): {record}"),
    }
}

/// After `handle_timeout(fired_at)`, the next deadline must lie in the future: a deadline at
/// or before `fired_at` makes every driver call `handle_timeout` again at once, forever.
pub fn timer_progress(what: &str, fired_at: u64, next: Option<u64>) {
    if let Some(next) = next {
        assert!(
            next > fired_at,
            "{what}: after handle_timeout({fired_at}) poll_timeout is {next}: the driver would spin"
        );
    }
}

/// True if `value` holds a number that is not an integer. serde_json (without its
/// `float_roundtrip` feature, as walletwire builds it) may read a printed float back one unit
/// in the last place off, so round-trip equality is only asserted for values without floats.
pub fn has_float(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Number(n) => n.is_f64(),
        serde_json::Value::Array(items) => items.iter().any(has_float),
        serde_json::Value::Object(map) => map.values().any(has_float),
        _ => false,
    }
}

//! What the signaling server remembers per login: one offer and one answer (SDP strings) and
//! the candidates of each side, until the login's token expires.
//!
//! Memory is bounded three ways: entries expire with their token (swept periodically and on
//! access), there is a cap on entries, and a cap on the bytes of SDP and candidates held in
//! total; each SDP, candidate and candidate list has its own cap (see
//! [`walletwire::direct::signaling`]).

use std::collections::HashMap;

use serde_json::Value;
use walletwire::direct::signaling::{MAX_CANDIDATE_LEN, MAX_CANDIDATES, MAX_SDP_LEN, codes};

/// Which side of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The dApp.
    Offer,
    /// The wallet daemon.
    Answer,
}

#[derive(Debug, Default)]
struct Half {
    sdp: Option<String>,
    candidates: Vec<Value>,
}

#[derive(Debug)]
struct Entry {
    offer: Half,
    answer: Half,
    /// Unix seconds.
    expires_at: u64,
    bytes: usize,
}

impl Entry {
    fn half(&mut self, side: Side) -> &mut Half {
        match side {
            Side::Offer => &mut self.offer,
            Side::Answer => &mut self.answer,
        }
    }
}

/// A refused store operation: a JSON-RPC code and message.
pub type Refusal = (i64, &'static str);

/// Every entry, with the totals the caps apply to.
#[derive(Debug)]
pub struct Store {
    entries: HashMap<u64, Entry>,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
}

impl Store {
    /// Empty, with the caps.
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            entries: HashMap::new(),
            bytes: 0,
            max_entries,
            max_bytes,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Drops entries expired at `now` (Unix seconds).
    pub fn sweep(&mut self, now: u64) {
        let bytes = &mut self.bytes;
        self.entries.retain(|_, entry| {
            let keep = entry.expires_at > now;
            if !keep {
                *bytes -= entry.bytes;
            }
            keep
        });
    }

    fn entry(&mut self, id: u64, expires_at: u64, now: u64) -> Result<&mut Entry, Refusal> {
        if self.entries.get(&id).is_some_and(|e| e.expires_at <= now) {
            self.remove(id);
        }
        if !self.entries.contains_key(&id) && self.entries.len() >= self.max_entries {
            self.sweep(now);
            if self.entries.len() >= self.max_entries {
                return Err((codes::FULL, "signaling server full, retry later"));
            }
        }
        Ok(self.entries.entry(id).or_insert_with(|| Entry {
            offer: Half::default(),
            answer: Half::default(),
            expires_at,
            bytes: 0,
        }))
    }

    fn remove(&mut self, id: u64) {
        if let Some(entry) = self.entries.remove(&id) {
            self.bytes -= entry.bytes;
        }
    }

    /// Stores (or replaces) the SDP of `side`.
    pub fn set_sdp(
        &mut self,
        id: u64,
        expires_at: u64,
        now: u64,
        side: Side,
        sdp: String,
    ) -> Result<(), Refusal> {
        if sdp.is_empty() || sdp.len() > MAX_SDP_LEN {
            return Err((codes::TOO_LARGE, "an SDP is 1 byte to 32 KiB"));
        }
        self.entry(id, expires_at, now)?;
        let old = self.sdp_len(id, side);
        if self.bytes - old + sdp.len() > self.max_bytes {
            return Err((codes::FULL, "signaling server full, retry later"));
        }
        self.bytes = self.bytes - old + sdp.len();
        // `entry` above created it or found it live.
        let entry = self.entries.get_mut(&id).expect("entry exists");
        entry.bytes = entry.bytes - old + sdp.len();
        entry.half(side).sdp = Some(sdp);
        Ok(())
    }

    /// Appends a candidate of `side`.
    pub fn add_candidate(
        &mut self,
        id: u64,
        expires_at: u64,
        now: u64,
        side: Side,
        candidate: Value,
    ) -> Result<(), Refusal> {
        let size = candidate.to_string().len();
        if size > MAX_CANDIDATE_LEN {
            return Err((codes::TOO_LARGE, "a candidate is at most 2 KiB"));
        }
        if self.bytes + size > self.max_bytes {
            self.sweep(now);
            if self.bytes + size > self.max_bytes {
                return Err((codes::FULL, "signaling server full, retry later"));
            }
        }
        let entry = self.entry(id, expires_at, now)?;
        let half = entry.half(side);
        if half.candidates.len() >= MAX_CANDIDATES {
            return Err((codes::TOO_LARGE, "at most 64 candidates per side"));
        }
        half.candidates.push(candidate);
        entry.bytes += size;
        self.bytes += size;
        Ok(())
    }

    /// The SDP of `side`, if posted and not expired.
    pub fn sdp(&self, id: u64, now: u64, side: Side) -> Option<String> {
        let entry = self.live(id, now)?;
        match side {
            Side::Offer => entry.offer.sdp.clone(),
            Side::Answer => entry.answer.sdp.clone(),
        }
    }

    /// The candidates of `side` (empty when none were posted).
    pub fn candidates(&self, id: u64, now: u64, side: Side) -> Vec<Value> {
        self.live(id, now)
            .map(|entry| match side {
                Side::Offer => entry.offer.candidates.clone(),
                Side::Answer => entry.answer.candidates.clone(),
            })
            .unwrap_or_default()
    }

    fn sdp_len(&self, id: u64, side: Side) -> usize {
        let half = self.entries.get(&id).map(|e| match side {
            Side::Offer => &e.offer,
            Side::Answer => &e.answer,
        });
        half.and_then(|h| h.sdp.as_ref()).map_or(0, String::len)
    }

    fn live(&self, id: u64, now: u64) -> Option<&Entry> {
        self.entries.get(&id).filter(|e| e.expires_at > now)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn caps_and_expiry() {
        let mut store = Store::new(2, 100);
        store
            .set_sdp(1, 10, 0, Side::Offer, "a".repeat(40))
            .unwrap();
        store
            .set_sdp(1, 10, 0, Side::Offer, "b".repeat(50))
            .unwrap();
        assert_eq!(store.bytes(), 50);
        store
            .add_candidate(2, 20, 0, Side::Answer, json!({"candidate": "x"}))
            .unwrap();
        assert_eq!(
            store
                .set_sdp(3, 10, 0, Side::Offer, "c".into())
                .unwrap_err()
                .0,
            codes::FULL
        );
        assert_eq!(
            store
                .set_sdp(1, 10, 0, Side::Answer, "d".repeat(60))
                .unwrap_err()
                .0,
            codes::FULL
        );
        assert_eq!(store.sdp(1, 9, Side::Offer).unwrap().len(), 50);
        assert_eq!(store.sdp(1, 10, Side::Offer), None);
        // Entry 1 expired at 10: room for entry 3 now.
        store.set_sdp(3, 30, 10, Side::Offer, "c".into()).unwrap();
        assert_eq!(store.len(), 2);
        store.sweep(30);
        assert_eq!((store.len(), store.bytes()), (0, 0));
    }

    #[test]
    fn candidate_limits() {
        let mut store = Store::new(10, 1 << 20);
        for _ in 0..MAX_CANDIDATES {
            store
                .add_candidate(1, 10, 0, Side::Offer, json!({"candidate": "c"}))
                .unwrap();
        }
        assert_eq!(
            store
                .add_candidate(1, 10, 0, Side::Offer, json!({"candidate": "c"}))
                .unwrap_err()
                .0,
            codes::TOO_LARGE
        );
        let big = json!({"candidate": "x".repeat(MAX_CANDIDATE_LEN)});
        assert!(store.add_candidate(1, 10, 0, Side::Answer, big).is_err());
        assert_eq!(store.candidates(1, 0, Side::Offer).len(), MAX_CANDIDATES);
        assert!(store.candidates(1, 0, Side::Answer).is_empty());
    }
}

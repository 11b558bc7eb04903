//! What the signaling server remembers per login: one offer and one answer (SDP strings) and
//! the candidates of each side, until the login's token expires.
//!
//! Memory is bounded four ways: entries expire with their token (swept periodically and on
//! access), there is a cap on entries in total and one per client address (the address that
//! created the entry; IPv6 grouped by /64), and a cap on the bytes of SDP and candidates held
//! in total; each SDP, candidate and candidate list has its own cap (see
//! [`walletwire::direct::signaling`]). Entries are keyed by the login token's random 128-bit
//! id (`jti`).

use std::collections::HashMap;
use std::net::IpAddr;

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
    /// The (grouped) address that created the entry.
    owner: IpAddr,
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
    entries: HashMap<u128, Entry>,
    /// Entries per owner address.
    owners: HashMap<IpAddr, usize>,
    bytes: usize,
    max_entries: usize,
    max_per_address: usize,
    max_bytes: usize,
}

impl Store {
    /// Empty, with the caps.
    pub fn new(max_entries: usize, max_per_address: usize, max_bytes: usize) -> Self {
        Self {
            entries: HashMap::new(),
            owners: HashMap::new(),
            bytes: 0,
            max_entries,
            max_per_address,
            max_bytes,
        }
    }

    /// Number of client addresses holding entries.
    pub fn addresses(&self) -> usize {
        self.owners.len()
    }

    fn disown(owners: &mut HashMap<IpAddr, usize>, owner: IpAddr) {
        if let Some(count) = owners.get_mut(&owner) {
            *count -= 1;
            if *count == 0 {
                owners.remove(&owner);
            }
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
        let (bytes, owners) = (&mut self.bytes, &mut self.owners);
        self.entries.retain(|_, entry| {
            let keep = entry.expires_at > now;
            if !keep {
                *bytes -= entry.bytes;
                Self::disown(owners, entry.owner);
            }
            keep
        });
    }

    fn entry(
        &mut self,
        id: u128,
        expires_at: u64,
        now: u64,
        owner: IpAddr,
    ) -> Result<&mut Entry, Refusal> {
        if self.entries.get(&id).is_some_and(|e| e.expires_at <= now) {
            self.remove(id);
        }
        if !self.entries.contains_key(&id) {
            let owned = |store: &Self| store.owners.get(&owner).copied().unwrap_or(0);
            if self.entries.len() >= self.max_entries || owned(self) >= self.max_per_address {
                self.sweep(now);
            }
            if self.entries.len() >= self.max_entries {
                return Err((codes::FULL, "signaling server full, retry later"));
            }
            if owned(self) >= self.max_per_address {
                return Err((
                    codes::FULL,
                    "too many logins with stored data from this address, retry later",
                ));
            }
            *self.owners.entry(owner).or_default() += 1;
        }
        Ok(self.entries.entry(id).or_insert_with(|| Entry {
            offer: Half::default(),
            answer: Half::default(),
            expires_at,
            bytes: 0,
            owner,
        }))
    }

    fn remove(&mut self, id: u128) {
        if let Some(entry) = self.entries.remove(&id) {
            self.bytes -= entry.bytes;
            Self::disown(&mut self.owners, entry.owner);
        }
    }

    /// Stores (or replaces) the SDP of `side`.
    pub fn set_sdp(
        &mut self,
        id: u128,
        expires_at: u64,
        now: u64,
        side: Side,
        sdp: String,
        owner: IpAddr,
    ) -> Result<(), Refusal> {
        if sdp.is_empty() || sdp.len() > MAX_SDP_LEN {
            return Err((codes::TOO_LARGE, "an SDP is 1 byte to 32 KiB"));
        }
        self.entry(id, expires_at, now, owner)?;
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
        id: u128,
        expires_at: u64,
        now: u64,
        side: Side,
        candidate: Value,
        owner: IpAddr,
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
        let entry = self.entry(id, expires_at, now, owner)?;
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
    pub fn sdp(&self, id: u128, now: u64, side: Side) -> Option<String> {
        let entry = self.live(id, now)?;
        match side {
            Side::Offer => entry.offer.sdp.clone(),
            Side::Answer => entry.answer.sdp.clone(),
        }
    }

    /// The candidates of `side` (empty when none were posted).
    pub fn candidates(&self, id: u128, now: u64, side: Side) -> Vec<Value> {
        self.live(id, now)
            .map(|entry| match side {
                Side::Offer => entry.offer.candidates.clone(),
                Side::Answer => entry.answer.candidates.clone(),
            })
            .unwrap_or_default()
    }

    fn sdp_len(&self, id: u128, side: Side) -> usize {
        let half = self.entries.get(&id).map(|e| match side {
            Side::Offer => &e.offer,
            Side::Answer => &e.answer,
        });
        half.and_then(|h| h.sdp.as_ref()).map_or(0, String::len)
    }

    fn live(&self, id: u128, now: u64) -> Option<&Entry> {
        self.entries.get(&id).filter(|e| e.expires_at > now)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const HERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn caps_and_expiry() {
        let mut store = Store::new(2, 2, 100);
        store
            .set_sdp(1, 10, 0, Side::Offer, "a".repeat(40), HERE)
            .unwrap();
        store
            .set_sdp(1, 10, 0, Side::Offer, "b".repeat(50), HERE)
            .unwrap();
        assert_eq!(store.bytes(), 50);
        store
            .add_candidate(2, 20, 0, Side::Answer, json!({"candidate": "x"}), HERE)
            .unwrap();
        assert_eq!(
            store
                .set_sdp(3, 10, 0, Side::Offer, "c".into(), HERE)
                .unwrap_err()
                .0,
            codes::FULL
        );
        assert_eq!(
            store
                .set_sdp(1, 10, 0, Side::Answer, "d".repeat(60), HERE)
                .unwrap_err()
                .0,
            codes::FULL
        );
        assert_eq!(store.sdp(1, 9, Side::Offer).unwrap().len(), 50);
        assert_eq!(store.sdp(1, 10, Side::Offer), None);
        // Entry 1 expired at 10: room for entry 3 now.
        store
            .set_sdp(3, 30, 10, Side::Offer, "c".into(), HERE)
            .unwrap();
        assert_eq!(store.len(), 2);
        store.sweep(30);
        assert_eq!((store.len(), store.bytes()), (0, 0));
    }

    #[test]
    fn candidate_limits() {
        let mut store = Store::new(10, 10, 1 << 20);
        for _ in 0..MAX_CANDIDATES {
            store
                .add_candidate(1, 10, 0, Side::Offer, json!({"candidate": "c"}), HERE)
                .unwrap();
        }
        assert_eq!(
            store
                .add_candidate(1, 10, 0, Side::Offer, json!({"candidate": "c"}), HERE)
                .unwrap_err()
                .0,
            codes::TOO_LARGE
        );
        let big = json!({"candidate": "x".repeat(MAX_CANDIDATE_LEN)});
        assert!(
            store
                .add_candidate(1, 10, 0, Side::Answer, big, HERE)
                .is_err()
        );
        assert_eq!(store.candidates(1, 0, Side::Offer).len(), MAX_CANDIDATES);
        assert!(store.candidates(1, 0, Side::Answer).is_empty());
    }

    #[test]
    fn attack_one_address_cannot_fill_the_store() {
        let mut store = Store::new(100, 3, 1 << 20);
        let other = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));
        for id in 0..3 {
            store
                .set_sdp(id, 10, 0, Side::Offer, "a".into(), HERE)
                .unwrap();
        }
        let refused = store
            .set_sdp(3, 10, 0, Side::Offer, "a".into(), HERE)
            .unwrap_err();
        assert_eq!(refused.0, codes::FULL);
        assert!(refused.1.contains("this address"));
        // An existing entry of that address still takes data; another address is unaffected.
        store
            .add_candidate(0, 10, 0, Side::Answer, json!({"candidate": "c"}), other)
            .unwrap();
        store
            .set_sdp(4, 10, 0, Side::Offer, "a".into(), other)
            .unwrap();
        assert_eq!((store.len(), store.addresses()), (4, 2));
        // Expiry gives the address its quota back.
        store
            .set_sdp(5, 20, 10, Side::Offer, "a".into(), HERE)
            .unwrap();
        store.sweep(20);
        assert_eq!((store.len(), store.addresses()), (0, 0));
    }
}

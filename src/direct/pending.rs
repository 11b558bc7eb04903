//! The dApp's outstanding data-channel calls: increasing ids from 0 (`get.token`), one
//! deadline each, a cap on how many may wait.

use std::collections::BTreeMap;

use super::Error;

/// Default cap on calls awaiting answers.
pub const MAX_PENDING: usize = 256;

/// Ids and deadlines (Unix ms) of calls awaiting answers.
#[derive(Debug)]
pub struct Pending {
    next_id: u64,
    deadlines: BTreeMap<u64, u64>,
    max: usize,
}

impl Default for Pending {
    fn default() -> Self {
        Self::new(MAX_PENDING)
    }
}

impl Pending {
    /// Empty, ids from 0, at most `max` waiting.
    pub fn new(max: usize) -> Self {
        Self {
            next_id: 0,
            deadlines: BTreeMap::new(),
            max,
        }
    }

    /// Allocates the next id for a call due by `now + timeout_ms`.
    pub fn start(&mut self, now: u64, timeout_ms: u64) -> Result<u64, Error> {
        if self.deadlines.len() >= self.max {
            return Err(Error::TooManyPending);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.deadlines.insert(id, now.saturating_add(timeout_ms));
        Ok(id)
    }

    /// True if `id` was waiting (and is now settled). Late or unknown answers return false.
    pub fn settle(&mut self, id: u64) -> bool {
        self.deadlines.remove(&id).is_some()
    }

    /// Removes and returns the calls due at or before `now`.
    pub fn expire(&mut self, now: u64) -> Vec<u64> {
        let due: Vec<u64> = self
            .deadlines
            .iter()
            .filter(|(_, deadline)| **deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in &due {
            self.deadlines.remove(id);
        }
        due
    }

    /// Removes and returns every waiting call (the channel closed).
    pub fn drain(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.deadlines).into_keys().collect()
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<u64> {
        self.deadlines.values().min().copied()
    }

    /// How many calls wait.
    pub fn len(&self) -> usize {
        self.deadlines.len()
    }

    /// True if none waits.
    pub fn is_empty(&self) -> bool {
        self.deadlines.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_zero_deadlines_and_cap() {
        let mut p = Pending::new(2);
        assert_eq!(p.start(0, 100).unwrap(), 0);
        assert_eq!(p.start(0, 50).unwrap(), 1);
        assert_eq!(p.start(0, 1), Err(Error::TooManyPending));
        assert_eq!(p.next_deadline(), Some(50));
        assert_eq!(p.expire(50), vec![1]);
        assert!(!p.settle(1));
        assert!(p.settle(0));
        assert!(p.is_empty());
        assert_eq!(p.start(0, 1).unwrap(), 2);
        assert_eq!(p.drain(), vec![2]);
    }
}

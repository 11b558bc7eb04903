//! The dApp's outstanding data-channel calls: increasing ids from 0 (`get.token`), one
//! deadline each, a cap on how many may wait. The bookkeeping is the relay flow's
//! [`Correlation`]; this adds the cap the data channel needs.

use super::Error;
use crate::protocol::Correlation;

/// Default cap on calls awaiting answers.
pub const MAX_PENDING: usize = 256;

/// Ids and deadlines (Unix ms) of calls awaiting answers.
#[derive(Debug)]
pub struct Pending {
    calls: Correlation,
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
            calls: Correlation::default(),
            max,
        }
    }

    /// Allocates the next id for a call due by `now + timeout_ms`.
    pub fn start(&mut self, now: u64, timeout_ms: u64) -> Result<u64, Error> {
        if self.calls.pending() >= self.max {
            return Err(Error::TooManyPending);
        }
        Ok(self.calls.start(now.saturating_add(timeout_ms)))
    }

    /// True if `id` was waiting (and is now settled). Late or unknown answers return false.
    pub fn settle(&mut self, id: u64) -> bool {
        self.calls.settle(id)
    }

    /// Removes and returns the calls due at or before `now`.
    pub fn expire(&mut self, now: u64) -> Vec<u64> {
        self.calls.expire(now)
    }

    /// Removes and returns every waiting call (the channel closed).
    pub fn drain(&mut self) -> Vec<u64> {
        self.calls.drain()
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<u64> {
        self.calls.next_deadline()
    }

    /// How many calls wait.
    pub fn len(&self) -> usize {
        self.calls.pending()
    }

    /// True if none waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

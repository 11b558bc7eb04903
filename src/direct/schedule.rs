//! When the dApp polls the signaling server for the daemon's answer: fast at first (the
//! daemon usually answers within a second of `webrtc.start`), then every 2 s as the original
//! connector did, until an overall deadline.

/// Poll delays and the overall timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollOptions {
    /// The first delay.
    pub initial_ms: u64,
    /// The delay doubles up to this.
    pub max_ms: u64,
    /// Give up this long after the first poll was scheduled.
    pub timeout_ms: u64,
}

impl Default for PollOptions {
    /// 250 ms, 500 ms, 1 s, 2 s, 2 s, ... for up to 5 minutes (the user has to carry the
    /// link to the wallet and accept).
    fn default() -> Self {
        Self {
            initial_ms: 250,
            max_ms: 2_000,
            timeout_ms: 300_000,
        }
    }
}

/// The state of one polling run.
#[derive(Debug, Clone)]
pub struct PollSchedule {
    options: PollOptions,
    deadline: u64,
    next_delay: u64,
}

impl PollSchedule {
    /// Starts at `now`.
    pub fn new(options: PollOptions, now: u64) -> Self {
        let initial = options.initial_ms.max(1);
        Self {
            deadline: now.saturating_add(options.timeout_ms),
            next_delay: initial.min(options.max_ms.max(1)),
            options,
        }
    }

    /// The overall deadline (Unix ms).
    pub fn deadline(&self) -> u64 {
        self.deadline
    }

    /// True once `now` is at or past the deadline.
    pub fn expired(&self, now: u64) -> bool {
        now >= self.deadline
    }

    /// How long to wait before the next poll, or `None` when the deadline has passed. The
    /// last wait is cut to end at the deadline, so the final poll happens just in time.
    pub fn next_delay(&mut self, now: u64) -> Option<u64> {
        if self.expired(now) {
            return None;
        }
        let delay = self.next_delay.min(self.deadline - now);
        self.next_delay = self
            .next_delay
            .saturating_mul(2)
            .min(self.options.max_ms.max(1));
        Some(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_to_two_seconds_then_stops() {
        let mut s = PollSchedule::new(PollOptions::default(), 1_000);
        let delays: Vec<u64> = (0..6).map(|_| s.next_delay(1_000).unwrap()).collect();
        assert_eq!(delays, vec![250, 500, 1_000, 2_000, 2_000, 2_000]);
        assert_eq!(s.next_delay(300_000), Some(1_000));
        assert_eq!(s.next_delay(301_000), None);
    }

    #[test]
    fn configurable() {
        let options = PollOptions {
            initial_ms: 2_000,
            max_ms: 2_000,
            timeout_ms: 5_000,
        };
        let mut s = PollSchedule::new(options, 0);
        assert_eq!(s.next_delay(0), Some(2_000));
        assert_eq!(s.next_delay(4_000), Some(1_000));
        assert!(s.expired(5_000));
    }
}

//! Request/response correlation: ids, deadlines, and which incoming requests still owe an
//! answer. Shared by relay sessions and the direct flow's data channel.

use crate::sorted::SortedMap;

/// Most incoming requests remembered as unanswered; beyond it the oldest is forgotten (its
/// late response is then refused as unknown rather than growing memory).
const MAX_INCOMING: usize = 1024;

/// Outgoing requests awaiting responses and incoming requests awaiting our answer.
#[derive(Debug, Default)]
pub struct Correlation {
    next_id: u64,
    /// Our request id → deadline (Unix ms).
    outgoing: SortedMap<u64, u64>,
    /// The peer's request ids we have not answered yet.
    incoming: SortedMap<u64, ()>,
    /// After [`Correlation::adopt`]: ids below this were sent before we resumed, by another
    /// instance of this session; their responses are accepted once each.
    adopted_below: u64,
    /// Adopted ids already answered.
    adopted_done: SortedMap<u64, ()>,
}

impl Correlation {
    /// Starts from `next_id` (continues ids across reloads so the peer never sees a reuse).
    pub fn starting_at(next_id: u64) -> Self {
        Self {
            next_id,
            ..Self::default()
        }
    }

    /// Next id to hand out.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// Number of requests awaiting a response.
    pub fn pending(&self) -> usize {
        self.outgoing.len()
    }

    /// Allocates an id for a request that times out at `deadline`.
    pub fn start(&mut self, deadline: u64) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.outgoing.insert(id, deadline);
        id
    }

    /// Forgets a request whose send failed before it reached the wire.
    pub fn abandon(&mut self, id: u64) {
        self.outgoing.remove(&id);
    }

    /// Takes over the requests an earlier instance of this session sent (the last
    /// 1024 ids before [`Correlation::next_id`]): their responses settle once each,
    /// for the caller to route to whoever made them (another browser tab).
    pub fn adopt(&mut self) {
        self.adopted_below = self.next_id;
    }

    /// True if `id` was pending (and is now settled), or is an adopted id answered for the
    /// first time.
    pub fn settle(&mut self, id: u64) -> bool {
        if self.outgoing.remove(&id).is_some() {
            return true;
        }
        let adopted = id < self.adopted_below
            && id >= self.adopted_below.saturating_sub(MAX_INCOMING as u64)
            && !self.adopted_done.contains_key(&id);
        if adopted {
            self.adopted_done.insert(id, ());
        }
        adopted
    }

    /// Removes and returns every request whose deadline is at or before `now`.
    pub fn expire(&mut self, now: u64) -> Vec<u64> {
        let expired: Vec<u64> = self
            .outgoing
            .iter()
            .filter(|(_, d)| **d <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in &expired {
            self.outgoing.remove(id);
        }
        expired
    }

    /// Removes and returns every pending request.
    pub fn drain(&mut self) -> Vec<u64> {
        let ids = self.outgoing.keys().copied().collect();
        self.outgoing.clear();
        self.adopted_below = 0;
        self.incoming.clear();
        ids
    }

    /// Earliest deadline.
    pub fn next_deadline(&self) -> Option<u64> {
        self.outgoing.values().min().copied()
    }

    /// Records a request from the peer; false if that id is already awaiting our answer.
    pub fn receive(&mut self, id: u64) -> bool {
        if self.incoming.len() >= MAX_INCOMING {
            // Bounded memory: forget the oldest unanswered request.
            self.incoming.pop_first();
        }
        self.incoming.insert(id, ()).is_none()
    }

    /// True if `id` awaited our answer (and is now answered).
    pub fn answer(&mut self, id: u64) -> bool {
        self.incoming.remove(&id).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_and_expire_in_deadline_order() {
        let mut c = Correlation::starting_at(5);
        let a = c.start(100);
        let b = c.start(50);
        assert_eq!((a, b), (5, 6));
        assert_eq!(c.next_deadline(), Some(50));
        assert_eq!(c.expire(60), vec![6]);
        assert!(!c.settle(6));
        assert!(c.settle(5));
        assert_eq!(c.pending(), 0);
    }

    #[test]
    fn adopted_requests_settle_once_and_only_inside_the_window() {
        let mut c = Correlation::starting_at(2000);
        assert!(!c.settle(1999), "not adopted yet");
        c.adopt();
        assert!(c.settle(1999));
        assert!(!c.settle(1999), "answered twice");
        assert!(c.settle(2000 - 1024));
        assert!(!c.settle(2000 - 1025), "older than the window");
        let own = c.start(10);
        assert_eq!(own, 2000);
        assert!(c.settle(own));
        assert!(!c.settle(2001), "never sent");
    }

    #[test]
    fn incoming_answered_once() {
        let mut c = Correlation::default();
        assert!(c.receive(1));
        assert!(!c.receive(1));
        assert!(c.answer(1));
        assert!(!c.answer(1));
    }
}

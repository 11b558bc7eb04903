//! An in-memory relay with Centrifugo's stream semantics (offsets, epochs, history,
//! recovery) and a peer that applies a connection's outputs to it. Used by the deterministic
//! tests, the fuzz targets and `walletwire-wallet demo`: the whole protocol runs without a
//! network, with time supplied by the caller.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::protocol::{Connection, Event, Handshake, Output, Record, StreamPosition};

/// One channel's stream: publications with offsets from 1, under an epoch.
#[derive(Debug, Default)]
pub struct Stream {
    pub epoch: String,
    pub publications: Vec<String>,
}

/// The in-memory relay: ordered channels with full history.
#[derive(Debug, Default)]
pub struct LoopbackRelay {
    pub channels: HashMap<String, Stream>,
    epochs: u64,
}

impl LoopbackRelay {
    fn stream(&mut self, channel: &str) -> &mut Stream {
        let next_epoch = self.epochs + 1;
        let created = !self.channels.contains_key(channel);
        let stream = self
            .channels
            .entry(channel.to_owned())
            .or_insert_with(|| Stream {
                epoch: format!("epoch-{next_epoch}"),
                publications: Vec::new(),
            });
        if created {
            self.epochs += 1;
        }
        stream
    }

    pub fn publish(&mut self, channel: &str, data: String) -> StreamPosition {
        let stream = self.stream(channel);
        stream.publications.push(data);
        StreamPosition {
            offset: stream.publications.len() as u64,
            epoch: stream.epoch.clone(),
        }
    }

    pub fn top(&mut self, channel: &str) -> StreamPosition {
        let stream = self.stream(channel);
        StreamPosition {
            offset: stream.publications.len() as u64,
            epoch: stream.epoch.clone(),
        }
    }

    /// Publications after `since` (all when the epoch differs: callers handle recovery).
    pub fn since(
        &mut self,
        channel: &str,
        since: &StreamPosition,
    ) -> Option<Vec<(StreamPosition, String)>> {
        let stream = self.stream(channel);
        // An empty epoch asks for everything retained.
        if !since.epoch.is_empty() && stream.epoch != since.epoch {
            return None;
        }
        let epoch = stream.epoch.clone();
        Some(
            stream
                .publications
                .iter()
                .enumerate()
                .skip(since.offset as usize)
                .map(|(i, d)| {
                    (
                        StreamPosition {
                            offset: i as u64 + 1,
                            epoch: epoch.clone(),
                        },
                        d.clone(),
                    )
                })
                .collect(),
        )
    }

    /// Forgets every stream (a memory-broker relay restart).
    pub fn restart(&mut self) {
        self.channels.clear();
    }
}

/// A peer: its connection, subscriptions, store and the events it emitted.
#[derive(Debug)]
pub struct LoopbackPeer<H> {
    pub conn: Connection<H>,
    pub subscriptions: BTreeMap<String, StreamPosition>,
    pub store: BTreeMap<String, String>,
    pub events: Vec<Event>,
    pub published: Vec<(String, String)>,
    /// A frozen peer applies no outputs and receives nothing (a suspended tab).
    pub frozen: bool,
    inbox: VecDeque<(String, StreamPosition, String)>,
}

impl<H: Handshake> LoopbackPeer<H> {
    pub fn new(conn: Connection<H>) -> Self {
        Self {
            conn,
            subscriptions: BTreeMap::new(),
            store: BTreeMap::new(),
            events: Vec::new(),
            published: Vec::new(),
            frozen: false,
            inbox: VecDeque::new(),
        }
    }

    /// Applies queued outputs; returns true if anything happened.
    pub fn pump(&mut self, relay: &mut LoopbackRelay, now: u64) -> bool {
        let mut busy = false;
        while let Some((channel, pos, data)) = self.inbox.pop_front() {
            busy = true;
            if let Some(p) = self.subscriptions.get_mut(&channel) {
                *p = pos.clone();
                let _ = self
                    .conn
                    .handle_publication(&channel, Some(pos), &data, now);
            }
        }
        while let Some(output) = self.conn.poll_output() {
            busy = true;
            match output {
                Output::Subscribe { channel, since } => {
                    let recovered = since.as_ref().map(|s| relay.since(&channel, s));
                    match recovered {
                        Some(Some(pubs)) => {
                            for (pos, data) in pubs {
                                let _ =
                                    self.conn
                                        .handle_publication(&channel, Some(pos), &data, now);
                            }
                        }
                        Some(None) => self.conn.handle_recovery_failed(&channel),
                        None => {}
                    }
                    let top = relay.top(&channel);
                    self.subscriptions.insert(channel.clone(), top.clone());
                    self.conn.handle_subscribed(&channel, top, now);
                }
                Output::Unsubscribe { channel } => {
                    self.subscriptions.remove(&channel);
                }
                Output::Publish { channel, data } => {
                    self.published.push((channel.clone(), data.clone()));
                    relay.publish(&channel, data);
                    self.conn.handle_published(&channel, now);
                }
                Output::Sync { channel } => {
                    if let Some(seen) = self.subscriptions.get(&channel).cloned() {
                        for (pos, data) in relay.since(&channel, &seen).unwrap_or_default() {
                            self.subscriptions.insert(channel.clone(), pos.clone());
                            let _ = self
                                .conn
                                .handle_publication(&channel, Some(pos), &data, now);
                        }
                    }
                    self.conn.handle_synced(&channel, now);
                }
                Output::Store { key, record } => {
                    self.store.insert(key, record);
                }
                Output::Remove { key } => {
                    self.store.remove(&key);
                }
                Output::Event(e) => self.events.push(e),
            }
        }
        busy
    }

    /// Delivers publications made since `seen` on subscribed channels into the inbox.
    pub fn collect(&mut self, relay: &mut LoopbackRelay) {
        for (channel, seen) in self.subscriptions.clone() {
            if let Some(pubs) = relay.since(&channel, &seen) {
                let last = pubs.last().map(|(p, _)| p.clone());
                for (pos, data) in pubs {
                    self.inbox.push_back((channel.clone(), pos, data));
                }
                if let Some(last) = last {
                    self.subscriptions.insert(channel, last);
                }
            }
        }
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    pub fn has_event(&self, f: impl Fn(&Event) -> bool) -> bool {
        self.events.iter().any(f)
    }

    pub fn records(&self, now: u64) -> Vec<Record> {
        self.store
            .values()
            .filter_map(|r| Record::decode(r, now).ok())
            .collect()
    }
}

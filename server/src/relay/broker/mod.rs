//! Brokers keep each channel's publication stream (epoch, top offset, bounded history) and
//! deliver new publications to the hub of every relay process listening to the channel.
//!
//! Both brokers deliver one channel's publications to the hub in offset order, which the
//! per-connection gap check relies on.

pub mod memory;
pub mod redis;

use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;

use super::channel::HistoryPolicy;
use super::hub::Hub;
use super::metrics::Metrics;
use super::options::{BrokerKind, RelayOptions};

/// How often the memory broker drops expired history.
const SWEEP_INTERVAL: Duration = Duration::from_secs(30);

pub use super::publication::StoredPublication;

/// Which part of a stream to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct HistoryQuery {
    /// Only publications with a greater offset (forward reads).
    pub after: Option<u64>,
    /// Only publications with a smaller offset (reverse reads).
    pub before: Option<u64>,
    /// At most this many; `None` for everything the history holds.
    pub limit: Option<usize>,
    /// Newest first.
    pub reverse: bool,
}

/// The state of a stream and the publications a query selected.
#[derive(Debug)]
pub struct StreamSlice {
    /// Stream incarnation.
    pub epoch: Arc<str>,
    /// Offset of the last publication (0 for none yet).
    pub top: u64,
    /// Offset of the oldest publication still in history (`top + 1` when history is empty).
    pub first: u64,
    /// Selected publications, in the query's order.
    pub publications: Vec<Arc<StoredPublication>>,
}

impl StreamSlice {
    /// Whether every publication after `offset` of `epoch` is still in history. An empty
    /// epoch matches any epoch, as in Centrifugo.
    pub fn covers(&self, epoch: &str, offset: u64) -> bool {
        (epoch.is_empty() || epoch == &*self.epoch)
            && offset <= self.top
            && offset.saturating_add(1) >= self.first
    }
}

/// A broker failure (only the Redis broker has any).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    /// Redis refused or dropped a command.
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    /// Redis answered something the relay did not write.
    #[error("unexpected redis reply: {0}")]
    UnexpectedReply(String),
    /// A global cap of the broker is reached (answered with error 106).
    #[error("{0}")]
    Full(#[from] memory::Full),
}

/// The configured broker.
#[derive(Debug)]
pub enum Broker {
    /// In-process.
    Memory(Arc<memory::MemoryBroker>),
    /// Shared through Redis.
    Redis(redis::RedisBroker),
}

impl Broker {
    /// Builds the broker chosen on the command line.
    pub async fn from_options(
        options: &RelayOptions,
        hub: Arc<Hub>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, BrokerError> {
        Ok(match options.broker {
            BrokerKind::Memory => {
                let caps = memory::Caps {
                    max_streams: options.max_streams,
                    max_history_bytes: options.max_history_bytes,
                    meta_ttl: options.stream_meta_ttl,
                };
                let broker = Arc::new(memory::MemoryBroker::new(hub, metrics, caps));
                broker.spawn_sweeper(SWEEP_INTERVAL);
                Self::Memory(broker)
            }
            BrokerKind::Redis => Self::Redis(
                redis::RedisBroker::connect(&options.redis_url, &options.redis_prefix, hub).await?,
            ),
        })
    }

    /// Appends a publication, delivers it, and returns its offset.
    pub async fn publish(
        &self,
        channel: &str,
        policy: HistoryPolicy,
        data: Box<RawValue>,
    ) -> Result<u64, BrokerError> {
        match self {
            Self::Memory(broker) => Ok(broker.publish(channel, policy, data)?),
            Self::Redis(broker) => broker.publish(channel, policy, data).await,
        }
    }

    /// Reads a stream. Reading creates nothing: a channel without publications reads as
    /// empty at offset 0 of its genesis epoch, the epoch its first publication will have.
    pub async fn history(
        &self,
        channel: &str,
        policy: HistoryPolicy,
        query: HistoryQuery,
    ) -> Result<StreamSlice, BrokerError> {
        match self {
            Self::Memory(broker) => Ok(broker.history(channel, policy, query)),
            Self::Redis(broker) => broker.history(channel, policy, query).await,
        }
    }

    /// This process now has a subscriber to `channel`; returns once publications of other
    /// nodes will reach the hub.
    pub async fn subscribe(&self, channel: &str) -> Result<(), BrokerError> {
        match self {
            Self::Memory(_) => Ok(()),
            Self::Redis(broker) => broker.subscribe(channel).await,
        }
    }

    /// One subscriber of `channel` in this process left.
    pub async fn unsubscribe(&self, channel: &str) {
        match self {
            Self::Memory(_) => {}
            Self::Redis(broker) => broker.unsubscribe(channel).await,
        }
    }
}

/// A fresh random epoch: 12 hex digits are plenty to tell stream incarnations apart.
pub fn new_epoch() -> String {
    let mut epoch = uuid::Uuid::new_v4().simple().to_string();
    epoch.truncate(12);
    epoch
}

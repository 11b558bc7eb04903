//! Redis broker: several relay processes share channels through one Redis.
//!
//! Per channel, a hash `<prefix>:meta:{<channel>}` holds the epoch (`e`) and top offset (`s`),
//! and a stream `<prefix>:history:{<channel>}` holds the history, entry id `0-<offset>`,
//! trimmed to the namespace size with an exact `MAXLEN` and expiring `ttl` after the last
//! publication. Publishing is one Lua script (HINCRBY + XADD + PUBLISH), so offsets are
//! allocated atomically and pub/sub messages leave Redis in offset order even with many
//! concurrent publishers on many nodes. Each process subscribes to `<prefix>:pub:<channel>`
//! while it has local subscribers; a restart of a process loses nothing that Redis holds.
//! The braces make both keys of a channel hash to the same Redis Cluster slot.
//!
//! Reading never writes: a channel without a meta hash reads as empty at offset 0 of its
//! *genesis epoch*, 12 hex digits of SHA-256(incarnation ‖ channel), and its first publication
//! creates the meta hash in that epoch. The incarnation is a random value every node reads
//! from `<prefix>:incarnation` (the first node to start writes it), so all nodes agree and a
//! Redis that lost its data gets a new one once the relays restart.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{MultiplexedConnection, PubSubSink, PubSubStream};
use serde_json::value::RawValue;
use tokio::sync::Mutex;
use walletwire::relay::DisconnectCode;

use super::{BrokerError, HistoryQuery, StoredPublication, StreamSlice, new_epoch};
use crate::relay::channel::HistoryPolicy;
use crate::relay::hub::Hub;

/// Epoch and top offset outlive the history (as Centrifugo's `history_meta_ttl` does), so a
/// client that was idle longer than the history TTL learns it missed nothing when nothing was
/// published, instead of seeing a new epoch.
const META_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

const PUBLISH_SCRIPT: &str = r"
local epoch = redis.call('HGET', KEYS[2], 'e')
if not epoch then
  epoch = ARGV[5]
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'e', epoch, 's', 0)
end
local offset = redis.call('HINCRBY', KEYS[2], 's', 1)
redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], '0-' .. offset, 'd', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('PUBLISH', ARGV[4], offset .. ':' .. epoch .. ':' .. ARGV[1])
return offset
";

const HISTORY_SCRIPT: &str = r"
local epoch = redis.call('HGET', KEYS[2], 'e')
if not epoch then
  return {ARGV[1], 0, 1, {}}
end
local top = tonumber(redis.call('HGET', KEYS[2], 's') or '0')
local first = top + 1
local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
if #oldest > 0 then
  first = tonumber(string.match(oldest[1][1], '^0%-(%d+)$'))
end
local entries = {}
local count = tonumber(ARGV[4])
if count ~= 0 then
  local args
  if ARGV[2] == 'forward' then
    local start = '-'
    if ARGV[3] ~= '' then start = '(0-' .. ARGV[3] end
    args = {'XRANGE', KEYS[1], start, '+'}
  else
    local stop = '+'
    if ARGV[3] ~= '' then stop = '(0-' .. ARGV[3] end
    args = {'XREVRANGE', KEYS[1], stop, '-'}
  end
  if count > 0 then
    table.insert(args, 'COUNT')
    table.insert(args, count)
  end
  entries = redis.call(unpack(args))
end
return {epoch, top, first, entries}
";

struct PubSubState {
    sink: PubSubSink,
    /// Local subscribers per channel: Redis is subscribed while the count is positive.
    counts: HashMap<String, usize>,
}

impl std::fmt::Debug for PubSubState {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PubSubState")
            .field("channels", &self.counts.len())
            .finish_non_exhaustive()
    }
}

/// The Redis broker.
#[derive(Debug)]
pub struct RedisBroker {
    connection: MultiplexedConnection,
    pubsub: Arc<Mutex<PubSubState>>,
    prefix: Arc<str>,
    publish_script: redis::Script,
    history_script: redis::Script,
    incarnation: Arc<str>,
}

impl RedisBroker {
    /// Connects (commands and pub/sub) and starts delivering pub/sub messages to `hub`.
    pub async fn connect(url: &str, prefix: &str, hub: Arc<Hub>) -> Result<Self, BrokerError> {
        let client = redis::Client::open(url)?;
        let mut connection = client.get_multiplexed_async_connection().await?;
        let incarnation_key = format!("{prefix}:incarnation");
        let _: Option<String> = redis::cmd("SET")
            .arg(&incarnation_key)
            .arg(new_epoch())
            .arg("NX")
            .query_async(&mut connection)
            .await?;
        let incarnation: String = redis::cmd("GET")
            .arg(&incarnation_key)
            .query_async(&mut connection)
            .await?;
        let (sink, stream) = client.get_async_pubsub().await?.split();
        let pubsub = Arc::new(Mutex::new(PubSubState {
            sink,
            counts: HashMap::new(),
        }));
        let prefix: Arc<str> = Arc::from(prefix);
        tokio::spawn(receive(
            client.clone(),
            stream,
            pubsub.clone(),
            prefix.clone(),
            hub,
        ));
        Ok(Self {
            connection,
            pubsub,
            prefix,
            publish_script: redis::Script::new(PUBLISH_SCRIPT),
            history_script: redis::Script::new(HISTORY_SCRIPT),
            incarnation: Arc::from(incarnation),
        })
    }

    fn genesis(&self, channel: &str) -> String {
        super::memory::genesis_epoch(self.incarnation.as_bytes(), channel)
    }

    fn history_key(&self, channel: &str) -> String {
        format!("{}:history:{{{channel}}}", self.prefix)
    }

    fn meta_key(&self, channel: &str) -> String {
        format!("{}:meta:{{{channel}}}", self.prefix)
    }

    /// Appends atomically and publishes to every node; delivery happens when the pub/sub
    /// message comes back, like for any other node's publication.
    pub async fn publish(
        &self,
        channel: &str,
        policy: HistoryPolicy,
        data: Box<RawValue>,
    ) -> Result<u64, BrokerError> {
        let mut connection = self.connection.clone();
        let offset: u64 = self
            .publish_script
            .key(self.history_key(channel))
            .key(self.meta_key(channel))
            .arg(data.get())
            .arg(policy.size)
            .arg(policy.ttl.as_secs().max(1))
            .arg(pubsub_channel(&self.prefix, channel))
            .arg(self.genesis(channel))
            .arg(META_TTL.max(policy.ttl).as_secs())
            .invoke_async(&mut connection)
            .await?;
        Ok(offset)
    }

    /// Reads a stream in one script, so epoch, top and entries are consistent.
    pub async fn history(
        &self,
        channel: &str,
        _policy: HistoryPolicy,
        query: HistoryQuery,
    ) -> Result<StreamSlice, BrokerError> {
        let (direction, bound) = if query.reverse {
            ("reverse", query.before)
        } else {
            ("forward", query.after)
        };
        let mut count = query
            .limit
            .map_or(-1, |limit| i64::try_from(limit).unwrap_or(i64::MAX));
        if query.reverse && query.before.is_some_and(|before| before <= 1) {
            count = 0; // Nothing lies before offset 1, and `(0-0` is no valid range end.
        }
        let mut connection = self.connection.clone();
        type Entry = (String, Vec<Vec<u8>>);
        let (epoch, top, first, entries): (String, u64, u64, Vec<Entry>) = self
            .history_script
            .key(self.history_key(channel))
            .key(self.meta_key(channel))
            .arg(self.genesis(channel))
            .arg(direction)
            .arg(bound.map(|offset| offset.to_string()).unwrap_or_default())
            .arg(count)
            .invoke_async(&mut connection)
            .await?;
        let publications = entries
            .into_iter()
            .map(|(id, fields)| parse_entry(&id, fields).map(Arc::new))
            .collect::<Result<_, _>>()?;
        Ok(StreamSlice {
            epoch: Arc::from(epoch),
            top,
            first,
            publications,
        })
    }

    /// Counts a local subscriber; the first one subscribes this node in Redis. The lock is
    /// held across SUBSCRIBE so a second subscriber cannot read history before Redis confirms.
    pub async fn subscribe(&self, channel: &str) -> Result<(), BrokerError> {
        let mut state = self.pubsub.lock().await;
        let count = state.counts.get(channel).copied().unwrap_or(0);
        if count == 0 {
            state
                .sink
                .subscribe(pubsub_channel(&self.prefix, channel))
                .await?;
        }
        state.counts.insert(channel.to_owned(), count + 1);
        Ok(())
    }

    /// Forgets a local subscriber; the last one unsubscribes this node in Redis.
    pub async fn unsubscribe(&self, channel: &str) {
        let mut state = self.pubsub.lock().await;
        let Some(count) = state.counts.get_mut(channel) else {
            return;
        };
        *count -= 1;
        if *count == 0 {
            state.counts.remove(channel);
            if let Err(error) = state
                .sink
                .unsubscribe(pubsub_channel(&self.prefix, channel))
                .await
            {
                tracing::warn!(%error, channel, "redis unsubscribe failed");
            }
        }
    }
}

fn pubsub_channel(prefix: &str, channel: &str) -> String {
    format!("{prefix}:pub:{channel}")
}

fn parse_entry(id: &str, fields: Vec<Vec<u8>>) -> Result<StoredPublication, BrokerError> {
    let offset = id
        .strip_prefix("0-")
        .and_then(|offset| offset.parse().ok())
        .ok_or_else(|| BrokerError::UnexpectedReply(format!("stream id {id}")))?;
    let mut fields = fields.into_iter();
    let data = match (fields.next().as_deref(), fields.next()) {
        (Some(b"d"), Some(data)) => data,
        _ => {
            return Err(BrokerError::UnexpectedReply(format!(
                "fields of entry {id}"
            )));
        }
    };
    Ok(StoredPublication {
        offset,
        data: raw_json(data)
            .ok_or_else(|| BrokerError::UnexpectedReply(format!("data of entry {id}")))?,
    })
}

fn raw_json(bytes: Vec<u8>) -> Option<Box<RawValue>> {
    RawValue::from_string(String::from_utf8(bytes).ok()?).ok()
}

/// `<offset>:<epoch>:<data>` as written by the publish script.
fn parse_message(payload: &[u8]) -> Option<(u64, Arc<str>, StoredPublication)> {
    let text = std::str::from_utf8(payload).ok()?;
    let (offset, rest) = text.split_once(':')?;
    let (epoch, data) = rest.split_once(':')?;
    let offset = offset.parse().ok()?;
    let data = RawValue::from_string(data.to_owned()).ok()?;
    Some((offset, Arc::from(epoch), StoredPublication { offset, data }))
}

/// Delivers pub/sub messages to the hub. When the pub/sub connection drops, messages may
/// have been lost: every local subscriber is closed with 3011 (they reconnect and recover
/// from history) and the connection is re-established.
async fn receive(
    client: redis::Client,
    mut stream: PubSubStream,
    state: Arc<Mutex<PubSubState>>,
    prefix: Arc<str>,
    hub: Arc<Hub>,
) {
    let channel_prefix = format!("{prefix}:pub:");
    loop {
        while let Some(message) = stream.next().await {
            let name = message.get_channel_name();
            let Some(channel) = name.strip_prefix(&channel_prefix) else {
                continue;
            };
            match parse_message(message.get_payload_bytes()) {
                Some((_, epoch, publication)) => hub.deliver(channel, &epoch, &publication),
                None => tracing::warn!(channel, "malformed redis pub/sub message"),
            }
        }
        tracing::error!("redis pub/sub connection lost; reconnecting");
        hub.disconnect_all(DisconnectCode::ForceReconnect);
        stream = loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            match client.get_async_pubsub().await {
                Ok(pubsub) => {
                    let (mut sink, stream) = pubsub.split();
                    let mut state = state.lock().await;
                    let channels: Vec<String> = state.counts.keys().cloned().collect();
                    let mut resubscribed = true;
                    for channel in channels {
                        if let Err(error) = sink.subscribe(pubsub_channel(&prefix, &channel)).await
                        {
                            tracing::error!(%error, "redis resubscribe failed");
                            resubscribed = false;
                            break;
                        }
                    }
                    if resubscribed {
                        state.sink = sink;
                        break stream;
                    }
                }
                Err(error) => tracing::error!(%error, "redis pub/sub reconnect failed"),
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pubsub_messages_parse() {
        let (offset, epoch, publication) =
            parse_message(br#"17:ab12:{"x":"a:b"}"#).expect("well formed");
        assert_eq!(
            (offset, &*epoch, publication.data.get()),
            (17, "ab12", r#"{"x":"a:b"}"#)
        );
        assert!(parse_message(b"nope").is_none());
        assert!(parse_message(b"1:e:{not json").is_none());
    }
}

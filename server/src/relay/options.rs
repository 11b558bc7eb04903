//! Command-line options of the relay: broker, history per namespace, timers and limits.

use std::time::Duration;

use clap::{Args, ValueEnum};

/// Where channel history and fan-out live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BrokerKind {
    /// In-process: one node, history lost on restart (new epochs).
    Memory,
    /// Redis: history in Streams, fan-out over pub/sub, shared by every node on that Redis.
    Redis,
}

/// Relay options, flattened into the server's command line.
#[derive(Debug, Clone, Args)]
pub struct RelayOptions {
    /// Broker keeping channel history and delivering publications.
    #[arg(long, value_enum, default_value_t = BrokerKind::Memory, env = "WALLETWIRE_BROKER")]
    pub broker: BrokerKind,
    /// Redis URL for `--broker redis`.
    #[arg(
        long,
        default_value = "redis://127.0.0.1:6379",
        env = "WALLETWIRE_REDIS_URL"
    )]
    pub redis_url: String,
    /// Prefix of every Redis key and pub/sub channel (several relays may share one Redis).
    #[arg(long, default_value = "walletwire")]
    pub redis_prefix: String,

    /// Publications kept per `handshake:` channel.
    #[arg(long, default_value_t = 16)]
    pub handshake_history_size: usize,
    /// How long `handshake:` history lives after the last publication (e.g. `600`, `10m`).
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub handshake_history_ttl: Duration,
    /// Publications kept per `session:` channel.
    #[arg(long, default_value_t = 1024)]
    pub session_history_size: usize,
    /// How long `session:` history lives after the last publication.
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    pub session_history_ttl: Duration,

    /// Interval of server pings (`{}`); sent to clients as `ping` in the connect reply.
    #[arg(long, default_value = "25s", value_parser = parse_duration)]
    pub ping_interval: Duration,
    /// How long a client has to answer a ping before it is closed with 3012.
    #[arg(long, default_value = "8s", value_parser = parse_duration)]
    pub pong_timeout: Duration,
    /// How long a new connection has to send `connect` before it is closed with 3502.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub connect_timeout: Duration,
    /// How long one write to a client may take before the connection is dropped.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub write_timeout: Duration,

    /// Largest accepted WebSocket message in bytes; bigger ones close with 1009.
    #[arg(long, default_value_t = 65536)]
    pub max_frame_size: usize,
    /// Channels one connection may subscribe to; more get error 106.
    #[arg(long, default_value_t = 128)]
    pub max_channels_per_connection: usize,
    /// Sustained publishes per second per connection; faster ones get error 111.
    #[arg(long, default_value_t = 100.0)]
    pub publish_rate: f64,
    /// Publishes a connection may send in a burst above the sustained rate.
    #[arg(long, default_value_t = 200)]
    pub publish_burst: u32,
    /// Bytes waiting to be written to one client before it is closed with 3008 (slow).
    #[arg(long, default_value_t = 4 << 20)]
    pub max_queue_bytes: usize,
    /// Simultaneous connections per relay process; more are closed with 3504.
    #[arg(long, default_value_t = 100_000)]
    pub max_connections: usize,

    /// Sustained commands per second per connection, every kind counted (subscribe,
    /// unsubscribe, history, publish, ping); faster ones get error 111.
    #[arg(long, default_value_t = 200.0)]
    pub command_rate: f64,
    /// Commands a connection may send in a burst above `--command-rate`.
    #[arg(long, default_value_t = 400)]
    pub command_burst: u32,
    /// Simultaneous connections from one client address (IPv4 address, IPv6 /64); more are
    /// closed with 3504. 0: no limit.
    #[arg(long, default_value_t = 1000)]
    pub max_connections_per_address: usize,
    /// Sustained commands per second from one client address, all its connections together;
    /// faster ones get error 111. 0: no limit.
    #[arg(long, default_value_t = 2000.0)]
    pub address_command_rate: f64,
    /// Commands one address may send in a burst above `--address-command-rate`.
    #[arg(long, default_value_t = 4000)]
    pub address_command_burst: u32,
    /// Browser origins allowed to open WebSocket connections (comma-separated, e.g.
    /// `https://dapp.example,https://wallet.example`); a request whose `Origin` header is not
    /// listed gets 403. Requests without `Origin` (native clients) are not affected. Empty:
    /// every origin.
    #[arg(long, value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Take the client address from this request header (its last value) instead of the TCP
    /// peer: for a relay behind a trusted reverse proxy that sets it (`X-Forwarded-For`).
    #[arg(long)]
    pub client_address_header: Option<String>,

    /// Streams (channels with history or a position) the memory broker keeps in total;
    /// a publish that would start one more gets error 106.
    #[arg(long, default_value_t = 1_000_000)]
    pub max_streams: usize,
    /// Payload bytes the memory broker keeps in history in total. A publish that would go
    /// past it first trims its own channel's oldest publications; if that is not enough it
    /// gets error 106. A publish that would start a new stream beyond it gets 106 at once.
    #[arg(long, default_value_t = 1 << 30)]
    pub max_history_bytes: usize,
    /// How long the memory broker remembers a stream's epoch and top offset after its last
    /// publication, once its history has expired (Redis keeps its meta keys as long).
    #[arg(long, default_value = "7d", value_parser = parse_duration)]
    pub stream_meta_ttl: Duration,
}

/// Parses `1.5`, `250ms`, `30s`, `10m`, `24h`, `7d` (plain numbers are seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(index) => text.split_at(index),
        None => (text, "s"),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("not a duration: {text:?}"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86400.0,
        _ => return Err(format!("unknown unit in {text:?} (use ms, s, m, h or d)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("out of range: {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_and_without_units() {
        assert_eq!(parse_duration("25"), Ok(Duration::from_secs(25)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86400)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86400)));
        assert!(parse_duration("10 parsecs").is_err());
        assert!(parse_duration("-1").is_err());
    }
}

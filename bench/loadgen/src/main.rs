//! `walletwire-loadgen`: a load generator for the walletwire relay that is not the bottleneck.
//!
//! It speaks raw Centrifugo JSON over WebSockets (`connect`, `subscribe`, `publish`, pings),
//! holds many subscriber sockets from several loopback source addresses (one address has
//! about 28 000 ephemeral ports towards one relay port), raises its own open-file limit, and
//! times publish → deliver with one monotonic clock: every publication carries the
//! nanoseconds since the generator started and the phase it belongs to.
//!
//! It is driven over stdin/stdout by `bench/relay/bench.mjs` (which starts the relays and
//! Redis and reads their CPU and RSS), one JSON object per stdout line:
//!
//! ```text
//! (start)                 → {"event":"held","connections":N,"seconds":S,...}
//! phase <rate> <seconds>  → {"event":"phase","rate":R,"deliveriesPerSecond":...,"p50Ms":...}
//! quit (or end of input)  → exits
//! ```
//!
//! `rate` counts deliveries per second, all channels together: each publication reaches the
//! channel's `--per-channel` subscribers, so publications per second = rate / per-channel.
//! Subscribers spread round-robin over `--subscribe-url`s, publishers over `--publish-url`s
//! (several relay nodes sharing a Redis broker: publish on one, subscribe on the others).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpSocket;
use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Relay WebSocket URL subscribers connect to (repeat for several nodes).
    #[arg(long = "subscribe-url", required = true)]
    subscribe_urls: Vec<String>,
    /// Relay WebSocket URL publishers connect to (repeat; default: the subscribe URLs).
    #[arg(long = "publish-url")]
    publish_urls: Vec<String>,
    /// Subscriber connections to hold.
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Subscribers per `session:` channel (a dApp and a wallet: 2).
    #[arg(long, default_value_t = 2)]
    per_channel: usize,
    /// Publisher connections.
    #[arg(long, default_value_t = 4)]
    publishers: usize,
    /// Loopback source addresses to spread sockets over: 127.0.0.1 … 127.0.0.N.
    #[arg(long, default_value_t = 4)]
    sources: u8,
    /// Connections being opened at once.
    #[arg(long, default_value_t = 256)]
    open_concurrency: usize,
    /// Longest wait for all subscriptions to be confirmed.
    #[arg(long, default_value_t = 300)]
    open_timeout_secs: u64,
    /// Longest wait after a phase for its last deliveries.
    #[arg(long, default_value_t = 5)]
    drain_secs: u64,
}

/// Log-linear latency histogram over microseconds: exact below 64 µs, then 32 buckets per
/// power of two (at most ~3% error), up to 2^40 µs. Lock-free: any task records into it.
struct Histogram {
    buckets: Vec<AtomicU64>,
}

const LINEAR: u64 = 64;
const SUB: u64 = 32;
const MAX_POWER: u64 = 40;

impl Histogram {
    fn new() -> Self {
        let len = (LINEAR + (MAX_POWER - 6 + 1) * SUB) as usize;
        Self {
            buckets: (0..len).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn index(us: u64) -> usize {
        if us < LINEAR {
            return us as usize;
        }
        let power = u64::from(63 - us.leading_zeros()).min(MAX_POWER);
        let mantissa = (us >> (power - 5)) & (SUB - 1);
        (LINEAR + (power - 6) * SUB + mantissa) as usize
    }

    /// The lowest value that falls in bucket `index`.
    fn lower_bound(index: usize) -> u64 {
        let index = index as u64;
        if index < LINEAR {
            return index;
        }
        let power = 6 + (index - LINEAR) / SUB;
        let mantissa = (index - LINEAR) % SUB;
        (SUB + mantissa) << (power - 5)
    }

    fn record(&self, us: u64) {
        let i = Self::index(us).min(self.buckets.len() - 1);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
    }

    fn reset(&self) {
        for b in &self.buckets {
            b.store(0, Ordering::Relaxed);
        }
    }

    /// Counts and quantiles (in ms) of what was recorded since the last reset.
    fn summary(&self, quantiles: &[f64]) -> (u64, Vec<f64>, f64) {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        let mut out = Vec::with_capacity(quantiles.len());
        for &q in quantiles {
            if total == 0 {
                out.push(f64::NAN);
                continue;
            }
            let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
            let mut seen = 0;
            let mut value = 0;
            for (i, &c) in counts.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    value = Self::lower_bound(i);
                    break;
                }
            }
            out.push(value as f64 / 1000.0);
        }
        let max = counts
            .iter()
            .rposition(|&c| c > 0)
            .map_or(f64::NAN, |i| Self::lower_bound(i) as f64 / 1000.0);
        (total, out, max)
    }
}

/// What every task shares.
struct Shared {
    start: Instant,
    /// The phase being measured; 0 between phases. Publications carry it, and deliveries of
    /// another phase are not counted.
    phase: AtomicU64,
    delivered: AtomicU64,
    errors: AtomicU64,
    closed: AtomicU64,
    confirmed: AtomicU64,
    latency: Histogram,
    stopping: AtomicBool,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Opens a WebSocket from `source` to the relay at `url` and sends `connect` (plus `first`
/// commands in the same frame).
async fn open(url: &str, source: IpAddr, first: &str) -> Result<Ws> {
    let rest = url
        .strip_prefix("ws://")
        .ok_or_else(|| anyhow!("only ws:// URLs: {url}"))?;
    let authority = rest.split('/').next().unwrap_or(rest);
    let target: SocketAddr = authority
        .parse()
        .with_context(|| format!("{authority} is not an IP:port"))?;
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    let stream = socket.connect(target).await?;
    stream.set_nodelay(true)?;
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(16 << 20);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
        .await
        .context("WebSocket handshake")?;
    let mut frame = String::from(r#"{"id":1,"connect":{"name":"loadgen"}}"#);
    if !first.is_empty() {
        frame.push('\n');
        frame.push_str(first);
    }
    ws.send(Message::text(frame)).await?;
    Ok(ws)
}

/// The value of `"key":<digits>` in `line`, read without parsing the JSON around it.
fn number_after(line: &str, key: &str) -> Option<u64> {
    let at = line.find(key)? + key.len();
    let digits = line[at..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    Some(digits)
}

/// One subscriber: subscribe, confirm, then count deliveries and their latency until the
/// socket closes or the generator stops.
async fn subscriber(shared: Arc<Shared>, mut ws: Ws, confirmed: mpsc::Sender<()>) {
    // Dropped once the subscription is confirmed (or the socket ends), which frees the
    // opener's permit.
    let mut confirmed = Some(confirmed);
    while let Some(message) = ws.next().await {
        let text = match message {
            Ok(Message::Text(text)) => text,
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => continue,
            Ok(Message::Binary(_)) => continue,
            Ok(Message::Close(_)) | Err(_) => break,
        };
        let mut pong = false;
        for line in text.as_str().split('\n') {
            if line == "{}" {
                pong = true;
            } else if line.starts_with(r#"{"push""#) {
                let Some(phase) = number_after(line, r#""p":"#) else {
                    continue;
                };
                if phase == 0 || phase != shared.phase.load(Ordering::Relaxed) {
                    continue;
                }
                if let Some(sent) = number_after(line, r#""t":"#) {
                    let now = shared.now_ns();
                    shared.latency.record(now.saturating_sub(sent) / 1000);
                    shared.delivered.fetch_add(1, Ordering::Relaxed);
                }
            } else if line.contains(r#""error""#) {
                shared.errors.fetch_add(1, Ordering::Relaxed);
            } else if confirmed.is_some() && line.starts_with(r#"{"id":2,"#) {
                shared.confirmed.fetch_add(1, Ordering::Relaxed);
                confirmed = None;
            }
        }
        if pong && ws.send(Message::text("{}")).await.is_err() {
            break;
        }
    }
    if !shared.stopping.load(Ordering::Relaxed) {
        shared.closed.fetch_add(1, Ordering::Relaxed);
    }
}

/// What a publisher is told to do for one phase.
#[derive(Clone, Copy)]
struct Job {
    phase: u64,
    /// Publications per second of this publisher.
    rate: f64,
    duration: Duration,
}

/// One publisher: for each job, publishes at its rate (batched into one frame per 1 ms tick)
/// round-robin over its share of the channels; replies are read by a companion task that
/// counts errors. Reports how many it published.
async fn publisher(
    shared: Arc<Shared>,
    ws: Ws,
    channels: Arc<Vec<String>>,
    offset: usize,
    stride: usize,
    mut jobs: mpsc::Receiver<Job>,
    done: mpsc::Sender<u64>,
) {
    let (mut sink, mut stream) = ws.split();
    let (pong_tx, mut pong_rx) = mpsc::channel::<()>(16);
    let reader_shared = shared.clone();
    tokio::spawn(async move {
        while let Some(message) = stream.next().await {
            let Ok(Message::Text(text)) = message else {
                if matches!(message, Ok(Message::Close(_)) | Err(_)) {
                    break;
                }
                continue;
            };
            for line in text.as_str().split('\n') {
                if line == "{}" {
                    let _ = pong_tx.try_send(());
                } else if line.contains(r#""error""#) {
                    reader_shared.errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if !reader_shared.stopping.load(Ordering::Relaxed) {
            reader_shared.closed.fetch_add(1, Ordering::Relaxed);
        }
    });
    let mut next_channel = offset;
    let mut id: u64 = 10;
    while let Some(job) = jobs.recv().await {
        let started = Instant::now();
        let mut published: u64 = 0;
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            while pong_rx.try_recv().is_ok() {
                let _ = sink.send(Message::text("{}")).await;
            }
            // The step's last tick sends what the whole duration is due, then ends it.
            let elapsed = started.elapsed().min(job.duration);
            let last = elapsed >= job.duration;
            let due = (elapsed.as_secs_f64() * job.rate) as u64;
            if due <= published {
                if last {
                    break;
                }
                continue;
            }
            let mut frame = String::with_capacity(((due - published) as usize) * 120);
            let now = shared.now_ns();
            while published < due {
                if !frame.is_empty() {
                    frame.push('\n');
                }
                let channel = &channels[next_channel];
                next_channel = (next_channel + stride) % channels.len();
                frame.push_str(&format!(
                    r#"{{"id":{id},"publish":{{"channel":"{channel}","data":{{"t":{now},"p":{}}}}}}}"#,
                    job.phase
                ));
                id += 1;
                published += 1;
            }
            if sink.send(Message::text(frame)).await.is_err() || last {
                break;
            }
        }
        let _ = done.send(published).await;
    }
}

/// Raises the open-file limit to what `want` sockets need (soft and, as root, hard).
fn raise_fd_limit(want: u64) -> Result<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let current = getrlimit(Resource::Nofile);
    let need = want + 256;
    let hard = current.maximum.unwrap_or(u64::MAX);
    if current.current.is_some_and(|soft| soft >= need) {
        return Ok(current.current.unwrap_or(need));
    }
    let target = if hard >= need { need } else { need.max(hard) };
    let limit = Rlimit {
        current: Some(target),
        maximum: Some(hard.max(target)),
    };
    if setrlimit(Resource::Nofile, limit).is_err() {
        // Not allowed to raise the hard limit: take what the hard limit allows.
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(hard),
                maximum: Some(hard),
            },
        )
        .context("setrlimit(RLIMIT_NOFILE)")?;
        if hard < need {
            bail!(
                "open-file limit {hard} is below the {need} this run needs (run as root, or raise it)"
            );
        }
        return Ok(hard);
    }
    Ok(target)
}

/// CPU seconds (user + system) this process has used.
fn own_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    let Some(close) = stat.rfind(')') else {
        return f64::NAN;
    };
    let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn emit(value: serde_json::Value) {
    println!("{value}");
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.connections == 0 || args.per_channel == 0 || args.publishers == 0 || args.sources == 0 {
        bail!("--connections, --per-channel, --publishers and --sources must be at least 1");
    }
    let publish_urls = if args.publish_urls.is_empty() {
        args.subscribe_urls.clone()
    } else {
        args.publish_urls.clone()
    };
    let fd_limit = raise_fd_limit((args.connections + args.publishers) as u64)?;
    let sources: Vec<IpAddr> = (1..=args.sources)
        .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, i)))
        .collect();
    let shared = Arc::new(Shared {
        start: Instant::now(),
        phase: AtomicU64::new(0),
        delivered: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        closed: AtomicU64::new(0),
        confirmed: AtomicU64::new(0),
        latency: Histogram::new(),
        stopping: AtomicBool::new(false),
    });
    let channel_count = args.connections.div_ceil(args.per_channel);
    let channels: Arc<Vec<String>> = Arc::new(
        (0..channel_count)
            .map(|_| format!("session:{}", uuid::Uuid::new_v4()))
            .collect(),
    );

    // Subscribers, `open_concurrency` handshakes at a time: a permit is held until the
    // connection's subscription is confirmed (or it failed).
    let opened = Instant::now();
    let gate = Arc::new(Semaphore::new(args.open_concurrency));
    let (fail_tx, mut fail_rx) = mpsc::channel::<anyhow::Error>(16);
    let deadline = Instant::now() + Duration::from_secs(args.open_timeout_secs);
    for i in 0..args.connections {
        let permit = tokio::time::timeout_at(deadline.into(), gate.clone().acquire_owned())
            .await
            .map_err(|_| {
                anyhow!(
                    "opening connection {i}: {} subscriptions confirmed in {} s",
                    shared.confirmed.load(Ordering::Relaxed),
                    args.open_timeout_secs
                )
            })??;
        if let Ok(e) = fail_rx.try_recv() {
            return Err(e);
        }
        let url = args.subscribe_urls[i % args.subscribe_urls.len()].clone();
        let source = sources[i % sources.len()];
        let subscribe = format!(
            r#"{{"id":2,"subscribe":{{"channel":"{}"}}}}"#,
            channels[i % channel_count]
        );
        let shared = shared.clone();
        let fail = fail_tx.clone();
        tokio::spawn(async move {
            match open(&url, source, &subscribe).await {
                Ok(ws) => {
                    let (tx, mut rx) = mpsc::channel::<()>(1);
                    tokio::spawn(subscriber(shared, ws, tx));
                    let _ = rx.recv().await;
                }
                Err(e) => {
                    let _ = fail.try_send(e.context(format!("connection {i} from {source}")));
                }
            }
            drop(permit);
        });
    }
    loop {
        let held = shared.confirmed.load(Ordering::Relaxed) as usize;
        if held >= args.connections {
            break;
        }
        if let Ok(e) = fail_rx.try_recv() {
            return Err(e);
        }
        if Instant::now() > deadline || shared.closed.load(Ordering::Relaxed) > 0 {
            bail!(
                "{held} of {} subscriptions confirmed, {} connections closed, after {:.0} s",
                args.connections,
                shared.closed.load(Ordering::Relaxed),
                opened.elapsed().as_secs_f64()
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let held = args.connections;
    let open_seconds = opened.elapsed().as_secs_f64();

    // Publishers.
    let mut job_senders = Vec::new();
    let (done_tx, mut done_rx) = mpsc::channel::<u64>(args.publishers);
    for p in 0..args.publishers {
        let url = &publish_urls[p % publish_urls.len()];
        let ws = open(url, sources[p % sources.len()], "")
            .await
            .with_context(|| format!("publisher {p}"))?;
        let (tx, rx) = mpsc::channel::<Job>(1);
        job_senders.push(tx);
        tokio::spawn(publisher(
            shared.clone(),
            ws,
            channels.clone(),
            p % channel_count,
            args.publishers,
            rx,
            done_tx.clone(),
        ));
    }
    emit(json!({
        "event": "held",
        "connections": held,
        "channels": channel_count,
        "publishers": args.publishers,
        "sources": args.sources,
        "fdLimit": fd_limit,
        "seconds": open_seconds,
        "perSecond": held as f64 / open_seconds,
    }));

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut phase: u64 = 0;
    while let Some(line) = lines.next_line().await? {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["phase", rate, seconds] => {
                let rate: f64 = rate.parse().context("phase rate")?;
                let seconds: f64 = seconds.parse().context("phase seconds")?;
                phase += 1;
                shared.latency.reset();
                shared.delivered.store(0, Ordering::Relaxed);
                let errors_before = shared.errors.load(Ordering::Relaxed);
                shared.phase.store(phase, Ordering::Relaxed);
                let cpu_before = own_cpu_seconds();
                let started = Instant::now();
                let job = Job {
                    phase,
                    rate: rate / args.per_channel as f64 / args.publishers as f64,
                    duration: Duration::from_secs_f64(seconds),
                };
                for tx in &job_senders {
                    tx.send(job).await?;
                }
                let mut publications = 0;
                for _ in 0..args.publishers {
                    publications += done_rx.recv().await.unwrap_or(0);
                }
                let publish_seconds = started.elapsed().as_secs_f64();
                let cpu = own_cpu_seconds() - cpu_before;
                let expected = publications * args.per_channel as u64;
                let drain = Instant::now();
                while shared.delivered.load(Ordering::Relaxed) < expected
                    && drain.elapsed() < Duration::from_secs(args.drain_secs)
                {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                shared.phase.store(0, Ordering::Relaxed);
                let delivered = shared.delivered.load(Ordering::Relaxed);
                let (_, q, max) = shared.latency.summary(&[0.5, 0.99, 0.999]);
                emit(json!({
                    "event": "phase",
                    "rate": rate,
                    "publications": publications,
                    "expected": expected,
                    "delivered": delivered,
                    "publishSeconds": publish_seconds,
                    "deliveriesPerSecond": delivered as f64 / publish_seconds,
                    "p50Ms": q[0],
                    "p99Ms": q[1],
                    "p999Ms": q[2],
                    "maxMs": max,
                    "errors": shared.errors.load(Ordering::Relaxed) - errors_before,
                    "closed": shared.closed.load(Ordering::Relaxed),
                    "generatorCpuPercent": cpu / publish_seconds * 100.0,
                }));
            }
            ["quit"] => break,
            [] => {}
            _ => bail!("unknown command {line:?} (phase RATE SECONDS | quit)"),
        }
    }
    shared.stopping.store(true, Ordering::Relaxed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_round_trip_within_three_percent() {
        for us in [0, 1, 63, 64, 65, 100, 1000, 4095, 4096, 123_456, 10_000_000] {
            let low = Histogram::lower_bound(Histogram::index(us));
            assert!(low <= us, "{us}: bucket starts at {low}");
            assert!(us - low <= us / 32 + 1, "{us}: bucket starts at {low}");
        }
    }

    #[test]
    fn quantiles_of_a_known_distribution() {
        let h = Histogram::new();
        for us in 1..=1000 {
            h.record(us);
        }
        let (total, q, max) = h.summary(&[0.5, 0.99]);
        assert_eq!(total, 1000);
        assert!((0.48..=0.50).contains(&q[0]), "p50 {}", q[0]);
        assert!((0.96..=0.99).contains(&q[1]), "p99 {}", q[1]);
        assert!((0.96..=1.0).contains(&max), "max {max}");
        h.reset();
        assert_eq!(h.summary(&[0.5]).0, 0);
    }

    #[test]
    fn numbers_are_read_out_of_a_push_line() {
        let line =
            r#"{"push":{"channel":"session:x","pub":{"data":{"t":123456789,"p":3},"offset":7}}}"#;
        assert_eq!(number_after(line, r#""t":"#), Some(123_456_789));
        assert_eq!(number_after(line, r#""p":"#), Some(3));
        assert_eq!(number_after(line, r#""q":"#), None);
    }
}

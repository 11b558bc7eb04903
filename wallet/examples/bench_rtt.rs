//! Benchmark helper (not a test): a native dApp and a native wallet, each on its own
//! WebSocket to a real relay, pair in trusted mode, then the dApp sends requests whose params
//! carry an N-byte string and the wallet echoes the params back. Prints one JSON object:
//! the pairing time (dApp `connect_dapp` to both sides `connected`), and per size the
//! sequential round trip p50/p99 and the pipelined throughput (a window of requests in
//! flight for a fixed time). `bench/native/bench.mjs` starts the relay and runs this.
//!
//! ```text
//! cargo run --release -p walletwire-wallet --example bench_rtt -- \
//!   --relay ws://127.0.0.1:8000/connection/websocket --sizes 100,10000,60000 \
//!   --count 200 --window 32 --seconds 3 --max-payload 131072 --max-frame 262144
//! ```

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use walletwire::protocol::{
    DappOptions, Event, Invitation, Limits, Metadata, Mode, SessionRequest, WalletOptions,
};
use walletwire::relay::client::RelayClientOptions;
use walletwire::relay::hub::{ConnectionId, HubEvent};
use walletwire_wallet::driver::{Driver, DriverEvent};
use walletwire_wallet::system::{fill_random, now_ms, os_random};

/// Longest wait for any single step before the run fails.
const STEP: Duration = Duration::from_secs(20);

struct Args {
    relay: String,
    sizes: Vec<usize>,
    count: usize,
    warmup: usize,
    window: usize,
    seconds: f64,
    max_payload: Option<usize>,
    max_frame: Option<usize>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        relay: String::new(),
        sizes: vec![100, 10_000, 60_000],
        count: 200,
        warmup: 20,
        window: 32,
        seconds: 3.0,
        max_payload: None,
        max_frame: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag}: not a number: {value}"))
        };
        match flag.as_str() {
            "--relay" => args.relay = value.clone(),
            "--sizes" => {
                args.sizes = value
                    .split(',')
                    .map(|s| s.trim().parse::<usize>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| format!("--sizes: not a list of numbers: {value}"))?;
            }
            "--count" => args.count = number()?,
            "--warmup" => args.warmup = number()?,
            "--window" => args.window = number()?.max(1),
            "--seconds" => {
                args.seconds = value
                    .parse()
                    .map_err(|_| format!("--seconds: not a number: {value}"))?;
            }
            "--max-payload" => args.max_payload = Some(number()?),
            "--max-frame" => args.max_frame = Some(number()?),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if args.relay.is_empty() {
        return Err("--relay ws://HOST:PORT/connection/websocket is required".into());
    }
    Ok(args)
}

/// Both peers, each with its own relay link, driven from one task.
struct Pair {
    dapp: Driver,
    dapp_id: ConnectionId,
    wallet: Driver,
    wallet_id: Option<ConnectionId>,
    /// Requests the wallet answered (a check that the echo really ran).
    echoed: u64,
}

/// What happened on the dApp side that the benchmark waits for.
enum Seen {
    Request(SessionRequest),
    Connected,
    Response(
        u64,
        Result<walletwire::json::Json, walletwire::protocol::Error>,
    ),
    Nothing,
}

impl Pair {
    /// Runs both drivers until the dApp side reports something, answering the wallet's
    /// requests (echo) on the way.
    async fn step(&mut self) -> Result<Seen, String> {
        let event = tokio::time::timeout(STEP, async {
            tokio::select! {
                e = self.dapp.next() => (true, e),
                e = self.wallet.next() => (false, e),
            }
        })
        .await
        .map_err(|_| "no event in time".to_string())?;
        match event {
            (true, DriverEvent::Hub(HubEvent::Event { id, event })) if id == self.dapp_id => {
                Ok(match event {
                    Event::SessionRequest(r) => Seen::Request(*r),
                    Event::Connected(_) => Seen::Connected,
                    Event::Response { id, result } => Seen::Response(id, result),
                    Event::Disconnected(d) => return Err(format!("dApp disconnected: {d:?}")),
                    _ => Seen::Nothing,
                })
            }
            (false, DriverEvent::Hub(HubEvent::Event { id, event }))
                if Some(id) == self.wallet_id =>
            {
                match event {
                    Event::Request {
                        id: rid, params, ..
                    } => {
                        let conn = self.wallet.hub().connection(id).ok_or("wallet gone")?;
                        conn.respond(rid, Ok(params), now_ms())
                            .map_err(|e| format!("wallet respond: {e:?}"))?;
                        self.echoed += 1;
                    }
                    Event::Connected(_) => return Ok(Seen::Connected),
                    Event::Disconnected(d) => return Err(format!("wallet disconnected: {d:?}")),
                    _ => {}
                }
                Ok(Seen::Nothing)
            }
            (_, DriverEvent::Hub(HubEvent::RelayError { code, message, .. })) => {
                Err(format!("relay error {code}: {message}"))
            }
            (_, DriverEvent::SocketFailed { error }) => Err(format!("socket failed: {error}")),
            _ => Ok(Seen::Nothing),
        }
    }

    fn send(&mut self, params: &Value) -> Result<u64, String> {
        let conn = self
            .dapp
            .hub()
            .connection(self.dapp_id)
            .ok_or("dApp gone")?;
        conn.request(
            "bench.echo",
            params.clone(),
            Some(STEP.as_millis() as u64),
            now_ms(),
        )
        .map_err(|e| format!("request refused: {e:?}"))
    }

    /// Waits for the response to any request; checks it echoes `expect_len` bytes.
    async fn response(&mut self, expect_len: usize) -> Result<u64, String> {
        loop {
            if let Seen::Response(id, result) = self.step().await? {
                let value = result.map_err(|e| format!("request {id} failed: {e:?}"))?;
                let value = value
                    .value()
                    .map_err(|e| format!("response {id} is not JSON: {e}"))?;
                let len = value["data"].as_str().map_or(0, str::len);
                if len != expect_len {
                    return Err(format!("echo of {expect_len} B came back as {len} B"));
                }
                return Ok(id);
            }
        }
    }
}

fn payload(size: usize) -> Value {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bytes = vec![0u8; size];
    fill_random(&mut bytes);
    let text: String = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    json!({ "data": text })
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((q * sorted.len() as f64).floor() as usize).min(sorted.len() - 1);
    sorted[index]
}

async fn run(args: Args) -> Result<Value, String> {
    let mut limits = Limits::default();
    if let Some(bytes) = args.max_payload {
        limits.max_payload = bytes;
    }
    let relay_options = |name: &str| {
        let mut options = RelayClientOptions {
            name: name.into(),
            ..RelayClientOptions::default()
        };
        if let Some(bytes) = args.max_frame {
            options.max_frame = bytes;
        }
        options
    };
    let meta = |name: &str| Metadata {
        name: name.into(),
        url: None,
        icon: None,
    };

    let started = Instant::now();
    let mut dapp = Driver::new(
        &args.relay,
        relay_options("bench-dapp"),
        limits.clone(),
        None,
    );
    let mut options = DappOptions::new(&args.relay, meta("bench dApp"));
    options.mode = Mode::Trusted;
    options.limits = limits.clone();
    let dapp_id = dapp
        .hub()
        .connect_dapp(options, now_ms(), os_random())
        .map_err(|e| format!("connect_dapp: {e:?}"))?;
    let wallet = Driver::new(
        &args.relay,
        relay_options("bench-wallet"),
        limits.clone(),
        None,
    );
    let mut pair = Pair {
        dapp,
        dapp_id,
        wallet,
        wallet_id: None,
        echoed: 0,
    };
    let request = loop {
        if let Seen::Request(r) = pair.step().await? {
            break r;
        }
    };
    // As a wallet would: from the URI the dApp shows.
    let invitation = Invitation::from_uri(&request.to_uri()).map_err(|e| format!("{e:?}"))?;
    let mut wallet_options = WalletOptions::new(meta("bench wallet"));
    wallet_options.limits = limits.clone();
    let scanned = Instant::now();
    pair.wallet_id = Some(
        pair.wallet
            .hub()
            .read_wallet(&invitation, wallet_options, now_ms(), os_random())
            .map_err(|e| format!("connect_wallet: {e:?}"))?,
    );
    let mut connected = 0;
    while connected < 2 {
        if let Seen::Connected = pair.step().await? {
            connected += 1;
        }
    }
    let connect_ms = started.elapsed().as_secs_f64() * 1e3;
    let scan_to_connected_ms = scanned.elapsed().as_secs_f64() * 1e3;

    let mut sizes = Vec::new();
    for &size in &args.sizes {
        let params = payload(size);
        for _ in 0..args.warmup {
            pair.send(&params)?;
            pair.response(size).await?;
        }
        let mut rtts = Vec::with_capacity(args.count);
        for _ in 0..args.count {
            let t = Instant::now();
            pair.send(&params)?;
            pair.response(size).await?;
            rtts.push(t.elapsed().as_secs_f64() * 1e3);
        }
        rtts.sort_by(f64::total_cmp);
        // Throughput: `window` requests in flight, a new one for each response.
        let mut in_flight = 0;
        for _ in 0..args.window {
            pair.send(&params)?;
            in_flight += 1;
        }
        let window_start = Instant::now();
        let limit = Duration::from_secs_f64(args.seconds);
        let mut done = 0u64;
        while window_start.elapsed() < limit {
            pair.response(size).await?;
            done += 1;
            pair.send(&params)?;
        }
        let elapsed = window_start.elapsed().as_secs_f64();
        for _ in 0..in_flight {
            pair.response(size).await?;
        }
        let mean = rtts.iter().sum::<f64>() / rtts.len().max(1) as f64;
        sizes.push(json!({
            "bytes": size,
            "samples": rtts.len(),
            "p50Ms": quantile(&rtts, 0.5),
            "p99Ms": quantile(&rtts, 0.99),
            "meanMs": mean,
            "messagesPerSecond": done as f64 / elapsed,
            "window": args.window,
        }));
    }
    let echoed = pair.echoed;
    if let Some(conn) = pair.dapp.hub().connection(pair.dapp_id) {
        conn.close("bench finished", now_ms());
    }
    pair.dapp.settle(Duration::from_secs(5)).await;
    Ok(json!({
        "connectMs": connect_ms,
        "scanToConnectedMs": scan_to_connected_ms,
        "echoed": echoed,
        "sizes": sizes,
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench_rtt: {e}");
            std::process::exit(2);
        }
    };
    match run(args).await {
        Ok(report) => println!("{report}"),
        Err(e) => {
            eprintln!("bench_rtt: {e}");
            std::process::exit(1);
        }
    }
}

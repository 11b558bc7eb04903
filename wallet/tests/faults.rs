//! Network faults between the clients and the relay, made by the TCP proxy of
//! `common::Proxy`: latency with jitter, cut sockets, stalls shorter and longer than the
//! clients' ping watchdog. Through each fault a stream of dApp requests and a stream of wallet
//! notifications run at once, and the receiving end counts every message: each arrives
//! exactly once, each request gets its matching response (a failure would be a typed error,
//! never silence), nothing is reported lost, and neither session ends.
//!
//! The relay pings every second, so a client's watchdog (ping interval + the tests' 1.5 s
//! grace, see `common::quick_relay_options`) gives up on a silent link after 2.5 s.

mod common;

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use common::{NativeDapp, NativeWallet, Proxy, Relay, WAIT, WalletProcess, data_dir};
use serde_json::{Value, json};
use tokio::time::Instant;
use walletwire::protocol::{Event, Mode};

/// How many messages each stream carries, and how fast they go out.
#[derive(Debug, Clone, Copy)]
struct Stream {
    count: u64,
    pace: Duration,
}

/// 20 requests and 20 notifications a second, for two seconds.
const STREAM: Stream = Stream {
    count: 40,
    pace: Duration::from_millis(50),
};
/// Slower streams for links with latency: a client keeps one publication per channel in
/// flight (`src/relay/client.rs`), so a channel carries about one frame per round trip.
const SLOW: Stream = Stream {
    count: 20,
    pace: Duration::from_millis(100),
};
/// Server pings every second; a silent client is dropped after 8 s. No signaling server.
const RELAY_ARGS: [&str; 5] = [
    "--ping-interval",
    "1s",
    "--pong-timeout",
    "8s",
    "--no-signaling",
];
/// How long the streams may take in all, faults included.
const BUDGET: Duration = Duration::from_secs(40);
/// Quiet time after the last expected message, to catch late duplicates.
const QUIET: Duration = Duration::from_millis(600);

/// Faults to inject: (milliseconds after the streams start, action).
type Plan<'a> = Vec<(u64, Box<dyn FnOnce() + 'a>)>;

/// The account parameter that carries message number `n` (the wallet answers it back).
fn account(n: u64) -> String {
    format!("{n:064x}")
}

fn number(value: &Value) -> Option<u64> {
    u64::from_str_radix(value.get("account")?.as_str()?, 16).ok()
}

/// [`number`] of a value the SDK delivered as JSON text.
fn number_of(json: &walletwire::json::Json) -> Option<u64> {
    number(&json.value().ok()?)
}

/// Who answers the dApp.
enum Wallet<'a> {
    /// In this process: echoes each request and sends notifications.
    Native(&'a mut NativeWallet),
    /// The `walletwire-wallet` binary: answers `balances.get`, prints `REQUEST` lines.
    Process(&'a mut WalletProcess),
}

/// What each end received, by message number.
#[derive(Debug, Default)]
struct Tally {
    /// dApp request id → (message number, when it was sent).
    sent: BTreeMap<u64, (u64, Instant)>,
    /// Request number → times the wallet received it (native wallet only).
    at_wallet: BTreeMap<u64, u32>,
    /// Request number → matching responses the dApp received.
    answered: BTreeMap<u64, u32>,
    /// Notification number → times the dApp received it.
    notes: BTreeMap<u64, u32>,
    /// Shortest request round trip.
    fastest: Option<Duration>,
    /// Error responses, mismatched answers, session ends, `messages_lost`: must stay empty.
    trouble: Vec<String>,
}

impl Tally {
    fn complete(&self, count: u64, notes: bool) -> bool {
        self.answered.len() as u64 == count && (!notes || self.notes.len() as u64 == count)
    }

    fn dapp_event(&mut self, event: Event) {
        match event {
            Event::Response { id, result } => match (self.sent.get(&id), result) {
                (Some(&(n, at)), Ok(value)) if number_of(&value) == Some(n) => {
                    *self.answered.entry(n).or_default() += 1;
                    let took = at.elapsed();
                    self.fastest = Some(self.fastest.map_or(took, |f| f.min(took)));
                }
                (sent, outcome) => self
                    .trouble
                    .push(format!("dApp: request {id} ({sent:?}) ended {outcome:?}")),
            },
            Event::Notification { params, .. } => match number_of(&params) {
                Some(n) => *self.notes.entry(n).or_default() += 1,
                None => self
                    .trouble
                    .push(format!("dApp: odd notification {params}")),
            },
            Event::MessagesLost { count } => {
                self.trouble.push(format!("dApp: messages_lost {count:?}"));
            }
            Event::Disconnected(why) => self.trouble.push(format!("dApp: disconnected {why:?}")),
            _ => {}
        }
    }

    /// Every number below `count` exactly once in `counts`.
    fn exactly_once(what: &str, count: u64, counts: &BTreeMap<u64, u32>) {
        let wrong: Vec<_> = (0..count)
            .filter_map(|n| {
                let times = counts.get(&n).copied().unwrap_or(0);
                (times != 1).then_some((n, times))
            })
            .collect();
        assert!(
            wrong.is_empty(),
            "{what}: (number, times) not once: {wrong:?}"
        );
        assert_eq!(
            counts.len() as u64,
            count,
            "{what}: unexpected numbers {counts:?}"
        );
    }
}

/// Runs the two streams through whatever `plan` does to the network: every `stream.pace` the
/// dApp sends request n (`balances.get` of account n) and a native wallet notification n,
/// until `stream.count` of each went out. Returns once every response and notification arrived and a quiet
/// spell showed no duplicate, or when the budget is spent (the assertions then say what is
/// missing).
async fn exchange(
    dapp: &mut NativeDapp,
    mut wallet: Wallet<'_>,
    stream: Stream,
    plan: Plan<'_>,
) -> Tally {
    let mut plan: VecDeque<_> = plan.into();
    let notes = matches!(wallet, Wallet::Native(_));
    let mut tally = Tally::default();
    let start = Instant::now();
    let mut ticker = tokio::time::interval(stream.pace);
    let mut next = 0;
    let mut quiet_until = None;
    let mut wallet_output_ended = false;
    loop {
        while let Some((at, _)) = plan.front() {
            if start.elapsed() < Duration::from_millis(*at) {
                break;
            }
            let (_, fault) = plan.pop_front().expect("front exists");
            fault();
        }
        if plan.is_empty() && tally.complete(stream.count, notes) && quiet_until.is_none() {
            quiet_until = Some(Instant::now() + QUIET);
        }
        let wake = [
            plan.front()
                .map(|(at, _)| start + Duration::from_millis(*at)),
            quiet_until,
            Some(start + BUDGET),
        ]
        .into_iter()
        .flatten()
        .min()
        .expect("the budget is always there");
        tokio::select! {
            _ = ticker.tick(), if next < stream.count => {
                let id = dapp.send_within("balances.get", json!({"account": account(next)}), WAIT);
                tally.sent.insert(id, (next, Instant::now()));
                if let Wallet::Native(wallet) = &mut wallet {
                    wallet.notify("wallet.tick", json!({"account": account(next)}));
                }
                next += 1;
            }
            event = dapp.next_event() => {
                if let Some(event) = event {
                    tally.dapp_event(event);
                }
            }
            event = next_wallet_event(&mut wallet), if !wallet_output_ended => match event {
                WalletStep::Request { id, params } => {
                    if let Some(n) = number(&params) {
                        *tally.at_wallet.entry(n).or_default() += 1;
                    }
                    if let Wallet::Native(wallet) = &mut wallet {
                        wallet.respond(id, Ok(params));
                    }
                }
                WalletStep::Trouble(what) => tally.trouble.push(what),
                WalletStep::Ended => {
                    wallet_output_ended = true;
                    tally.trouble.push("the wallet process ended".into());
                }
                WalletStep::Other => {}
            },
            () = tokio::time::sleep_until(wake) => {
                if quiet_until.is_some_and(|q| Instant::now() >= q) || start.elapsed() >= BUDGET {
                    break;
                }
            }
        }
    }
    println!(
        "{} requests answered, {} notifications, fastest round trip {:?}, dApp links {:?}",
        tally.answered.len(),
        tally.notes.len(),
        tally.fastest,
        dapp.links
    );
    tally
}

enum WalletStep {
    Request { id: u64, params: Value },
    Trouble(String),
    Ended,
    Other,
}

async fn next_wallet_event(wallet: &mut Wallet<'_>) -> WalletStep {
    match wallet {
        Wallet::Native(wallet) => match wallet.next_event().await {
            Some(Event::Request { id, params, .. }) => WalletStep::Request {
                id,
                params: params.value().expect("the dApp sent JSON serde_json reads"),
            },
            Some(Event::MessagesLost { count }) => {
                WalletStep::Trouble(format!("wallet: messages_lost {count:?}"))
            }
            Some(Event::Disconnected(why)) => {
                WalletStep::Trouble(format!("wallet: disconnected {why:?}"))
            }
            _ => WalletStep::Other,
        },
        Wallet::Process(process) => match process.next_line().await {
            None => WalletStep::Ended,
            Some(line) if line.starts_with("MESSAGES_LOST") || line.starts_with("DISCONNECTED") => {
                WalletStep::Trouble(format!("wallet: {line}"))
            }
            Some(_) => WalletStep::Other,
        },
    }
}

/// A trusted session between a native dApp reaching the relay at `dapp_url` and a native
/// wallet reaching it at `wallet_url`.
async fn native_pair(dapp_url: &str, wallet_url: &str) -> (NativeDapp, NativeWallet) {
    let mut dapp = NativeDapp::start(dapp_url, wallet_url, Mode::Trusted);
    let request = dapp.session_request().await;
    let mut wallet = NativeWallet::start(&request.relay, &request);
    // Trusted: the wallet is connected once its offer is out, the dApp once it read it.
    let session = wallet.connected().await;
    assert_eq!(dapp.connected().await.id, session.id);
    (dapp, wallet)
}

/// Both streams complete exactly once, with nothing lost, no error and no session end.
fn assert_exactly_once(tally: &Tally, stream: Stream, wallet: &NativeWallet) {
    assert!(tally.trouble.is_empty(), "{:?}", tally.trouble);
    Tally::exactly_once("requests at the wallet", stream.count, &tally.at_wallet);
    Tally::exactly_once("responses at the dApp", stream.count, &tally.answered);
    Tally::exactly_once("notifications at the dApp", stream.count, &tally.notes);
    assert_eq!(wallet.seen(|e| matches!(e, Event::MessagesLost { .. })), 0);
}

#[tokio::test]
async fn latency_with_jitter_delivers_everything_exactly_once() {
    let relay = Relay::start_with(0, &RELAY_ARGS).await;
    let proxy = Proxy::start(relay.port).await;
    let (mut dapp, mut wallet) = native_pair(&proxy.url(), &proxy.url()).await;
    let (up, down, jitter) = (50, 100, 50);
    proxy.delay(
        Duration::from_millis(up),
        Duration::from_millis(down),
        Duration::from_millis(jitter),
    );
    let tally = exchange(&mut dapp, Wallet::Native(&mut wallet), SLOW, Vec::new()).await;
    assert_exactly_once(&tally, SLOW, &wallet);
    // The latency was really there: a request crosses the proxy up and down twice.
    let floor = Duration::from_millis(2 * (up + down));
    assert!(tally.fastest.is_some_and(|f| f >= floor), "{tally:?}");
    assert!(!dapp.links.contains(&false), "latency is no outage");
    assert!(!wallet.links.contains(&false));
}

#[tokio::test]
async fn cut_sockets_lose_and_duplicate_nothing() {
    let relay = Relay::start_with(0, &RELAY_ARGS).await;
    let dapp_side = Proxy::start(relay.port).await;
    let wallet_side = Proxy::start(relay.port).await;
    let (mut dapp, mut wallet) = native_pair(&dapp_side.url(), &wallet_side.url()).await;
    let plan: Plan = vec![
        (300, Box::new(|| dapp_side.cut())),
        (700, Box::new(|| dapp_side.restore())),
        (1000, Box::new(|| wallet_side.cut())),
        (1400, Box::new(|| wallet_side.restore())),
        (
            1600,
            Box::new(|| {
                dapp_side.cut();
                wallet_side.cut();
            }),
        ),
        (
            2000,
            Box::new(|| {
                dapp_side.restore();
                wallet_side.restore();
            }),
        ),
    ];
    let tally = exchange(&mut dapp, Wallet::Native(&mut wallet), STREAM, plan).await;
    assert_exactly_once(&tally, STREAM, &wallet);
    assert!(dapp.links.contains(&false), "the dApp's link was cut");
    assert!(wallet.links.contains(&false), "the wallet's link was cut");
}

#[tokio::test]
async fn a_stall_shorter_than_the_watchdog_just_delays() {
    let relay = Relay::start_with(0, &RELAY_ARGS).await;
    let proxy = Proxy::start(relay.port).await;
    let (mut dapp, mut wallet) = native_pair(&proxy.url(), &proxy.url()).await;
    // 800 ms without a byte in either direction, well inside the 2.5 s watchdog.
    let plan: Plan = vec![
        (400, Box::new(|| proxy.stall())),
        (1200, Box::new(|| proxy.resume())),
    ];
    let tally = exchange(&mut dapp, Wallet::Native(&mut wallet), STREAM, plan).await;
    assert_exactly_once(&tally, STREAM, &wallet);
    assert!(
        !dapp.links.contains(&false),
        "no reconnect: {:?}",
        dapp.links
    );
    assert!(
        !wallet.links.contains(&false),
        "no reconnect: {:?}",
        wallet.links
    );
}

#[tokio::test]
async fn a_stall_longer_than_the_watchdog_reconnects_and_recovers() {
    let relay = Relay::start_with(0, &RELAY_ARGS).await;
    let proxy = Proxy::start(relay.port).await;
    let (mut dapp, mut wallet) = native_pair(&proxy.url(), &proxy.url()).await;
    // 4 s of silence: both watchdogs give up on their sockets and open new ones, which stay
    // stalled too until the stall ends; then the bytes held on the old sockets arrive late
    // at the relay (publications the clients re-send on the new ones: duplicates on the
    // channel that the receivers must drop).
    let plan: Plan = vec![
        (400, Box::new(|| proxy.stall())),
        (4400, Box::new(|| proxy.resume())),
    ];
    let tally = exchange(&mut dapp, Wallet::Native(&mut wallet), STREAM, plan).await;
    assert_exactly_once(&tally, STREAM, &wallet);
    assert!(
        dapp.links.contains(&false),
        "the watchdog fired: {:?}",
        dapp.links
    );
    assert!(
        wallet.links.contains(&false),
        "the watchdog fired: {:?}",
        wallet.links
    );
}

/// The reference wallet binary behind a slow, jittery link that is also cut twice: each
/// request reaches it once (one `REQUEST` line each) and each answer comes back once.
#[tokio::test]
async fn the_wallet_process_answers_each_request_once_through_latency_and_cuts() {
    let relay = Relay::start_with(0, &RELAY_ARGS).await;
    let dapp_side = Proxy::start(relay.port).await;
    let wallet_side = Proxy::start(relay.port).await;
    let mut dapp = NativeDapp::start(&dapp_side.url(), &wallet_side.url(), Mode::Trusted);
    let request = dapp.session_request().await;
    let mut wallet = WalletProcess::pair(&request.to_uri(), &data_dir("faults-latency"), &[]);
    let session = wallet.expect("CONNECTED ").await;
    dapp.connected().await;
    for side in [&dapp_side, &wallet_side] {
        side.delay(
            Duration::from_millis(50),
            Duration::from_millis(120),
            Duration::from_millis(60),
        );
    }
    let plan: Plan = vec![
        (400, Box::new(|| wallet_side.cut())),
        (800, Box::new(|| wallet_side.restore())),
        (1200, Box::new(|| dapp_side.cut())),
        (1600, Box::new(|| dapp_side.restore())),
    ];
    let tally = exchange(&mut dapp, Wallet::Process(&mut wallet), SLOW, plan).await;
    assert!(tally.trouble.is_empty(), "{:?}", tally.trouble);
    Tally::exactly_once("responses at the dApp", SLOW.count, &tally.answered);
    wallet.drain_for(Duration::from_millis(200)).await;
    assert_eq!(
        wallet.count("REQUEST "),
        SLOW.count as usize,
        "{:?}",
        wallet.seen
    );
    assert!(wallet.count("LINK down") >= 1, "{:?}", wallet.seen);
    assert!(dapp.links.contains(&false));
    dapp.close().await;
    assert_eq!(
        wallet.expect("DISCONNECTED ").await,
        format!("{session} peer")
    );
}

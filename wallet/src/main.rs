//! `walletwire-wallet`: the native reference wallet.
//!
//! ```text
//! walletwire-wallet pair '<walletwire:connect?r=... | request JSON>'   join a dApp's session
//! walletwire-wallet resume                                             serve stored sessions
//! walletwire-wallet sessions                                           list stored sessions
//! walletwire-wallet disconnect <session id>                            close a stored session
//! walletwire-wallet demo [--mode trusted]                              both peers, in memory
//! ```
//!
//! Output lines on stdout are machine-readable (see [`walletwire_wallet::serve`]); errors are
//! `ERROR <code> <message>` with a non-zero exit status: 2 bad input (`invalid_request`,
//! `unsupported_version`, `request_too_large`, `request_expired`, `unknown_session`), 3 relay
//! (`relay_unreachable`, `relay_refused`), 4 handshake (`handshake_timeout`, ...), 1 other
//! (among them `data_dir_busy`: `pair`, `resume` and `disconnect` take an OS lock on the data
//! directory, and a second process on the same directory refuses instead of serving the
//! same sessions).
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use walletwire::protocol::{
    Invitation, Limits, Metadata, Mode, Record, SessionRecord, WalletOptions,
};
use walletwire::relay::client::RelayClientOptions;
use walletwire_wallet::api::WalletApi;
use walletwire_wallet::driver::Driver;
use walletwire_wallet::keys::Keyring;
use walletwire_wallet::ledger::Ledger;
use walletwire_wallet::serve::{ServeOptions, ServeReport, serve};
use walletwire_wallet::store::{DirLock, SessionStore, StoreError};
use walletwire_wallet::system::{now_ms, os_random};

#[derive(Parser)]
#[command(
    name = "walletwire-wallet",
    version,
    about = "walletwire reference wallet"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    Untrusted,
    Trusted,
}

#[derive(Args, Clone)]
struct WalletArgs {
    /// Where the sessions file, the keys and the ledger live (default: ~/.walletwire, or
    /// ./.walletwire without a home directory).
    #[arg(long, env = "WALLETWIRE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Name shown to the dApp.
    #[arg(long, default_value = "walletwire reference wallet")]
    name: String,
    /// Largest encoded payload of one message, in bytes (default 48000, which fits a default
    /// Centrifugo's 64 KiB message limit; raise it only with the relay's frame limit).
    #[arg(long)]
    max_payload: Option<usize>,
}

impl WalletArgs {
    fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        if let Some(bytes) = self.max_payload {
            limits.max_payload = bytes.max(1024);
        }
        limits
    }
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Answer signing and spending requests without asking (`--auto-approve false`: print
    /// `APPROVE ...` and read y/n from stdin).
    #[arg(long, default_value_t = true, action = ArgAction::Set)]
    auto_approve: bool,
    /// Close the session(s) after answering this many requests.
    #[arg(long)]
    disconnect_after: Option<u64>,
    /// On Ctrl-C / SIGTERM keep the sessions (resumable) instead of closing them.
    #[arg(long)]
    keep_sessions: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Join a dApp's session request and serve it until the dApp disconnects or Ctrl-C.
    Pair {
        /// `walletwire:connect?r=...` or the request JSON.
        uri: String,
        #[command(flatten)]
        wallet: WalletArgs,
        #[command(flatten)]
        serve: ServeArgs,
        /// Seconds to reach the relay and publish the offer before giving up.
        #[arg(long, default_value_t = 30)]
        connect_timeout: u64,
    },
    /// Resume every stored session and serve them.
    Resume {
        #[command(flatten)]
        wallet: WalletArgs,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// List stored sessions.
    Sessions {
        #[command(flatten)]
        wallet: WalletArgs,
    },
    /// Close a stored session: tell the dApp, then forget it. Stop a wallet serving it first.
    Disconnect {
        /// Session id (as printed by `CONNECTED` and `sessions`).
        session: String,
        #[command(flatten)]
        wallet: WalletArgs,
    },
    /// Serve the wallet daemon of the direct flow: JSON-RPC for the wallet UI (an admin token
    /// is printed at start) and a WebRTC peer per `webrtc.start`. See docs/DIRECT.md.
    Daemon {
        #[command(flatten)]
        wallet: WalletArgs,
        #[command(flatten)]
        daemon: walletwire_wallet::daemon::cli::DaemonArgs,
    },
    /// Pair a dApp and this wallet in one process through an in-memory relay and show each step.
    Demo {
        /// Connection mode.
        #[arg(long, value_enum, default_value = "untrusted")]
        mode: ModeArg,
    },
}

/// A failure with its stable code and exit status.
struct Failure {
    code: &'static str,
    message: String,
    status: u8,
}

impl Failure {
    fn new(code: &'static str, message: impl ToString, status: u8) -> Self {
        Self {
            code,
            message: message.to_string(),
            status,
        }
    }

    fn protocol(error: &walletwire::protocol::Error) -> Self {
        let status = match error.code() {
            "invalid_request"
            | "unsupported_version"
            | "request_too_large"
            | "request_expired"
            | "request_not_found" => 2,
            _ => 4,
        };
        Self::new(error.code(), error, status)
    }
}

type Outcome = Result<(), Failure>;

fn data_dir(args: &WalletArgs) -> PathBuf {
    if let Some(dir) = &args.data_dir {
        return dir.clone();
    }
    match std::env::var_os("HOME") {
        Some(home) if !home.is_empty() => Path::new(&home).join(".walletwire"),
        _ => PathBuf::from(".walletwire"),
    }
}

fn relay_options() -> RelayClientOptions {
    RelayClientOptions {
        name: "walletwire-wallet".into(),
        ..RelayClientOptions::default()
    }
}

/// Takes the data directory's lock for a command that drives stored sessions; a second
/// process on the same directory stops here (`data_dir_busy`, exit status 1).
fn lock_sessions(args: &WalletArgs) -> Result<DirLock, Failure> {
    DirLock::acquire(&data_dir(args)).map_err(|e| match e {
        StoreError::Busy(_) => Failure::new("data_dir_busy", e, 1),
        e => Failure::new("wallet_files", e, 1),
    })
}

fn open_wallet(args: &WalletArgs) -> Result<(WalletApi, SessionStore), Failure> {
    let dir = data_dir(args);
    let keys = Keyring::open(&dir).map_err(|e| Failure::new("wallet_files", e, 1))?;
    let ledger = Ledger::open(&dir, &keys).map_err(|e| Failure::new("wallet_files", e, 1))?;
    eprintln!("wallet data in {}", dir.display());
    Ok((
        WalletApi::new(args.name.clone(), keys, ledger),
        SessionStore::in_dir(&dir),
    ))
}

fn serve_options(args: &ServeArgs) -> ServeOptions {
    ServeOptions {
        auto_approve: args.auto_approve,
        disconnect_after: args.disconnect_after,
        keep_sessions: args.keep_sessions,
        offer_timeout: None,
    }
}

/// Turns a serve report into the exit outcome.
fn finished(report: &ServeReport) -> Outcome {
    if let Some(code) = report.gave_up {
        let status = if code == "relay_unreachable" { 3 } else { 4 };
        let message = if status == 3 {
            "the relay did not answer in time"
        } else {
            "the handshake did not progress in time"
        };
        return Err(Failure::new(code, message, status));
    }
    if report.connected == 0 && !report.interrupted {
        // The first failure says why: a request the dApp made wrong (read from the relay)
        // exits as a bad request does (2), a relay failure with 3, the rest with 4.
        let (code, message) = report.failures.first().map_or(
            ("handshake_failed", "the session was not established"),
            |(c, m)| (*c, m.as_str()),
        );
        let status = match code {
            "invalid_request"
            | "unsupported_version"
            | "request_too_large"
            | "request_expired"
            | "request_not_found" => 2,
            c if c.starts_with("relay") => 3,
            _ => 4,
        };
        return Err(Failure::new(code, message, status));
    }
    Ok(())
}

async fn pair(uri: &str, wallet: &WalletArgs, args: &ServeArgs, connect_timeout: u64) -> Outcome {
    let invitation = Invitation::from_uri(uri).map_err(|e| Failure::protocol(&e))?;
    let mut options = WalletOptions::new(Metadata {
        name: wallet.name.clone(),
        url: None,
        icon: None,
    });
    options.limits = wallet.limits();
    eprintln!(
        "pairing ({} mode) through {}",
        invitation.mode.as_str(),
        invitation.relay
    );
    let _lock = lock_sessions(wallet)?;
    let (api, store) = open_wallet(wallet)?;
    // A scoped request (EIP-1193 dApps) is granted what it asks for, with this wallet's
    // EVM accounts on the granted eip155 chains.
    options.accounts = api
        .keys()
        .accounts()
        .iter()
        .map(|a| ("eip155".to_owned(), a.evm().address().checksummed()))
        .collect();
    let mut driver = Driver::new(
        invitation.relay.clone(),
        relay_options(),
        options.limits.clone(),
        Some(store),
    );
    driver
        .hub()
        .read_wallet(&invitation, options, now_ms(), os_random())
        .map_err(|e| Failure::protocol(&e))?;
    let mut serve_options = serve_options(args);
    serve_options.offer_timeout = Some(Duration::from_secs(connect_timeout));
    let report = serve(&mut driver, &api, &serve_options, BTreeMap::new()).await;
    finished(&report)
}

/// Loads usable session records and deletes unusable ones.
fn stored_sessions(store: &SessionStore) -> Result<Vec<SessionRecord>, Failure> {
    let (records, unusable) = store
        .load(now_ms())
        .map_err(|e| Failure::new("store_failed", e, 1))?;
    if !unusable.is_empty() {
        let removals: Vec<_> = unusable
            .iter()
            .map(|u| {
                eprintln!("deleting stored record {}: {}", u.key, u.error);
                (u.key.clone(), None)
            })
            .collect();
        store
            .apply(&removals)
            .map_err(|e| Failure::new("store_failed", e, 1))?;
    }
    Ok(records
        .into_iter()
        .filter_map(|r| match r {
            Record::Session(s) if s.info.role == walletwire::protocol::Role::Wallet => Some(s),
            _ => None,
        })
        .collect())
}

/// Resumes `records` (grouped by relay, one link each) and serves them together.
async fn resume_and_serve(
    records: Vec<SessionRecord>,
    api: &WalletApi,
    store: &SessionStore,
    limits: &Limits,
    options: &ServeOptions,
) -> Vec<ServeReport> {
    let mut by_relay: BTreeMap<String, Vec<SessionRecord>> = BTreeMap::new();
    for record in records {
        by_relay
            .entry(record.info.relay.clone())
            .or_default()
            .push(record);
    }
    let runs = by_relay.into_iter().map(|(relay, records)| {
        let mut driver = Driver::new(relay, relay_options(), limits.clone(), Some(store.clone()));
        let mut names = BTreeMap::new();
        for record in records {
            let id = driver
                .hub()
                .resume(&Record::Session(record.clone()), now_ms(), os_random());
            println!("RESUMED {}", record.info.id);
            names.insert(id, record.info.id.clone());
        }
        async move { serve(&mut driver, api, options, names).await }
    });
    futures_util::future::join_all(runs).await
}

async fn resume(wallet: &WalletArgs, args: &ServeArgs) -> Outcome {
    let _lock = lock_sessions(wallet)?;
    let (api, store) = open_wallet(wallet)?;
    let records = stored_sessions(&store)?;
    if records.is_empty() {
        println!("NO_SESSIONS");
        return Ok(());
    }
    resume_and_serve(
        records,
        &api,
        &store,
        &wallet.limits(),
        &serve_options(args),
    )
    .await;
    Ok(())
}

fn sessions(wallet: &WalletArgs) -> Outcome {
    let store = SessionStore::in_dir(&data_dir(wallet));
    let records = stored_sessions(&store)?;
    for r in &records {
        let state = if r.awaiting_ack.is_some() {
            "awaiting_ack"
        } else {
            "connected"
        };
        println!(
            "SESSION {} {} {} {} {} {}",
            r.info.id,
            r.info.mode.as_str(),
            state,
            r.info.expires_at,
            r.info.relay,
            serde_json::to_string(&r.info.peer.name).unwrap_or_default()
        );
    }
    eprintln!("{} session(s) in {}", records.len(), store.path().display());
    Ok(())
}

async fn disconnect(session: &str, wallet: &WalletArgs) -> Outcome {
    let _lock = lock_sessions(wallet)?;
    let (api, store) = open_wallet(wallet)?;
    let record = stored_sessions(&store)?
        .into_iter()
        .find(|r| r.info.id == session)
        .ok_or_else(|| {
            Failure::new("unknown_session", format!("no stored session {session}"), 2)
        })?;
    let options = ServeOptions::default();
    let mut driver = Driver::new(
        record.info.relay.clone(),
        relay_options(),
        wallet.limits(),
        Some(store.clone()),
    );
    let id = driver
        .hub()
        .resume(&Record::Session(record), now_ms(), os_random());
    // Close at once; the close frame is queued until the link is up and the driver's settle
    // waits (bounded) for the relay to take it.
    if let Some(conn) = driver.hub().connection(id) {
        conn.close("wallet disconnected", now_ms());
    }
    let mut names = BTreeMap::new();
    names.insert(id, session.to_owned());
    let report = serve(&mut driver, &api, &options, names).await;
    if !driver.hub().is_online() || driver.hub().queued() > 0 || report.gave_up.is_some() {
        return Err(Failure::new(
            "relay_unreachable",
            "the close could not be delivered; the session is forgotten anyway",
            3,
        ));
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Demo { mode } = cli.command {
        let mode = match mode {
            ModeArg::Untrusted => Mode::Untrusted,
            ModeArg::Trusted => Mode::Trusted,
        };
        return match walletwire_wallet::demo::demo(mode) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("demo failed: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            println!("ERROR runtime {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match &cli.command {
            Command::Pair {
                uri,
                wallet,
                serve,
                connect_timeout,
            } => pair(uri, wallet, serve, *connect_timeout).await,
            Command::Resume { wallet, serve } => resume(wallet, serve).await,
            Command::Sessions { wallet } => sessions(wallet),
            Command::Disconnect { session, wallet } => disconnect(session, wallet).await,
            Command::Daemon { wallet, daemon } => {
                let (api, _) = open_wallet(wallet)?;
                walletwire_wallet::daemon::cli::run(api, daemon)
                    .await
                    .map_err(|e| Failure::new("daemon_failed", format!("{e:#}"), 1))
            }
            Command::Demo { .. } => Ok(()),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            println!("ERROR {} {}", f.code, f.message);
            eprintln!("error: {}: {}", f.code, f.message);
            ExitCode::from(f.status)
        }
    }
}

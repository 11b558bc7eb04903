//! The wallet's run loop: drives the hub's wallet connections, answers their requests with
//! the [`WalletApi`], and reports on stdout in stable, machine-readable lines (one per fact,
//! first word upper case, fields separated by spaces):
//!
//! ```text
//! OTP 042917                          untrusted mode: the code to type into the dApp
//! CONNECTED <session id>              the session is established
//! RESUMED <session id>                a stored session is being resumed
//! REQUEST <session id> <id> <method>  a request arrived (answered right after)
//! APPROVE <session id> <id> <method> <params>   without auto-approve: answer y or n on stdin
//! MESSAGES_LOST <session id> <count | unknown>
//! DISCONNECTED <session id | -> <local | peer | error code>
//! LINK up | LINK down
//! ERROR <code> <message>
//! ```
//!
//! Each session has its own EVM state (the active chain, [`EvmSession`]), kept in memory: a
//! resumed session starts again on the default chain. Notifications a reply asks for (e.g.
//! `chainChanged`) are sent right after its response.
//!
//! Human-readable notes go to stderr. The loop ends when no connection is left, when the
//! relay never answers in time, or on Ctrl-C / SIGTERM, which close every session (the dApps
//! see `disconnected`) unless `keep_sessions` is set (they stay resumable).

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;
use walletwire::json::Json;
use walletwire::protocol::{Disconnect, Error, Event, RpcError};
use walletwire::relay::hub::{ConnectionId, HubEvent};

use crate::api::{EvmSession, Reply, USER_REJECTED, WalletApi};
use crate::driver::{Driver, DriverEvent};
use crate::system::now_ms;

/// How long closing sessions on exit may wait for the relay to take the `close` frames.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Settings of [`serve`].
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Answer signing and spending requests without asking (otherwise: `APPROVE` + stdin).
    pub auto_approve: bool,
    /// Close every session after answering this many requests in total.
    pub disconnect_after: Option<u64>,
    /// On Ctrl-C / SIGTERM, leave sessions open (resumable) instead of closing them.
    pub keep_sessions: bool,
    /// Give up if no connection reached its offer (OTP shown or connected) in this time.
    pub offer_timeout: Option<Duration>,
}

/// How serving ended.
#[derive(Debug, Default)]
pub struct ServeReport {
    /// Sessions that reached `connected`.
    pub connected: usize,
    /// Requests answered.
    pub answered: u64,
    /// Connections that failed, with the error code.
    pub failures: Vec<(&'static str, String)>,
    /// Stopped by a signal.
    pub interrupted: bool,
    /// Gave up waiting for the relay or the handshake (`offer_timeout`).
    pub gave_up: Option<&'static str>,
}

/// Prints one machine-readable line.
fn report(line: std::fmt::Arguments) {
    println!("{line}");
}

struct Approval {
    id: ConnectionId,
    request: u64,
    method: String,
    params: Value,
}

struct Service<'a> {
    api: &'a WalletApi,
    options: &'a ServeOptions,
    sessions: BTreeMap<ConnectionId, String>,
    evm: BTreeMap<ConnectionId, EvmSession>,
    approvals: VecDeque<Approval>,
    answers: Option<mpsc::UnboundedReceiver<String>>,
    offered: bool,
    link_up_once: bool,
    report: ServeReport,
}

/// Serves every connection of the driver's hub. `sessions` names connections already known
/// (resumed ones); others are named when they connect.
pub async fn serve(
    driver: &mut Driver,
    api: &WalletApi,
    options: &ServeOptions,
    sessions: BTreeMap<ConnectionId, String>,
) -> ServeReport {
    let offered = !sessions.is_empty();
    let mut service = Service {
        api,
        options,
        sessions,
        evm: BTreeMap::new(),
        approvals: VecDeque::new(),
        answers: None,
        offered,
        link_up_once: false,
        report: ServeReport::default(),
    };
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let offer_deadline = tokio::time::sleep(options.offer_timeout.unwrap_or(Duration::MAX / 4));
    tokio::pin!(offer_deadline);
    loop {
        if driver.hub().ids().is_empty() {
            break;
        }
        tokio::select! {
            event = driver.next() => service.handle(driver, event),
            answer = next_answer(&mut service.answers), if !service.approvals.is_empty() => {
                service.approve(driver, answer.as_deref());
            }
            () = &mut offer_deadline, if options.offer_timeout.is_some() && !service.offered => {
                let code = if service.link_up_once { "handshake_timeout" } else { "relay_unreachable" };
                report(format_args!("ERROR {code} no offer could be published in time"));
                service.report.gave_up = Some(code);
                close_all(driver, "wallet gave up");
                break;
            }
            () = &mut shutdown => {
                service.report.interrupted = true;
                if options.keep_sessions {
                    eprintln!("stopping; sessions kept for `walletwire-wallet resume`");
                    return service.report;
                }
                eprintln!("stopping; closing sessions");
                close_all(driver, "wallet stopped");
                break;
            }
        }
    }
    driver.settle(CLOSE_GRACE).await;
    while let Some(event) = driver.poll_event() {
        service.handle(driver, event);
    }
    service.report
}

fn close_all(driver: &mut Driver, reason: &str) {
    let now = now_ms();
    for id in driver.hub().ids() {
        if let Some(conn) = driver.hub().connection(id) {
            conn.close(reason, now);
        }
    }
}

async fn next_answer(answers: &mut Option<mpsc::UnboundedReceiver<String>>) -> Option<String> {
    let receiver = answers.get_or_insert_with(|| {
        let (sender, receiver) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in std::io::stdin().lines() {
                let Ok(line) = line else { return };
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        receiver
    });
    receiver.recv().await
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        match (interrupt, terminate) {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

impl Service<'_> {
    fn name(&self, id: ConnectionId) -> &str {
        self.sessions.get(&id).map_or("-", String::as_str)
    }

    fn handle(&mut self, driver: &mut Driver, event: DriverEvent) {
        match event {
            DriverEvent::Hub(HubEvent::Event { id, event }) => {
                self.session_event(driver, id, event)
            }
            DriverEvent::Hub(HubEvent::Link { up, will_retry }) => {
                self.link_up_once |= up;
                report(format_args!("LINK {}", if up { "up" } else { "down" }));
                if !up && !will_retry {
                    report(format_args!(
                        "ERROR relay_refused the relay refused this client"
                    ));
                }
            }
            DriverEvent::Hub(HubEvent::RelayError { id, code, message }) => {
                report(format_args!("ERROR {code} {message}"));
                if !self.sessions.contains_key(&id) {
                    // A handshake whose channel the relay refuses cannot complete.
                    if let Some(conn) = driver.hub().connection(id) {
                        conn.close("relay refused", now_ms());
                    }
                    self.report.failures.push((code, message.to_string()));
                }
            }
            DriverEvent::SocketFailed { error } => eprintln!("relay unreachable: {error}"),
            DriverEvent::StoreFailed { error } => {
                report(format_args!("ERROR store_failed {error}"));
            }
            // Hub events added later are not this CLI's concern.
            DriverEvent::Hub(_) => {}
        }
    }

    fn session_event(&mut self, driver: &mut Driver, id: ConnectionId, event: Event) {
        match event {
            Event::SessionProposal(request) => {
                eprintln!("session request from {:?} (claimed)", request.dapp.name);
                report(format_args!("PROPOSAL {}", printable(&request.dapp.name)));
            }
            Event::DisplayOtp { otp, deadline } => {
                self.offered = true;
                let left = deadline.saturating_sub(now_ms()) / 1000;
                eprintln!("type this code into the dApp within {left} s:");
                report(format_args!("OTP {otp}"));
            }
            Event::Connected(info) => {
                self.offered = true;
                self.report.connected += 1;
                eprintln!(
                    "connected to {:?} ({} mode) on {}",
                    info.peer.name,
                    info.mode.as_str(),
                    info.relay
                );
                report(format_args!("CONNECTED {}", info.id));
                self.evm
                    .insert(id, EvmSession::for_scopes(info.scopes.as_ref()));
                self.sessions.insert(id, info.id);
            }
            Event::Request {
                id: request,
                method,
                params,
            } => {
                report(format_args!(
                    "REQUEST {} {request} {}",
                    self.name(id),
                    printable(&method)
                ));
                // The SDK passes parameters on as the dApp's JSON text; this wallet reads
                // them with serde_json, which refuses only a number beyond f64.
                let Ok(params) = params.value() else {
                    let reply = Reply {
                        outcome: Err(RpcError {
                            code: -32602,
                            message: "params hold a number this wallet cannot read".to_owned(),
                        }),
                        notifications: Vec::new(),
                    };
                    self.respond(driver, id, request, reply);
                    return;
                };
                if !self.options.auto_approve && WalletApi::needs_approval(&method) {
                    let approval = Approval {
                        id,
                        request,
                        method,
                        params,
                    };
                    self.approvals.push_back(approval);
                    if self.approvals.len() == 1 {
                        self.prompt();
                    }
                    return;
                }
                let reply = self.answer(id, &method, &params);
                self.respond(driver, id, request, reply);
            }
            Event::Notification { method, .. } => {
                eprintln!("notification {} from {}", printable(&method), self.name(id));
            }
            Event::MessagesLost { count } => {
                let count = count.map_or_else(|| "unknown".to_owned(), |c| c.to_string());
                report(format_args!("MESSAGES_LOST {} {count}", self.name(id)));
            }
            Event::Disconnected(why) => {
                let why = match why {
                    Disconnect::Local => "local".to_owned(),
                    Disconnect::Peer { reason } => {
                        eprintln!("the dApp closed the session: {}", printable(&reason));
                        "peer".to_owned()
                    }
                    Disconnect::Failed(error) => {
                        self.report.failures.push((error.code(), error.to_string()));
                        error.code().to_owned()
                    }
                    _ => "unknown".to_owned(),
                };
                report(format_args!("DISCONNECTED {} {why}", self.name(id)));
                self.approvals.retain(|a| a.id != id);
                self.evm.remove(&id);
            }
            Event::State(state) => eprintln!("state of {}: {state:?}", self.name(id)),
            _ => {}
        }
    }

    fn prompt(&self) {
        if let Some(a) = self.approvals.front() {
            let params = serde_json::to_string(&a.params).unwrap_or_default();
            eprintln!("approve {} ? [y/N]", a.method);
            report(format_args!(
                "APPROVE {} {} {} {params}",
                self.name(a.id),
                a.request,
                printable(&a.method)
            ));
        }
    }

    fn approve(&mut self, driver: &mut Driver, answer: Option<&str>) {
        let Some(approval) = self.approvals.pop_front() else {
            return;
        };
        let yes = answer.is_some_and(|a| matches!(a.trim(), "y" | "Y" | "yes"));
        let reply = if yes {
            self.answer(approval.id, &approval.method, &approval.params)
        } else {
            refused("the user rejected the request")
        };
        self.respond(driver, approval.id, approval.request, reply);
        if answer.is_none() {
            // Stdin closed: nobody can approve anything any more.
            while let Some(a) = self.approvals.pop_front() {
                self.respond(
                    driver,
                    a.id,
                    a.request,
                    refused("no one can approve requests"),
                );
            }
        }
        self.prompt();
    }

    /// Answers a request of connection `id` in that session's EVM state.
    fn answer(&mut self, id: ConnectionId, method: &str, params: &Value) -> Reply {
        let session = self.evm.entry(id).or_default();
        self.api.answer(session, method, params, now_ms())
    }

    fn respond(&mut self, driver: &mut Driver, id: ConnectionId, request: u64, reply: Reply) {
        let now = now_ms();
        let Some(conn) = driver.hub().connection(id) else {
            return;
        };
        match conn.respond(request, reply.outcome.map(Json::from), now) {
            Ok(()) => self.report.answered += 1,
            Err(Error::UnknownRequest) => {}
            Err(e) => report(format_args!("ERROR {} {e}", e.code())),
        }
        for notification in reply.notifications {
            if let Err(e) = conn.notify(&notification.method, notification.params, now) {
                report(format_args!("ERROR {} {e}", e.code()));
            }
        }
        if self
            .options
            .disconnect_after
            .is_some_and(|n| self.report.answered >= n)
        {
            eprintln!("answered {} requests; disconnecting", self.report.answered);
            close_all(driver, "wallet disconnected");
        }
    }
}

/// The reply to a request the user (or nobody) refused.
fn refused(message: &str) -> Reply {
    Reply {
        outcome: Err(RpcError {
            code: USER_REJECTED,
            message: message.into(),
        }),
        notifications: Vec::new(),
    }
}

/// A peer-chosen string made safe for one output line.
fn printable(text: &str) -> String {
    text.chars()
        .take(64)
        .map(|c| {
            if c.is_whitespace() || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

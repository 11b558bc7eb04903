//! The wallet's side of the handshake (`docs/PROTOCOL.md` §5).
//!
//! `Subscribing` (the session channel is being set up; the offer goes out once the relay
//! confirms it, carrying the channel position so the dApp misses nothing) → trusted mode:
//! connected at once; untrusted mode: `AwaitingAck` on the session channel: the dApp's nonce
//! arrives, the wallet reveals the nonce its offer committed to and shows the code both
//! sides derive ([`super::sas`]), then the dApp's ack (the user typed the code) connects.

use super::connection::{Connection, Ctx, Handshake, Phase, Step};
use super::info::SessionInfo;
use super::message::{OfferBody, OfferMessage, Payload, offer_aad};
use super::record::{AwaitingAck, SessionRecord};
use super::request::{Invitation, Metadata, Mode, SessionRequest};
use super::sas;
use super::scope::Scopes;
use super::session::Session;
use super::{
    Discard, Error, Event, Limits, Output, SESSION_PREFIX, State, StreamPosition, random_uuid,
    session_key,
};
use crate::base64url;
use crate::crypto::{Key, KeyPair, RandomSource};

/// Settings of [`WalletConnection::accept`].
#[derive(Debug, Clone)]
pub struct WalletOptions {
    /// What the dApp shows about this wallet.
    pub wallet: Metadata,
    /// How long the code is valid (default 60 s).
    pub otp_window_ms: u64,
    /// Extra time to wait for the ack after the code's deadline, for its delivery.
    pub ack_grace_ms: u64,
    /// Clock disagreement tolerated when checking the request's expiry.
    pub clock_skew_ms: u64,
    /// Session limits.
    pub limits: Limits,
    /// What to grant a scoped request: given, the wallet answers as soon as it read the
    /// request; `None`: everything asked for, unless `ask` is set.
    pub grant: Option<Scopes>,
    /// After reading a scoped request without a `grant`, wait for
    /// [`WalletConnection::approve`] instead of granting everything asked for.
    pub ask: bool,
    /// Addresses per namespace (`("eip155", "0xab…")`) the wallet exposes: a granted scope
    /// that names no accounts gets `<chain>:<address>` for each of its chains.
    pub accounts: Vec<(String, String)>,
}

/// How long a wallet looks for the sealed request of a scanned QR code on the relay.
pub const READ_TIMEOUT_MS: u64 = 20_000;

impl WalletOptions {
    /// Defaults for `wallet`.
    pub fn new(wallet: Metadata) -> Self {
        Self {
            wallet,
            otp_window_ms: 60_000,
            ack_grace_ms: 10_000,
            clock_skew_ms: 30_000,
            limits: Limits::default(),
            grant: None,
            ask: false,
            accounts: Vec::new(),
        }
    }
}

/// The wallet's connection: handshake, then session.
pub type WalletConnection = Connection<WalletHandshake>;

/// What the wallet publishes once its channel is confirmed.
#[derive(Debug)]
pub struct Offering {
    request_id: String,
    handshake_channel: String,
    keys: KeyPair,
    offer_key: Key,
    /// The offer must be out before the request expires (plus the clock-skew allowance).
    deadline: u64,
    wallet: Metadata,
    session: Session,
}

/// A QR code was scanned: the wallet reads the dApp's sealed request from the relay.
#[derive(Debug)]
pub struct Reading {
    invitation: Invitation,
    options: WalletOptions,
    /// Reading: when to give up ([`Error::RequestNotFound`]); proposed: the request's expiry.
    deadline: u64,
}

/// The wallet handshake, one variant per state.
#[derive(Debug)]
pub enum WalletHandshake {
    /// Reading the sealed request from the handshake channel's history.
    #[doc(hidden)]
    Reading(Box<Reading>),
    /// The request was read and shown; waiting for the application to approve or reject it.
    #[doc(hidden)]
    Proposed(Box<Reading>, Box<SessionRequest>),
    /// Waiting for the relay to confirm the session channel.
    #[doc(hidden)]
    Subscribing(Box<Offering>),
    /// Untrusted: offer out; waiting for the dApp's nonce, then (code on display) its ack.
    #[doc(hidden)]
    AwaitingAck(Box<Session>),
}

fn cleanup(session: &Session, ctx: &mut Ctx) {
    ctx.out.push_back(Output::Unsubscribe {
        channel: session.info.channel.clone(),
    });
    ctx.out.push_back(Output::Remove {
        key: session_key(session.info.role, &session.info.id),
    });
}

impl Offering {
    fn subscribe(&self) -> Output {
        Output::Subscribe {
            channel: self.session.info.channel.clone(),
            since: None,
        }
    }

    fn publish_offer(&mut self, since: StreamPosition, ctx: &mut Ctx) {
        let ack = self.session.awaiting_ack.as_ref();
        let body = OfferBody {
            channel: self.session.info.channel.clone(),
            wallet: self.wallet.clone(),
            commit: ack.map(|a| base64url::encode(&sas::commit(&a.transcript, &a.wallet_nonce))),
            otp_deadline: ack.map(|a| a.otp_deadline),
            since: Some(since),
            scopes: self.session.info.scopes.clone(),
        };
        let plain = body.to_json().into_bytes();
        let sealed = self
            .offer_key
            .seal(ctx.rng, &offer_aad(&self.request_id), &plain);
        let message = OfferMessage {
            t: "offer".into(),
            pk: base64url::encode(&self.keys.public().0),
            sealed: base64url::encode(&sealed),
        };
        ctx.out.push_back(Output::Publish {
            channel: self.handshake_channel.clone(),
            data: message.to_json(),
        });
    }
}

/// The dApp's nonce arrived: derive the code, reveal the committed nonce (the send stores the
/// code with the record), and show the code.
fn reveal(session: &mut Session, nonce: &str, now: u64, ctx: &mut Ctx) -> Result<(), Discard> {
    let dapp_nonce: [u8; sas::NONCE_LEN] =
        base64url::decode_array(nonce).ok_or(Discard::Malformed)?;
    let Some(ack) = session.awaiting_ack.as_mut() else {
        return Err(Discard::Unexpected);
    };
    let otp = sas::code(&ack.transcript, &dapp_nonce, &ack.wallet_nonce);
    ack.otp = Some(otp.as_str().to_owned());
    let deadline = ack.otp_deadline;
    let reveal = Payload::Reveal {
        nonce: base64url::encode(&ack.wallet_nonce),
    };
    // 60 bytes of JSON always fit the payload limit.
    let _ = session.send(&reveal, now, ctx.rng, ctx.out);
    ctx.emit(Event::DisplayOtp {
        otp: otp.as_str().to_owned(),
        deadline,
    });
    Ok(())
}

impl Handshake for WalletHandshake {
    fn subscribed(
        self,
        channel: &str,
        top: StreamPosition,
        _now: u64,
        ctx: &mut Ctx,
    ) -> Step<Self> {
        match self {
            Self::Subscribing(mut o) if o.session.info.channel == channel => {
                o.session.advance(Some(top.clone()));
                o.session.store(ctx.out);
                o.publish_offer(top, ctx);
                match o.session.awaiting_ack {
                    Some(_) => Step::Stay(Self::AwaitingAck(Box::new(o.session))),
                    None => Step::Connected(Box::new(o.session)),
                }
            }
            other => Step::Stay(other),
        }
    }

    fn publication(
        self,
        channel: &str,
        position: Option<StreamPosition>,
        data: &str,
        now: u64,
        ctx: &mut Ctx,
    ) -> (Step<Self>, Result<(), Discard>) {
        match self {
            Self::AwaitingAck(mut s) if s.info.channel == channel => {
                let payload = s.open(data, ctx.out);
                s.advance(position);
                let revealed = s.awaiting_ack.as_ref().is_some_and(|a| a.otp.is_some());
                let verdict = match payload {
                    Ok(Payload::Nonce { nonce }) if !revealed => reveal(&mut s, &nonce, now, ctx),
                    Ok(Payload::Ack) if revealed => {
                        s.awaiting_ack = None;
                        s.info.expires_at = now.saturating_add(ctx.limits.session_ttl_ms);
                        s.store(ctx.out);
                        return (Step::Connected(s), Ok(()));
                    }
                    Ok(_) => Err(Discard::Unexpected),
                    Err(e) => Err(e),
                };
                (Step::Stay(Self::AwaitingAck(s)), verdict)
            }
            Self::Subscribing(o) if o.session.info.channel == channel => {
                (Step::Stay(Self::Subscribing(o)), Err(Discard::Unexpected))
            }
            Self::Reading(r) if r.invitation.channel() == channel => {
                match r.invitation.open(data) {
                    Ok(request) => (read(*r, request, now, ctx), Ok(())),
                    Err(e) => (Step::Stay(Self::Reading(r)), Err(e)),
                }
            }
            other => (Step::Stay(other), Err(Discard::UnknownChannel)),
        }
    }

    fn timeout(self, now: u64, ctx: &mut Ctx) -> Step<Self> {
        match self {
            Self::AwaitingAck(s) if s.awaiting_ack.as_ref().is_some_and(|a| now >= a.deadline) => {
                cleanup(&s, ctx);
                Step::Failed(Error::HandshakeTimeout)
            }
            // The relay never confirmed the channel before the request expired: too late to
            // answer now.
            Self::Subscribing(o) if now >= o.deadline => {
                cleanup(&o.session, ctx);
                Step::Failed(Error::RequestExpired)
            }
            Self::Reading(r) if now >= r.deadline => {
                ctx.out.push_back(Output::Unsubscribe {
                    channel: r.invitation.channel(),
                });
                Step::Failed(Error::RequestNotFound)
            }
            Self::Proposed(r, _) if now >= r.deadline => Step::Failed(Error::RequestExpired),
            other => Step::Stay(other),
        }
    }

    fn synced(self, _channel: &str, _now: u64, _ctx: &mut Ctx) -> Step<Self> {
        Step::Stay(self)
    }

    fn next_timeout(&self) -> Option<u64> {
        match self {
            Self::Reading(r) | Self::Proposed(r, _) => Some(r.deadline),
            Self::Subscribing(o) => Some(o.deadline),
            Self::AwaitingAck(s) => s.awaiting_ack.as_ref().map(|a| a.deadline),
        }
    }

    fn abandon(self, ctx: &mut Ctx) {
        match self {
            Self::Reading(r) => ctx.out.push_back(Output::Unsubscribe {
                channel: r.invitation.channel(),
            }),
            Self::Proposed(..) => {}
            Self::Subscribing(o) => cleanup(&o.session, ctx),
            Self::AwaitingAck(s) => cleanup(&s, ctx),
        }
    }
}

/// Gives each granted scope without accounts the wallet's addresses on its chains.
fn with_accounts(grant: Scopes, accounts: &[(String, String)]) -> Scopes {
    let mut out = Scopes::new();
    for (namespace, scope) in grant.iter() {
        let mut scope = scope.clone();
        if scope.accounts.is_empty() {
            for chain in &scope.chains {
                for (ns, address) in accounts {
                    if ns == namespace {
                        scope.accounts.push(format!("{chain}:{address}"));
                    }
                }
            }
        }
        out.insert(namespace, scope);
    }
    out
}

/// Checks a request and makes the wallet's answer to it: keys, session, code commitment.
fn offering(
    request: &SessionRequest,
    options: WalletOptions,
    now: u64,
    rng: &mut dyn RandomSource,
) -> Result<Offering, Error> {
    request.validate()?;
    request.check_fresh(now, options.clock_skew_ms)?;
    options.wallet.validate().map_err(Error::InvalidRequest)?;
    let dapp_public = request.dapp_public_key()?;
    // A scoped request gets what the wallet grants (by default everything asked for).
    let granted = request.is_scoped().then(|| {
        let grant = options
            .grant
            .clone()
            .unwrap_or_else(|| request.all_scopes());
        with_accounts(grant, &options.accounts)
    });
    if let Some(g) = &granted {
        g.validate(true).map_err(Error::InvalidRequest)?;
    }
    let keys = KeyPair::generate(rng);
    let shared = keys.agree(&dapp_public)?;
    let schedule =
        crate::crypto::KeySchedule::derive(&shared, &request.id, &dapp_public, &keys.public());
    let id = random_uuid(rng);
    let info = SessionInfo {
        channel: format!("{SESSION_PREFIX}{id}"),
        id,
        role: super::Role::Wallet,
        mode: request.mode,
        peer: request.dapp.clone(),
        relay: request.relay.clone(),
        expires_at: now.saturating_add(options.limits.session_ttl_ms),
        scopes: granted.clone(),
    };
    let mut session = Session::new(
        info,
        schedule.wallet_to_dapp.clone(),
        schedule.dapp_to_wallet.clone(),
        None,
        options.limits.clone(),
    );
    if request.mode == Mode::Untrusted {
        let mut wallet_nonce = [0u8; sas::NONCE_LEN];
        rng.fill(&mut wallet_nonce);
        let otp_deadline = now.saturating_add(options.otp_window_ms);
        session.awaiting_ack = Some(AwaitingAck {
            transcript: sas::transcript(&request.id, &dapp_public, &keys.public()),
            wallet_nonce,
            otp: None,
            deadline: otp_deadline.saturating_add(options.ack_grace_ms),
            otp_deadline,
        });
    }
    let offering = Offering {
        request_id: request.id.clone(),
        handshake_channel: request.channel.clone(),
        keys,
        offer_key: schedule.handshake.clone(),
        deadline: request.expires_at.saturating_add(options.clock_skew_ms),
        wallet: options.wallet,
        session,
    };
    Ok(offering)
}

/// The sealed request was read: check its expiry, show it, and answer (or wait for approval).
fn read(r: Reading, request: SessionRequest, now: u64, ctx: &mut Ctx) -> Step<WalletHandshake> {
    ctx.out.push_back(Output::Unsubscribe {
        channel: r.invitation.channel(),
    });
    if let Err(e) = request
        .validate()
        .and_then(|()| request.check_fresh(now, r.options.clock_skew_ms))
    {
        return Step::Failed(e);
    }
    ctx.emit(Event::SessionProposal(Box::new(request.clone())));
    if request.is_scoped() && r.options.ask && r.options.grant.is_none() {
        let deadline = request.expires_at.saturating_add(r.options.clock_skew_ms);
        return Step::Stay(WalletHandshake::Proposed(
            Box::new(Reading { deadline, ..r }),
            Box::new(request),
        ));
    }
    match offering(&request, r.options, now, ctx.rng) {
        Ok(o) => {
            ctx.out.push_back(o.subscribe());
            Step::Stay(WalletHandshake::Subscribing(Box::new(o)))
        }
        Err(e) => Step::Failed(e),
    }
}

impl Connection<WalletHandshake> {
    /// Answers a session request: checks it, derives the keys, and subscribes to a new
    /// session channel; the offer is published once the relay confirms that channel.
    pub fn accept(
        request: &SessionRequest,
        options: WalletOptions,
        now: u64,
        mut rng: Box<dyn RandomSource>,
    ) -> Result<Self, Error> {
        let limits = options.limits.clone();
        let offering = offering(request, options, now, rng.as_mut())?;
        let mut conn = Self::with_phase(Phase::Closed(None), rng, limits);
        conn.out.push_back(offering.subscribe());
        conn.out
            .push_back(Output::Event(Event::State(State::Connecting)));
        conn.phase = Phase::Handshake(WalletHandshake::Subscribing(Box::new(offering)));
        Ok(conn)
    }

    /// Answers a scanned QR code or deep link (protocol v3): reads the dApp's sealed request
    /// from its handshake channel ([`Event::SessionProposal`]), then answers it as
    /// [`WalletConnection::accept`] does (at once, or after [`WalletConnection::approve`]).
    /// Fails with [`Error::RequestNotFound`] when the relay holds no such request within
    /// [`READ_TIMEOUT_MS`].
    pub fn read(
        invitation: &Invitation,
        options: WalletOptions,
        now: u64,
        rng: Box<dyn RandomSource>,
    ) -> Result<Self, Error> {
        invitation.dapp_public_key()?;
        options.wallet.validate().map_err(Error::InvalidRequest)?;
        if let Some(grant) = &options.grant {
            grant.validate(true).map_err(Error::InvalidRequest)?;
        }
        let limits = options.limits.clone();
        let mut conn = Self::with_phase(Phase::Closed(None), rng, limits);
        conn.out.push_back(Output::Subscribe {
            channel: invitation.channel(),
            since: Some(StreamPosition {
                offset: 0,
                epoch: String::new(),
            }),
        });
        conn.out
            .push_back(Output::Event(Event::State(State::Connecting)));
        conn.phase = Phase::Handshake(WalletHandshake::Reading(Box::new(Reading {
            invitation: invitation.clone(),
            options,
            deadline: now.saturating_add(READ_TIMEOUT_MS),
        })));
        Ok(conn)
    }

    /// Answers the proposed request, granting `grant` (`None`: everything asked for).
    pub fn approve(&mut self, grant: Option<Scopes>, now: u64) -> Result<(), Error> {
        if !matches!(self.phase, Phase::Handshake(WalletHandshake::Proposed(..))) {
            return Err(Error::InvalidState("not_proposed"));
        }
        if let Some(g) = &grant {
            g.validate(true).map_err(Error::InvalidRequest)?;
        }
        let mut result = Ok(());
        self.step(|h, ctx| match h {
            WalletHandshake::Proposed(mut r, request) => {
                r.options.grant = grant;
                match offering(&request, r.options, now, ctx.rng) {
                    Ok(o) => {
                        ctx.out.push_back(o.subscribe());
                        Step::Stay(WalletHandshake::Subscribing(Box::new(o)))
                    }
                    Err(e) => {
                        result = Err(e.clone());
                        Step::Failed(e)
                    }
                }
            }
            other => Step::Stay(other),
        });
        result
    }

    /// Declines the proposed request: the handshake ends, nothing is sent to the dApp.
    pub fn reject(&mut self, now: u64) {
        if let Phase::Handshake(WalletHandshake::Proposed(..)) = self.phase {
            self.close("rejected", now);
        }
    }

    /// Resumes from a stored record: an established session, or an untrusted handshake
    /// still waiting for the dApp's nonce or ack (a code already shown is shown again).
    pub fn resume(record: &SessionRecord, rng: Box<dyn RandomSource>, limits: Limits) -> Self {
        let Some(ack) = record.awaiting_ack.clone() else {
            return Connection::from_session_record(record, rng, limits);
        };
        let session = Session::from_record(record, limits.clone());
        let mut conn = Self::with_phase(Phase::Closed(None), rng, limits);
        conn.out.push_back(Output::Subscribe {
            channel: session.info.channel.clone(),
            since: session.position(),
        });
        conn.out
            .push_back(Output::Event(Event::State(State::Connecting)));
        if let Some(otp) = ack.otp {
            conn.out.push_back(Output::Event(Event::DisplayOtp {
                otp,
                deadline: ack.otp_deadline,
            }));
        }
        conn.phase = Phase::Handshake(WalletHandshake::AwaitingAck(Box::new(session)));
        conn
    }
}

//! The dApp's side of the handshake (`docs/PROTOCOL.md` §5).
//!
//! States, each consumed by the input it handles: `Subscribing` (waiting for the relay to
//! confirm the handshake channel) → `Listening` (request shown; collecting offers, and in
//! untrusted mode waiting for the code) → `Syncing` (the request expired by the clock; the
//! driver makes sure no offer is still unread before expiry is declared) → connected.
//! An offer becomes usable only as a [`VerifiedOffer`] (made by decrypting it), and a session
//! only from an [`Accepted`] offer (made by the code check, or by trusted mode's rule).

use super::connection::{Connection, Ctx, Handshake, Phase, Step};
use super::message::{OfferBody, OfferMessage, Payload, offer_aad};
use super::otp::{OTP_ATTEMPTS, Otp};
use super::record::{PendingRecord, Record, SessionRecord};
use super::request::{Metadata, Mode, PROTOCOL_VERSION, SessionRequest};
use super::session::{Session, SessionInfo};
use super::{
    Discard, Error, Event, Limits, MAX_MESSAGE_LEN, Output, SESSION_PREFIX, State, StreamPosition,
    is_channel, pending_key, random_uuid,
};
use crate::base64url;
use crate::crypto::{KeyPair, KeySchedule, PublicKey, RandomSource};

/// How long after the request's expiry a pending handshake record is kept: an offer the
/// wallet published in time may still be read from the relay's history (10 min there).
pub const LATE_OFFER_GRACE_MS: u64 = 10 * 60 * 1000;
/// How long the dApp waits for its driver to finish a sync before declaring expiry anyway:
/// bounds `connect()` at about `expiresAt` + 30 s of page time.
pub const SYNC_TIMEOUT_MS: u64 = 30_000;
/// Longest OTP window the dApp grants an offer, whatever deadline the offer claims.
const MAX_OTP_WINDOW_MS: u64 = 5 * 60 * 1000;

/// Settings of [`DappConnection::new`].
#[derive(Debug, Clone)]
pub struct DappOptions {
    /// Untrusted (default) or trusted.
    pub mode: Mode,
    /// Relay WebSocket URL, written into the request for the wallet.
    pub relay: String,
    /// What the wallet shows about this dApp.
    pub dapp: Metadata,
    /// Request lifetime; default 120 s untrusted, 60 s trusted.
    pub request_ttl_ms: Option<u64>,
    /// Session limits.
    pub limits: Limits,
}

impl DappOptions {
    /// Defaults for `relay` and `dapp`.
    pub fn new(relay: impl Into<String>, dapp: Metadata) -> Self {
        Self {
            mode: Mode::Untrusted,
            relay: relay.into(),
            dapp,
            request_ttl_ms: None,
            limits: Limits::default(),
        }
    }
}

/// The dApp's connection: handshake, then session.
pub type DappConnection = Connection<DappHandshake>;

/// An offer that decrypted under our key: only [`Pending::open_offer`] makes one.
#[derive(Debug)]
pub struct VerifiedOffer {
    wallet_public: PublicKey,
    keys: KeySchedule,
    body: OfferBody,
    otp: Option<Otp>,
    /// Effective OTP deadline: the wallet's, capped by our own window.
    deadline: u64,
}

/// An offer the dApp may connect to: only the code check or trusted mode's first-offer rule
/// make one.
#[derive(Debug)]
pub struct Accepted(VerifiedOffer);

/// Data every dApp handshake state carries.
#[derive(Debug)]
pub struct Pending {
    request: SessionRequest,
    keys: KeyPair,
    position: Option<StreamPosition>,
    /// Untrusted mode: the one live offer the typed code is checked against. A second
    /// distinct live offer ends the handshake ([`Error::HandshakeContested`]), so the three
    /// attempts are three code checks in total, however many offers anyone publishes.
    offer: Option<VerifiedOffer>,
    attempts_left: u8,
    otp_prompted: bool,
    /// Set on entering `Syncing`.
    sync_deadline: u64,
}

/// The dApp handshake, one variant per state.
#[derive(Debug)]
pub enum DappHandshake {
    /// Waiting for the relay to confirm the handshake channel.
    #[doc(hidden)]
    Subscribing(Box<Pending>),
    /// The request is shown; offers are collected.
    #[doc(hidden)]
    Listening(Box<Pending>),
    /// Expiry reached by the clock; waiting for the driver's sync.
    #[doc(hidden)]
    Syncing(Box<Pending>),
}

impl Pending {
    fn record(&self) -> Output {
        let record = Record::Pending(PendingRecord {
            request: self.request.clone(),
            secret: *self.keys.secret_bytes(),
            position: self.position.clone(),
            attempts_left: self.attempts_left,
            otp_prompted: self.otp_prompted,
        });
        Output::Store {
            key: pending_key(&self.request.id),
            record: record.encode(),
        }
    }

    fn cleanup(&self, ctx: &mut Ctx) {
        ctx.out.push_back(Output::Unsubscribe {
            channel: self.request.channel.clone(),
        });
        ctx.out.push_back(Output::Remove {
            key: pending_key(&self.request.id),
        });
    }

    /// Decrypts and checks an offer message.
    fn open_offer(&self, data: &str, now: u64) -> Result<VerifiedOffer, Discard> {
        if data.len() > MAX_MESSAGE_LEN {
            return Err(Discard::TooLarge);
        }
        let message: OfferMessage = serde_json::from_str(data).map_err(|_| Discard::Malformed)?;
        if message.t != "offer" {
            return Err(Discard::Malformed);
        }
        let wallet_public =
            PublicKey(base64url::decode_array(&message.pk).ok_or(Discard::Malformed)?);
        let sealed = base64url::decode(&message.sealed).ok_or(Discard::Malformed)?;
        let shared = self
            .keys
            .agree(&wallet_public)
            .map_err(|_| Discard::Decrypt)?;
        let keys = KeySchedule::derive(
            &shared,
            &self.request.id,
            &self.keys.public(),
            &wallet_public,
        );
        let plain = keys
            .handshake
            .open(&offer_aad(&self.request.id), &sealed)
            .map_err(|_| Discard::Decrypt)?;
        // Parsed as text: one serde_json reader (`from_str`) for everything keeps one copy of
        // each type's deserializer in the wasm bundle.
        let plain = std::str::from_utf8(&plain).map_err(|_| Discard::Malformed)?;
        let body: OfferBody = serde_json::from_str(plain).map_err(|_| Discard::Malformed)?;
        if !is_channel(&body.channel, SESSION_PREFIX) || body.wallet.validate().is_err() {
            return Err(Discard::Malformed);
        }
        let (otp, deadline) = match (self.request.mode, &body.otp, body.otp_deadline) {
            (Mode::Trusted, _, _) => (None, 0),
            (Mode::Untrusted, Some(code), Some(deadline)) => {
                let otp = Otp::parse(code)
                    .filter(|o| o.as_str() == code)
                    .ok_or(Discard::Malformed)?;
                (
                    Some(otp),
                    deadline.min(now.saturating_add(MAX_OTP_WINDOW_MS)),
                )
            }
            (Mode::Untrusted, _, _) => return Err(Discard::Malformed),
        };
        Ok(VerifiedOffer {
            wallet_public,
            keys,
            body,
            otp,
            deadline,
        })
    }

    /// The OTP deadline of the offer held.
    fn otp_deadline(&self) -> Option<u64> {
        self.offer.as_ref().map(|o| o.deadline)
    }

    fn prompt_otp(&mut self, ctx: &mut Ctx) {
        if let (false, Some(deadline)) = (self.otp_prompted, self.otp_deadline()) {
            self.otp_prompted = true;
            ctx.out.push_back(self.record());
            ctx.emit(Event::State(State::AwaitingOtp));
            ctx.emit(Event::OtpRequired {
                deadline,
                attempts_left: self.attempts_left,
            });
        }
    }

    /// Handles a handshake-channel publication in any listening state.
    fn offer(
        mut self: Box<Self>,
        data: &str,
        now: u64,
        ctx: &mut Ctx,
        prompt: bool,
    ) -> (Result<Box<Self>, Step<DappHandshake>>, Result<(), Discard>) {
        let offer = match self.open_offer(data, now) {
            Ok(o) => o,
            Err(e) => return (Ok(self), Err(e)),
        };
        match self.request.mode {
            Mode::Trusted => (Err(self.connect(Accepted(offer), now, ctx)), Ok(())),
            Mode::Untrusted => {
                if offer.deadline < now {
                    return (Ok(self), Err(Discard::Unexpected));
                }
                match &self.offer {
                    Some(held) if held.wallet_public == offer.wallet_public => {
                        return (Ok(self), Err(Discard::Replay));
                    }
                    // Two wallets answered one request: someone else has the QR code or the
                    // link. Checking the code against both would give a guesser more than
                    // three chances, and picking one could pick theirs: pair again instead.
                    Some(held) if held.deadline >= now => {
                        return (Err(fail(self, Error::HandshakeContested, ctx)), Ok(()));
                    }
                    // None, or an expired offer, which is pruned.
                    _ => self.offer = Some(offer),
                }
                if prompt {
                    self.prompt_otp(ctx);
                }
                (Ok(self), Ok(()))
            }
        }
    }

    /// Compares the typed code with the live offer's, in constant time.
    fn check_otp(&mut self, typed: &Otp, now: u64) -> Result<Accepted, Error> {
        let hit = self.offer.as_ref().is_some_and(|offer| {
            offer.otp.as_ref().is_some_and(|o| o.matches(typed)) & (offer.deadline >= now)
        });
        match self.offer.take() {
            Some(offer) if hit => Ok(Accepted(offer)),
            kept => {
                self.offer = kept;
                self.attempts_left = self.attempts_left.saturating_sub(1);
                if self.attempts_left == 0 {
                    Err(Error::OtpAttemptsExhausted)
                } else {
                    Err(Error::OtpMismatch {
                        attempts_left: self.attempts_left,
                    })
                }
            }
        }
    }

    /// Builds the session from an accepted offer and moves to the session channel.
    fn connect(
        self: Box<Self>,
        accepted: Accepted,
        now: u64,
        ctx: &mut Ctx,
    ) -> Step<DappHandshake> {
        let Accepted(offer) = accepted;
        let info = SessionInfo {
            // is_channel checked the prefix in open_offer.
            id: offer.body.channel[SESSION_PREFIX.len()..].to_owned(),
            channel: offer.body.channel.clone(),
            role: super::Role::Dapp,
            mode: self.request.mode,
            peer: offer.body.wallet.clone(),
            relay: self.request.relay.clone(),
            expires_at: now.saturating_add(ctx.limits.session_ttl_ms),
        };
        let mut session = Session::new(
            info,
            offer.keys.dapp_to_wallet.clone(),
            offer.keys.wallet_to_dapp.clone(),
            offer.body.since.clone(),
            ctx.limits.clone(),
        );
        self.cleanup(ctx);
        ctx.out.push_back(Output::Subscribe {
            channel: session.info.channel.clone(),
            since: offer.body.since.clone(),
        });
        match self.request.mode {
            // Sending the ack also stores the session (with its advanced counter).
            Mode::Untrusted => {
                if let Err(e) = session.send(&Payload::Ack, now, ctx.rng, ctx.out) {
                    return Step::Failed(e);
                }
            }
            Mode::Trusted => session.store(ctx.out),
        }
        Step::Connected(Box::new(session))
    }
}

fn fail(pending: Box<Pending>, error: Error, ctx: &mut Ctx) -> Step<DappHandshake> {
    pending.cleanup(ctx);
    Step::Failed(error)
}

impl DappHandshake {
    fn pending(&self) -> &Pending {
        match self {
            Self::Subscribing(p) | Self::Listening(p) | Self::Syncing(p) => p,
        }
    }
}

impl Handshake for DappHandshake {
    fn subscribed(
        self,
        channel: &str,
        top: StreamPosition,
        _now: u64,
        ctx: &mut Ctx,
    ) -> Step<Self> {
        match self {
            Self::Subscribing(mut p) if p.request.channel == channel => {
                if p.position.as_ref().is_none_or(|pos| pos.epoch != top.epoch) {
                    p.position = Some(top);
                }
                ctx.out.push_back(p.record());
                ctx.emit(Event::SessionRequest(p.request.clone()));
                p.otp_prompted = false;
                p.prompt_otp(ctx);
                Step::Stay(Self::Listening(p))
            }
            other => Step::Stay(other),
        }
    }

    fn publication(
        self,
        channel: &str,
        _position: Option<StreamPosition>,
        data: &str,
        now: u64,
        ctx: &mut Ctx,
    ) -> (Step<Self>, Result<(), Discard>) {
        if channel != self.pending().request.channel {
            return (Step::Stay(self), Err(Discard::UnknownChannel));
        }
        // Offers recovered while subscribing are prompted for once the request is shown.
        let (p, wrap, prompt): (_, fn(Box<Pending>) -> Self, _) = match self {
            Self::Subscribing(p) => (p, Self::Subscribing, false),
            Self::Listening(p) => (p, Self::Listening, true),
            Self::Syncing(p) => (p, Self::Listening, true),
        };
        match p.offer(data, now, ctx, prompt) {
            (Ok(p), verdict) => (Step::Stay(wrap(p)), verdict),
            (Err(step), verdict) => (step, verdict),
        }
    }

    fn timeout(self, now: u64, ctx: &mut Ctx) -> Step<Self> {
        match self {
            Self::Subscribing(p) if now >= p.request.expires_at => {
                fail(p, Error::RequestExpired, ctx)
            }
            Self::Listening(p) => match p.otp_deadline() {
                Some(deadline) if now > deadline => fail(p, Error::OtpExpired, ctx),
                None if now >= p.request.expires_at => {
                    let mut p = p;
                    p.sync_deadline = now.saturating_add(SYNC_TIMEOUT_MS);
                    ctx.out.push_back(Output::Sync {
                        channel: p.request.channel.clone(),
                    });
                    Step::Stay(Self::Syncing(p))
                }
                _ => Step::Stay(Self::Listening(p)),
            },
            Self::Syncing(p) if now >= p.sync_deadline => fail(p, Error::RequestExpired, ctx),
            other => Step::Stay(other),
        }
    }

    fn synced(self, channel: &str, _now: u64, ctx: &mut Ctx) -> Step<Self> {
        match self {
            Self::Syncing(p) if p.request.channel == channel => fail(p, Error::RequestExpired, ctx),
            other => Step::Stay(other),
        }
    }

    fn next_timeout(&self) -> Option<u64> {
        match self {
            Self::Subscribing(p) => Some(p.request.expires_at),
            Self::Listening(p) => Some(p.otp_deadline().map_or(p.request.expires_at, |d| d + 1)),
            Self::Syncing(p) => Some(p.sync_deadline),
        }
    }

    fn abandon(self, ctx: &mut Ctx) {
        self.pending().cleanup(ctx);
    }
}

impl Connection<DappHandshake> {
    /// Starts a handshake: makes the request and subscribes to its channel. The request is
    /// emitted ([`Event::SessionRequest`]) once the relay confirms the subscription, so a
    /// wallet can never answer into a channel nobody reads.
    pub fn new(
        options: DappOptions,
        now: u64,
        mut rng: Box<dyn RandomSource>,
    ) -> Result<Self, Error> {
        options.dapp.validate().map_err(Error::InvalidRequest)?;
        let id = random_uuid(rng.as_mut());
        let keys = KeyPair::generate(rng.as_mut());
        let ttl = options.request_ttl_ms.unwrap_or(match options.mode {
            Mode::Untrusted => 120_000,
            Mode::Trusted => 60_000,
        });
        let request = SessionRequest {
            v: PROTOCOL_VERSION,
            channel: format!("{}{id}", super::HANDSHAKE_PREFIX),
            id,
            mode: options.mode,
            public_key: base64url::encode(&keys.public().0),
            expires_at: now.saturating_add(ttl),
            relay: options.relay,
            dapp: options.dapp,
        };
        request.validate()?;
        // Wallets refuse request JSON over MAX_REQUEST_JSON_LEN. Fields within their own
        // limits can still exceed it once escaped (control characters in a URL take six
        // bytes each): refuse here rather than show a QR code no wallet accepts.
        if request.to_json().len() > super::request::MAX_REQUEST_JSON_LEN {
            return Err(Error::RequestTooLarge);
        }
        let pending = Pending {
            request,
            keys,
            position: None,
            offer: None,
            attempts_left: OTP_ATTEMPTS,
            otp_prompted: false,
            sync_deadline: 0,
        };
        Ok(Self::start(pending, rng, options.limits))
    }

    fn start(pending: Pending, rng: Box<dyn RandomSource>, limits: Limits) -> Self {
        let mut conn = Self::with_phase(Phase::Closed(None), rng, limits);
        conn.out.push_back(pending.record());
        conn.out.push_back(Output::Subscribe {
            channel: pending.request.channel.clone(),
            since: pending.position.clone(),
        });
        conn.out
            .push_back(Output::Event(Event::State(State::Connecting)));
        conn.phase = Phase::Handshake(DappHandshake::Subscribing(Box::new(pending)));
        conn
    }

    /// Resumes a handshake after a reload: re-subscribes from the stored position so every
    /// offer is read again; the attempt count carries over.
    pub fn resume_pending(
        record: &PendingRecord,
        rng: Box<dyn RandomSource>,
        limits: Limits,
    ) -> Self {
        let pending = Pending {
            request: record.request.clone(),
            keys: KeyPair::from_secret(record.secret),
            position: record.position.clone(),
            offer: None,
            attempts_left: record.attempts_left,
            otp_prompted: false,
            sync_deadline: 0,
        };
        Self::start(pending, rng, limits)
    }

    /// The user typed the code shown on the wallet.
    ///
    /// A code that is not six digits costs no attempt. Otherwise each call costs one attempt
    /// unless it matches the live offer's; the third miss ends the handshake.
    pub fn submit_otp(&mut self, typed: &str, now: u64) -> Result<(), Error> {
        let pending = match &self.phase {
            Phase::Handshake(DappHandshake::Listening(p) | DappHandshake::Syncing(p)) => p,
            Phase::Handshake(DappHandshake::Subscribing(_)) => {
                return Err(Error::InvalidState("connecting"));
            }
            Phase::Connected(_) => return Err(Error::InvalidState("connected")),
            Phase::Closed(reason) => {
                return Err(reason.clone().unwrap_or(Error::InvalidState("closed")));
            }
        };
        if pending.request.mode != Mode::Untrusted || pending.offer.is_none() {
            return Err(Error::InvalidState("awaiting_offer"));
        }
        let typed = Otp::parse(typed).ok_or(Error::OtpMalformed)?;
        if pending.otp_deadline().is_some_and(|d| now > d) {
            self.handle_timeout(now);
            return Err(Error::OtpExpired);
        }
        let mut result = Ok(());
        self.step(|h, ctx| {
            let (DappHandshake::Listening(mut p)
            | DappHandshake::Syncing(mut p)
            | DappHandshake::Subscribing(mut p)) = h;
            match p.check_otp(&typed, now) {
                Ok(accepted) => p.connect(accepted, now, ctx),
                Err(Error::OtpAttemptsExhausted) => {
                    result = Err(Error::OtpAttemptsExhausted);
                    fail(p, Error::OtpAttemptsExhausted, ctx)
                }
                Err(e) => {
                    result = Err(e);
                    ctx.out.push_back(p.record());
                    Step::Stay(DappHandshake::Listening(p))
                }
            }
        });
        result
    }

    /// Gives up the handshake (the user closed the dialog).
    pub fn cancel(&mut self, now: u64) {
        if let Phase::Handshake(_) = self.phase {
            self.close("cancelled", now);
        }
    }

    /// Resumes an established session from its record: re-subscribes from the stored
    /// position and emits `Connected`.
    pub fn resume_session(
        record: &SessionRecord,
        rng: Box<dyn RandomSource>,
        limits: Limits,
    ) -> Self {
        resume_session(record, rng, limits)
    }

    /// The request being shown, while connecting.
    pub fn session_request(&self) -> Option<&SessionRequest> {
        match &self.phase {
            Phase::Handshake(h) => Some(&h.pending().request),
            _ => None,
        }
    }
}

/// Shared by both sides: a connection in the session phase rebuilt from its record.
pub(crate) fn resume_session<H: Handshake>(
    record: &SessionRecord,
    rng: Box<dyn RandomSource>,
    limits: Limits,
) -> Connection<H> {
    let session = Session::from_record(record, limits.clone());
    let mut conn = Connection::with_phase(Phase::Closed(None), rng, limits);
    conn.out.push_back(Output::Subscribe {
        channel: session.info.channel.clone(),
        since: session.position(),
    });
    conn.out
        .push_back(Output::Event(Event::State(State::Connected)));
    conn.out
        .push_back(Output::Event(Event::Connected(session.info.clone())));
    conn.phase = Phase::Connected(Box::new(session));
    conn
}

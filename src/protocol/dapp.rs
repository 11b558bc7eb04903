//! The dApp's side of the handshake (`docs/PROTOCOL.md` §5).
//!
//! States, each consumed by the input it handles: `Subscribing` (waiting for the relay to
//! confirm the handshake channel) → `Publishing` (the sealed request is on its way; waiting
//! for the relay's acknowledgement) → `Listening` (request shown; collecting offers, and in
//! untrusted mode waiting for the code) → `Syncing` (the request expired by the clock; the
//! driver makes sure no offer is still unread before expiry is declared) → connected.
//! An offer becomes usable only as a [`VerifiedOffer`] (made by decrypting it), and a session
//! only from an [`Accepted`] offer (made by the code check, or by trusted mode's rule).

use std::collections::VecDeque;

use super::connection::{Connection, Ctx, Handshake, Phase, Step};
use super::info::SessionInfo;
use super::message::{OfferBody, OfferMessage, Payload, offer_aad};
use super::otp::{OTP_ATTEMPTS, Otp};
use super::record::{PendingRecord, Record, SessionRecord};
use super::request::{Metadata, Mode, PROTOCOL_VERSION, SessionRequest};
use super::sas;
use super::scope::Scopes;
use super::session::Session;
use super::{
    Discard, Error, Event, Limits, MAX_MESSAGE_LEN, Output, SESSION_PREFIX, State, StreamPosition,
    is_channel, pending_key, random_uuid,
};
use crate::base64url;
use crate::crypto::{KeyPair, KeySchedule, PublicKey, RandomSource};

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
    /// CAIP-25 scopes the session needs (none: an unscoped session, any method).
    pub scopes: Option<Scopes>,
    /// CAIP-25 scopes the session would like.
    pub optional_scopes: Option<Scopes>,
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
            scopes: None,
            optional_scopes: None,
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
    /// Untrusted mode: what the wallet committed to ([`sas::commit`]).
    commit: [u8; 32],
    /// Effective OTP deadline: the wallet's, capped by our own window.
    deadline: u64,
}

/// Untrusted mode: the one live offer. Its session channel is joined and the dApp's nonce
/// sent; `code` is known once the wallet revealed the nonce its offer committed to. The
/// session is volatile (not stored) until the typed code matches.
#[derive(Debug)]
pub struct Candidate {
    offer: VerifiedOffer,
    session: Session,
    /// What the code is about ([`sas::transcript`]).
    transcript: [u8; 32],
    /// The nonce the dApp sent for this offer.
    dapp_nonce: [u8; sas::NONCE_LEN],
    code: Option<Otp>,
}

/// An offer the dApp may connect to: only the code check (untrusted) or the first-offer rule
/// (trusted) make one.
#[derive(Debug)]
pub enum Accepted {
    /// Trusted mode's first offer that opened.
    #[doc(hidden)]
    Trusted(Box<VerifiedOffer>),
    /// Untrusted mode's candidate whose code the user typed.
    #[doc(hidden)]
    Untrusted(Box<Candidate>),
}

/// Data every dApp handshake state carries.
#[derive(Debug)]
pub struct Pending {
    request: SessionRequest,
    keys: KeyPair,
    position: Option<StreamPosition>,
    /// Untrusted mode: the one live offer the typed code is checked against. A second
    /// distinct live offer ends the handshake ([`Error::HandshakeContested`]), so the three
    /// attempts are three code checks in total, however many offers anyone publishes.
    candidate: Option<Box<Candidate>>,
    attempts_left: u8,
    otp_prompted: bool,
    /// Where the dApp's nonce for an offer comes from ([`sas::dapp_nonce`]).
    nonce_seed: [u8; 32],
    /// Set on entering `Syncing`.
    sync_deadline: u64,
}

/// The dApp handshake, one variant per state.
#[derive(Debug)]
pub enum DappHandshake {
    /// Waiting for the relay to confirm the handshake channel.
    #[doc(hidden)]
    Subscribing(Box<Pending>),
    /// The sealed request is published; waiting for the relay to acknowledge it, so the QR
    /// code is shown only once a wallet can read what it points at.
    #[doc(hidden)]
    Publishing(Box<Pending>),
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
            nonce_seed: self.nonce_seed,
            otp_prompted: self.otp_prompted,
        });
        Output::Store {
            key: pending_key(&self.request.id),
            record: record.encode(),
        }
    }

    /// Leaves the handshake channel and forgets the pending record.
    fn leave_handshake(&self, ctx: &mut Ctx) {
        ctx.out.push_back(Output::Unsubscribe {
            channel: self.request.channel.clone(),
        });
        ctx.out.push_back(Output::Remove {
            key: pending_key(&self.request.id),
        });
    }

    /// Undoes everything: the handshake channel, the record, a candidate's session channel.
    fn cleanup(&self, ctx: &mut Ctx) {
        self.leave_handshake(ctx);
        if let Some(c) = &self.candidate {
            ctx.out.push_back(Output::Unsubscribe {
                channel: c.session.info.channel.clone(),
            });
        }
    }

    /// Decrypts and checks an offer message.
    fn open_offer(&self, data: &str, now: u64) -> Result<VerifiedOffer, Discard> {
        if data.len() > MAX_MESSAGE_LEN {
            return Err(Discard::TooLarge);
        }
        let message = OfferMessage::from_json(data).map_err(|_| Discard::Malformed)?;
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
        let plain = std::str::from_utf8(&plain).map_err(|_| Discard::Malformed)?;
        let body = OfferBody::from_json(plain).map_err(|_| Discard::Malformed)?;
        if !is_channel(&body.channel, SESSION_PREFIX)
            || body.wallet.validate().is_err()
            || body
                .scopes
                .as_ref()
                .is_some_and(|s| s.validate(true).is_err())
        {
            return Err(Discard::Malformed);
        }
        // Untrusted mode takes only committed offers: an offer of the old, uncommitted kind
        // (a code inside the offer) is malformed here, so it can never downgrade the pairing.
        let (commit, deadline) = match (self.request.mode, &body.commit, body.otp_deadline) {
            (Mode::Trusted, _, _) => ([0; 32], 0),
            (Mode::Untrusted, Some(commit), Some(deadline)) => (
                base64url::decode_array(commit).ok_or(Discard::Malformed)?,
                deadline.min(now.saturating_add(MAX_OTP_WINDOW_MS)),
            ),
            (Mode::Untrusted, _, _) => return Err(Discard::Malformed),
        };
        Ok(VerifiedOffer {
            wallet_public,
            keys,
            body,
            commit,
            deadline,
        })
    }

    /// The OTP deadline of the offer held.
    fn otp_deadline(&self) -> Option<u64> {
        self.candidate.as_ref().map(|c| c.offer.deadline)
    }

    fn prompt_otp(&mut self, ctx: &mut Ctx) {
        let revealed = self.candidate.as_ref().is_some_and(|c| c.code.is_some());
        if let (false, true, Some(deadline)) = (self.otp_prompted, revealed, self.otp_deadline()) {
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
    ) -> (Result<Box<Self>, Step<DappHandshake>>, Result<(), Discard>) {
        let offer = match self.open_offer(data, now) {
            Ok(o) => o,
            Err(e) => return (Ok(self), Err(e)),
        };
        match self.request.mode {
            Mode::Trusted => (
                Err(self.connect(Accepted::Trusted(Box::new(offer)), now, ctx)),
                Ok(()),
            ),
            Mode::Untrusted => {
                if offer.deadline < now {
                    return (Ok(self), Err(Discard::Unexpected));
                }
                match &self.candidate {
                    Some(held) if held.offer.wallet_public == offer.wallet_public => {
                        return (Ok(self), Err(Discard::Replay));
                    }
                    // Two wallets answered one request: someone else has the QR code or the
                    // link. Checking the code against both would give a guesser more than
                    // three chances, and picking one could pick theirs: pair again instead.
                    Some(held) if held.offer.deadline >= now => {
                        return (Err(fail(self, Error::HandshakeContested, ctx)), Ok(()));
                    }
                    // An expired offer is pruned.
                    Some(held) => ctx.out.push_back(Output::Unsubscribe {
                        channel: held.session.info.channel.clone(),
                    }),
                    None => {}
                }
                self.candidate = Some(self.join(offer, now, ctx));
                (Ok(self), Ok(()))
            }
        }
    }

    /// Untrusted mode: joins the offer's session channel and sends the dApp's nonce (frame
    /// 0), now that the wallet is committed to its own.
    fn join(&self, offer: VerifiedOffer, now: u64, ctx: &mut Ctx) -> Box<Candidate> {
        let mut session = self.session_for(&offer, now, ctx);
        session.volatile = true;
        ctx.out.push_back(Output::Subscribe {
            channel: session.info.channel.clone(),
            since: offer.body.since.clone(),
        });
        let dapp_nonce = sas::dapp_nonce(&self.nonce_seed, &offer.wallet_public);
        let nonce = Payload::Nonce {
            nonce: base64url::encode(&dapp_nonce),
        };
        // 60 bytes of JSON always fit the payload limit.
        let _ = session.send(&nonce, now, ctx.rng, ctx.out);
        let transcript =
            sas::transcript(&self.request.id, &self.keys.public(), &offer.wallet_public);
        Box::new(Candidate {
            offer,
            session,
            transcript,
            dapp_nonce,
            code: None,
        })
    }

    /// Handles a publication on the candidate's session channel: the wallet's reveal.
    fn candidate_frame(
        &mut self,
        data: &str,
        position: Option<StreamPosition>,
        ctx: &mut Ctx,
        prompt: bool,
    ) -> Result<(), Discard> {
        let Some(c) = self.candidate.as_mut() else {
            return Err(Discard::UnknownChannel);
        };
        let payload = c.session.open(data, &mut VecDeque::new());
        c.session.advance(position);
        let nonce = match payload? {
            Payload::Reveal { nonce } if c.code.is_none() => nonce,
            _ => return Err(Discard::Unexpected),
        };
        let wallet_nonce: [u8; sas::NONCE_LEN] =
            base64url::decode_array(&nonce).ok_or(Discard::Malformed)?;
        // Only the offer's key holder can send this frame: a reveal that does not open the
        // commitment is a broken wallet, dropped; the code window then runs out.
        if sas::commit(&c.transcript, &wallet_nonce) != c.offer.commit {
            return Err(Discard::Unexpected);
        }
        c.code = Some(sas::code(&c.transcript, &c.dapp_nonce, &wallet_nonce));
        if prompt {
            self.prompt_otp(ctx);
        }
        Ok(())
    }

    /// Compares the typed code with the live offer's, in constant time.
    fn check_otp(&mut self, typed: &Otp, now: u64) -> Result<Accepted, Error> {
        let hit = self.candidate.as_ref().is_some_and(|c| {
            c.code.as_ref().is_some_and(|o| o.matches(typed)) & (c.offer.deadline >= now)
        });
        match self.candidate.take() {
            Some(candidate) if hit => Ok(Accepted::Untrusted(candidate)),
            kept => {
                self.candidate = kept;
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

    /// The session an offer describes.
    fn session_for(&self, offer: &VerifiedOffer, now: u64, ctx: &Ctx) -> Session {
        let info = SessionInfo {
            // is_channel checked the prefix in open_offer.
            id: offer.body.channel[SESSION_PREFIX.len()..].to_owned(),
            channel: offer.body.channel.clone(),
            role: super::Role::Dapp,
            mode: self.request.mode,
            peer: offer.body.wallet.clone(),
            relay: self.request.relay.clone(),
            expires_at: now.saturating_add(ctx.limits.session_ttl_ms),
            // A scoped request limits the session to what the wallet granted (nothing, if
            // the wallet granted nothing).
            scopes: self
                .request
                .is_scoped()
                .then(|| offer.body.scopes.clone().unwrap_or_default()),
        };
        Session::new(
            info,
            offer.keys.dapp_to_wallet.clone(),
            offer.keys.wallet_to_dapp.clone(),
            offer.body.since.clone(),
            ctx.limits.clone(),
        )
    }

    /// Builds the session from an accepted offer and leaves the handshake channel.
    fn connect(
        self: Box<Self>,
        accepted: Accepted,
        now: u64,
        ctx: &mut Ctx,
    ) -> Step<DappHandshake> {
        self.leave_handshake(ctx);
        match accepted {
            Accepted::Trusted(offer) => {
                let session = self.session_for(&offer, now, ctx);
                ctx.out.push_back(Output::Subscribe {
                    channel: session.info.channel.clone(),
                    since: offer.body.since.clone(),
                });
                session.store(ctx.out);
                Step::Connected(Box::new(session))
            }
            // Sending the ack also stores the session (with its advanced counter).
            Accepted::Untrusted(candidate) => {
                let mut session = candidate.session;
                session.volatile = false;
                if let Err(e) = session.send(&Payload::Ack, now, ctx.rng, ctx.out) {
                    return Step::Failed(e);
                }
                Step::Connected(Box::new(session))
            }
        }
    }
}

fn fail(pending: Box<Pending>, error: Error, ctx: &mut Ctx) -> Step<DappHandshake> {
    pending.cleanup(ctx);
    Step::Failed(error)
}

impl DappHandshake {
    fn pending(&self) -> &Pending {
        match self {
            Self::Subscribing(p) | Self::Publishing(p) | Self::Listening(p) | Self::Syncing(p) => p,
        }
    }
}

impl Pending {
    /// Publishes the sealed request, which the QR code points at (again after a reload or
    /// when the relay lost the channel: a wallet takes the first copy that opens, and all
    /// copies say the same). Its size was checked when the request was made.
    fn publish_request(&self, ctx: &mut Ctx) {
        if let Ok(data) = self.request.sealed_message(ctx.rng) {
            ctx.out.push_back(Output::Publish {
                channel: self.request.channel.clone(),
                data,
            });
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
                p.publish_request(ctx);
                ctx.out.push_back(p.record());
                Step::Stay(Self::Publishing(p))
            }
            // The relay came back without the channel's history (a restarted memory broker):
            // the request it held is gone, so publish it again for wallets still to scan.
            Self::Listening(mut p) | Self::Syncing(mut p)
                if p.request.channel == channel
                    && p.position
                        .as_ref()
                        .is_some_and(|pos| pos.epoch != top.epoch) =>
            {
                p.position = Some(top);
                p.publish_request(ctx);
                ctx.out.push_back(p.record());
                Step::Stay(Self::Listening(p))
            }
            other => Step::Stay(other),
        }
    }

    fn published(self, channel: &str, _now: u64, ctx: &mut Ctx) -> Step<Self> {
        match self {
            Self::Publishing(mut p) if p.request.channel == channel => {
                ctx.emit(Event::SessionRequest(Box::new(p.request.clone())));
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
        position: Option<StreamPosition>,
        data: &str,
        now: u64,
        ctx: &mut Ctx,
    ) -> (Step<Self>, Result<(), Discard>) {
        let candidate_channel = self
            .pending()
            .candidate
            .as_ref()
            .is_some_and(|c| c.session.info.channel == channel);
        if candidate_channel {
            // The code is prompted for only once the request is shown.
            return match self {
                Self::Subscribing(mut p) => {
                    let verdict = p.candidate_frame(data, position, ctx, false);
                    (Step::Stay(Self::Subscribing(p)), verdict)
                }
                Self::Publishing(mut p) => {
                    let verdict = p.candidate_frame(data, position, ctx, false);
                    (Step::Stay(Self::Publishing(p)), verdict)
                }
                Self::Listening(mut p) | Self::Syncing(mut p) => {
                    let verdict = p.candidate_frame(data, position, ctx, true);
                    (Step::Stay(Self::Listening(p)), verdict)
                }
            };
        }
        if channel != self.pending().request.channel {
            return (Step::Stay(self), Err(Discard::UnknownChannel));
        }
        let (p, wrap): (_, fn(Box<Pending>) -> Self) = match self {
            Self::Subscribing(p) => (p, Self::Subscribing),
            Self::Publishing(p) => (p, Self::Publishing),
            Self::Listening(p) | Self::Syncing(p) => (p, Self::Listening),
        };
        match p.offer(data, now, ctx) {
            (Ok(p), verdict) => (Step::Stay(wrap(p)), verdict),
            (Err(step), verdict) => (step, verdict),
        }
    }

    fn timeout(self, now: u64, ctx: &mut Ctx) -> Step<Self> {
        match self {
            Self::Subscribing(p) | Self::Publishing(p) if now >= p.request.expires_at => {
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
            Self::Subscribing(p) | Self::Publishing(p) => Some(p.request.expires_at),
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
        let mut nonce_seed = [0u8; 32];
        rng.fill(&mut nonce_seed);
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
            scopes: options.scopes,
            optional_scopes: options.optional_scopes,
        };
        request.validate()?;
        // Wallets refuse a sealed request over MAX_REQUEST_JSON_LEN, and records hold the
        // whole request: fields within their own limits can still exceed it once escaped
        // (control characters take six bytes each). Refuse here rather than show a QR code
        // no wallet can use.
        if request.to_json().len() > super::request::MAX_REQUEST_JSON_LEN
            || request.sealed_body().len() > super::request::MAX_REQUEST_JSON_LEN
        {
            return Err(Error::RequestTooLarge);
        }
        let pending = Pending {
            request,
            keys,
            position: None,
            candidate: None,
            attempts_left: OTP_ATTEMPTS,
            otp_prompted: false,
            nonce_seed,
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
            candidate: None,
            attempts_left: record.attempts_left,
            otp_prompted: false,
            nonce_seed: record.nonce_seed,
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
            Phase::Handshake(DappHandshake::Subscribing(_) | DappHandshake::Publishing(_)) => {
                return Err(Error::InvalidState("connecting"));
            }
            Phase::Connected(_) => return Err(Error::InvalidState("connected")),
            Phase::Closed(reason) => {
                return Err(reason.clone().unwrap_or(Error::InvalidState("closed")));
            }
        };
        let revealed = pending.candidate.as_ref().is_some_and(|c| c.code.is_some());
        if pending.request.mode != Mode::Untrusted || !revealed {
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
            | DappHandshake::Subscribing(mut p)
            | DappHandshake::Publishing(mut p)) = h;
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
        Connection::from_session_record(record, rng, limits)
    }

    /// The request being shown, while connecting.
    pub fn session_request(&self) -> Option<&SessionRequest> {
        match &self.phase {
            Phase::Handshake(h) => Some(&h.pending().request),
            _ => None,
        }
    }
}

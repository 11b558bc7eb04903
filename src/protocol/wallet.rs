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
use super::request::{Metadata, Mode, SessionRequest};
use super::sas;
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
}

impl WalletOptions {
    /// Defaults for `wallet`.
    pub fn new(wallet: Metadata) -> Self {
        Self {
            wallet,
            otp_window_ms: 60_000,
            ack_grace_ms: 10_000,
            clock_skew_ms: 30_000,
            limits: Limits::default(),
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

/// The wallet handshake, one variant per state.
#[derive(Debug)]
pub enum WalletHandshake {
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
    fn publish_offer(&mut self, since: StreamPosition, ctx: &mut Ctx) {
        let ack = self.session.awaiting_ack.as_ref();
        let body = OfferBody {
            channel: self.session.info.channel.clone(),
            wallet: self.wallet.clone(),
            commit: ack.map(|a| base64url::encode(&sas::commit(&a.transcript, &a.wallet_nonce))),
            otp_deadline: ack.map(|a| a.otp_deadline),
            since: Some(since),
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
            other => Step::Stay(other),
        }
    }

    fn synced(self, _channel: &str, _now: u64, _ctx: &mut Ctx) -> Step<Self> {
        Step::Stay(self)
    }

    fn next_timeout(&self) -> Option<u64> {
        match self {
            Self::Subscribing(o) => Some(o.deadline),
            Self::AwaitingAck(s) => s.awaiting_ack.as_ref().map(|a| a.deadline),
        }
    }

    fn abandon(self, ctx: &mut Ctx) {
        match self {
            Self::Subscribing(o) => cleanup(&o.session, ctx),
            Self::AwaitingAck(s) => cleanup(&s, ctx),
        }
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
        request.validate()?;
        request.check_fresh(now, options.clock_skew_ms)?;
        options.wallet.validate().map_err(Error::InvalidRequest)?;
        let dapp_public = request.dapp_public_key()?;
        let keys = KeyPair::generate(rng.as_mut());
        let shared = keys.agree(&dapp_public)?;
        let schedule =
            crate::crypto::KeySchedule::derive(&shared, &request.id, &dapp_public, &keys.public());
        let id = random_uuid(rng.as_mut());
        let info = SessionInfo {
            channel: format!("{SESSION_PREFIX}{id}"),
            id,
            role: super::Role::Wallet,
            mode: request.mode,
            peer: request.dapp.clone(),
            relay: request.relay.clone(),
            expires_at: now.saturating_add(options.limits.session_ttl_ms),
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
        let mut conn = Self::with_phase(Phase::Closed(None), rng, options.limits);
        conn.out.push_back(Output::Subscribe {
            channel: offering.session.info.channel.clone(),
            since: None,
        });
        conn.out
            .push_back(Output::Event(Event::State(State::Connecting)));
        conn.phase = Phase::Handshake(WalletHandshake::Subscribing(Box::new(offering)));
        Ok(conn)
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

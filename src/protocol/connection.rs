//! What both sides share: the handshake-then-session life cycle, the output queue, and the
//! session API once connected. Side-specific handshakes implement [`Handshake`].

use std::collections::VecDeque;

use crate::json::Json;

use super::info::SessionInfo;
use super::message::RpcError;
use super::record::SessionRecord;
use super::session::{Flow, Session};
use super::{Discard, Error, Event, Limits, Output, State, StreamPosition};
use crate::crypto::RandomSource;

/// Everything a handshake step may touch.
#[allow(missing_debug_implementations)]
pub struct Ctx<'a> {
    pub out: &'a mut VecDeque<Output>,
    pub rng: &'a mut dyn RandomSource,
    pub limits: &'a Limits,
}

impl Ctx<'_> {
    pub fn emit(&mut self, event: Event) {
        self.out.push_back(Output::Event(event));
    }
}

/// The result of feeding an input to a handshake state: the state consumed, the next one.
#[allow(missing_debug_implementations)]
pub enum Step<H> {
    Stay(H),
    Connected(Box<Session>),
    Failed(Error),
}

/// A side's handshake: consumes itself on each input and returns the next step.
pub trait Handshake: Sized {
    fn subscribed(self, channel: &str, top: StreamPosition, now: u64, ctx: &mut Ctx) -> Step<Self>;
    fn publication(
        self,
        channel: &str,
        position: Option<StreamPosition>,
        data: &str,
        now: u64,
        ctx: &mut Ctx,
    ) -> (Step<Self>, Result<(), Discard>);
    fn timeout(self, now: u64, ctx: &mut Ctx) -> Step<Self>;
    fn synced(self, channel: &str, now: u64, ctx: &mut Ctx) -> Step<Self>;
    /// The relay acknowledged a publication on `channel`.
    fn published(self, _channel: &str, _now: u64, _ctx: &mut Ctx) -> Step<Self> {
        Step::Stay(self)
    }
    fn next_timeout(&self) -> Option<u64>;
    /// Undo subscriptions and records after a failure or cancel.
    fn abandon(self, ctx: &mut Ctx);
}

pub enum Phase<H> {
    Handshake(H),
    Connected(Box<Session>),
    /// Over; keeps the reason so late calls (a fourth OTP) get the right error.
    Closed(Option<Error>),
}

/// A sans-IO connection: a handshake, then a session. See the module docs of
/// [`crate::protocol`] for the input/output loop.
pub struct Connection<H> {
    pub(crate) phase: Phase<H>,
    pub(crate) out: VecDeque<Output>,
    pub(crate) rng: Box<dyn RandomSource>,
    pub(crate) limits: Limits,
}

impl<H> core::fmt::Debug for Connection<H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let phase = match &self.phase {
            Phase::Handshake(_) => "handshake",
            Phase::Connected(_) => "connected",
            Phase::Closed(_) => "closed",
        };
        f.debug_struct("Connection")
            .field("phase", &phase)
            .finish_non_exhaustive()
    }
}

impl<H: Handshake> Connection<H> {
    /// Either side's connection in the session phase, rebuilt from its record: re-subscribes
    /// from the stored position and emits `Connected`.
    pub(crate) fn from_session_record(
        record: &SessionRecord,
        rng: Box<dyn RandomSource>,
        limits: Limits,
    ) -> Self {
        let session = Session::from_record(record, limits.clone());
        let mut conn = Self::with_phase(Phase::Closed(None), rng, limits);
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

    pub(crate) fn with_phase(phase: Phase<H>, rng: Box<dyn RandomSource>, limits: Limits) -> Self {
        Self {
            phase,
            out: VecDeque::new(),
            rng,
            limits,
        }
    }

    /// Runs one handshake step and applies its outcome.
    pub(crate) fn step(&mut self, f: impl FnOnce(H, &mut Ctx) -> Step<H>) {
        let Phase::Handshake(h) = core::mem::replace(&mut self.phase, Phase::Closed(None)) else {
            unreachable!("step is only called in the handshake phase");
        };
        let mut ctx = Ctx {
            out: &mut self.out,
            rng: self.rng.as_mut(),
            limits: &self.limits,
        };
        self.phase = match f(h, &mut ctx) {
            Step::Stay(h) => Phase::Handshake(h),
            Step::Connected(session) => {
                ctx.emit(Event::State(State::Connected));
                ctx.emit(Event::Connected(session.info.clone()));
                Phase::Connected(session)
            }
            Step::Failed(error) => Self::failed(error, &mut ctx),
        };
    }

    fn failed(error: Error, ctx: &mut Ctx) -> Phase<H> {
        ctx.emit(Event::State(State::Disconnected));
        ctx.emit(Event::Disconnected(super::Disconnect::Failed(
            error.clone(),
        )));
        Phase::Closed(Some(error))
    }

    /// The next output to apply, in order.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When to call [`Connection::handle_timeout`] next (Unix ms).
    pub fn poll_timeout(&self) -> Option<u64> {
        match &self.phase {
            Phase::Handshake(h) => h.next_timeout(),
            Phase::Connected(s) => s.poll_timeout(),
            Phase::Closed(_) => None,
        }
    }

    /// True once the connection ended; it takes no more input.
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed(_))
    }

    /// The session, once connected.
    pub fn session(&self) -> Option<&SessionInfo> {
        match &self.phase {
            Phase::Connected(s) => Some(&s.info),
            _ => None,
        }
    }

    /// The relay confirmed a subscription; `top` is the channel's current position. Feed
    /// recovered publications first, then call this.
    pub fn handle_subscribed(&mut self, channel: &str, top: StreamPosition, now: u64) {
        match &mut self.phase {
            Phase::Handshake(_) => self.step(|h, ctx| h.subscribed(channel, top, now, ctx)),
            Phase::Connected(s)
                if s.info.channel == channel
                    && s.position().is_none_or(|p| p.epoch != top.epoch) =>
            {
                s.advance(Some(top));
                s.store(&mut self.out);
            }
            _ => {}
        }
    }

    /// The relay could not recover `channel` from the position we gave: publications may be
    /// lost. Reported as [`Event::MessagesLost`]; the session goes on from the new position.
    pub fn handle_recovery_failed(&mut self, channel: &str) {
        let ours = match &self.phase {
            Phase::Connected(s) => s.info.channel == channel,
            Phase::Handshake(_) => true,
            Phase::Closed(_) => false,
        };
        if ours {
            self.out
                .push_back(Output::Event(Event::MessagesLost { count: None }));
        }
    }

    /// A publication arrived on `channel` (live or recovered, in offset order).
    pub fn handle_publication(
        &mut self,
        channel: &str,
        position: Option<StreamPosition>,
        data: &str,
        now: u64,
    ) -> Result<(), Discard> {
        match &mut self.phase {
            Phase::Handshake(_) => {
                let mut verdict = Ok(());
                self.step(|h, ctx| {
                    let (step, v) = h.publication(channel, position, data, now, ctx);
                    verdict = v;
                    step
                });
                verdict
            }
            Phase::Connected(s) if s.info.channel == channel => {
                let flow = s.handle_frame(data, position, now, self.rng.as_mut(), &mut self.out)?;
                if flow == Flow::Ended {
                    self.phase = Phase::Closed(Some(Error::PeerClosed));
                }
                Ok(())
            }
            _ => Err(Discard::UnknownChannel),
        }
    }

    /// The relay acknowledged a publication on a handshake channel (`handshake:<uuid>`): the
    /// dApp shows its request ([`Event::SessionRequest`]) only once the relay holds the
    /// sealed copy a wallet reads. Acknowledgements of session frames need not be fed.
    pub fn handle_published(&mut self, channel: &str, now: u64) {
        if let Phase::Handshake(_) = self.phase {
            self.step(|h, ctx| h.published(channel, now, ctx));
        }
    }

    /// The driver finished the `Sync` it was asked for.
    pub fn handle_synced(&mut self, channel: &str, now: u64) {
        if let Phase::Handshake(_) = self.phase {
            self.step(|h, ctx| h.synced(channel, now, ctx));
        }
    }

    /// Time passed; handles every deadline at or before `now`.
    pub fn handle_timeout(&mut self, now: u64) {
        match &mut self.phase {
            Phase::Handshake(_) => self.step(|h, ctx| h.timeout(now, ctx)),
            Phase::Connected(s) => {
                if s.handle_timeout(now, &mut self.out) == Flow::Ended {
                    self.phase = Phase::Closed(Some(Error::SessionExpired));
                }
            }
            Phase::Closed(_) => {}
        }
    }

    /// The session with the rng and output queue, borrowed apart.
    fn parts(
        &mut self,
    ) -> Result<(&mut Session, &mut dyn RandomSource, &mut VecDeque<Output>), Error> {
        match &mut self.phase {
            Phase::Connected(s) => Ok((s, self.rng.as_mut(), &mut self.out)),
            Phase::Handshake(_) => Err(Error::InvalidState("connecting")),
            Phase::Closed(_) => Err(Error::InvalidState("closed")),
        }
    }

    /// Sends a request; its outcome arrives as [`Event::Response`] with the returned id,
    /// at the latest when `timeout_ms` (default from [`Limits`]) passes.
    pub fn request(
        &mut self,
        method: &str,
        params: impl Into<Json>,
        timeout_ms: Option<u64>,
        now: u64,
    ) -> Result<u64, Error> {
        let (session, rng, out) = self.parts()?;
        session.request(method, params.into(), timeout_ms, now, rng, out)
    }

    /// Forgets our request `id` without an event (its frame never left: see
    /// [`crate::relay::hub::RecordStore`]); a late answer to it is then discarded.
    pub fn forget_request(&mut self, id: u64) {
        if let Ok((session, _, _)) = self.parts() {
            session.forget_request(id);
        }
    }

    /// Sends a notification (no response).
    pub fn notify(&mut self, method: &str, params: impl Into<Json>, now: u64) -> Result<(), Error> {
        let (session, rng, out) = self.parts()?;
        let payload = super::Payload::Note {
            method: method.to_owned(),
            params: params.into(),
        };
        session.send(&payload, now, rng, out)
    }

    /// Answers the peer's request `id` with a result or an error.
    pub fn respond(
        &mut self,
        id: u64,
        outcome: Result<Json, RpcError>,
        now: u64,
    ) -> Result<(), Error> {
        let (session, rng, out) = self.parts()?;
        session.respond(id, outcome, now, rng, out)
    }

    /// Sends a ping; the answer arrives as [`Event::Pong`] with the returned number.
    pub fn ping(&mut self, now: u64) -> Result<u64, Error> {
        let (session, rng, out) = self.parts()?;
        session.ping(now, rng, out)
    }

    /// A resumed session takes over the requests its previous instance sent (another browser
    /// tab that owned it): their responses arrive as [`Event::Response`] once each.
    pub fn adopt_requests(&mut self) {
        if let Phase::Connected(s) = &mut self.phase {
            s.adopt_requests();
        }
    }

    /// Ends the connection. Connected: tells the peer (`close` frame), settles pending
    /// requests with `Cancelled`, deletes the record. Connecting: abandons the handshake.
    pub fn close(&mut self, reason: &str, now: u64) {
        match core::mem::replace(&mut self.phase, Phase::Closed(Some(Error::Cancelled))) {
            Phase::Connected(mut s) => s.close(reason, now, self.rng.as_mut(), &mut self.out),
            Phase::Handshake(h) => {
                let mut ctx = Ctx {
                    out: &mut self.out,
                    rng: self.rng.as_mut(),
                    limits: &self.limits,
                };
                h.abandon(&mut ctx);
                ctx.emit(Event::State(State::Disconnected));
                ctx.emit(Event::Disconnected(super::Disconnect::Local));
            }
            closed @ Phase::Closed(_) => self.phase = closed,
        }
    }
}

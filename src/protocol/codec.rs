//! The relay flow's messages (`message.rs`) written and read by hand, without serde's derives
//! (see `crate::json` for why): frames, payloads, offers. The bytes written are serde_json's
//! bytes for the derived `Serialize`, and what is read is what the derived `Deserialize` reads
//! (object form): the session request and session info here, the stored records in
//! `record.rs` from these parts; `tests/json_codec.rs` holds both to that. Request parameters
//! and results are [`Json`] texts, checked and passed on as written.

use super::Error;
use super::info::SessionInfo;
use super::message::{Frame, OfferBody, OfferMessage, Payload, RpcError};
use super::message::{MAX_MESSAGE_LEN, request_aad};
use super::request::{
    Invitation, MAX_REQUEST_JSON_LEN, Metadata, Mode, PROTOCOL_VERSION, SessionRequest,
};
use super::scope::{Scopes, scopes, write_scopes};
use super::{Discard, Role, StreamPosition};
use crate::base64url;
use crate::crypto::{KEY_LEN, RandomSource, request_key};
use crate::json::{self, Invalid, Json, Object, Reader, once};

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Dapp => "dapp",
        Role::Wallet => "wallet",
    }
}

fn value(r: &mut Reader<'_>) -> json::Result<Json> {
    r.json()
}

impl Frame {
    /// `{"from":…,"seq":…,"box":…}`, as serde_json writes it.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        let mut o = Object::new(&mut out);
        o.string("from", role_name(self.from));
        o.u64("seq", self.seq);
        o.string("box", &self.sealed);
        o.end();
        out
    }

    /// Reads a frame as the derived `Deserialize` does.
    pub fn from_json(text: &str) -> json::Result<Self> {
        let mut r = Reader::new(text);
        let (mut from, mut seq, mut sealed) = (None, None, None);
        let mut seen = 0;
        r.object(&mut |r, key| {
            match key {
                "from" => {
                    once(&mut seen, 0)?;
                    from = Some(role(r)?);
                }
                "seq" => {
                    once(&mut seen, 1)?;
                    seq = Some(r.u64()?);
                }
                "box" => {
                    once(&mut seen, 2)?;
                    sealed = Some(r.string()?);
                }
                _ => r.skip()?,
            }
            Ok(())
        })?;
        r.finish()?;
        Ok(Frame {
            from: from.ok_or(Invalid)?,
            seq: seq.ok_or(Invalid)?,
            sealed: sealed.ok_or(Invalid)?,
        })
    }
}

impl OfferMessage {
    /// `{"t":…,"pk":…,"box":…}`, as serde_json writes it.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        let mut o = Object::new(&mut out);
        o.string("t", &self.t);
        o.string("pk", &self.pk);
        o.string("box", &self.sealed);
        o.end();
        out
    }

    /// Reads an offer message as the derived `Deserialize` does.
    pub fn from_json(text: &str) -> json::Result<Self> {
        let mut r = Reader::new(text);
        let mut fields: [Option<String>; 3] = [None, None, None];
        let mut seen = 0;
        r.object(&mut |r, key| {
            let slot = match key {
                "t" => 0,
                "pk" => 1,
                "box" => 2,
                _ => return r.skip(),
            };
            once(&mut seen, slot)?;
            fields[slot as usize] = Some(r.string()?);
            Ok(())
        })?;
        r.finish()?;
        let [t, pk, sealed] = fields;
        Ok(OfferMessage {
            t: t.ok_or(Invalid)?,
            pk: pk.ok_or(Invalid)?,
            sealed: sealed.ok_or(Invalid)?,
        })
    }
}

pub(super) fn write_metadata(o: &mut Object<'_>, metadata: &Metadata) {
    o.string("name", &metadata.name);
    if let Some(url) = &metadata.url {
        o.string("url", url);
    }
    if let Some(icon) = &metadata.icon {
        o.string("icon", icon);
    }
}

pub(super) fn metadata(r: &mut Reader<'_>) -> json::Result<Metadata> {
    let (mut name, mut url, mut icon) = (None, None, None);
    let mut seen = 0;
    r.object(&mut |r, key| {
        match key {
            "name" => {
                once(&mut seen, 0)?;
                name = Some(r.string()?);
            }
            "url" => {
                once(&mut seen, 1)?;
                url = r.optional(Reader::string)?;
            }
            "icon" => {
                once(&mut seen, 2)?;
                icon = r.optional(Reader::string)?;
            }
            _ => r.skip()?,
        }
        Ok(())
    })?;
    Ok(Metadata {
        name: name.ok_or(Invalid)?,
        url,
        icon,
    })
}

pub(super) fn position(r: &mut Reader<'_>) -> json::Result<StreamPosition> {
    let (mut offset, mut epoch) = (None, None);
    let mut seen = 0;
    r.object(&mut |r, key| {
        match key {
            "offset" => {
                once(&mut seen, 0)?;
                offset = Some(r.u64()?);
            }
            "epoch" => {
                once(&mut seen, 1)?;
                epoch = Some(r.string()?);
            }
            _ => r.skip()?,
        }
        Ok(())
    })?;
    Ok(StreamPosition {
        offset: offset.ok_or(Invalid)?,
        epoch: epoch.ok_or(Invalid)?,
    })
}

impl OfferBody {
    /// The sealed offer content, as serde_json writes it (camelCase, absent options left out).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        let mut o = Object::new(&mut out);
        o.string("channel", &self.channel);
        let mut wallet = Object::new(o.key("wallet"));
        write_metadata(&mut wallet, &self.wallet);
        wallet.end();
        if let Some(commit) = &self.commit {
            o.string("commit", commit);
        }
        if let Some(deadline) = self.otp_deadline {
            o.u64("otpDeadline", deadline);
        }
        if let Some(since) = &self.since {
            write_position(&mut o, "since", since);
        }
        if let Some(granted) = &self.scopes {
            write_scopes(&mut o, "scopes", granted);
        }
        o.end();
        out
    }

    /// Reads an offer body as the derived `Deserialize` does.
    pub fn from_json(text: &str) -> json::Result<Self> {
        let mut r = Reader::new(text);
        let (mut channel, mut wallet, mut commit, mut otp_deadline, mut since) =
            (None, None, None, None, None);
        let mut granted = None;
        let mut seen = 0;
        r.object(&mut |r, key| {
            match key {
                "channel" => {
                    once(&mut seen, 0)?;
                    channel = Some(r.string()?);
                }
                "wallet" => {
                    once(&mut seen, 1)?;
                    wallet = Some(metadata(r)?);
                }
                "commit" => {
                    once(&mut seen, 2)?;
                    commit = r.optional(Reader::string)?;
                }
                "otpDeadline" => {
                    once(&mut seen, 3)?;
                    otp_deadline = r.optional(Reader::u64)?;
                }
                "since" => {
                    once(&mut seen, 4)?;
                    since = r.optional(position)?;
                }
                "scopes" => {
                    once(&mut seen, 5)?;
                    granted = r.optional(scopes)?;
                }
                _ => r.skip()?,
            }
            Ok(())
        })?;
        r.finish()?;
        Ok(OfferBody {
            channel: channel.ok_or(Invalid)?,
            wallet: wallet.ok_or(Invalid)?,
            commit,
            otp_deadline,
            since,
            scopes: granted,
        })
    }
}

impl Payload {
    /// The plaintext of a frame, as serde_json writes the derived, `t`-tagged form.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        let mut o = Object::new(&mut out);
        match self {
            Payload::Ack => o.string("t", "ack"),
            Payload::Nonce { nonce } => {
                o.string("t", "nonce");
                o.string("nonce", nonce);
            }
            Payload::Reveal { nonce } => {
                o.string("t", "reveal");
                o.string("nonce", nonce);
            }
            Payload::Ping { n } => {
                o.string("t", "ping");
                o.u64("n", *n);
            }
            Payload::Pong { n } => {
                o.string("t", "pong");
                o.u64("n", *n);
            }
            Payload::Close { reason } => {
                o.string("t", "close");
                o.string("reason", reason);
            }
            Payload::Req { id, method, params } => {
                o.string("t", "req");
                o.u64("id", *id);
                o.string("method", method);
                o.raw("params", params.as_str());
            }
            Payload::Res { id, result, error } => {
                o.string("t", "res");
                o.u64("id", *id);
                if !result.is_null() {
                    o.raw("result", result.as_str());
                }
                if let Some(error) = error {
                    let mut e = Object::new(o.key("error"));
                    e.i64("code", error.code);
                    e.string("message", &error.message);
                    e.end();
                }
            }
            Payload::Note { method, params } => {
                o.string("t", "note");
                o.string("method", method);
                o.raw("params", params.as_str());
            }
        }
        o.end();
        out
    }

    /// Reads a payload as its `Deserialize` does: one flat set of every variant's fields
    /// (each checked for its type whichever variant `t` names), then the variant.
    pub fn from_json(text: &str) -> json::Result<Self> {
        let mut r = Reader::new(text);
        let mut t = None;
        let (mut n, mut nonce, mut reason, mut id, mut method) = (None, None, None, None, None);
        let (mut params, mut result, mut error) = (Json::null(), Json::null(), None);
        let mut seen = 0;
        r.object(&mut |r, key| {
            match key {
                "t" => {
                    once(&mut seen, 0)?;
                    t = Some(r.string()?);
                }
                "n" => {
                    once(&mut seen, 1)?;
                    n = r.optional(Reader::u64)?;
                }
                "nonce" => {
                    once(&mut seen, 2)?;
                    nonce = r.optional(Reader::string)?;
                }
                "reason" => {
                    once(&mut seen, 3)?;
                    reason = r.optional(Reader::string)?;
                }
                "id" => {
                    once(&mut seen, 4)?;
                    id = r.optional(Reader::u64)?;
                }
                "method" => {
                    once(&mut seen, 5)?;
                    method = r.optional(Reader::string)?;
                }
                "params" => {
                    once(&mut seen, 6)?;
                    params = value(r)?;
                }
                "result" => {
                    once(&mut seen, 7)?;
                    result = value(r)?;
                }
                "error" => {
                    once(&mut seen, 8)?;
                    error = r.optional(rpc_error)?;
                }
                _ => r.skip()?,
            }
            Ok(())
        })?;
        r.finish()?;
        Ok(match t.ok_or(Invalid)?.as_str() {
            "ack" => Payload::Ack,
            "nonce" => Payload::Nonce {
                nonce: nonce.ok_or(Invalid)?,
            },
            "reveal" => Payload::Reveal {
                nonce: nonce.ok_or(Invalid)?,
            },
            "ping" => Payload::Ping {
                n: n.ok_or(Invalid)?,
            },
            "pong" => Payload::Pong {
                n: n.ok_or(Invalid)?,
            },
            "close" => Payload::Close {
                reason: reason.unwrap_or_default(),
            },
            "req" => Payload::Req {
                id: id.ok_or(Invalid)?,
                method: method.ok_or(Invalid)?,
                params,
            },
            "res" => Payload::Res {
                id: id.ok_or(Invalid)?,
                result,
                error,
            },
            "note" => Payload::Note {
                method: method.ok_or(Invalid)?,
                params,
            },
            _ => return Err(Invalid),
        })
    }
}

fn rpc_error(r: &mut Reader<'_>) -> json::Result<RpcError> {
    let (mut code, mut message) = (None, None);
    let mut seen = 0;
    r.object(&mut |r, key| {
        match key {
            "code" => {
                once(&mut seen, 0)?;
                code = Some(r.i64()?);
            }
            "message" => {
                once(&mut seen, 1)?;
                message = Some(r.string()?);
            }
            _ => r.skip()?,
        }
        Ok(())
    })?;
    Ok(RpcError {
        code: code.ok_or(Invalid)?,
        message: message.ok_or(Invalid)?,
    })
}

pub(super) fn mode(r: &mut Reader<'_>) -> json::Result<Mode> {
    match r.string()?.as_str() {
        "untrusted" => Ok(Mode::Untrusted),
        "trusted" => Ok(Mode::Trusted),
        _ => Err(Invalid),
    }
}

pub(super) fn role(r: &mut Reader<'_>) -> json::Result<Role> {
    match r.string()?.as_str() {
        "dapp" => Ok(Role::Dapp),
        "wallet" => Ok(Role::Wallet),
        _ => Err(Invalid),
    }
}

pub(super) fn key(r: &mut Reader<'_>) -> json::Result<[u8; KEY_LEN]> {
    base64url::decode_array(&r.string()?).ok_or(Invalid)
}

pub(super) fn write_key(o: &mut Object<'_>, name: &str, key: &[u8; KEY_LEN]) {
    o.string(name, &base64url::encode(key));
}

/// `null`, or the position as an object (a field serde writes even when absent).
pub(super) fn write_optional_position(
    o: &mut Object<'_>,
    name: &str,
    value: &Option<StreamPosition>,
) {
    match value {
        None => o.raw(name, "null"),
        Some(p) => write_position(o, name, p),
    }
}

fn write_position(o: &mut Object<'_>, name: &str, position: &StreamPosition) {
    let mut p = Object::new(o.key(name));
    p.u64("offset", position.offset);
    p.string("epoch", &position.epoch);
    p.end();
}

/// Reads the fields a versioned text is told apart by, ignoring the rest: `v` as any JSON
/// value, kept when it is an integer that fits `u64` (what `Value::as_u64` gives), and, when
/// `kind` is asked for, `kind` as a string (both `None` when absent or `null`).
pub(super) fn head(text: &str, with_kind: bool) -> json::Result<(Option<u64>, Option<String>)> {
    let mut r = Reader::new(text);
    let (mut v, mut kind) = (None, None);
    let mut seen = 0;
    r.object(&mut |r, key| {
        match key {
            "v" => {
                once(&mut seen, 0)?;
                // JSON's integer grammar is what `u64::from_str` takes without a sign; a
                // fraction, an exponent, a sign or a magnitude past `u64` is no version.
                v = r.raw()?.parse::<u64>().ok();
            }
            "kind" if with_kind => {
                once(&mut seen, 1)?;
                kind = r.optional(Reader::string)?;
            }
            _ => r.skip()?,
        }
        Ok(())
    })?;
    r.finish()?;
    Ok((v, kind))
}

impl SessionInfo {
    /// As serde_json writes the derived form (camelCase).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        let mut o = Object::new(&mut out);
        write_info(&mut o, self);
        o.end();
        out
    }
}

pub(super) fn write_info(o: &mut Object<'_>, info: &SessionInfo) {
    o.string("id", &info.id);
    o.string("channel", &info.channel);
    o.string("role", role_name(info.role));
    o.string("mode", info.mode.as_str());
    let mut peer = Object::new(o.key("peer"));
    write_metadata(&mut peer, &info.peer);
    peer.end();
    o.string("relay", &info.relay);
    o.u64("expiresAt", info.expires_at);
    if let Some(granted) = &info.scopes {
        write_scopes(o, "scopes", granted);
    }
}

pub(super) fn info(r: &mut Reader<'_>) -> json::Result<SessionInfo> {
    let (mut id, mut channel, mut role_v, mut mode_v) = (None, None, None, None);
    let (mut peer, mut relay, mut expires_at, mut granted) = (None, None, None, None);
    let mut seen = 0;
    r.object(&mut |r, key| {
        match key {
            "id" => {
                once(&mut seen, 0)?;
                id = Some(r.string()?);
            }
            "channel" => {
                once(&mut seen, 1)?;
                channel = Some(r.string()?);
            }
            "role" => {
                once(&mut seen, 2)?;
                role_v = Some(role(r)?);
            }
            "mode" => {
                once(&mut seen, 3)?;
                mode_v = Some(mode(r)?);
            }
            "peer" => {
                once(&mut seen, 4)?;
                peer = Some(metadata(r)?);
            }
            "relay" => {
                once(&mut seen, 5)?;
                relay = Some(r.string()?);
            }
            "expiresAt" => {
                once(&mut seen, 6)?;
                expires_at = Some(r.u64()?);
            }
            "scopes" => {
                once(&mut seen, 7)?;
                granted = r.optional(scopes)?;
            }
            _ => r.skip()?,
        }
        Ok(())
    })?;
    Ok(SessionInfo {
        id: id.ok_or(Invalid)?,
        channel: channel.ok_or(Invalid)?,
        role: role_v.ok_or(Invalid)?,
        mode: mode_v.ok_or(Invalid)?,
        peer: peer.ok_or(Invalid)?,
        relay: relay.ok_or(Invalid)?,
        expires_at: expires_at.ok_or(Invalid)?,
        scopes: granted,
    })
}

pub(super) fn write_request(o: &mut Object<'_>, request: &SessionRequest) {
    o.u64("v", request.v);
    o.string("id", &request.id);
    o.string("mode", request.mode.as_str());
    o.string("channel", &request.channel);
    o.string("publicKey", &request.public_key);
    o.u64("expiresAt", request.expires_at);
    o.string("relay", &request.relay);
    let mut dapp = Object::new(o.key("dapp"));
    write_metadata(&mut dapp, &request.dapp);
    dapp.end();
    write_request_scopes(o, request);
}

fn write_request_scopes(o: &mut Object<'_>, request: &SessionRequest) {
    if let Some(s) = &request.scopes {
        write_scopes(o, "scopes", s);
    }
    if let Some(s) = &request.optional_scopes {
        write_scopes(o, "optionalScopes", s);
    }
}

/// The request as serde_json writes the derived form (camelCase).
pub(super) fn request_to_json(request: &SessionRequest) -> String {
    let mut out = String::new();
    let mut o = Object::new(&mut out);
    write_request(&mut o, request);
    o.end();
    out
}

/// Reads a request as the derived `Deserialize` does (no validation).
pub(super) fn request_from_json(text: &str) -> json::Result<SessionRequest> {
    let mut r = Reader::new(text);
    let request = request(&mut r)?;
    r.finish()?;
    Ok(request)
}

/// The fields the sealed request body and the whole request share.
#[derive(Default)]
struct Sealed {
    expires_at: Option<u64>,
    dapp: Option<Metadata>,
    scopes: Option<Scopes>,
    optional_scopes: Option<Scopes>,
}

impl Sealed {
    /// Reads `key` if it is one of these fields (bits `base..base + 4` of `seen`); false for
    /// any other key, left unread.
    fn field(
        &mut self,
        r: &mut Reader<'_>,
        key: &str,
        seen: &mut u32,
        base: u32,
    ) -> json::Result<bool> {
        match key {
            "expiresAt" => {
                once(seen, base)?;
                self.expires_at = Some(r.u64()?);
            }
            "dapp" => {
                once(seen, base + 1)?;
                self.dapp = Some(metadata(r)?);
            }
            "scopes" => {
                once(seen, base + 2)?;
                self.scopes = r.optional(scopes)?;
            }
            "optionalScopes" => {
                once(seen, base + 3)?;
                self.optional_scopes = r.optional(scopes)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

pub(super) fn request(r: &mut Reader<'_>) -> json::Result<SessionRequest> {
    let (mut v, mut id, mut mode_v, mut channel) = (None, None, None, None);
    let (mut public_key, mut relay) = (None, None);
    let mut sealed = Sealed::default();
    let mut seen = 0;
    r.object(&mut |r, key| {
        if sealed.field(r, key, &mut seen, 6)? {
            return Ok(());
        }
        match key {
            "v" => {
                once(&mut seen, 0)?;
                v = Some(r.u64()?);
            }
            "id" => {
                once(&mut seen, 1)?;
                id = Some(r.string()?);
            }
            "mode" => {
                once(&mut seen, 2)?;
                mode_v = Some(mode(r)?);
            }
            "channel" => {
                once(&mut seen, 3)?;
                channel = Some(r.string()?);
            }
            "publicKey" => {
                once(&mut seen, 4)?;
                public_key = Some(r.string()?);
            }
            "relay" => {
                once(&mut seen, 5)?;
                relay = Some(r.string()?);
            }
            _ => r.skip()?,
        }
        Ok(())
    })?;
    Ok(SessionRequest {
        v: v.ok_or(Invalid)?,
        id: id.ok_or(Invalid)?,
        mode: mode_v.ok_or(Invalid)?,
        channel: channel.ok_or(Invalid)?,
        public_key: public_key.ok_or(Invalid)?,
        expires_at: sealed.expires_at.ok_or(Invalid)?,
        relay: relay.ok_or(Invalid)?,
        dapp: sealed.dapp.ok_or(Invalid)?,
        scopes: sealed.scopes,
        optional_scopes: sealed.optional_scopes,
    })
}

/// The request's JSON (here rather than in `request.rs`, whose layer is below this one).
impl SessionRequest {
    /// The request as compact JSON.
    pub fn to_json(&self) -> String {
        request_to_json(self)
    }

    /// Parses and validates request JSON (version checked first so that a future version
    /// gets `UnsupportedVersion`, not a field error). Expiry is not checked here.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        if json.len() > MAX_REQUEST_JSON_LEN {
            return Err(Error::RequestTooLarge);
        }
        let (version, _) =
            head(json, false).map_err(|_| Error::InvalidRequest("not a JSON object"))?;
        match version {
            Some(PROTOCOL_VERSION) => {}
            Some(other) => return Err(Error::UnsupportedVersion(other)),
            None => return Err(Error::InvalidRequest("missing version")),
        }
        let request = request_from_json(json)
            .map_err(|_| Error::InvalidRequest("missing or mistyped field"))?;
        request.validate()?;
        Ok(request)
    }
}

/// The sealed request (protocol v3, `docs/PROTOCOL.md` §2): what the dApp publishes on its
/// handshake channel and the wallet reads with the key from the QR code.
impl SessionRequest {
    /// The plaintext of the sealed request: `{expiresAt, dapp, scopes?, optionalScopes?}`.
    pub fn sealed_body(&self) -> String {
        let mut body = String::new();
        let mut o = Object::new(&mut body);
        o.u64("expiresAt", self.expires_at);
        let mut dapp = Object::new(o.key("dapp"));
        write_metadata(&mut dapp, &self.dapp);
        dapp.end();
        write_request_scopes(&mut o, self);
        o.end();
        body
    }

    /// `{"t":"request","box":…}` sealing [`SessionRequest::sealed_body`].
    pub fn sealed_message(&self, rng: &mut dyn RandomSource) -> Result<String, Error> {
        let body = self.sealed_body();
        if body.len() > MAX_REQUEST_JSON_LEN {
            return Err(Error::RequestTooLarge);
        }
        let key = request_key(&self.id, &self.dapp_public_key()?);
        let sealed = key.seal(rng, &request_aad(&self.id), body.as_bytes());
        let mut out = String::new();
        let mut o = Object::new(&mut out);
        o.string("t", "request");
        o.string("box", &base64url::encode(&sealed));
        o.end();
        Ok(out)
    }
}

/// `{"t":…,"box":…}` of a handshake-channel message; `None` unless `t` is `request`.
pub(super) fn request_box(data: &str) -> Option<String> {
    let mut r = Reader::new(data);
    let (mut t, mut sealed) = (None, None);
    let mut seen = 0;
    r.object(&mut |r, key| {
        match key {
            "t" => {
                once(&mut seen, 0)?;
                t = Some(r.string()?);
            }
            "box" => {
                once(&mut seen, 1)?;
                sealed = Some(r.string()?);
            }
            _ => r.skip()?,
        }
        Ok(())
    })
    .ok()?;
    r.finish().ok()?;
    sealed.filter(|_| t.as_deref() == Some("request"))
}

impl Invitation {
    /// Opens a handshake-channel publication as this invitation's sealed request; anything
    /// else (offers, junk, a box under another key) is discarded. The fields are not checked
    /// here: a box that opens is the dApp's own, so the caller refuses a bad one with a typed
    /// error ([`SessionRequest::validate`]) instead of waiting for another.
    pub fn open(&self, data: &str) -> Result<SessionRequest, Discard> {
        if data.len() > MAX_MESSAGE_LEN {
            return Err(Discard::TooLarge);
        }
        let sealed = request_box(data).ok_or(Discard::Malformed)?;
        let sealed = base64url::decode(&sealed).ok_or(Discard::Malformed)?;
        let dapp_public = self.dapp_public_key().map_err(|_| Discard::Malformed)?;
        let plain = request_key(&self.id, &dapp_public)
            .open(&request_aad(&self.id), &sealed)
            .map_err(|_| Discard::Decrypt)?;
        let plain = std::str::from_utf8(&plain).map_err(|_| Discard::Malformed)?;
        let mut r = Reader::new(plain);
        let mut body = Sealed::default();
        let mut seen = 0;
        r.object(&mut |r, key| {
            if !body.field(r, key, &mut seen, 0)? {
                r.skip()?;
            }
            Ok(())
        })
        .and_then(|()| r.finish())
        .map_err(|_| Discard::Malformed)?;
        let request = SessionRequest {
            v: PROTOCOL_VERSION,
            id: self.id.clone(),
            mode: self.mode,
            channel: self.channel(),
            public_key: self.public_key.clone(),
            expires_at: body.expires_at.ok_or(Discard::Malformed)?,
            relay: self.relay.clone(),
            dapp: body.dapp.ok_or(Discard::Malformed)?,
            scopes: body.scopes,
            optional_scopes: body.optional_scopes,
        };
        Ok(request)
    }
}

//! The relay flow's messages (`message.rs`) written and read by hand, without serde's derives
//! (see `crate::json` for why): frames, payloads, offers. The bytes written are serde_json's
//! bytes for the derived `Serialize`, and what is read is what the derived `Deserialize` reads
//! (object form): the session request and session info here, the stored records in
//! `record.rs` from these parts; `tests/json_codec.rs` holds both to that. Request parameters
//! and results are `serde_json::Value`s, read and written by `crate::json` too.

use serde_json::Value;

use super::Error;
use super::info::SessionInfo;
use super::message::{Frame, OfferBody, OfferMessage, Payload, RpcError};
use super::request::{MAX_REQUEST_JSON_LEN, Metadata, Mode, PROTOCOL_VERSION, SessionRequest};
use super::{Role, StreamPosition};
use crate::base64url;
use crate::crypto::KEY_LEN;
use crate::json::{self, Invalid, Object, Reader, once, value_text};

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Dapp => "dapp",
        Role::Wallet => "wallet",
    }
}

fn value(r: &mut Reader<'_>) -> json::Result<Value> {
    r.value()
}

pub(super) fn optional_string(r: &mut Reader<'_>) -> json::Result<Option<String>> {
    if r.null()? {
        return Ok(None);
    }
    r.string().map(Some)
}

pub(super) fn optional_u64(r: &mut Reader<'_>) -> json::Result<Option<u64>> {
    if r.null()? {
        return Ok(None);
    }
    r.u64().map(Some)
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
                    from = Some(match r.string()?.as_str() {
                        "dapp" => Role::Dapp,
                        "wallet" => Role::Wallet,
                        _ => return Err(Invalid),
                    });
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
                url = optional_string(r)?;
            }
            "icon" => {
                once(&mut seen, 2)?;
                icon = optional_string(r)?;
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
            let mut p = Object::new(o.key("since"));
            p.u64("offset", since.offset);
            p.string("epoch", &since.epoch);
            p.end();
        }
        o.end();
        out
    }

    /// Reads an offer body as the derived `Deserialize` does.
    pub fn from_json(text: &str) -> json::Result<Self> {
        let mut r = Reader::new(text);
        let (mut channel, mut wallet, mut commit, mut otp_deadline, mut since) =
            (None, None, None, None, None);
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
                    commit = optional_string(r)?;
                }
                "otpDeadline" => {
                    once(&mut seen, 3)?;
                    otp_deadline = optional_u64(r)?;
                }
                "since" => {
                    once(&mut seen, 4)?;
                    since = if r.null()? { None } else { Some(position(r)?) };
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
                o.raw("params", &value_text(params));
            }
            Payload::Res { id, result, error } => {
                o.string("t", "res");
                o.u64("id", *id);
                if !result.is_null() {
                    o.raw("result", &value_text(result));
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
                o.raw("params", &value_text(params));
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
        let (mut params, mut result, mut error) = (Value::Null, Value::Null, None);
        let mut seen = 0;
        r.object(&mut |r, key| {
            match key {
                "t" => {
                    once(&mut seen, 0)?;
                    t = Some(r.string()?);
                }
                "n" => {
                    once(&mut seen, 1)?;
                    n = optional_u64(r)?;
                }
                "nonce" => {
                    once(&mut seen, 2)?;
                    nonce = optional_string(r)?;
                }
                "reason" => {
                    once(&mut seen, 3)?;
                    reason = optional_string(r)?;
                }
                "id" => {
                    once(&mut seen, 4)?;
                    id = optional_u64(r)?;
                }
                "method" => {
                    once(&mut seen, 5)?;
                    method = optional_string(r)?;
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
                    error = if r.null()? { None } else { Some(rpc_error(r)?) };
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

pub(super) fn optional_position(r: &mut Reader<'_>) -> json::Result<Option<StreamPosition>> {
    if r.null()? {
        return Ok(None);
    }
    position(r).map(Some)
}

/// `null`, or the position as an object (a field serde writes even when absent).
pub(super) fn write_optional_position(
    o: &mut Object<'_>,
    name: &str,
    value: &Option<StreamPosition>,
) {
    match value {
        None => o.raw(name, "null"),
        Some(p) => {
            let mut p_o = Object::new(o.key(name));
            p_o.u64("offset", p.offset);
            p_o.string("epoch", &p.epoch);
            p_o.end();
        }
    }
}

/// Reads the fields a versioned text is told apart by, ignoring the rest: `v` as any JSON
/// value and, when `kind` is asked for, `kind` as a string (both `null` when absent).
pub(super) fn head(text: &str, with_kind: bool) -> json::Result<(Option<Value>, Option<String>)> {
    let mut r = Reader::new(text);
    let (mut v, mut kind) = (None, None);
    let mut seen = 0;
    r.object(&mut |r, key| {
        match key {
            "v" => {
                once(&mut seen, 0)?;
                let value = value(r)?;
                v = (!value.is_null()).then_some(value);
            }
            "kind" if with_kind => {
                once(&mut seen, 1)?;
                kind = optional_string(r)?;
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
}

pub(super) fn info(r: &mut Reader<'_>) -> json::Result<SessionInfo> {
    let (mut id, mut channel, mut role_v, mut mode_v) = (None, None, None, None);
    let (mut peer, mut relay, mut expires_at) = (None, None, None);
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

pub(super) fn request(r: &mut Reader<'_>) -> json::Result<SessionRequest> {
    let (mut v, mut id, mut mode_v, mut channel) = (None, None, None, None);
    let (mut public_key, mut expires_at, mut relay, mut dapp) = (None, None, None, None);
    let mut seen = 0;
    r.object(&mut |r, key| {
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
            "expiresAt" => {
                once(&mut seen, 5)?;
                expires_at = Some(r.u64()?);
            }
            "relay" => {
                once(&mut seen, 6)?;
                relay = Some(r.string()?);
            }
            "dapp" => {
                once(&mut seen, 7)?;
                dapp = Some(metadata(r)?);
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
        expires_at: expires_at.ok_or(Invalid)?,
        relay: relay.ok_or(Invalid)?,
        dapp: dapp.ok_or(Invalid)?,
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
        match version.as_ref().and_then(serde_json::Value::as_u64) {
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

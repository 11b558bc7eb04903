//! The SDK client's side of the wire, by hand: commands written and replies read without serde's
//! derives (see `crate::json` for why). The relay server keeps the serde derives of
//! [`super::wire`]; `tests/json_codec.rs` checks that both sides give the same bytes and the
//! same values, so the two never drift.

use super::wire::{
    ClientError, ClientReply, Command, ConnectResult, HistoryResultOf, PublicationOf, PushOf,
    StreamPosition, SubscribeResultOf,
};
use crate::json::{self, Invalid, Object, Reader, once};

impl Command {
    /// This command as one JSON line, byte for byte what `serde_json::to_string` writes.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        let mut o = Object::new(&mut out);
        if self.id != 0 {
            o.u64("id", self.id.into());
        }
        if let Some(c) = &self.connect {
            let mut m = Object::new(o.key("connect"));
            if !c.token.is_empty() {
                m.string("token", &c.token);
            }
            if let Some(data) = &c.data {
                m.raw("data", data.get());
            }
            if !c.name.is_empty() {
                m.string("name", &c.name);
            }
            if !c.version.is_empty() {
                m.string("version", &c.version);
            }
            m.end();
        }
        if let Some(s) = &self.subscribe {
            let mut m = Object::new(o.key("subscribe"));
            m.string("channel", &s.channel);
            if s.recover {
                m.bool("recover", true);
            }
            if !s.epoch.is_empty() {
                m.string("epoch", &s.epoch);
            }
            if s.offset != 0 {
                m.u64("offset", s.offset);
            }
            if s.positioned {
                m.bool("positioned", true);
            }
            if s.recoverable {
                m.bool("recoverable", true);
            }
            if !s.token.is_empty() {
                m.string("token", &s.token);
            }
            m.end();
        }
        if let Some(u) = &self.unsubscribe {
            let mut m = Object::new(o.key("unsubscribe"));
            m.string("channel", &u.channel);
            m.end();
        }
        if let Some(p) = &self.publish {
            let mut m = Object::new(o.key("publish"));
            m.string("channel", &p.channel);
            if let Some(data) = &p.data {
                m.raw("data", data.get());
            }
            m.end();
        }
        if let Some(h) = &self.history {
            let mut m = Object::new(o.key("history"));
            m.string("channel", &h.channel);
            m.i64("limit", h.limit.into());
            if let Some(since) = &h.since {
                let mut p = Object::new(m.key("since"));
                write_position(&mut p, since);
                p.end();
            }
            if h.reverse {
                m.bool("reverse", true);
            }
            m.end();
        }
        let raw = [
            ("ping", &self.ping),
            ("presence", &self.presence),
            ("presence_stats", &self.presence_stats),
            ("rpc", &self.rpc),
            ("send", &self.send),
            ("refresh", &self.refresh),
            ("sub_refresh", &self.sub_refresh),
        ];
        for (key, value) in raw {
            if let Some(value) = value {
                o.raw(key, value.get());
            }
        }
        o.end();
        out
    }
}

/// `{"id":…,"publish":{"channel":…,"data":…}}`, `data` (JSON text) as is: what
/// [`Command::to_json`] writes for that publish, without making the data a `RawValue`.
pub fn publish_command(id: u32, channel: &str, data: &str) -> String {
    let mut out = String::new();
    let mut o = Object::new(&mut out);
    if id != 0 {
        o.u64("id", id.into());
    }
    let mut m = Object::new(o.key("publish"));
    m.string("channel", channel);
    m.raw("data", data);
    m.end();
    o.end();
    out
}

/// `{"id":…,"ping":{}}`: what [`Command::to_json`] writes for a ping.
pub fn ping_command(id: u32) -> String {
    let mut out = String::new();
    let mut o = Object::new(&mut out);
    if id != 0 {
        o.u64("id", id.into());
    }
    o.raw("ping", "{}");
    o.end();
    out
}

/// Whether `text` is one JSON value, as serde_json's `&RawValue` takes it.
pub fn is_json(text: &str) -> bool {
    let mut r = Reader::new(text);
    r.raw().is_ok() && r.finish().is_ok()
}

fn write_position(o: &mut Object<'_>, position: &StreamPosition) {
    if position.offset != 0 {
        o.u64("offset", position.offset);
    }
    if !position.epoch.is_empty() {
        o.string("epoch", &position.epoch);
    }
}

impl ClientReply {
    /// Reads one reply line, accepting what serde_json's derived `Deserialize` accepts for
    /// a [`super::Reply`] in object form; publication data is kept as its JSON text.
    pub fn from_json(text: &str) -> json::Result<Self> {
        let mut r = Reader::new(text);
        let mut reply = ClientReply::default();
        let mut seen = 0;
        r.object(&mut |r, key| match key {
            "id" => {
                once(&mut seen, 0)?;
                reply.id = r.u32()?;
                Ok(())
            }
            "error" => {
                once(&mut seen, 1)?;
                reply.error = r.optional(client_error)?;
                Ok(())
            }
            "push" => {
                once(&mut seen, 2)?;
                reply.push = r.optional(push)?;
                Ok(())
            }
            "connect" => {
                once(&mut seen, 3)?;
                reply.connect = r.optional(connect_result)?;
                Ok(())
            }
            "subscribe" => {
                once(&mut seen, 4)?;
                reply.subscribe = r.optional(subscribe_result)?;
                Ok(())
            }
            "unsubscribe" => {
                once(&mut seen, 5)?;
                reply.unsubscribe = r.optional(|r| empty(r).map(|()| Default::default()))?;
                Ok(())
            }
            "publish" => {
                once(&mut seen, 6)?;
                reply.publish = r.optional(|r| empty(r).map(|()| Default::default()))?;
                Ok(())
            }
            "history" => {
                once(&mut seen, 7)?;
                reply.history = r.optional(history_result)?;
                Ok(())
            }
            _ => r.skip(),
        })?;
        r.finish()?;
        Ok(reply)
    }
}

/// A struct without fields: any object, its fields ignored.
fn empty(r: &mut Reader<'_>) -> json::Result<()> {
    r.object(&mut |r, _| r.skip())
}

fn client_error(r: &mut Reader<'_>) -> json::Result<ClientError> {
    let (mut code, mut message, mut temporary) = (None, None, false);
    let mut seen = 0;
    r.object(&mut |r, key| {
        match key {
            "code" => {
                once(&mut seen, 0)?;
                code = Some(r.u32()?);
            }
            "message" => {
                once(&mut seen, 1)?;
                message = Some(r.string()?);
            }
            "temporary" => {
                once(&mut seen, 2)?;
                temporary = r.bool()?;
            }
            _ => r.skip()?,
        }
        Ok(())
    })?;
    Ok(ClientError {
        code: code.ok_or(Invalid)?,
        message: message.ok_or(Invalid)?,
        temporary,
    })
}

type Publication = PublicationOf<String>;

fn push(r: &mut Reader<'_>) -> json::Result<PushOf<String>> {
    let mut push = PushOf::default();
    let mut seen = 0;
    r.object(&mut |r, key| {
        match key {
            "channel" => {
                once(&mut seen, 0)?;
                push.channel = r.string()?;
            }
            "pub" => {
                once(&mut seen, 1)?;
                push.publication = r.optional(publication)?;
            }
            _ => r.skip()?,
        }
        Ok(())
    })?;
    Ok(push)
}

fn publication(r: &mut Reader<'_>) -> json::Result<Publication> {
    let (mut data, mut offset) = (None, 0);
    let mut seen = 0;
    r.object(&mut |r, key| {
        match key {
            "data" => {
                once(&mut seen, 0)?;
                data = Some(r.raw()?.to_owned());
            }
            "offset" => {
                once(&mut seen, 1)?;
                offset = r.u64()?;
            }
            _ => r.skip()?,
        }
        Ok(())
    })?;
    Ok(Publication {
        data: data.ok_or(Invalid)?,
        offset,
    })
}

fn publications(r: &mut Reader<'_>) -> json::Result<Vec<Publication>> {
    let mut list = Vec::new();
    r.array(&mut |r| {
        list.push(publication(r)?);
        Ok(())
    })?;
    Ok(list)
}

fn connect_result(r: &mut Reader<'_>) -> json::Result<ConnectResult> {
    let mut client = None;
    let mut result = ConnectResult::default();
    let mut seen = 0;
    r.object(&mut |r, key| {
        match key {
            "client" => {
                once(&mut seen, 0)?;
                client = Some(r.string()?);
            }
            "version" => {
                once(&mut seen, 1)?;
                result.version = r.string()?;
            }
            "ping" => {
                once(&mut seen, 2)?;
                result.ping = r.u32()?;
            }
            "pong" => {
                once(&mut seen, 3)?;
                result.pong = r.bool()?;
            }
            _ => r.skip()?,
        }
        Ok(())
    })?;
    result.client = client.ok_or(Invalid)?;
    Ok(result)
}

fn subscribe_result(r: &mut Reader<'_>) -> json::Result<SubscribeResultOf<String>> {
    let mut result = SubscribeResultOf::default();
    let mut seen = 0;
    r.object(&mut |r, key| {
        match key {
            "recoverable" => {
                once(&mut seen, 0)?;
                result.recoverable = r.bool()?;
            }
            "positioned" => {
                once(&mut seen, 1)?;
                result.positioned = r.bool()?;
            }
            "epoch" => {
                once(&mut seen, 2)?;
                result.epoch = r.string()?;
            }
            "offset" => {
                once(&mut seen, 3)?;
                result.offset = r.u64()?;
            }
            "was_recovering" => {
                once(&mut seen, 4)?;
                result.was_recovering = r.bool()?;
            }
            "recovered" => {
                once(&mut seen, 5)?;
                result.recovered = r.bool()?;
            }
            "publications" => {
                once(&mut seen, 6)?;
                result.publications = publications(r)?;
            }
            _ => r.skip()?,
        }
        Ok(())
    })?;
    Ok(result)
}

fn history_result(r: &mut Reader<'_>) -> json::Result<HistoryResultOf<String>> {
    let mut result = HistoryResultOf::default();
    let mut seen = 0;
    r.object(&mut |r, key| {
        match key {
            "publications" => {
                once(&mut seen, 0)?;
                result.publications = publications(r)?;
            }
            "epoch" => {
                once(&mut seen, 1)?;
                result.epoch = r.string()?;
            }
            "offset" => {
                once(&mut seen, 2)?;
                result.offset = r.u64()?;
            }
            _ => r.skip()?,
        }
        Ok(())
    })?;
    Ok(result)
}

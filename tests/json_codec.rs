//! The SDK client's hand-written wire codec (`relay::codec`, `json`) against serde's derives,
//! which the relay server uses: the same bytes for every command, the same verdict and value
//! for every reply text, well-formed or not.
#![cfg(not(target_arch = "wasm32"))] // proptest runs natively only

use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use walletwire::json;
use walletwire::protocol::{
    Frame, OfferBody, OfferMessage, Payload, PendingRecord, Record, RecordError, SessionRecord,
    SessionRequest,
};
use walletwire::relay::codec::{is_json, ping_command, publish_command};
use walletwire::relay::{
    ClientReply, Command, ConnectRequest, HistoryRequest, HistoryResult, Publication,
    PublicationOf, PublishRequest, Push, Reply, StreamPosition, SubscribeRequest, SubscribeResult,
    UnsubscribeRequest,
};

/// A small deterministic generator (splitmix64), so one proptest seed is one text.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len() as u64) as usize]
    }
    fn ws(&mut self) -> &'static str {
        if self.chance(80) {
            ""
        } else {
            self.pick(&[" ", "\n", "\t", "\r\n ", "  "])
        }
    }
}

// Each list: what serde reads, then (after the `|` entry) what it refuses. A bad choice is
// rare, so that most generated replies are read and a difference in the values shows.
const INTEGERS: &[&str] = &[
    "0",
    "1",
    "7",
    "112",
    "4294967295",
    "|",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "-1",
    "-0",
    "1.0",
    "1e2",
    "01",
    "2E0",
    "-",
];
const STRING_PARTS: &[&str] = &[
    "a",
    "session:x",
    "é",
    "😀",
    "\\n",
    "\\\"",
    "\\\\",
    "\\/",
    "\\u0041",
    "\\u00e9",
    "\\ud83d\\ude00",
    "\\b\\f\\r\\t",
    " ",
    "|",
    "\\ud800",
    "\\udc00x",
    "\\x",
    "\u{1}",
];
const RAW: &[&str] = &[
    "null",
    "1",
    "-2.5e3",
    "\"s\"",
    "{\"a\":[1,2,{}],\"b\":{\"c\":null}}",
    "[ ]",
    "{ }",
    "true",
    "[1,[2,[3]]]",
    "|",
    "tru",
    "[1,]",
    "{\"a\" 1}",
    "01",
    "\"\\q\"",
];

/// Mostly a good entry of `list`, one time in `1 / BAD` a bad one.
fn choose<'a>(g: &mut Gen, list: &[&'a str]) -> &'a str {
    let cut = list.iter().position(|e| *e == "|").unwrap();
    if g.chance(BAD) {
        g.pick(&list[cut + 1..])
    } else {
        g.pick(&list[..cut])
    }
}

/// Percent of choices that are bad.
const BAD: u64 = 2;

fn string(g: &mut Gen) -> String {
    let mut s = String::from("\"");
    for _ in 0..g.below(4) {
        s.push_str(choose(g, STRING_PARTS));
    }
    s.push('"');
    s
}

/// A value of the wrong type for a field (never an array: serde also reads a struct from an
/// array, which the hand reader leaves out on purpose, as no Centrifugo server sends one).
fn wrong(g: &mut Gen) -> String {
    match g.below(5) {
        0 => choose(g, INTEGERS).to_owned(),
        1 => string(g),
        2 => g.pick(&["true", "false"]).to_owned(),
        3 => "null".to_owned(),
        _ => "{}".to_owned(),
    }
}

#[derive(Clone, Copy)]
enum Kind {
    U32,
    U64,
    Str,
    Bool,
    Raw,
    Opt(&'static [(&'static str, Kind)]),
    Publications,
    /// One of a list of JSON texts (good ones, `|`, bad ones).
    Choice(&'static [&'static str]),
}

use Kind::*;

const PUBLICATION: &[(&str, Kind)] = &[("data", Raw), ("offset", U64)];
const ERROR: &[(&str, Kind)] = &[("code", U32), ("message", Str), ("temporary", Bool)];
const PUSH: &[(&str, Kind)] = &[("channel", Str), ("pub", Opt(PUBLICATION))];
const CONNECT: &[(&str, Kind)] = &[
    ("client", Str),
    ("version", Str),
    ("ping", U32),
    ("pong", Bool),
];
const SUBSCRIBE: &[(&str, Kind)] = &[
    ("recoverable", Bool),
    ("positioned", Bool),
    ("epoch", Str),
    ("offset", U64),
    ("was_recovering", Bool),
    ("recovered", Bool),
    ("publications", Publications),
];
const HISTORY: &[(&str, Kind)] = &[
    ("publications", Publications),
    ("epoch", Str),
    ("offset", U64),
];
const REPLY: &[(&str, Kind)] = &[
    ("id", U32),
    ("error", Opt(ERROR)),
    ("push", Opt(PUSH)),
    ("connect", Opt(CONNECT)),
    ("subscribe", Opt(SUBSCRIBE)),
    ("unsubscribe", Opt(&[])),
    ("publish", Opt(&[])),
    ("history", Opt(HISTORY)),
];

fn value(g: &mut Gen, kind: Kind, depth: u32) -> String {
    if g.chance(BAD) {
        return wrong(g);
    }
    match kind {
        U32 | U64 => choose(g, INTEGERS).to_owned(),
        Str => string(g),
        Bool => g.pick(&["true", "false"]).to_owned(),
        Raw => choose(g, RAW).to_owned(),
        Opt(_) if g.chance(10) => "null".to_owned(),
        Opt(fields) => object(g, fields, depth),
        Choice(list) => choose(g, list).to_owned(),
        Publications => {
            let items: Vec<String> = (0..g.below(3))
                .map(|_| object(g, PUBLICATION, depth + 1))
                .collect();
            format!("[{}]", items.join(","))
        }
    }
}

fn key(g: &mut Gen, name: &str) -> String {
    if g.chance(5) && !name.is_empty() {
        // The same key, its first letter escaped: serde matches the unescaped name.
        let first = name.chars().next().unwrap();
        format!("\"\\u{:04x}{}\"", first as u32, &name[first.len_utf8()..])
    } else {
        format!("\"{name}\"")
    }
}

fn object(g: &mut Gen, fields: &[(&str, Kind)], depth: u32) -> String {
    let mut members = Vec::new();
    for &(name, kind) in fields {
        // Required fields are mostly there; any field is sometimes missing or twice.
        let times = if g.chance(4) {
            0
        } else if g.chance(BAD) {
            2
        } else {
            1
        };
        for _ in 0..times {
            members.push((key(g, name), kind));
        }
    }
    let unknown = g.below(3);
    let mut text_members: Vec<String> = members
        .into_iter()
        .map(|(k, kind)| {
            let v = if depth > 3 {
                "null".to_owned()
            } else {
                value(g, kind, depth + 1)
            };
            format!("{k}{}:{}{v}", g.ws(), g.ws())
        })
        .collect();
    for _ in 0..unknown {
        let name = g.pick(&["\"unknown\"", "\"flag\"", "\"publication\"", "\"Id\""]);
        let v = if g.chance(50) {
            choose(g, RAW).to_owned()
        } else {
            wrong(g)
        };
        text_members.push(format!("{name}:{v}"));
    }
    // Shuffle.
    for i in (1..text_members.len()).rev() {
        let j = g.below(i as u64 + 1) as usize;
        text_members.swap(i, j);
    }
    let sep = format!("{},{}", g.ws(), g.ws());
    let mut text = format!("{{{}{}{}}}", g.ws(), text_members.join(&sep), g.ws());
    if depth == 0 && g.chance(5) {
        text.push_str(g.pick(&[" ", "x", "}", "\n", " {}"]));
    }
    text
}

const ROLE: Kind = Choice(&["\"dapp\"", "\"wallet\"", "|", "\"Dapp\"", "\"\"", "0"]);
const I64: Kind = Choice(&[
    "0",
    "-1",
    "4001",
    "-32601",
    "-9223372036854775808",
    "9223372036854775807",
    "|",
    "-9223372036854775809",
    "9223372036854775808",
    "-0",
    "1.5",
    "-1e3",
]);
const VALUE: Kind = Choice(&[
    "null",
    "1",
    "-2.5e3",
    "0.1",
    "1e400",
    "\"s\\u00e9\"",
    "{\"a\":[1,{\"b\":null}],\"a\":2}",
    "[]",
    "true",
    "18446744073709551616",
    "-9223372036854775809",
    "|",
    "[1,]",
    "nul",
    "\"\\ud800\"",
]);
const TAG: Kind = Choice(&[
    "\"ack\"",
    "\"nonce\"",
    "\"reveal\"",
    "\"ping\"",
    "\"pong\"",
    "\"close\"",
    "\"req\"",
    "\"res\"",
    "\"note\"",
    "|",
    "\"Req\"",
    "\"\"",
    "\"offer\"",
]);
const FRAME: &[(&str, Kind)] = &[("from", ROLE), ("seq", U64), ("box", Str)];
const OFFER_MESSAGE: &[(&str, Kind)] = &[("t", Str), ("pk", Str), ("box", Str)];
const METADATA: &[(&str, Kind)] = &[("name", Str), ("url", Str), ("icon", Str)];
const POSITION: &[(&str, Kind)] = &[("offset", U64), ("epoch", Str)];
const OFFER_BODY: &[(&str, Kind)] = &[
    ("channel", Str),
    ("wallet", Opt(METADATA)),
    ("commit", Str),
    ("otpDeadline", U64),
    ("since", Opt(POSITION)),
];
const RPC_ERROR: &[(&str, Kind)] = &[("code", I64), ("message", Str)];
const PAYLOAD: &[(&str, Kind)] = &[
    ("t", TAG),
    ("n", U64),
    ("nonce", Str),
    ("reason", Str),
    ("id", U64),
    ("method", Str),
    ("params", VALUE),
    ("result", VALUE),
    ("error", Opt(RPC_ERROR)),
];

const KEY: Kind = Choice(&[
    "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"",
    "|",
    "\"AAEC\"",
    "\"\"",
    "0",
]);
const ID: Kind = Choice(&[
    "\"0f8fad5b-d9cb-469f-a165-70867728950e\"",
    "|",
    "\"x\"",
    "\"\"",
]);
const MODE: Kind = Choice(&[
    "\"untrusted\"",
    "\"trusted\"",
    "|",
    "\"Trusted\"",
    "\"\"",
    "1",
]);
const RELAY: Kind = Choice(&[
    "\"ws://127.0.0.1:8000/connection/websocket\"",
    "|",
    "\"http://x\"",
    "\"\"",
]);
const URL: Kind = Choice(&[
    "\"https://example.org\"",
    "\"http://localhost:8080/a\"",
    "null",
    "|",
    "\"javascript:x\"",
    "1",
]);
const NAME: Kind = Choice(&[
    "\"Test dApp\"",
    "\"Wallet \\u00e9\"",
    "|",
    "\"\"",
    "\"a\\u202eb\"",
    "null",
]);
const DAPP: &[(&str, Kind)] = &[("name", NAME), ("url", URL), ("icon", URL)];
const REQUEST: &[(&str, Kind)] = &[
    ("v", Choice(&["3", "|", "1", "2", "\"3\"", "3.0", "null"])),
    ("id", ID),
    ("mode", MODE),
    (
        "channel",
        Choice(&[
            "\"handshake:0f8fad5b-d9cb-469f-a165-70867728950e\"",
            "|",
            "\"session:0f8fad5b-d9cb-469f-a165-70867728950e\"",
        ]),
    ),
    ("publicKey", KEY),
    ("expiresAt", U64),
    ("relay", RELAY),
    ("dapp", Opt(DAPP)),
];
const INFO: &[(&str, Kind)] = &[
    ("id", ID),
    (
        "channel",
        Choice(&[
            "\"session:0f8fad5b-d9cb-469f-a165-70867728950e\"",
            "|",
            "\"session:x\"",
        ]),
    ),
    ("role", ROLE),
    ("mode", MODE),
    ("peer", Opt(DAPP)),
    ("relay", RELAY),
    ("expiresAt", U64),
];
const AWAITING: &[(&str, Kind)] = &[
    ("transcript", KEY),
    ("walletNonce", KEY),
    ("otp", Str),
    ("deadline", U64),
    ("otpDeadline", U64),
];
const VERSION: Kind = Choice(&["1", "|", "2", "1.0", "null", "\"1\"", "-1"]);
const SESSION_RECORD: &[(&str, Kind)] = &[
    ("v", VERSION),
    (
        "kind",
        Choice(&["\"session\"", "|", "\"pending\"", "null", "1"]),
    ),
    ("info", Opt(INFO)),
    ("sendKey", KEY),
    ("recvKey", KEY),
    ("sendSeq", U64),
    ("recvNext", U64),
    ("position", Opt(POSITION)),
    ("nextRequestId", U64),
    ("awaitingAck", Opt(AWAITING)),
];
const PENDING_RECORD: &[(&str, Kind)] = &[
    ("v", VERSION),
    (
        "kind",
        Choice(&["\"pending\"", "|", "\"session\"", "null", "\"other\""]),
    ),
    ("request", Opt(REQUEST)),
    ("secret", KEY),
    ("position", Opt(POSITION)),
    (
        "attemptsLeft",
        Choice(&["3", "0", "255", "|", "256", "-1", "1.0"]),
    ),
    ("nonceSeed", KEY),
    ("otpPrompted", Bool),
];

/// A session request read as before the hand-written codec: serde's derive for the version
/// and then the request, then the same validation.
fn serde_request(text: &str) -> Result<SessionRequest, walletwire::protocol::Error> {
    use walletwire::protocol::Error;
    #[derive(serde::Deserialize)]
    struct Version {
        v: Option<serde_json::Value>,
    }
    if text.len() > 32 * 1024 {
        return Err(Error::RequestTooLarge);
    }
    let version: Version =
        serde_json::from_str(text).map_err(|_| Error::InvalidRequest("not a JSON object"))?;
    match version.v.as_ref().and_then(serde_json::Value::as_u64) {
        Some(3) => {}
        Some(other) => return Err(Error::UnsupportedVersion(other)),
        None => return Err(Error::InvalidRequest("missing version")),
    }
    let request: SessionRequest = serde_json::from_str(text)
        .map_err(|_| Error::InvalidRequest("missing or mistyped field"))?;
    request.validate()?;
    Ok(request)
}

/// A record read by serde's derive (version, kind, then the struct), written back in
/// serde's form, and decoded from that: what `Record::decode` must give for `text`.
fn serde_record(text: &str, now: u64) -> Result<Record, RecordError> {
    #[derive(serde::Deserialize)]
    struct Head {
        v: Option<serde_json::Value>,
        kind: Option<String>,
    }
    let head: Head = serde_json::from_str(text).map_err(|_| RecordError::Corrupt)?;
    match head.v.as_ref().and_then(serde_json::Value::as_u64) {
        Some(1) => {}
        Some(other) => return Err(RecordError::Version(other)),
        None => return Err(RecordError::Corrupt),
    }
    let record = match head.kind.as_deref() {
        Some("session") => serde_json::from_str::<SessionRecord>(text).map(Record::Session),
        Some("pending") => serde_json::from_str::<PendingRecord>(text).map(Record::Pending),
        _ => return Err(RecordError::Corrupt),
    }
    .map_err(|_| RecordError::Corrupt)?;
    Record::decode(&serde_record_text(&record), now)
}

/// `{"v":1,` + the derived, `kind`-tagged form: the record format as serde wrote it.
fn serde_record_text(record: &Record) -> String {
    format!("{{\"v\":1,{}", &serde_json::to_string(record).unwrap()[1..])
}

/// The same text read by serde's derive and by hand: the same verdict, the same value; and
/// what was read is written back by hand as serde_json writes it.
fn same<T: DeserializeOwned + Serialize>(
    text: &str,
    hand: fn(&str) -> json::Result<T>,
    write: fn(&T) -> String,
) -> Result<(), TestCaseError> {
    let by_serde = serde_json::from_str::<T>(text).ok();
    let by_hand = hand(text).ok();
    let show = |v: &Option<T>| v.as_ref().map(|v| serde_json::to_string(v).unwrap());
    prop_assert_eq!(show(&by_hand), show(&by_serde), "{}", text);
    if let Some(v) = by_serde {
        prop_assert_eq!(write(&v), serde_json::to_string(&v).unwrap());
    }
    Ok(())
}

fn serde_reply(text: &str) -> Option<String> {
    serde_json::from_str::<Reply>(text)
        .ok()
        .map(|r| serde_json::to_string(&r).unwrap())
}

fn hand_reply(text: &str) -> Option<String> {
    ClientReply::from_json(text)
        .ok()
        .map(|r| serde_json::to_string(&boxed(r)).unwrap())
}

/// The client's reply (data as JSON text) as the relay's type (data as `RawValue`).
fn boxed(reply: ClientReply) -> Reply {
    let raw = |p: PublicationOf<String>| Publication {
        data: RawValue::from_string(p.data).expect("the reader keeps only JSON"),
        offset: p.offset,
    };
    Reply {
        id: reply.id,
        error: reply.error,
        push: reply.push.map(|p| Push {
            channel: p.channel,
            publication: p.publication.map(raw),
        }),
        connect: reply.connect,
        subscribe: reply.subscribe.map(|s| SubscribeResult {
            recoverable: s.recoverable,
            positioned: s.positioned,
            epoch: s.epoch,
            offset: s.offset,
            was_recovering: s.was_recovering,
            recovered: s.recovered,
            publications: s.publications.into_iter().map(raw).collect(),
        }),
        unsubscribe: reply.unsubscribe,
        publish: reply.publish,
        history: reply.history.map(|h| HistoryResult {
            publications: h.publications.into_iter().map(raw).collect(),
            epoch: h.epoch,
            offset: h.offset,
        }),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn replies_read_by_hand_as_serde_reads_them(seed in any::<u64>()) {
        let mut g = Gen(seed);
        let text = object(&mut g, REPLY, 0);
        prop_assert_eq!(hand_reply(&text), serde_reply(&text), "{}", text);
    }

    #[test]
    fn a_damaged_reply_is_never_read_differently(seed in any::<u64>(), edits in prop::collection::vec((any::<usize>(), 0u8..3, any::<u8>()), 1..4)) {
        let mut g = Gen(seed);
        let mut bytes = object(&mut g, REPLY, 0).into_bytes();
        const NOISE: &[u8] = b"{}[]:,\"\\ 0-.e1nt";
        for (at, op, x) in edits {
            let i = at % (bytes.len() + 1);
            let b = NOISE[usize::from(x) % NOISE.len()];
            match op {
                0 if i < bytes.len() => bytes[i] = b,
                1 if i < bytes.len() => { bytes.remove(i); }
                _ => bytes.insert(i, b),
            }
        }
        let Ok(text) = String::from_utf8(bytes) else { return Ok(()) };
        let hand = hand_reply(&text);
        // What the hand reader accepts, serde accepts as the same value; the other way round
        // only an array standing for a struct (serde's sequence form) may differ.
        if hand.is_some() {
            prop_assert_eq!(&hand, &serde_reply(&text), "{}", text);
        } else if !text.contains('[') {
            prop_assert_eq!(None, serde_reply(&text), "{}", text);
        }
    }

    #[test]
    fn frames_read_and_written_by_hand_as_serde_does(seed in any::<u64>()) {
        same(&object(&mut Gen(seed), FRAME, 0), Frame::from_json, Frame::to_json)?;
    }

    #[test]
    fn offers_read_and_written_by_hand_as_serde_does(seed in any::<u64>()) {
        same(&object(&mut Gen(seed), OFFER_MESSAGE, 0), OfferMessage::from_json, OfferMessage::to_json)?;
        same(&object(&mut Gen(seed), OFFER_BODY, 0), OfferBody::from_json, OfferBody::to_json)?;
    }

    #[test]
    fn payloads_read_and_written_by_hand_as_serde_does(seed in any::<u64>()) {
        same(&object(&mut Gen(seed), PAYLOAD, 0), Payload::from_json, Payload::to_json)?;
    }

    #[test]
    fn session_requests_read_and_written_by_hand_as_serde_does(seed in any::<u64>()) {
        let text = object(&mut Gen(seed), REQUEST, 0);
        let by_serde = serde_request(&text);
        prop_assert_eq!(&SessionRequest::from_json(&text), &by_serde, "{}", text);
        if let Ok(request) = by_serde {
            prop_assert_eq!(request.to_json(), serde_json::to_string(&request).unwrap());
        }
    }

    #[test]
    fn records_read_and_written_by_hand_as_serde_does(seed in any::<u64>(), now in prop::sample::select(vec![0u64, 1, 5_000_000_000_000])) {
        for fields in [SESSION_RECORD, PENDING_RECORD] {
            let text = object(&mut Gen(seed), fields, 0);
            let by_serde = serde_record(&text, now);
            prop_assert_eq!(&Record::decode(&text, now), &by_serde, "{}", text);
            if let Ok(record) = by_serde {
                prop_assert_eq!(record.encode(), serde_record_text(&record));
                if let Record::Session(s) = &record {
                    prop_assert_eq!(s.info.to_json(), serde_json::to_string(&s.info).unwrap());
                }
            }
        }
    }

    #[test]
    fn commands_written_by_hand_are_serde_json_bytes(seed in any::<u64>()) {
        let mut g = Gen(seed);
        let command = random_command(&mut g);
        prop_assert_eq!(command.to_json(), serde_json::to_string(&command).unwrap());
    }
}

fn plain(g: &mut Gen) -> String {
    // A Rust string with what needs escaping: quotes, backslashes, every control byte kind.
    let parts = [
        "",
        "a",
        "session:0f",
        "\"",
        "\\",
        "\n",
        "\u{0}",
        "\u{1f}",
        "\u{7f}",
        "é",
        "😀",
        "\u{8}\u{c}\r\t",
        "/",
    ];
    (0..g.below(4)).map(|_| g.pick(&parts)).collect()
}

fn raw(g: &mut Gen) -> Option<Box<RawValue>> {
    g.chance(60).then(|| {
        let text = g.pick(&["null", "{}", "{\"a\": [1, 2]}", "\"s\"", "-1.5", "[]"]);
        RawValue::from_string(text.to_owned()).unwrap()
    })
}

fn number(g: &mut Gen) -> u64 {
    *[0, 1, 42, u64::from(u32::MAX), u64::MAX]
        .get(g.below(5) as usize)
        .unwrap()
}

fn random_command(g: &mut Gen) -> Command {
    let mut command = Command {
        id: number(g) as u32,
        ..Command::default()
    };
    match g.below(7) {
        0 => {
            command.connect = Some(ConnectRequest {
                token: plain(g),
                data: raw(g),
                name: plain(g),
                version: plain(g),
            })
        }
        1 => {
            command.subscribe = Some(SubscribeRequest {
                channel: plain(g),
                recover: g.chance(50),
                epoch: plain(g),
                offset: number(g),
                positioned: g.chance(50),
                recoverable: g.chance(50),
                token: plain(g),
            })
        }
        2 => command.unsubscribe = Some(UnsubscribeRequest { channel: plain(g) }),
        3 => {
            command.publish = Some(PublishRequest {
                channel: plain(g),
                data: raw(g),
            })
        }
        4 => {
            command.history = Some(HistoryRequest {
                channel: plain(g),
                limit: *[0, -1, 1, i32::MIN, i32::MAX]
                    .get(g.below(5) as usize)
                    .unwrap(),
                since: g.chance(50).then(|| StreamPosition {
                    offset: number(g),
                    epoch: plain(g),
                }),
                reverse: g.chance(50),
            })
        }
        5 => {
            command.ping = raw(g);
            command.rpc = raw(g);
            command.send = raw(g);
        }
        _ => {
            command.presence = raw(g);
            command.presence_stats = raw(g);
            command.refresh = raw(g);
            command.sub_refresh = raw(g);
        }
    }
    command
}

#[test]
fn the_generated_replies_are_mostly_read_and_sometimes_refused() {
    // A generator whose texts were all refused (or all read) would make the equivalence above
    // vacuous: check its mix.
    let read = (0..2000u64)
        .filter(|&seed| serde_reply(&object(&mut Gen(seed), REPLY, 0)).is_some())
        .count();
    assert!((300..1900).contains(&read), "{read} of 2000 read");
    for (name, fields) in [
        ("frame", FRAME),
        ("offer body", OFFER_BODY),
        ("payload", PAYLOAD),
    ] {
        let read = (0..2000u64)
            .filter(|&seed| {
                serde_json::from_str::<serde_json::Value>(&object(&mut Gen(seed), fields, 0))
                    .is_ok()
            })
            .count();
        assert!(
            (300..2000).contains(&read),
            "{name}: {read} of 2000 are JSON"
        );
    }
    for (name, fields) in [
        ("session record", SESSION_RECORD),
        ("pending record", PENDING_RECORD),
    ] {
        let read = (0..2000u64)
            .filter(|&seed| serde_record(&object(&mut Gen(seed), fields, 0), 0).is_ok())
            .count();
        assert!((100..1900).contains(&read), "{name}: {read} of 2000 read");
    }
    let requests = (0..2000u64)
        .filter(|&seed| serde_request(&object(&mut Gen(seed), REQUEST, 0)).is_ok())
        .count();
    assert!(
        (200..1900).contains(&requests),
        "{requests} of 2000 requests read"
    );
    let payloads = (0..2000u64)
        .filter(|&seed| {
            serde_json::from_str::<Payload>(&object(&mut Gen(seed), PAYLOAD, 0)).is_ok()
        })
        .count();
    assert!(
        (300..1900).contains(&payloads),
        "{payloads} of 2000 payloads read"
    );
}

/// A random JSON text: numbers of every kind serde_json tells apart, strings with escapes,
/// nesting, duplicate keys, whitespace; now and then something that is not JSON.
fn any_json(g: &mut Gen, depth: u32) -> String {
    let numbers = [
        "0",
        "-0",
        "7",
        "-7",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "0.1",
        "-2.5e-3",
        "1E+2",
        "1e400",
        "-1e400",
        "1e-400",
        "123456789012345678901234567890",
        "3.141592653589793238462643383279",
        "5e-324",
        "1.7976931348623157e308",
        "0.30000000000000004",
        "|",
        "01",
        "1.",
        "-",
        ".5",
        "1e",
    ];
    match g.below(if depth > 4 { 4 } else { 7 }) {
        0 => choose(g, &numbers).to_owned(),
        1 => string(g),
        2 => choose(g, &["true", "false", "null", "|", "nul", "True"]).to_owned(),
        3 => choose(g, &numbers).to_owned(),
        4 | 5 => {
            let items: Vec<String> = (0..g.below(4)).map(|_| any_json(g, depth + 1)).collect();
            let sep = format!("{},{}", g.ws(), g.ws());
            format!("[{}{}{}]", g.ws(), items.join(&sep), g.ws())
        }
        _ => {
            let keys = ["\"a\"", "\"b\"", "\"\\u0061\"", "\"é\"", "\"\""];
            let items: Vec<String> = (0..g.below(4))
                .map(|_| format!("{}:{}", g.pick(&keys), any_json(g, depth + 1)))
                .collect();
            format!("{{{}}}", items.join(","))
        }
    }
}

fn hand_value(text: &str) -> Option<serde_json::Value> {
    let mut reader = json::Reader::new(text);
    let value = reader.value().ok()?;
    reader.finish().ok()?;
    Some(value)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn publish_and_ping_commands_are_the_commands_bytes(seed in any::<u64>(), id in any::<u32>()) {
        let mut g = Gen(seed);
        let channel = plain(&mut g);
        let data = raw(&mut g).unwrap_or_else(|| RawValue::from_string("{}".into()).unwrap());
        let publish = Command {
            id,
            publish: Some(PublishRequest { channel: channel.clone(), data: Some(data.clone()) }),
            ..Command::default()
        };
        prop_assert_eq!(publish_command(id, &channel, data.get()), serde_json::to_string(&publish).unwrap());
        let ping = Command { id, ping: RawValue::from_string("{}".into()).ok(), ..Command::default() };
        prop_assert_eq!(ping_command(id), serde_json::to_string(&ping).unwrap());
    }

    #[test]
    fn values_read_and_written_by_hand_as_serde_json_does(seed in any::<u64>()) {
        let text = any_json(&mut Gen(seed), 0);
        prop_assert_eq!(is_json(&text), serde_json::from_str::<&RawValue>(&text).is_ok(), "{}", text);
        let by_serde = serde_json::from_str::<serde_json::Value>(&text).ok();
        prop_assert_eq!(&hand_value(&text), &by_serde, "{}", text);
        if let Some(value) = by_serde {
            prop_assert_eq!(json::value_text(&value), serde_json::to_string(&value).unwrap());
        }
    }
}

#[test]
fn values_nest_as_deep_as_serde_json_lets_them() {
    for depth in [126, 127, 128, 129] {
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(
            hand_value(&text),
            serde_json::from_str::<serde_json::Value>(&text).ok(),
            "{depth}"
        );
    }
    assert!(hand_value(&format!("{}{}", "[".repeat(127), "]".repeat(127))).is_some());
    // Kept raw (publication data), JSON of any depth passes, as serde_json lets it.
    for depth in [1, 128, 10_000] {
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(
            is_json(&text),
            serde_json::from_str::<&RawValue>(&text).is_ok(),
            "{depth}"
        );
        assert!(is_json(&text));
    }
    assert!(hand_value(&format!("{}{}", "[".repeat(128), "]".repeat(128))).is_none());
}

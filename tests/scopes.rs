//! CAIP-25 scopes in the handshake (PROTOCOL.md §2.2), through the sans-IO core with
//! simulated time: what the dApp asks for travels sealed, the wallet grants it (at once or
//! after its user approved a narrower grant, or rejects it), both sides keep the grant, and a
//! method outside it is refused on the dApp's side (nothing sent) and on the wallet's (4100).
mod common;

use common::*;
use serde_json::json;
use walletwire::protocol::{
    DappConnection, Disconnect, Error, Event, Invitation, METHOD_NOT_GRANTED_CODE, Mode, Record,
    Scopes, SessionRequest, WalletConnection, scopes_from_json,
};

const ADDRESS: &str = "0x1111111111111111111111111111111111111111";

fn asked() -> Scopes {
    scopes_from_json(
        r#"{"eip155":{"chains":["eip155:1","eip155:11155111"],"methods":["eth_accounts","personal_sign"],"events":["accountsChanged"]}}"#,
    )
    .unwrap()
}

/// A pair whose dApp asks for [`asked`] (required) and `eth_sendTransaction` (optional).
fn scoped_pair(mode: Mode) -> Pair {
    let mut pair = Pair::new(mode);
    let mut options = dapp_options(mode);
    options.scopes = Some(asked());
    options.optional_scopes = Some(
        scopes_from_json(
            r#"{"eip155":{"chains":["eip155:1"],"methods":["eth_sendTransaction"],"events":[]}}"#,
        )
        .unwrap(),
    );
    pair.dapp = Peer::new(DappConnection::new(options, pair.now, SeededRandom::boxed(5)).unwrap());
    pair.drive();
    pair
}

/// The wallet scans the QR code; `ask`: it waits for its user's approval.
fn scan(pair: &mut Pair, ask: bool) {
    let invitation = Invitation::from_uri(&pair.request().to_uri()).unwrap();
    let mut options = wallet_options();
    options.ask = ask;
    options.accounts = vec![("eip155".into(), ADDRESS.into())];
    let wallet =
        WalletConnection::read(&invitation, options, pair.now, SeededRandom::boxed(6)).unwrap();
    pair.wallet = Some(Peer::new(wallet));
    pair.drive();
}

fn finish(pair: &mut Pair, mode: Mode) {
    if mode == Mode::Untrusted {
        let otp = pair.wallet_otp();
        pair.dapp.conn.submit_otp(&otp, pair.now).unwrap();
        pair.drive();
    }
}

fn proposal(pair: &mut Pair) -> SessionRequest {
    pair.wallet()
        .events
        .iter()
        .find_map(|e| match e {
            Event::SessionProposal(r) => Some((**r).clone()),
            _ => None,
        })
        .expect("the wallet read the sealed request")
}

#[test]
fn the_wallet_grants_what_was_asked_with_its_accounts_and_both_sides_keep_it() {
    for mode in [Mode::Trusted, Mode::Untrusted] {
        let mut pair = scoped_pair(mode);
        let request = pair.request();
        let uri = request.to_uri();
        assert!(
            !uri.contains("eth_"),
            "scopes stay out of the QR code: {uri}"
        );
        scan(&mut pair, false);
        let read = proposal(&mut pair);
        assert_eq!(read.scopes, Some(asked()), "required scopes arrive sealed");
        assert_eq!(read, request);
        finish(&mut pair, mode);
        let dapp = pair.dapp.conn.session().expect("dApp connected").clone();
        let wallet = pair
            .wallet()
            .conn
            .session()
            .expect("wallet connected")
            .clone();
        let granted = dapp.scopes.clone().expect("a scoped session");
        assert_eq!(wallet.scopes.as_ref(), Some(&granted), "{mode:?}");
        let eip155 = granted.get("eip155").unwrap();
        // Everything asked for, required and optional.
        assert_eq!(
            eip155.methods,
            ["eth_accounts", "personal_sign", "eth_sendTransaction"]
        );
        assert_eq!(
            eip155.accounts,
            [
                format!("eip155:1:{ADDRESS}"),
                format!("eip155:11155111:{ADDRESS}")
            ]
        );
        // The grant survives a reload: it is in the stored session record.
        let stored = pair.dapp.records(pair.now);
        assert!(
            matches!(&stored[..], [Record::Session(s)] if s.info.scopes.as_ref() == Some(&granted))
        );
    }
}

#[test]
fn a_method_outside_the_grant_is_refused_locally_and_nothing_is_sent() {
    let mut pair = scoped_pair(Mode::Trusted);
    scan(&mut pair, false);
    let sent = pair.dapp.published.len();
    let refused = pair
        .dapp
        .conn
        .request("eth_signTypedData_v4", json!([]), None, pair.now);
    assert_eq!(refused, Err(Error::MethodNotGranted));
    assert_eq!(Error::MethodNotGranted.code(), "method_not_granted");
    pair.drive();
    assert_eq!(pair.dapp.published.len(), sent, "nothing published");
    let id = pair
        .dapp
        .conn
        .request("personal_sign", json!(["0x00", ADDRESS]), None, pair.now)
        .unwrap();
    pair.drive();
    let asked = first_request_id(&pair.wallet().events);
    pair.wallet()
        .conn
        .respond(asked, Ok(json!("0xsig").into()), T0)
        .unwrap();
    pair.drive();
    assert!(pair.dapp.events.iter().any(
        |e| matches!(e, Event::Response { id: i, result: Ok(v) } if *i == id && *v == json!("0xsig"))
    ));
}

#[test]
fn a_dapp_that_sends_outside_the_grant_anyway_gets_4100_from_the_wallet() {
    let mut pair = scoped_pair(Mode::Trusted);
    scan(&mut pair, false);
    // A dApp that ignores its grant (an older SDK, or one that lost it): its record without
    // the scopes makes an unscoped session of its side.
    let Record::Session(mut record) = pair.dapp.records(pair.now).remove(0) else {
        panic!("a session record")
    };
    record.info.scopes = None;
    pair.dapp = Peer::new(DappConnection::resume_session(
        &record,
        SeededRandom::boxed(9),
        Default::default(),
    ));
    pair.drive();
    let id = pair
        .dapp
        .conn
        .request("eth_signTypedData_v4", json!([]), None, pair.now)
        .expect("this side no longer checks");
    pair.drive();
    let answer = pair.dapp.events.iter().find_map(|e| match e {
        Event::Response { id: i, result } if *i == id => Some(result.clone()),
        _ => None,
    });
    assert!(
        matches!(answer, Some(Err(Error::Remote { code, .. })) if code == METHOD_NOT_GRANTED_CODE),
        "{answer:?}"
    );
    assert_eq!(METHOD_NOT_GRANTED_CODE, 4100);
    assert!(
        !pair
            .wallet()
            .events
            .iter()
            .any(|e| matches!(e, Event::Request { .. })),
        "the wallet's user never sees it"
    );
}

#[test]
fn a_wallet_that_asks_waits_for_approval_and_grants_what_its_user_chose() {
    let mut pair = scoped_pair(Mode::Untrusted);
    scan(&mut pair, true);
    proposal(&mut pair);
    // Nothing answers the dApp until the user decides.
    assert!(displayed_otp(&pair.wallet().events).is_none());
    assert!(pair.wallet().published.is_empty(), "no offer yet");
    let narrow = scopes_from_json(
        r#"{"eip155":{"chains":["eip155:1"],"methods":["personal_sign"],"events":[]}}"#,
    )
    .unwrap();
    pair.wallet()
        .conn
        .approve(Some(narrow.clone()), T0)
        .expect("a proposed request can be approved");
    assert_eq!(
        pair.wallet().conn.approve(None, T0),
        Err(Error::InvalidState("not_proposed")),
        "only once"
    );
    pair.drive();
    finish(&mut pair, Mode::Untrusted);
    let granted = pair.dapp.conn.session().unwrap().scopes.clone().unwrap();
    let eip155 = granted.get("eip155").unwrap();
    assert_eq!(eip155.methods, ["personal_sign"]);
    assert_eq!(eip155.accounts, [format!("eip155:1:{ADDRESS}")]);
    assert_eq!(
        pair.dapp
            .conn
            .request("eth_accounts", json!([]), None, pair.now),
        Err(Error::MethodNotGranted),
        "what the user left out is refused"
    );
}

#[test]
fn a_grant_that_breaks_the_rules_is_refused_and_a_rejected_request_is_never_answered() {
    let mut pair = scoped_pair(Mode::Trusted);
    scan(&mut pair, true);
    let mut bad = Scopes::new();
    bad.insert(
        "eip155",
        walletwire::protocol::Scope {
            chains: vec!["bip122:000000000019d6689c085ae165831e93".into()],
            ..Default::default()
        },
    );
    assert!(matches!(
        pair.wallet().conn.approve(Some(bad), T0),
        Err(Error::InvalidRequest(_))
    ));
    pair.wallet().conn.reject(T0);
    pair.drive();
    assert!(
        pair.wallet()
            .events
            .iter()
            .any(|e| matches!(e, Event::Disconnected(Disconnect::Local)))
    );
    assert!(pair.wallet().published.is_empty(), "no offer");
    // The dApp hears nothing and its request runs out.
    pair.advance(120_000);
    assert!(pair.dapp.conn.session().is_none());
    assert!(pair.dapp.events.iter().any(|e| matches!(
        e,
        Event::Disconnected(Disconnect::Failed(Error::RequestExpired))
    )));
}

#[test]
fn an_unscoped_request_gives_an_unscoped_session_with_any_method() {
    let mut pair = Pair::connected(Mode::Trusted);
    assert_eq!(pair.dapp.conn.session().unwrap().scopes, None);
    assert_eq!(pair.wallet().conn.session().unwrap().scopes, None);
    assert!(
        pair.dapp
            .conn
            .request("anything.at_all", json!({}), None, pair.now)
            .is_ok()
    );
}

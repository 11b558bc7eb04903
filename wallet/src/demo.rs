//! `walletwire-wallet demo`: a dApp and this wallet pair in one process through the
//! in-memory relay ([`walletwire::loopback`]), exchange a request and close, printing each step.

use anyhow::{Context, bail};
use serde_json::json;
use walletwire::loopback::{LoopbackPeer, LoopbackRelay};
use walletwire::protocol::{
    DappConnection, DappHandshake, DappOptions, Event, Invitation, Metadata, Mode,
    WalletConnection, WalletHandshake, WalletOptions,
};

use crate::system::{now_ms, os_random};

struct Demo {
    relay: LoopbackRelay,
    dapp: LoopbackPeer<DappHandshake>,
    wallet: Option<LoopbackPeer<WalletHandshake>>,
    /// Events already printed, per side.
    printed: (usize, usize),
}

impl Demo {
    /// Moves every output and publication until both sides are idle, printing events.
    fn settle(&mut self) {
        loop {
            let now = now_ms();
            self.dapp.collect(&mut self.relay);
            let mut busy = self.dapp.pump(&mut self.relay, now);
            if let Some(w) = self.wallet.as_mut() {
                w.collect(&mut self.relay);
                busy |= w.pump(&mut self.relay, now);
            }
            for e in &self.dapp.events[self.printed.0..] {
                println!("  dApp   <- {}", describe(e));
            }
            self.printed.0 = self.dapp.events.len();
            if let Some(w) = self.wallet.as_ref() {
                for e in &w.events[self.printed.1..] {
                    println!("  wallet <- {}", describe(e));
                }
                self.printed.1 = w.events.len();
            }
            if !busy {
                return;
            }
        }
    }
}

fn describe(e: &Event) -> String {
    match e {
        Event::SessionRequest(r) => format!("session_request {}", r.to_uri()),
        Event::DisplayOtp { otp, .. } => format!("display_otp {otp}"),
        Event::OtpRequired { attempts_left, .. } => {
            format!("otp_required ({attempts_left} attempts)")
        }
        Event::Connected(info) => format!("connected to {:?} on {}", info.peer.name, info.channel),
        Event::Request { id, method, params } => format!("request #{id} {method} {params}"),
        Event::Response { id, result } => format!("response #{id} {result:?}"),
        other => format!("{other:?}"),
    }
}

/// Runs the demo in `mode`.
pub fn demo(mode: Mode) -> anyhow::Result<()> {
    println!(
        "walletwire demo ({} mode): dApp and wallet in one process, in-memory relay",
        mode.as_str()
    );
    let dapp_meta = Metadata {
        name: "Demo dApp".into(),
        url: Some("http://127.0.0.1".into()),
        icon: None,
    };
    let mut options = DappOptions::new("ws://127.0.0.1:8000/connection/websocket", dapp_meta);
    options.mode = mode;
    let conn = DappConnection::new(options, now_ms(), os_random())?;
    let mut demo = Demo {
        relay: LoopbackRelay::default(),
        dapp: LoopbackPeer::new(conn),
        wallet: None,
        printed: (0, 0),
    };
    println!("dApp: connect()");
    demo.settle();
    let uri = demo
        .dapp
        .conn
        .session_request()
        .context("request shown")?
        .to_uri();
    println!("wallet: scans the QR code");
    let invitation = Invitation::from_uri(&uri)?;
    println!("wallet: reads the sealed request from the relay");
    let wallet_meta = Metadata {
        name: "walletwire reference wallet".into(),
        url: None,
        icon: None,
    };
    let wallet = WalletConnection::read(
        &invitation,
        WalletOptions::new(wallet_meta),
        now_ms(),
        os_random(),
    )?;
    demo.wallet = Some(LoopbackPeer::new(wallet));
    demo.settle();
    if mode == Mode::Untrusted {
        let otp = demo
            .wallet
            .as_ref()
            .and_then(|w| {
                w.events.iter().find_map(|e| match e {
                    Event::DisplayOtp { otp, .. } => Some(otp.clone()),
                    _ => None,
                })
            })
            .context("wallet shows a code")?;
        println!("user: types {otp} into the dApp");
        demo.dapp.conn.submit_otp(&otp, now_ms())?;
        demo.settle();
    }
    let Some(wallet) = demo.wallet.as_mut() else {
        bail!("wallet missing")
    };
    if demo.dapp.conn.session().is_none() || wallet.conn.session().is_none() {
        bail!("pairing failed");
    }
    println!("dApp: request(\"wallet.info\")");
    let id = demo
        .dapp
        .conn
        .request("wallet.info", json!({}), Some(5_000), now_ms())?;
    demo.settle();
    let wallet = demo.wallet.as_mut().context("wallet")?;
    let incoming = wallet
        .events
        .iter()
        .find_map(|e| match e {
            Event::Request { id, method, .. } if method == "wallet.info" => Some(*id),
            _ => None,
        })
        .context("wallet received the request")?;
    wallet.conn.respond(
        incoming,
        Ok(
            json!({"name": "walletwire reference wallet", "version": env!("CARGO_PKG_VERSION")})
                .into(),
        ),
        now_ms(),
    )?;
    demo.settle();
    if !demo
        .dapp
        .events
        .iter()
        .any(|e| matches!(e, Event::Response { id: r, result: Ok(_) } if *r == id))
    {
        bail!("no response reached the dApp");
    }
    println!("dApp: disconnect()");
    demo.dapp.conn.close("demo finished", now_ms());
    demo.settle();
    let stored: usize = demo
        .relay
        .channels
        .values()
        .map(|s| s.publications.len())
        .sum();
    println!(
        "done: {stored} publications crossed the relay, all of them sealed (XChaCha20-Poly1305)."
    );
    Ok(())
}

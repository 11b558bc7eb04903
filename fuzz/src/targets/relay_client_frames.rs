//! What the relay server parses from its clients: text frames of newline-separated
//! Centrifugo commands, from two clients at once, through the real relay (its own routes,
//! WebSocket layer, command parser and dispatch, memory broker) in-process.
//!
//! Input: frames separated by the byte 0xFF (never part of UTF-8 text); a frame that starts
//! with 0xFE goes to the second client, any other to the first.
//!
//! Invariants: no panic in the relay; every line the relay sends is a reply the SDK can read;
//! no more replies to an id than commands sent with it; error and close codes are the
//! documented ones; pushes of a channel come in increasing offsets; a connection the client
//! closes is ended by the relay.
use crate::relay_server::{Client, relay};

pub fn run(data: &[u8]) {
    let frames: Vec<(usize, String)> = data
        .split(|b| *b == 0xff)
        .take(64)
        .map(|frame| match frame.split_first() {
            Some((0xfe, rest)) => (1, String::from_utf8_lossy(rest).into_owned()),
            _ => (0, String::from_utf8_lossy(frame).into_owned()),
        })
        .collect();
    crate::block_on(async {
        let relay = relay().await;
        let mut clients = [Client::start(&relay).await, Client::start(&relay).await];
        for (who, text) in frames {
            clients[who].send(text).await;
            tokio::task::yield_now().await;
        }
        let [a, b] = clients;
        a.finish().await;
        b.finish().await;
    });
}

#[cfg(test)]
mod tests {
    /// Inputs leave nothing behind on the shared runtime: a long run used to stop at the
    /// fuzzer's memory limit because every input's relay left its broker sweeper waiting.
    #[test]
    fn an_input_leaves_no_task_behind() {
        let seeds = crate::seeds::of("relay_client_frames");
        let alive = || {
            crate::block_on(async {
                tokio::task::yield_now().await;
                tokio::runtime::Handle::current()
                    .metrics()
                    .num_alive_tasks()
            })
        };
        super::run(&seeds[0].1);
        let before = alive();
        for seed in seeds.iter().cycle().take(20) {
            super::run(&seed.1);
        }
        assert_eq!(alive(), before, "tasks outlived their inputs");
    }
}

//! Benchmark hooks for `bench/peers` (cargo feature `bench`, never in the published
//! package): XChaCha20-Poly1305 seal and open exactly as session frames use them
//! ([`crate::crypto::Key`]), looped inside wasm so that the page times the cipher and not
//! the JS/wasm boundary. The page measures the wall time around each call.

use wasm_bindgen::prelude::*;

use crate::crypto::{Key, NONCE_LEN};

/// Associated data as long as a frame's (`"walletwire v1 frame" || 0 || 'd' || seq || channel`).
const AAD_LEN: usize = 73;

fn inputs(size: usize) -> (Key, Vec<u8>, Vec<u8>) {
    let key = Key::from_bytes([7; 32]);
    let aad = vec![b'a'; AAD_LEN];
    let plaintext = (0..size).map(|i| i as u8).collect();
    (key, aad, plaintext)
}

fn nonce(i: u32) -> [u8; NONCE_LEN] {
    let mut nonce = [9; NONCE_LEN];
    nonce[..4].copy_from_slice(&i.to_le_bytes());
    nonce
}

/// Seals a `size`-byte message `iterations` times (a new nonce each time); returns a
/// checksum of the outputs so that no work can be optimised away.
#[wasm_bindgen(js_name = benchSeal)]
pub fn bench_seal(size: u32, iterations: u32) -> u32 {
    let (key, aad, plaintext) = inputs(size as usize);
    let mut check = 0u32;
    for i in 0..iterations {
        let sealed = key.seal_with_nonce(nonce(i), &aad, &plaintext);
        check = check.wrapping_add(u32::from(sealed[sealed.len() - 1]));
    }
    check
}

/// Opens the same sealed `size`-byte message `iterations` times; returns a checksum, or
/// `u32::MAX` if a box failed to open (the page treats that as a broken benchmark).
#[wasm_bindgen(js_name = benchOpen)]
pub fn bench_open(size: u32, iterations: u32) -> u32 {
    let (key, aad, plaintext) = inputs(size as usize);
    let sealed = key.seal_with_nonce(nonce(0), &aad, &plaintext);
    let mut check = 0u32;
    for _ in 0..iterations {
        match key.open(&aad, &sealed) {
            Ok(opened) if opened == plaintext => {
                check = check.wrapping_add(u32::from(opened.last().copied().unwrap_or(0)));
            }
            _ => return u32::MAX,
        }
    }
    check
}

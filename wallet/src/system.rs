//! What the drivers take from the operating system: randomness and the wall clock. The core
//! never reads either itself; these are its inputs.

use std::time::{SystemTime, UNIX_EPOCH};

use walletwire::crypto::RandomSource;

/// Randomness from the operating system's generator.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        // The OS generator failing means the machine cannot do cryptography at all.
        getrandom::fill(buf).expect("operating system random generator available");
    }
}

/// A boxed [`OsRandom`], as the core's constructors take it.
pub fn os_random() -> Box<dyn RandomSource> {
    Box::new(OsRandom)
}

/// Current Unix time in milliseconds (the core's clock).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Fills `buf` from the operating system's generator.
pub fn fill_random(buf: &mut [u8]) {
    walletwire::crypto::RandomSource::fill(&mut OsRandom, buf);
}

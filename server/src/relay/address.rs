//! Limits per client address: how many connections one address may hold open, and one token
//! bucket of commands that all its connections share.
//!
//! An address is an IPv4 address or an IPv6 /64 (one host's usual allocation); IPv4-mapped
//! IPv6 addresses count as IPv4. An entry lives while its address has a connection open, so
//! the table holds at most one entry per open connection.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use walletwire::relay::DisconnectCode;

use super::limits::TokenBucket;
use super::metrics::Metrics;
use super::options::RelayOptions;

#[derive(Debug)]
struct Entry {
    connections: usize,
    bucket: Option<Arc<Mutex<TokenBucket>>>,
}

/// The per-address table.
#[derive(Debug)]
pub struct Addresses {
    table: Mutex<HashMap<IpAddr, Entry>>,
    max_connections: usize,
    rate: f64,
    burst: u32,
    metrics: Arc<Metrics>,
}

/// One admitted connection's place in the table; dropping it frees the place.
#[derive(Debug)]
pub struct AddressTicket {
    key: Option<IpAddr>,
    bucket: Option<Arc<Mutex<TokenBucket>>>,
    addresses: Arc<Addresses>,
}

/// The key an address is counted under.
pub fn group(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl Addresses {
    /// The table for the relay's options.
    pub fn new(options: &RelayOptions, metrics: Arc<Metrics>) -> Arc<Self> {
        Arc::new(Self {
            table: Mutex::new(HashMap::new()),
            max_connections: options.max_connections_per_address,
            rate: options.address_command_rate,
            burst: options.address_command_burst,
            metrics,
        })
    }

    fn table(&self) -> MutexGuard<'_, HashMap<IpAddr, Entry>> {
        self.table
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Admits one more connection from `address` (None: unknown, not limited), or says how
    /// to refuse it (3504, as for the process-wide limit).
    pub fn admit(
        self: &Arc<Self>,
        address: Option<IpAddr>,
    ) -> Result<AddressTicket, DisconnectCode> {
        let Some(key) = address.map(group) else {
            return Ok(AddressTicket {
                key: None,
                bucket: None,
                addresses: self.clone(),
            });
        };
        let mut table = self.table();
        let entry = table.entry(key).or_insert_with(|| Entry {
            connections: 0,
            bucket: (self.rate > 0.0).then(|| {
                Arc::new(Mutex::new(TokenBucket::new(
                    self.rate,
                    self.burst,
                    Instant::now(),
                )))
            }),
        });
        if self.max_connections > 0 && entry.connections >= self.max_connections {
            return Err(DisconnectCode::ConnectionLimit);
        }
        entry.connections += 1;
        let bucket = entry.bucket.clone();
        self.metrics.set_addresses(table.len());
        Ok(AddressTicket {
            key: Some(key),
            bucket,
            addresses: self.clone(),
        })
    }

    fn release(&self, key: IpAddr) {
        let mut table = self.table();
        if let Some(entry) = table.get_mut(&key) {
            entry.connections = entry.connections.saturating_sub(1);
            if entry.connections == 0 {
                table.remove(&key);
            }
        }
        self.metrics.set_addresses(table.len());
    }
}

impl AddressTicket {
    /// Takes one command token from the address's shared bucket (always true when the
    /// address is not limited).
    pub fn try_take(&self, now: Instant) -> bool {
        match &self.bucket {
            None => true,
            Some(bucket) => bucket
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .try_take(now),
        }
    }
}

impl Drop for AddressTicket {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.addresses.release(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(group(a), group(b));
        assert_ne!(group(a), group(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(group(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }
}

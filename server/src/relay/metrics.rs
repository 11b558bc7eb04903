//! Relay counters, rendered in the Prometheus text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters and gauges of one relay process.
#[derive(Debug, Default)]
pub struct Metrics {
    connections: AtomicU64,
    connections_total: AtomicU64,
    channels: AtomicU64,
    streams: AtomicU64,
    history_bytes: AtomicU64,
    addresses: AtomicU64,
    publications: AtomicU64,
    deliveries: AtomicU64,
    disconnects: Mutex<BTreeMap<u16, u64>>,
    errors: Mutex<BTreeMap<u32, u64>>,
}

impl Metrics {
    /// A connection was accepted.
    pub fn connection_opened(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
        self.connections_total.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection ended with this close code (3000 when the client left).
    pub fn connection_closed(&self, code: u16) {
        self.connections.fetch_sub(1, Ordering::Relaxed);
        self.disconnected(code);
    }

    /// A connection was refused or dropped with this close code.
    pub fn disconnected(&self, code: u16) {
        let mut disconnects = self
            .disconnects
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        *disconnects.entry(code).or_default() += 1;
    }

    /// A command was answered with this error code.
    pub fn error_replied(&self, code: u32) {
        let mut errors = self
            .errors
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        *errors.entry(code).or_default() += 1;
    }

    /// The number of channels with local subscribers changed.
    pub fn set_channels(&self, channels: usize) {
        self.channels.store(channels as u64, Ordering::Relaxed);
    }

    /// The number of streams the memory broker keeps changed.
    pub fn set_streams(&self, streams: usize) {
        self.streams.store(streams as u64, Ordering::Relaxed);
    }

    /// The payload bytes the memory broker keeps in history changed.
    pub fn set_history_bytes(&self, bytes: usize) {
        self.history_bytes.store(bytes as u64, Ordering::Relaxed);
    }

    /// The number of client addresses with open connections changed.
    pub fn set_addresses(&self, addresses: usize) {
        self.addresses.store(addresses as u64, Ordering::Relaxed);
    }

    /// A client published.
    pub fn published(&self) {
        self.publications.fetch_add(1, Ordering::Relaxed);
    }

    /// A publication was queued for one subscriber.
    pub fn delivered(&self) {
        self.deliveries.fetch_add(1, Ordering::Relaxed);
    }

    /// Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            // Writing to a String cannot fail.
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            );
        };
        metric(
            "walletwire_relay_connections",
            "gauge",
            "Open client connections.",
            self.connections.load(Ordering::Relaxed),
        );
        metric(
            "walletwire_relay_connections_total",
            "counter",
            "Client connections accepted since start.",
            self.connections_total.load(Ordering::Relaxed),
        );
        metric(
            "walletwire_relay_channels",
            "gauge",
            "Channels with at least one subscriber on this node.",
            self.channels.load(Ordering::Relaxed),
        );
        metric(
            "walletwire_relay_streams",
            "gauge",
            "Channel streams (history, epoch, top offset) the memory broker keeps.",
            self.streams.load(Ordering::Relaxed),
        );
        metric(
            "walletwire_relay_history_bytes",
            "gauge",
            "Payload bytes the memory broker keeps in history.",
            self.history_bytes.load(Ordering::Relaxed),
        );
        metric(
            "walletwire_relay_client_addresses",
            "gauge",
            "Client addresses with open connections.",
            self.addresses.load(Ordering::Relaxed),
        );
        metric(
            "walletwire_relay_publications_total",
            "counter",
            "Publications accepted from clients on this node.",
            self.publications.load(Ordering::Relaxed),
        );
        metric(
            "walletwire_relay_deliveries_total",
            "counter",
            "Publications queued to subscribers on this node.",
            self.deliveries.load(Ordering::Relaxed),
        );
        out.push_str(
            "# HELP walletwire_relay_disconnects_total Connections closed, by close code.\n",
        );
        out.push_str("# TYPE walletwire_relay_disconnects_total counter\n");
        for (code, count) in self
            .disconnects
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "walletwire_relay_disconnects_total{{code=\"{code}\"}} {count}"
            );
        }
        out.push_str(
            "# HELP walletwire_relay_errors_total Command error replies, by error code.\n",
        );
        out.push_str("# TYPE walletwire_relay_errors_total counter\n");
        for (code, count) in self
            .errors
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "walletwire_relay_errors_total{{code=\"{code}\"}} {count}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_labelled_disconnects() {
        let metrics = Metrics::default();
        metrics.connection_opened();
        metrics.connection_opened();
        metrics.connection_closed(3001);
        metrics.published();
        metrics.delivered();
        metrics.error_replied(111);
        let text = metrics.render();
        assert!(text.contains("walletwire_relay_connections 1\n"));
        assert!(text.contains("walletwire_relay_connections_total 2\n"));
        assert!(text.contains("walletwire_relay_disconnects_total{code=\"3001\"} 1\n"));
        assert!(text.contains("walletwire_relay_errors_total{code=\"111\"} 1\n"));
    }
}

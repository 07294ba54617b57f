//! The clinic scenario's result: one JSON object and its human-readable rendering.

use super::{ClinicArgs, Exchange, Staffing};
use crate::accounting::Tally;
use crate::report::{mib, round3, LatencySummary};
use serde::Serialize;
use std::collections::BTreeMap;

/// The result line of `clinic`.
#[derive(Debug, Serialize)]
pub struct ClinicResult {
    pub scenario: &'static str,
    pub codec: &'static str,
    pub conversations: usize,
    pub console_connections: usize,
    /// Distinct professionals behind the console connections.
    pub professionals: usize,
    /// Capacity each professional announced.
    pub capacity: u32,
    /// Messages per second per conversation per side.
    pub rate_per_s: f64,
    pub duration_s: f64,
    /// Connecting, starting and assigning every conversation.
    pub setup_s: f64,
    #[serde(flatten)]
    pub tally: Tally,
    pub delivered_per_s: f64,
    /// Scheduled send → ack.
    pub ack: LatencySummary,
    /// Scheduled send → `message` event at the other side.
    pub e2e: LatencySummary,
    /// Error frames by code, `close_<code>`, `unmatched_ack`, `foreign_body`, `undecodable`.
    pub errors: BTreeMap<String, u64>,
    /// Connections whose sending stopped early (the first reason is printed).
    pub sender_errors: usize,
    /// CPU seconds of the server's processes (summed) over the traffic and the drain.
    pub server_cpu_s: Option<f64>,
    /// Server CPU seconds per wall-clock second of traffic and drain (1.0 = one core).
    pub server_cpu_util: Option<f64>,
    /// Server processes watched (`--server-pid`; the nodes of a cluster).
    pub server_processes: usize,
    /// CPU seconds of each service the server relies on (`--backing-pid`), with its child
    /// processes, over the same span.
    pub backing_cpu_s: BTreeMap<String, f64>,
    pub server_rss_before_bytes: Option<u64>,
    pub server_rss_bytes: Option<u64>,
    pub loader_cpu_s: f64,
    #[serde(skip)]
    first_sender_error: Option<String>,
}

impl ClinicResult {
    /// Summarises a finished exchange.
    pub fn new(
        args: &ClinicArgs,
        staffing: &Staffing,
        professionals: usize,
        setup_s: f64,
        exchange: &Exchange,
    ) -> Self {
        let tally = Tally::merge(&exchange.stats.ledger);
        let server = exchange.watched.server;
        let server_cpu_s = server.map(|(before, after)| round3(after.cpu_seconds_since(&before)));
        let (loader_before, loader_after) = exchange.loader;
        Self {
            scenario: "clinic",
            codec: args.target.codec_name(),
            conversations: args.conversations,
            console_connections: staffing.slots.len(),
            professionals,
            capacity: staffing.capacity,
            rate_per_s: args.rate,
            duration_s: args.duration_s,
            setup_s: round3(setup_s),
            tally,
            delivered_per_s: round3(tally.delivered as f64 / args.duration_s),
            ack: exchange.stats.ack.summary(),
            e2e: exchange.stats.e2e.summary(),
            errors: exchange.stats.errors.clone(),
            sender_errors: exchange.sender_errors.len(),
            server_cpu_s,
            server_cpu_util: server_cpu_s.map(|cpu| round3(cpu / exchange.wall_s)),
            server_processes: args.watch.server_pids.len(),
            backing_cpu_s: exchange
                .watched
                .backing_cpu_s
                .iter()
                .map(|(name, cpu)| (name.clone(), round3(*cpu)))
                .collect(),
            server_rss_before_bytes: server.map(|(before, _)| before.rss_bytes),
            server_rss_bytes: server.map(|(_, after)| after.rss_bytes),
            loader_cpu_s: round3(loader_after.cpu_seconds_since(&loader_before)),
            first_sender_error: exchange.sender_errors.first().cloned(),
        }
    }

    /// A few lines for people.
    pub fn human(&self) -> String {
        let t = &self.tally;
        let mut lines = vec![
            format!(
                "clinic: {} conversations, {} console connections ({} professionals, capacity \
                 {}), {} msg/s per side for {} s, {}; set-up {} s",
                self.conversations,
                self.console_connections,
                self.professionals,
                self.capacity,
                self.rate_per_s,
                self.duration_s,
                self.codec,
                self.setup_s
            ),
            format!(
                "  delivered {} ({} msg/s); sent {}, acked {}, lost {}, unacked {}, duplicated \
                 {}, reordered {}",
                t.delivered,
                self.delivered_per_s,
                t.sent,
                t.acked,
                t.lost,
                t.unacked,
                t.duplicated,
                t.reordered
            ),
            format!("  ack latency: {}", self.ack.human()),
            format!("  end-to-end:  {}", self.e2e.human()),
            format!("  errors: {}", self.errors_text()),
        ];
        if let (Some(cpu), Some(util), Some(before), Some(after)) = (
            self.server_cpu_s,
            self.server_cpu_util,
            self.server_rss_before_bytes,
            self.server_rss_bytes,
        ) {
            lines.push(format!(
                "  server: cpu {cpu} s ({:.0}% of one core), rss {} MiB (before {} MiB)",
                util * 100.0,
                mib(after),
                mib(before)
            ));
        }
        if !self.backing_cpu_s.is_empty() {
            let services: Vec<String> = self
                .backing_cpu_s
                .iter()
                .map(|(name, cpu)| format!("{name} {cpu} s"))
                .collect();
            lines.push(format!("  services: cpu {}", services.join(", ")));
        }
        lines.push(format!("  loader: cpu {} s", self.loader_cpu_s));
        lines.join("\n")
    }

    fn errors_text(&self) -> String {
        let mut parts: Vec<String> = self
            .errors
            .iter()
            .map(|(code, count)| format!("{code}={count}"))
            .collect();
        if let Some(e) = &self.first_sender_error {
            parts.push(format!(
                "{} senders stopped, first: {e}",
                self.sender_errors
            ));
        }
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }
}

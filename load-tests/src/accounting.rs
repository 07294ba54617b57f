//! Message bookkeeping of a traffic run: the stamp a sender embeds in each body, and the
//! per-stream ledgers from which lost, duplicated and reordered messages are counted.
//!
//! A *stream* is one direction of one conversation; its messages carry a sender-side counter
//! `n` = 0, 1, 2, ... Acks are seen by the sender's connection and deliveries by the
//! receiver's, so each side keeps its own half and [`Tally::merge`] joins them at the end.

use anyhow::{bail, Context, Result};
use std::collections::HashMap;

/// A counter larger than this in a body is garbage, not a message of ours.
const MAX_COUNTER: u64 = 50_000_000;

/// Who sent the messages of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    ClientToProfessional,
    ProfessionalToClient,
}

/// One direction of one conversation (conversations are numbered by the load generator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamKey {
    pub conv: u32,
    pub dir: Direction,
}

/// What a sender writes into a message body: `c=<conv>;n=<counter>;t=<scheduled ns>`,
/// optionally followed by `;p=xxx` padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub conv: u32,
    pub n: u64,
    /// Scheduled send time, nanoseconds since the run's shared start `Instant`.
    pub t_ns: u64,
}

impl Stamp {
    /// The body text, padded with `x` up to `min_len` bytes.
    pub fn encode(&self, min_len: usize) -> String {
        let mut body = format!("c={};n={};t={}", self.conv, self.n, self.t_ns);
        if body.len() + 3 < min_len {
            body.push_str(";p=");
            let pad = min_len - body.len();
            body.push_str(&"x".repeat(pad));
        }
        body
    }

    /// Parses a body written by [`Stamp::encode`]; unknown keys are ignored.
    pub fn parse(body: &str) -> Result<Stamp> {
        let (mut conv, mut n, mut t_ns) = (None, None, None);
        for part in body.split(';') {
            let Some((key, value)) = part.split_once('=') else {
                bail!("malformed body part {part:?}");
            };
            match key {
                "c" => conv = Some(value.parse().context("c")?),
                "n" => n = Some(value.parse().context("n")?),
                "t" => t_ns = Some(value.parse().context("t")?),
                _ => {}
            }
        }
        let stamp = Stamp {
            conv: conv.context("no c= in body")?,
            n: n.context("no n= in body")?,
            t_ns: t_ns.context("no t= in body")?,
        };
        if stamp.n > MAX_COUNTER {
            bail!("counter {} out of range", stamp.n);
        }
        Ok(stamp)
    }
}

/// How one delivery relates to the ones before it on the same stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    InOrder,
    /// First delivery of `n`, but a higher counter was delivered before it.
    Reordered,
    /// `n` was delivered before.
    Duplicate,
}

/// The receiver's half of a stream: which counters arrived, how often, in what order.
#[derive(Debug, Clone, Default)]
pub struct DeliveryLog {
    times: Vec<u32>,
    highest: Option<u64>,
    pub duplicated: u64,
    pub reordered: u64,
}

impl DeliveryLog {
    /// Records the arrival of counter `n`.
    pub fn record(&mut self, n: u64) -> Delivery {
        let i = n as usize;
        if self.times.len() <= i {
            self.times.resize(i + 1, 0);
        }
        self.times[i] += 1;
        let outcome = if self.times[i] > 1 {
            self.duplicated += 1;
            Delivery::Duplicate
        } else if self.highest.is_some_and(|h| h > n) {
            self.reordered += 1;
            Delivery::Reordered
        } else {
            Delivery::InOrder
        };
        self.highest = self.highest.max(Some(n));
        outcome
    }

    /// Whether `n` arrived at least once.
    pub fn delivered(&self, n: u64) -> bool {
        self.times.get(n as usize).is_some_and(|&t| t > 0)
    }

    /// How many distinct counters arrived.
    pub fn unique(&self) -> u64 {
        self.times.iter().filter(|&&t| t > 0).count() as u64
    }

    fn absorb(&mut self, other: DeliveryLog) {
        for (n, &t) in other.times.iter().enumerate() {
            for _ in 0..t {
                self.record(n as u64);
            }
        }
    }
}

/// The sender's half of a stream: which counters the server acknowledged.
#[derive(Debug, Clone, Default)]
pub struct AckLog {
    acked: Vec<bool>,
}

impl AckLog {
    /// Records the ack of counter `n`.
    pub fn record(&mut self, n: u64) {
        let i = n as usize;
        if self.acked.len() <= i {
            self.acked.resize(i + 1, false);
        }
        self.acked[i] = true;
    }

    fn acked(&self) -> impl Iterator<Item = u64> + '_ {
        self.acked
            .iter()
            .enumerate()
            .filter(|(_, &a)| a)
            .map(|(n, _)| n as u64)
    }

    fn absorb(&mut self, other: AckLog) {
        other.acked().for_each(|n| self.record(n));
    }
}

/// Everything one connection saw of the streams it sends and receives.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    pub sent: HashMap<StreamKey, u64>,
    pub acks: HashMap<StreamKey, AckLog>,
    pub deliveries: HashMap<StreamKey, DeliveryLog>,
}

impl Ledger {
    /// Adds another connection's ledger.
    pub fn absorb(&mut self, other: Ledger) {
        for (key, sent) in other.sent {
            *self.sent.entry(key).or_default() += sent;
        }
        for (key, log) in other.acks {
            self.acks.entry(key).or_default().absorb(log);
        }
        for (key, log) in other.deliveries {
            self.deliveries.entry(key).or_default().absorb(log);
        }
    }
}

/// Totals over all streams.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    pub sent: u64,
    pub acked: u64,
    /// Distinct messages that reached the other side.
    pub delivered: u64,
    /// Acked but never delivered to the other side.
    pub lost: u64,
    /// Sent but never acked.
    pub unacked: u64,
    pub duplicated: u64,
    pub reordered: u64,
}

impl Tally {
    /// Joins the senders' and receivers' halves of every stream.
    pub fn merge(ledger: &Ledger) -> Tally {
        let empty = DeliveryLog::default();
        let mut tally = Tally::default();
        for (key, &sent) in &ledger.sent {
            let acks = ledger.acks.get(key);
            let acked = acks.map_or(0, |a| a.acked().count() as u64);
            tally.sent += sent;
            tally.acked += acked;
            tally.unacked += sent.saturating_sub(acked);
            let deliveries = ledger.deliveries.get(key).unwrap_or(&empty);
            if let Some(acks) = acks {
                tally.lost += acks.acked().filter(|&n| !deliveries.delivered(n)).count() as u64;
            }
        }
        for log in ledger.deliveries.values() {
            tally.delivered += log.unique();
            tally.duplicated += log.duplicated;
            tally.reordered += log.reordered;
        }
        tally
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: StreamKey = StreamKey {
        conv: 3,
        dir: Direction::ClientToProfessional,
    };

    #[test]
    fn stamp_round_trips_with_and_without_padding() {
        let stamp = Stamp {
            conv: 12,
            n: 7,
            t_ns: 123_456_789,
        };
        assert_eq!(stamp.encode(0), "c=12;n=7;t=123456789");
        let padded = stamp.encode(100);
        assert_eq!(padded.len(), 100);
        assert_eq!(Stamp::parse(&padded).ok(), Some(stamp));
        assert_eq!(Stamp::parse(&stamp.encode(0)).ok(), Some(stamp));
    }

    #[test]
    fn foreign_bodies_are_rejected() {
        assert!(Stamp::parse("hello nurse").is_err());
        assert!(Stamp::parse("c=1;n=2").is_err());
        assert!(Stamp::parse("c=1;n=x;t=3").is_err());
        assert!(Stamp::parse("c=1;n=99999999999;t=3").is_err());
    }

    #[test]
    fn deliveries_are_classified() {
        let mut log = DeliveryLog::default();
        assert_eq!(log.record(0), Delivery::InOrder);
        assert_eq!(log.record(2), Delivery::InOrder);
        assert_eq!(log.record(1), Delivery::Reordered);
        assert_eq!(log.record(2), Delivery::Duplicate);
        assert_eq!(log.record(3), Delivery::InOrder);
        assert_eq!((log.unique(), log.duplicated, log.reordered), (4, 1, 1));
    }

    #[test]
    fn lost_means_acked_but_never_delivered() {
        let mut sender = Ledger::default();
        sender.sent.insert(KEY, 5);
        let acks = sender.acks.entry(KEY).or_default();
        for n in [0, 1, 2, 3] {
            acks.record(n);
        }
        let mut receiver = Ledger::default();
        let deliveries = receiver.deliveries.entry(KEY).or_default();
        for n in [0, 2, 2, 4] {
            deliveries.record(n);
        }
        let mut all = Ledger::default();
        all.absorb(sender);
        all.absorb(receiver);
        let tally = Tally::merge(&all);
        assert_eq!(
            tally,
            Tally {
                sent: 5,
                acked: 4,
                delivered: 3,
                lost: 2, // 1 and 3; 4 was delivered though its ack never came
                unacked: 1,
                duplicated: 1,
                reordered: 0,
            }
        );
    }

    #[test]
    fn streams_are_kept_apart() {
        let other = StreamKey {
            conv: 3,
            dir: Direction::ProfessionalToClient,
        };
        let mut ledger = Ledger::default();
        ledger.sent.insert(KEY, 1);
        ledger.acks.entry(KEY).or_default().record(0);
        ledger.deliveries.entry(other).or_default().record(0);
        let tally = Tally::merge(&ledger);
        assert_eq!((tally.lost, tally.delivered), (1, 1));
    }
}

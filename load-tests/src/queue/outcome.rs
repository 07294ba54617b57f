//! The queue scenario's result: assignment rate, real waits, and the error of the estimates
//! shown to the waiting clients.

use super::client::ClientRecord;
use super::console::ConsoleStats;
use super::QueueArgs;
use crate::proc_stats::Watched;
use crate::report::{mib, round3};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;

/// Waits in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct WaitSummary {
    pub count: usize,
    pub mean_s: f64,
    pub p50_s: f64,
    pub p90_s: f64,
    pub max_s: f64,
}

impl WaitSummary {
    /// Summarises seconds (empty: all zero).
    pub fn of(values: &[f64]) -> Self {
        let sorted = sorted(values);
        if sorted.is_empty() {
            return Self::default();
        }
        Self {
            count: sorted.len(),
            mean_s: round3(sorted.iter().sum::<f64>() / sorted.len() as f64),
            p50_s: round3(quantile(&sorted, 0.5)),
            p90_s: round3(quantile(&sorted, 0.9)),
            max_s: round3(sorted.last().copied().unwrap_or(0.0)),
        }
    }
}

/// How far estimates were from the truth: `estimate - real`, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct EstimateError {
    pub count: usize,
    /// Mean absolute error.
    pub mae_s: f64,
    /// 90th percentile of the absolute error.
    pub p90_abs_s: f64,
    pub max_abs_s: f64,
    /// Mean signed error: positive means the clients were told to wait longer than they did.
    pub bias_s: f64,
}

impl EstimateError {
    /// Summarises signed errors.
    pub fn of(errors: &[f64]) -> Self {
        if errors.is_empty() {
            return Self::default();
        }
        let n = errors.len() as f64;
        let abs: Vec<f64> = sorted(&errors.iter().map(|e| e.abs()).collect::<Vec<_>>());
        Self {
            count: errors.len(),
            mae_s: round3(abs.iter().sum::<f64>() / n),
            p90_abs_s: round3(quantile(&abs, 0.9)),
            max_abs_s: round3(abs.last().copied().unwrap_or(0.0)),
            bias_s: round3(errors.iter().sum::<f64>() / n),
        }
    }
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Nearest-rank quantile of sorted values (0 when empty).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The result line of `queue`.
#[derive(Debug, Serialize)]
pub struct QueueResult {
    pub scenario: &'static str,
    pub codec: &'static str,
    pub team: String,
    pub conversations: usize,
    /// Professionals taking chats.
    pub professionals: usize,
    pub capacity: u32,
    pub hold_s: f64,
    /// Conversations that got `queued`, were assigned, and were closed.
    pub queued: usize,
    pub assigned: usize,
    pub closed: usize,
    pub failed: usize,
    /// Assigned at once (position 0 in `queued`): they never waited in the queue.
    pub assigned_at_once: usize,
    /// From the first `start` to the last assignment.
    pub span_s: f64,
    /// Assignments per second over `span_s`.
    pub assignment_rate_per_s: f64,
    /// The best rate the staffing allows once the queue is full: professionals × capacity /
    /// hold.
    pub staffing_rate_per_s: f64,
    /// `start` → `queued`, milliseconds.
    pub queued_p50_ms: f64,
    pub queued_p99_ms: f64,
    /// `queued` → `assigned` of every conversation, seconds.
    pub wait: WaitSummary,
    /// The `queued` frame's estimate against the real wait, over conversations told a place
    /// in the queue.
    pub initial_estimate: EstimateError,
    /// Every estimate shown (`queued` and each `queue` update) against the wait that
    /// remained from then.
    pub all_estimates: EstimateError,
    /// The last estimate shown before the assignment against the wait that remained.
    pub last_estimate: EstimateError,
    /// Error frames and ended connections of the consoles, by code.
    pub console_errors: BTreeMap<String, u64>,
    /// Chats of earlier runs the consoles closed first.
    pub leftovers_closed: u64,
    pub server_cpu_s: Option<f64>,
    pub server_rss_bytes: Option<u64>,
    /// CPU seconds of each service the server relies on (`--backing-pid`).
    pub backing_cpu_s: BTreeMap<String, f64>,
    pub first_error: Option<String>,
}

impl QueueResult {
    /// Summarises the records of every client.
    pub fn new(
        args: &QueueArgs,
        professionals: usize,
        burst_started: Instant,
        finished: Instant,
        records: &[ClientRecord],
        consoles: &ConsoleStats,
        watched: &Watched,
    ) -> Self {
        let server = watched.server;
        let secs = |later: Instant, earlier: Instant| {
            later.saturating_duration_since(earlier).as_secs_f64()
        };
        let mut waits = Vec::new();
        let mut queued_ms = Vec::new();
        let (mut initial, mut all, mut last) = (Vec::new(), Vec::new(), Vec::new());
        for r in records {
            if let (Some(started), Some(queued)) = (r.started, r.queued) {
                queued_ms.push(secs(queued, started) * 1000.0);
            }
            let (Some(queued), Some(assigned)) = (r.queued, r.assigned) else {
                continue;
            };
            waits.push(secs(assigned, queued));
            let mut told = r.estimates.iter().filter(|e| e.position > 0);
            for e in told.clone() {
                all.push(e.wait_s as f64 - secs(assigned, e.at));
            }
            if let Some(first) = r.estimates.first().filter(|e| e.position > 0) {
                initial.push(first.wait_s as f64 - secs(assigned, first.at));
            }
            if let Some(latest) = told.next_back() {
                last.push(latest.wait_s as f64 - secs(assigned, latest.at));
            }
        }
        let first_start = records.iter().filter_map(|r| r.started).min();
        let last_assigned = records.iter().filter_map(|r| r.assigned).max();
        let assigned = records.iter().filter(|r| r.assigned.is_some()).count();
        let span_s = match (first_start, last_assigned) {
            (Some(a), Some(b)) => secs(b, a),
            _ => secs(finished, burst_started),
        };
        let queued_sorted = sorted(&queued_ms);
        let staffing = professionals as f64 * f64::from(args.capacity);
        Self {
            scenario: "queue",
            codec: args.target.codec_name(),
            team: args.team.clone(),
            conversations: args.conversations,
            professionals,
            capacity: args.capacity,
            hold_s: args.hold_s,
            queued: records.iter().filter(|r| r.queued.is_some()).count(),
            assigned,
            closed: records.iter().filter(|r| r.closed.is_some()).count(),
            failed: records.iter().filter(|r| r.error.is_some()).count(),
            assigned_at_once: records
                .iter()
                .filter(|r| r.estimates.first().is_some_and(|e| e.position == 0))
                .count(),
            span_s: round3(span_s),
            assignment_rate_per_s: if span_s > 0.0 {
                round3(assigned as f64 / span_s)
            } else {
                0.0
            },
            staffing_rate_per_s: if args.hold_s > 0.0 {
                round3(staffing / args.hold_s)
            } else {
                0.0
            },
            queued_p50_ms: round3(quantile(&queued_sorted, 0.5)),
            queued_p99_ms: round3(quantile(&queued_sorted, 0.99)),
            wait: WaitSummary::of(&waits),
            initial_estimate: EstimateError::of(&initial),
            all_estimates: EstimateError::of(&all),
            last_estimate: EstimateError::of(&last),
            console_errors: consoles.errors.clone(),
            leftovers_closed: consoles.leftovers,
            server_cpu_s: server.map(|(before, after)| round3(after.cpu_seconds_since(&before))),
            server_rss_bytes: server.map(|(_, after)| after.rss_bytes),
            backing_cpu_s: watched
                .backing_cpu_s
                .iter()
                .map(|(name, cpu)| (name.clone(), round3(*cpu)))
                .collect(),
            first_error: records.iter().find_map(|r| r.error.clone()),
        }
    }

    /// A few lines for people.
    pub fn human(&self) -> String {
        let e = |x: &EstimateError| {
            format!(
                "mean abs {} s, p90 abs {} s, max abs {} s, bias {:+} s (n={})",
                x.mae_s, x.p90_abs_s, x.max_abs_s, x.bias_s, x.count
            )
        };
        let mut lines = vec![
            format!(
                "queue: {} conversations into {} served by {} professionals (capacity {}, hold \
                 {} s), {}",
                self.conversations,
                self.team,
                self.professionals,
                self.capacity,
                self.hold_s,
                self.codec
            ),
            format!(
                "  queued {}, assigned {} ({} at once), closed {}, failed {}; {} assignments/s \
                 over {} s (staffing allows {}/s)",
                self.queued,
                self.assigned,
                self.assigned_at_once,
                self.closed,
                self.failed,
                self.assignment_rate_per_s,
                self.span_s,
                self.staffing_rate_per_s
            ),
            format!(
                "  start → queued p50 {} ms, p99 {} ms; wait mean {} s, p50 {} s, p90 {} s, max {} s",
                self.queued_p50_ms,
                self.queued_p99_ms,
                self.wait.mean_s,
                self.wait.p50_s,
                self.wait.p90_s,
                self.wait.max_s
            ),
            format!("  first estimate: {}", e(&self.initial_estimate)),
            format!("  every estimate: {}", e(&self.all_estimates)),
            format!("  last estimate:  {}", e(&self.last_estimate)),
        ];
        if !self.console_errors.is_empty() || self.leftovers_closed > 0 {
            let errors: Vec<String> = self
                .console_errors
                .iter()
                .map(|(code, n)| format!("{code}={n}"))
                .collect();
            lines.push(format!(
                "  consoles: errors {}; closed {} chats of earlier runs",
                if errors.is_empty() {
                    "none".into()
                } else {
                    errors.join(", ")
                },
                self.leftovers_closed
            ));
        }
        if let (Some(cpu), Some(rss)) = (self.server_cpu_s, self.server_rss_bytes) {
            lines.push(format!("  server: cpu {cpu} s, rss {} MiB", mib(rss)));
        }
        if let Some(e) = &self.first_error {
            lines.push(format!("  first error: {e}"));
        }
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_and_errors_summarise() {
        let w = WaitSummary::of(&[3.0, 1.0, 2.0, f64::NAN]);
        assert_eq!((w.count, w.p50_s, w.max_s), (3, 2.0, 3.0));
        assert!((w.mean_s - 2.0).abs() < 1e-9);
        assert_eq!(WaitSummary::of(&[]), WaitSummary::default());
        let e = EstimateError::of(&[-1.0, 2.0, 3.0, -4.0]);
        assert_eq!(
            (e.count, e.mae_s, e.p90_abs_s, e.max_abs_s),
            (4, 2.5, 4.0, 4.0)
        );
        assert_eq!(e.bias_s, 0.0);
        assert_eq!(EstimateError::of(&[]), EstimateError::default());
    }

    #[test]
    fn quantiles_use_nearest_rank() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.9), 9.0);
        assert_eq!(quantile(&v, 0.99), 10.0);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }
}

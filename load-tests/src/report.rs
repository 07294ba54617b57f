//! Results: latency histograms (microseconds, 3 significant digits), their summary in
//! milliseconds, and printing a scenario's result as a human line plus one JSON line.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::time::Duration;

/// Latencies above this (in µs) are recorded as this: a minute is "broken" anyway.
const MAX_LATENCY_US: u64 = 60_000_000;

/// A latency histogram in microseconds.
#[derive(Debug, Clone)]
pub struct Latencies {
    histogram: Histogram<u64>,
}

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

impl Latencies {
    /// An empty histogram covering 1 µs .. 60 s.
    pub fn new() -> Self {
        let histogram =
            Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("constant bounds are valid");
        Self { histogram }
    }

    /// Records one latency.
    pub fn record(&mut self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.histogram
            .saturating_record(us.clamp(1, MAX_LATENCY_US));
    }

    /// Adds another histogram of the same bounds.
    pub fn absorb(&mut self, other: &Latencies) {
        // Same bounds on both sides, so addition cannot fail.
        let _ = self.histogram.add(&other.histogram);
    }

    /// Percentiles in milliseconds.
    pub fn summary(&self) -> LatencySummary {
        let h = &self.histogram;
        let ms = |us: u64| round3(us as f64 / 1000.0);
        if h.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: h.len(),
            mean_ms: round3(h.mean() / 1000.0),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl LatencySummary {
    /// `p50 1.2 p90 ... max 9.9 ms (n=123)`.
    pub fn human(&self) -> String {
        format!(
            "p50 {} p90 {} p99 {} p99.9 {} max {} ms (n={})",
            self.p50_ms, self.p90_ms, self.p99_ms, self.p999_ms, self.max_ms, self.count
        )
    }
}

/// Rounds to three decimals so JSON stays readable.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Bytes as MiB with one decimal.
pub fn mib(bytes: u64) -> f64 {
    (bytes as f64 / (1024.0 * 1024.0) * 10.0).round() / 10.0
}

/// Prints the human-readable lines, then the result as one JSON line (for scripts).
pub fn print_result<T: Serialize>(human: &str, result: &T) {
    println!("{human}");
    match serde_json::to_string(result) {
        Ok(json) => println!("{json}"),
        Err(e) => eprintln!("luukku-load: cannot encode result as JSON: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_in_milliseconds() {
        let mut lat = Latencies::new();
        for ms in 1..=1000u64 {
            lat.record(Duration::from_millis(ms));
        }
        let s = lat.summary();
        assert_eq!(s.count, 1000);
        assert!((s.p50_ms - 500.0).abs() < 1.0, "{s:?}");
        assert!((s.p99_ms - 990.0).abs() < 1.0, "{s:?}");
        assert!((s.max_ms - 1000.0).abs() < 1.0, "{s:?}");
    }

    #[test]
    fn histograms_add_and_saturate() {
        let mut a = Latencies::new();
        a.record(Duration::from_micros(0));
        let mut b = Latencies::new();
        b.record(Duration::from_secs(3600));
        a.absorb(&b);
        let s = a.summary();
        assert_eq!(s.count, 2);
        assert!((s.max_ms - 60_000.0).abs() < 60.0, "{s:?}");
        assert_eq!(Latencies::new().summary(), LatencySummary::default());
    }
}

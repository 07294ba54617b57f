//! Scenario `ramp`: raises the offered load of `clinic` step by step until the end-to-end
//! p99 exceeds a bound (or a message goes missing, or anything errs); the last step under
//! the bound is the maximum sustainable throughput.
//!
//! The offered load of a step is the total messages per second of both sides. It grows by
//! adding conversations at the base rate per side (`--rate`) up to `--conversations`; past
//! that the rate per conversation grows, up to `--max-rate`, which stays under the server's
//! per-connection frame limits. After the first failing step the bracket between the last
//! passing and the first failing load is bisected `--refine` times.

mod sweep;

use crate::clinic::{self, ClinicArgs, ClinicResult};
use crate::report::{print_result, round3};
use anyhow::{bail, Result};
use serde::Serialize;
use std::time::Duration;

/// Flags of `luukku-load ramp`; the clinic flags describe each step.
#[derive(Debug, Clone, clap::Args)]
pub struct RampArgs {
    /// Clinic flags: `--conversations` is the most conversations a step opens, `--rate` the
    /// per-side rate per conversation before the rate itself grows, `--professionals` the
    /// console connections, `--duration-s` the length of each step.
    #[command(flatten)]
    pub clinic: ClinicArgs,
    /// Offered load of the first step, messages per second (both sides together).
    #[arg(long, default_value_t = 400.0)]
    pub start_per_s: f64,
    /// Each step offers this many times the load of the one before.
    #[arg(long, default_value_t = 1.5)]
    pub factor: f64,
    /// Never offer more than this (messages per second).
    #[arg(long, default_value_t = 100_000.0)]
    pub max_per_s: f64,
    /// The end-to-end p99 bound in milliseconds.
    #[arg(long, default_value_t = 50.0)]
    pub bound_ms: f64,
    /// Bisection steps between the last passing and the first failing load.
    #[arg(long, default_value_t = 2)]
    pub refine: u32,
    /// A step over the latency bound is run again up to this many times (a hiccup of another
    /// process on a shared machine should not end the ramp); losses are never retried.
    #[arg(long, default_value_t = 1)]
    pub retries: u32,
    /// Highest per-side rate of one conversation (the server allows 20 frames/s per client).
    #[arg(long, default_value_t = 15.0)]
    pub max_rate: f64,
    /// Highest rate on one console connection (the server allows 200 frames/s).
    #[arg(long, default_value_t = 150.0)]
    pub max_console_rate: f64,
    /// Seconds of rest between steps, for the server to close the previous step's chats.
    #[arg(long, default_value_t = 1.0)]
    pub pause_s: f64,
}

/// Conversations and rate that offer a load.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepPlan {
    /// Messages per second of both sides together.
    pub offered_per_s: f64,
    pub conversations: usize,
    /// Messages per second per conversation per side.
    pub rate_per_s: f64,
}

/// Why a plan cannot be run within the per-connection limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Unplannable(pub String);

/// Conversations at `base_rate` until `max_conversations`; then a higher rate per side.
pub fn plan_step(
    offered_per_s: f64,
    args: &RampArgs,
) -> std::result::Result<StepPlan, Unplannable> {
    let base_rate = args.clinic.rate;
    let max_conversations = args.clinic.conversations.max(1);
    let wanted = (offered_per_s / (2.0 * base_rate)).ceil().max(1.0);
    let conversations = if wanted >= max_conversations as f64 {
        max_conversations
    } else {
        wanted as usize
    };
    let rate_per_s = round3(offered_per_s / (2.0 * conversations as f64));
    if rate_per_s > args.max_rate {
        return Err(Unplannable(format!(
            "{offered_per_s} msg/s needs {rate_per_s} msg/s per side on each of \
             {conversations} conversations, over --max-rate {}; raise --conversations",
            args.max_rate
        )));
    }
    let consoles = args.clinic.professionals.max(1);
    let per_console = conversations.div_ceil(consoles) as f64 * rate_per_s;
    if per_console > args.max_console_rate {
        return Err(Unplannable(format!(
            "{offered_per_s} msg/s puts {per_console} msg/s on a console connection, over \
             --max-console-rate {}; raise --professionals",
            args.max_console_rate
        )));
    }
    Ok(StepPlan {
        offered_per_s: round3(offered_per_s),
        conversations,
        rate_per_s,
    })
}

/// One measured step.
#[derive(Debug, Serialize)]
pub struct Step {
    #[serde(flatten)]
    pub plan: StepPlan,
    /// Attempt of this load (1 unless retried).
    pub attempt: u32,
    pub pass: bool,
    /// Why the step failed (empty when it passed).
    pub reason: String,
    /// Load generator CPU seconds per second of the step: near 1.0 it, not the server, is
    /// the bottleneck.
    pub loader_cpu_util: f64,
    /// Chats of earlier steps found open (and closed) before this one.
    pub leftovers: sweep::Sweep,
    /// The step's clinic result.
    pub result: ClinicResult,
}

/// The result line of `ramp`.
#[derive(Debug, Serialize)]
pub struct RampResult {
    pub scenario: &'static str,
    pub bound_ms: f64,
    pub step_duration_s: f64,
    pub console_connections: usize,
    pub steps: Vec<Step>,
    /// Index in `steps` of the highest passing step.
    pub best: Option<usize>,
    /// The best step's delivered messages per second, e2e p99 and offered load.
    pub max_delivered_per_s: Option<f64>,
    pub max_p99_ms: Option<f64>,
    pub max_offered_per_s: Option<f64>,
    /// What ended the ramp.
    pub stopped_because: String,
}

/// What a failed step says about the ramp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Pass,
    /// Too slow: may be retried and bisected.
    OverBound,
    /// Messages went missing, duplicated, out of order, or errors: the ramp ends here (but
    /// the bracket below it is still bisected).
    Broken,
}

/// Judges one clinic result against the bound.
fn judge(result: &ClinicResult, bound_ms: f64) -> (Verdict, String) {
    let t = &result.tally;
    let mut broken = Vec::new();
    if t.lost + t.duplicated + t.reordered + t.unacked > 0 {
        broken.push(format!(
            "lost {} duplicated {} reordered {} unacked {}",
            t.lost, t.duplicated, t.reordered, t.unacked
        ));
    }
    if !result.errors.is_empty() {
        let errors: Vec<String> = result
            .errors
            .iter()
            .map(|(code, n)| format!("{code}={n}"))
            .collect();
        broken.push(format!("errors {}", errors.join(",")));
    }
    if result.sender_errors > 0 {
        broken.push(format!("{} senders stopped", result.sender_errors));
    }
    if t.sent == 0 || t.delivered == 0 {
        broken.push("nothing delivered".into());
    }
    if !broken.is_empty() {
        return (Verdict::Broken, broken.join("; "));
    }
    if result.e2e.p99_ms > bound_ms {
        return (
            Verdict::OverBound,
            format!("p99 {} ms > {bound_ms} ms", result.e2e.p99_ms),
        );
    }
    (Verdict::Pass, String::new())
}

fn validate(args: &RampArgs) -> Result<()> {
    let positive = |x: f64| x > 0.0 && x.is_finite();
    if !(positive(args.start_per_s) && positive(args.max_per_s) && positive(args.bound_ms)) {
        bail!("--start-per-s, --max-per-s and --bound-ms must be positive");
    }
    if !(args.factor > 1.0 && args.factor.is_finite()) {
        bail!("--factor must be above 1");
    }
    if !(positive(args.max_rate) && positive(args.max_console_rate) && positive(args.clinic.rate)) {
        bail!("--rate, --max-rate and --max-console-rate must be positive");
    }
    if !(args.pause_s >= 0.0 && args.pause_s.is_finite()) {
        bail!("--pause-s must not be negative");
    }
    if args.start_per_s > args.max_per_s {
        bail!("--start-per-s is above --max-per-s");
    }
    Ok(())
}

/// Runs the ramp and prints each step and the result line; fails only when not a single
/// step could be measured.
pub async fn run(args: RampArgs) -> Result<()> {
    let result = measure(&args).await?;
    print_result(&human(&result), &result);
    if result.steps.is_empty() {
        bail!("no step ran: {}", result.stopped_because);
    }
    Ok(())
}

/// The state of the search.
struct Search<'a> {
    args: &'a RampArgs,
    steps: Vec<Step>,
    best: Option<usize>,
}

impl Search<'_> {
    /// Runs one load (with retries when over the bound); `Ok(verdict)` or the error that
    /// stopped it from being measured.
    async fn try_load(&mut self, plan: StepPlan) -> std::result::Result<Verdict, String> {
        let mut attempt = 1;
        loop {
            if !self.steps.is_empty() {
                tokio::time::sleep(Duration::from_secs_f64(self.args.pause_s)).await;
            }
            let mut clinic = self.args.clinic.clone();
            clinic.conversations = plan.conversations;
            clinic.rate = plan.rate_per_s;
            let leftovers = sweep::close_leftovers(&clinic)
                .await
                .map_err(|e| format!("closing chats left open: {e:#}"))?;
            if leftovers.found > 0 {
                eprintln!(
                    "ramp: closed {} of {} chats earlier steps left open",
                    leftovers.closed, leftovers.found
                );
            }
            eprintln!(
                "ramp: {} msg/s offered: {} conversations at {} msg/s per side (attempt \
                 {attempt})",
                plan.offered_per_s, plan.conversations, plan.rate_per_s
            );
            let result = clinic::measure(&clinic)
                .await
                .map_err(|e| format!("{e:#}"))?;
            let (verdict, reason) = judge(&result, self.args.bound_ms);
            let wall = clinic.duration_s + clinic.drain_s;
            let step = Step {
                plan,
                attempt,
                pass: verdict == Verdict::Pass,
                reason,
                loader_cpu_util: round3(result.loader_cpu_s / wall),
                leftovers,
                result,
            };
            eprintln!("{}", step_line(&step));
            self.steps.push(step);
            let index = self.steps.len() - 1;
            match verdict {
                Verdict::Pass => {
                    let better = self.best.is_none_or(|b| {
                        self.steps[b].result.delivered_per_s
                            < self.steps[index].result.delivered_per_s
                    });
                    if better {
                        self.best = Some(index);
                    }
                    return Ok(verdict);
                }
                Verdict::OverBound if attempt <= self.args.retries => attempt += 1,
                _ => return Ok(verdict),
            }
        }
    }
}

/// Runs the ramp and returns every step.
pub async fn measure(args: &RampArgs) -> Result<RampResult> {
    validate(args)?;
    let mut search = Search {
        args,
        steps: Vec::new(),
        best: None,
    };
    let mut good: Option<f64> = None;
    let mut bad: Option<f64> = None;
    let mut stopped_because = String::new();
    let mut offered = args.start_per_s;
    // Geometric climb.
    loop {
        let plan = match plan_step(offered, args) {
            Ok(plan) => plan,
            Err(Unplannable(why)) => {
                stopped_because = format!("limit of the load plan: {why}");
                break;
            }
        };
        match search.try_load(plan).await {
            Ok(Verdict::Pass) => good = Some(offered),
            Ok(_) => {
                bad = Some(offered);
                break;
            }
            Err(e) => {
                stopped_because = format!("step failed to run: {e}");
                bad = Some(offered);
                break;
            }
        }
        if offered >= args.max_per_s {
            stopped_because = format!("reached --max-per-s {}", args.max_per_s);
            break;
        }
        offered = (offered * args.factor).min(args.max_per_s);
    }
    // Bisection of the bracket.
    if let (Some(mut lo), Some(mut hi)) = (good, bad) {
        for _ in 0..args.refine {
            let mid = round3((lo * hi).sqrt());
            if mid <= lo * 1.02 || mid >= hi * 0.98 {
                break;
            }
            let Ok(plan) = plan_step(mid, args) else {
                break;
            };
            match search.try_load(plan).await {
                Ok(Verdict::Pass) => lo = mid,
                Ok(_) => hi = mid,
                Err(e) => {
                    eprintln!("ramp: refining at {mid} msg/s failed to run: {e}");
                    hi = mid;
                }
            }
        }
    }
    if stopped_because.is_empty() {
        stopped_because = match bad.and_then(|b| {
            search
                .steps
                .iter()
                .rev()
                .find(|s| !s.pass && s.plan.offered_per_s == round3(b))
        }) {
            Some(step) => format!("{} msg/s: {}", step.plan.offered_per_s, step.reason),
            None => "no failing step".into(),
        };
    }
    // Leave the server as found: the next scenario should not meet chats of this one.
    match sweep::close_leftovers(&args.clinic).await {
        Ok(s) if s.found > 0 => eprintln!(
            "ramp: closed {} of {} chats the steps left open",
            s.closed, s.found
        ),
        Ok(_) => {}
        Err(e) => eprintln!("ramp: closing chats left open failed: {e:#}"),
    }
    let best = search.best.map(|b| &search.steps[b]);
    Ok(RampResult {
        scenario: "ramp",
        bound_ms: args.bound_ms,
        step_duration_s: args.clinic.duration_s,
        console_connections: args.clinic.professionals,
        max_delivered_per_s: best.map(|s| s.result.delivered_per_s),
        max_p99_ms: best.map(|s| s.result.e2e.p99_ms),
        max_offered_per_s: best.map(|s| s.plan.offered_per_s),
        best: search.best,
        steps: search.steps,
        stopped_because,
    })
}

fn step_line(step: &Step) -> String {
    let r = &step.result;
    format!(
        "ramp: {:>9} msg/s offered, {:>9} delivered/s, e2e p50 {} p99 {} p99.9 {} ms, ack p99 \
         {} ms, server cpu {}, loader cpu {}%: {}",
        step.plan.offered_per_s,
        r.delivered_per_s,
        r.e2e.p50_ms,
        r.e2e.p99_ms,
        r.e2e.p999_ms,
        r.ack.p99_ms,
        r.server_cpu_util
            .map_or_else(|| "?".into(), |u| format!("{:.0}%", u * 100.0)),
        (step.loader_cpu_util * 100.0).round(),
        if step.pass { "pass" } else { &step.reason }
    )
}

fn human(result: &RampResult) -> String {
    let mut lines = vec![format!(
        "ramp: {} steps of {} s on {} console connections, bound p99 ≤ {} ms",
        result.steps.len(),
        result.step_duration_s,
        result.console_connections,
        result.bound_ms
    )];
    lines.extend(result.steps.iter().map(step_line));
    match (result.max_delivered_per_s, result.max_p99_ms) {
        (Some(delivered), Some(p99)) => lines.push(format!(
            "  max sustainable: {delivered} msg/s delivered (p99 {p99} ms); stopped: {}",
            result.stopped_because
        )),
        _ => lines.push(format!(
            "  no step passed; stopped: {}",
            result.stopped_because
        )),
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        ramp: RampArgs,
    }

    fn args(extra: &[&str]) -> RampArgs {
        let argv = ["ramp"].iter().chain(extra).copied();
        Cli::try_parse_from(argv).expect("valid flags").ramp
    }

    #[test]
    fn conversations_grow_first_then_the_rate() {
        let a = args(&[
            "--conversations",
            "300",
            "--rate",
            "2",
            "--professionals",
            "30",
        ]);
        let small = plan_step(400.0, &a).expect("plannable");
        assert_eq!((small.conversations, small.rate_per_s), (100, 2.0));
        let odd = plan_step(1001.0, &a).expect("plannable");
        assert_eq!(odd.conversations, 251);
        assert!(odd.rate_per_s * 2.0 * 251.0 >= 1000.9);
        let big = plan_step(6000.0, &a).expect("plannable");
        assert_eq!((big.conversations, big.rate_per_s), (300, 10.0));
    }

    #[test]
    fn limits_stop_the_plan() {
        let a = args(&["--conversations", "100", "--professionals", "2"]);
        // 100 conversations at 15 msg/s per side: 3000 msg/s, 750 msg/s per console.
        let err = plan_step(3000.0, &a).expect_err("console limit");
        assert!(err.0.contains("--max-console-rate"), "{err:?}");
        let err = plan_step(4000.0, &a).expect_err("client limit");
        assert!(err.0.contains("--max-rate"), "{err:?}");
        assert!(validate(&args(&["--factor", "1"])).is_err());
        assert!(validate(&args(&["--start-per-s", "nan"])).is_err());
        assert!(validate(&args(&[])).is_ok());
    }
}

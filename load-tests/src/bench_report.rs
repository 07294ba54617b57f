//! `luukku-load bench-report`: joins the result lines `scripts/bench.sh` collected (one
//! `{"system","label","result"}`, `{"system","label","error"}` or
//! `{"system","label","skipped"}` object per line) into `latest.json` and `latest.md`, with
//! dated copies, the ratios Luukku/relay and Luukku/Socket.IO, and where the performance
//! goals stand (the cluster systems' part: `cluster`). Optionally fills the block between
//! `<!-- bench:begin -->` and `<!-- bench:end -->` of markdown files with the same tables.
//!
//! Input is data, not trusted: missing fields become `null` in the JSON and `–` in tables.

mod cluster;
mod goals;
mod render;

use goals::{goal, goals, Uncapped};
use render::{cell, show, system_name, table, thousands};

pub use render::render;

use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Markers of the generated block in markdown files.
pub const BEGIN_MARKER: &str = "<!-- bench:begin -->";
pub const END_MARKER: &str = "<!-- bench:end -->";

/// The goals of the benchmark issue.
const GOAL_RELAY_RATIO: f64 = 0.6;
const GOAL_SOCKETIO_RATIO: f64 = 5.0;
const GOAL_QUARTER_P99_MS: f64 = 5.0;
const GOAL_IDLE_BYTES: f64 = 8.0 * 1024.0;
const GOAL_IDLE_CONNECTIONS: f64 = 100_000.0;
/// The latency bound of the ramp, also applied to fixed-rate runs.
const BOUND_MS: f64 = 50.0;

/// Flags of `luukku-load bench-report`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchReportArgs {
    /// The JSON lines scripts/bench.sh collected.
    #[arg(long)]
    pub input: PathBuf,
    /// Where latest.json, latest.md and the dated copies go.
    #[arg(long, default_value = "bench/results")]
    pub out_dir: PathBuf,
    /// When the run started (ISO 8601); also names the dated copies.
    #[arg(long)]
    pub date: String,
    /// What the run ran on.
    #[arg(long, default_value = "")]
    pub machine: String,
    /// The commit measured.
    #[arg(long, default_value = "")]
    pub commit: String,
    /// A short run (BENCH_QUICK=1): a smoke test, not figures to compare.
    #[arg(long)]
    pub quick: bool,
    /// Free text on how the run was made (shown under the tables).
    #[arg(long, default_value = "")]
    pub notes: String,
    /// Markdown files whose marked block gets the tables (repeatable).
    #[arg(long)]
    pub fill: Vec<PathBuf>,
    /// The open-files limit of the run, when it capped the idle connections.
    #[arg(long)]
    pub fd_limit: Option<u64>,
}

/// Reads the lines, writes the report files, prints the markdown.
pub fn run(args: &BenchReportArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.input)
        .with_context(|| format!("reading {}", args.input.display()))?;
    let report = build(&text, args);
    let markdown = render(&report);
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    let stamp = file_stamp(&args.date);
    let json = serde_json::to_string_pretty(&report)? + "\n";
    let page = format!("# Luukku benchmark\n\n{markdown}");
    for (name, body) in [
        ("latest.json".to_owned(), &json),
        ("latest.md".to_owned(), &page),
        (format!("{stamp}.json"), &json),
        (format!("{stamp}.md"), &page),
    ] {
        let path = args.out_dir.join(name);
        std::fs::write(&path, body).with_context(|| format!("writing {}", path.display()))?;
    }
    for file in &args.fill {
        fill(file, &markdown)?;
    }
    println!("{markdown}");
    eprintln!(
        "bench-report: wrote {}/latest.json, latest.md and {stamp}.json, {stamp}.md",
        args.out_dir.display()
    );
    Ok(())
}

/// A file-name-safe form of the date: `2026-11-22T10:11:12Z` → `2026-11-22T101112Z`.
pub fn file_stamp(date: &str) -> String {
    let stamp: String = date
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(40)
        .collect();
    if stamp.is_empty() {
        "undated".into()
    } else {
        stamp
    }
}

/// Replaces the marked block of `file` with `markdown`.
fn fill(file: &Path, markdown: &str) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let (Some(begin), Some(end)) = (text.find(BEGIN_MARKER), text.find(END_MARKER)) else {
        bail!(
            "{} has no {BEGIN_MARKER} … {END_MARKER} block",
            file.display()
        );
    };
    if end < begin {
        bail!(
            "{}: {END_MARKER} comes before {BEGIN_MARKER}",
            file.display()
        );
    }
    let filled = format!(
        "{}{BEGIN_MARKER}\n\n{}\n{}",
        &text[..begin],
        markdown.trim_end(),
        &text[end..]
    );
    std::fs::write(file, filled).with_context(|| format!("writing {}", file.display()))
}

// ------------------------------------------------------------------------------ reading

/// A number at a dotted path of a JSON value.
fn num(v: &Value, path: &str) -> Option<f64> {
    at(v, path)?.as_f64()
}

fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, key| v.get(key))
}

fn text_at(v: &Value, path: &str) -> Option<String> {
    at(v, path)?.as_str().map(str::to_owned)
}

/// A number as JSON (`null` when absent).
fn jnum(x: Option<f64>) -> Value {
    x.and_then(|x| serde_json::Number::from_f64(x).map(Value::Number))
        .unwrap_or(Value::Null)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// One collected line.
struct Line {
    system: String,
    label: String,
    result: Option<Value>,
    error: Option<String>,
    /// Why the system was not measured (a run that could not start it, by design).
    skipped: Option<String>,
}

fn parse_lines(text: &str) -> (Vec<Line>, Vec<String>) {
    let mut lines = Vec::new();
    let mut skipped = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(raw) else {
            skipped.push(format!("line {}: not JSON", i + 1));
            continue;
        };
        let (Some(system), Some(label)) = (text_of(&v, "system"), text_of(&v, "label")) else {
            skipped.push(format!("line {}: no system or label", i + 1));
            continue;
        };
        let result = v.get("result").filter(|r| r.is_object()).cloned();
        let error = text_of(&v, "error");
        let skip = text_of(&v, "skipped");
        if result.is_none() && error.is_none() && skip.is_none() {
            skipped.push(format!("line {}: neither result nor error", i + 1));
            continue;
        }
        lines.push(Line {
            system,
            label,
            result,
            error,
            skipped: skip,
        });
    }
    (lines, skipped)
}

fn text_of(v: &Value, key: &str) -> Option<String> {
    v.get(key)?.as_str().map(str::to_owned)
}

// ------------------------------------------------------------------------------ building

/// A `runs` entry from a clinic result.
fn run_entry(system: &str, scenario: &str, r: &Value) -> Value {
    let offered = match (num(r, "conversations"), num(r, "rate_per_s")) {
        (Some(n), Some(rate)) => Some(round3(n * rate * 2.0)),
        _ => None,
    };
    json!({
        "system": system,
        "scenario": scenario,
        "rate": jnum(offered),
        "delivered_per_s": jnum(num(r, "delivered_per_s")),
        "p50_ms": jnum(num(r, "e2e.p50_ms")),
        "p99_ms": jnum(num(r, "e2e.p99_ms")),
        "p999_ms": jnum(num(r, "e2e.p999_ms")),
        "ack_p99_ms": jnum(num(r, "ack.p99_ms")),
        "lost": jnum(num(r, "lost")),
        "duplicated": jnum(num(r, "duplicated")),
        "reordered": jnum(num(r, "reordered")),
        "server_cpu_s": jnum(num(r, "server_cpu_s")),
        "server_rss_bytes": jnum(num(r, "server_rss_bytes")),
        "unacked": jnum(num(r, "unacked")),
        "conversations": jnum(num(r, "conversations")),
        "rate_per_conversation": jnum(num(r, "rate_per_s")),
        "server_cpu_util": jnum(num(r, "server_cpu_util")),
        "server_processes": jnum(num(r, "server_processes")),
        "backing_cpu_s": r.get("backing_cpu_s").cloned().unwrap_or(Value::Null),
        "cpu_us_per_msg": cluster::cpu_per_message(r),
        "errors": r.get("errors").cloned().unwrap_or(Value::Null),
    })
}

/// The report object (latest.json).
pub fn build(text: &str, args: &BenchReportArgs) -> Value {
    let (lines, skipped) = parse_lines(text);
    let mut runs = Vec::new();
    let mut idle = Vec::new();
    let mut max_sustainable = Vec::new();
    let mut queue = Vec::new();
    let mut redis_pubsub = Vec::new();
    let mut failures = Vec::new();
    let mut skipped_systems = Vec::new();
    for line in &lines {
        if let Some(e) = &line.error {
            failures.push(json!({"system": line.system, "scenario": line.label, "error": e}));
        }
        if let Some(why) = &line.skipped {
            skipped_systems
                .push(json!({"system": line.system, "scenario": line.label, "why": why}));
        }
        let Some(r) = &line.result else { continue };
        match r.get("scenario").and_then(Value::as_str) {
            Some("clinic") => {
                let mut entry = run_entry(&line.system, &line.label, r);
                // A fixed-rate run over the latency bound was overloaded, as a failed ramp
                // step is: its late deliveries cannot be told from lost ones.
                let within = num(r, "e2e.p99_ms").is_some_and(|p99| p99 <= BOUND_MS);
                if let Some(obj) = entry.as_object_mut() {
                    obj.insert("within_bound".into(), Value::Bool(within));
                }
                runs.push(entry);
            }
            Some("ramp") => {
                let steps = r.get("steps").and_then(Value::as_array);
                for step in steps.into_iter().flatten() {
                    let Some(result) = step.get("result") else {
                        continue;
                    };
                    let mut entry = run_entry(&line.system, &line.label, result);
                    if let Some(obj) = entry.as_object_mut() {
                        obj.insert("rate".into(), jnum(num(step, "offered_per_s")));
                        obj.insert(
                            "within_bound".into(),
                            Value::Bool(step.get("pass") == Some(&Value::Bool(true))),
                        );
                        obj.insert("loader_cpu_util".into(), jnum(num(step, "loader_cpu_util")));
                    }
                    runs.push(entry);
                }
                let best_step = num(r, "best").and_then(|b| steps.and_then(|s| s.get(b as usize)));
                let best = best_step
                    .and_then(|s| s.get("loader_cpu_util"))
                    .cloned()
                    .unwrap_or(Value::Null);
                let best_cpu = best_step
                    .and_then(|s| s.get("result"))
                    .map_or_else(|| json!({}), cluster::cpu_per_message);
                max_sustainable.push(json!({
                    "system": line.system,
                    "delivered_per_s": jnum(num(r, "max_delivered_per_s")),
                    "p99_ms": jnum(num(r, "max_p99_ms")),
                    "offered_per_s": jnum(num(r, "max_offered_per_s")),
                    "bound_ms": jnum(num(r, "bound_ms")),
                    "stopped_because": text_at(r, "stopped_because"),
                    "loader_cpu_util": best,
                    "cpu_us_per_msg": best_cpu,
                }));
            }
            Some("idle") => idle.push(json!({
                "system": line.system,
                "connections": jnum(num(r, "connections")),
                "rss_bytes_per_conn": jnum(num(r, "bytes_per_connection")),
                "failed": jnum(num(r, "failed")),
                "dropped": jnum(num(r, "dropped")),
                "open_rate_per_s": jnum(num(r, "open_rate_per_s")),
            })),
            Some("queue") => {
                let mut entry = Map::new();
                entry.insert("system".into(), Value::String(line.system.clone()));
                if let Some(obj) = r.as_object() {
                    for (k, v) in obj {
                        if k != "scenario" {
                            entry.insert(k.clone(), v.clone());
                        }
                    }
                }
                queue.push(Value::Object(entry));
            }
            Some("redis-pubsub") => redis_pubsub.push(cluster::pubsub_entry(r)),
            other => failures.push(json!({
                "system": line.system,
                "scenario": line.label,
                "error": format!("unknown result scenario {other:?}"),
            })),
        }
    }
    let max_of = |system: &str| {
        max_sustainable
            .iter()
            .find(|m| m["system"] == system)
            .and_then(|m| m["delivered_per_s"].as_f64())
    };
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some((a / b * 1000.0).round() / 1000.0),
        _ => None,
    };
    let luukku_max = max_of("luukku");
    let relay_max = max_of("relay");
    let socketio_max = max_of("socketio");
    let cluster_run = cluster::ClusterRun {
        runs: &runs,
        max_sustainable: &max_sustainable,
        skipped: &skipped_systems,
    };
    let ratios = json!({
        "luukku_per_relay": jnum(ratio(luukku_max, relay_max)),
        "luukku_per_socketio": jnum(ratio(luukku_max, socketio_max)),
        "luukku_cluster_per_socketio_redis": jnum(cluster_run.ratio()),
    });
    // A ramp that ended at the load plan's cap, not at the latency bound, found no maximum.
    let capped = |system: &str| {
        max_sustainable
            .iter()
            .find(|m| m["system"] == system)
            .and_then(|m| m["stopped_because"].as_str())
            .is_some_and(|why| {
                why.starts_with("reached --max-per-s") || why.starts_with("limit of the load plan")
            })
    };
    let uncapped = Uncapped {
        relay: !capped("luukku") && !capped("relay"),
        socketio: !capped("luukku") && !capped("socketio"),
    };
    let mut goals = goals(&runs, &idle, &ratios, uncapped, &failures, args.fd_limit);
    goals.extend(cluster_run.goals());
    json!({
        "date": args.date,
        "machine": args.machine,
        "commit": args.commit,
        "quick": args.quick,
        "notes": args.notes,
        "runs": runs,
        "idle": idle,
        "max_sustainable": max_sustainable,
        "ratios": ratios,
        "queue": queue,
        "redis_pubsub": redis_pubsub,
        "goals": goals,
        "failures": failures,
        "skipped": skipped_systems,
        "skipped_lines": skipped,
    })
}

fn mib(v: &Value) -> Value {
    jnum(v.as_f64().map(|b| (b / 1048576.0 * 10.0).round() / 10.0))
}

#[cfg(test)]
mod tests;

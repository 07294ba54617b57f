//! The cluster part of the benchmark report (issue 10): the names of the multi-process
//! systems, their goals, the CPU every system spends per message (server and the services it
//! relies on), the Redis pub/sub measurement, and the systems a run had to skip. Together
//! they say how far a cluster scales on the machine measured.

use super::{cell, goal, jnum, num, round3, show, system_name, table};
use serde_json::{json, Value};
use std::fmt::Write as _;

/// Two Luukku nodes on one PostgreSQL and one Redis, clients on one, consoles on the other.
pub const CLUSTER: &str = "luukku-cluster";
/// Two Socket.IO processes sharing a Redis through `@socket.io/redis-adapter`, split alike.
pub const SOCKETIO_REDIS: &str = "socketio-redis";
/// The fixed-rate run of the cross-node latency goal.
pub const CROSS_NODE_SCENARIO: &str = "clinic-2000";
const GOAL_CROSS_NODE_P99_MS: f64 = 10.0;
const GOAL_CLUSTER_PER_SOCKETIO_REDIS: f64 = 1.0;

/// Names of the systems this module adds, for tables.
pub fn name(system: &str) -> Option<&'static str> {
    match system {
        "luukku-pg" => Some("Luukku on PostgreSQL"),
        CLUSTER => Some("Luukku 2 nodes + Redis"),
        SOCKETIO_REDIS => Some("Socket.IO 2 processes + Redis"),
        _ => None,
    }
}

/// Server CPU microseconds per delivered message of a clinic result, and the same for each
/// service (`backing_cpu_s`): `{"server": x, "postgresql": y, …}` (absent figures left out).
pub fn cpu_per_message(r: &Value) -> Value {
    let Some(delivered) = num(r, "delivered").filter(|d| *d > 0.0) else {
        return json!({});
    };
    let per = |cpu: f64| jnum(Some(round3(cpu / delivered * 1e6)));
    let mut out = serde_json::Map::new();
    if let Some(cpu) = num(r, "server_cpu_s") {
        out.insert("server".into(), per(cpu));
    }
    for (name, cpu) in r["backing_cpu_s"].as_object().into_iter().flatten() {
        if let Some(cpu) = cpu.as_f64() {
            out.insert(name.clone(), per(cpu));
        }
    }
    Value::Object(out)
}

/// A `redis_pubsub` entry from a `redis-pubsub` result line (bench.sh's redis-benchmark run).
pub fn pubsub_entry(r: &Value) -> Value {
    let mut entry = r.clone();
    if let Some(obj) = entry.as_object_mut() {
        obj.remove("scenario");
    }
    entry
}

/// What the goals need to know about the run.
pub struct ClusterRun<'a> {
    pub runs: &'a [Value],
    pub max_sustainable: &'a [Value],
    pub skipped: &'a [Value],
}

impl ClusterRun<'_> {
    fn max_of(&self, system: &str) -> Option<&Value> {
        self.max_sustainable.iter().find(|m| m["system"] == system)
    }

    /// Why `system` was not measured, when the run skipped it.
    fn skip_reason(&self, system: &str) -> Option<String> {
        self.skipped
            .iter()
            .find(|s| s["system"] == system)
            .map(|s| format!("skipped: {}", cell(&s["why"])))
    }

    /// Two-node Luukku ÷ two-process Socket.IO, when both ramps found a maximum.
    pub fn ratio(&self) -> Option<f64> {
        let max = |s: &str| self.max_of(s).and_then(|m| m["delivered_per_s"].as_f64());
        match (max(CLUSTER), max(SOCKETIO_REDIS)) {
            (Some(a), Some(b)) if b > 0.0 => Some(round3(a / b)),
            _ => None,
        }
    }

    fn capped(&self, system: &str) -> bool {
        self.max_of(system)
            .and_then(|m| m["stopped_because"].as_str())
            .is_some_and(|why| {
                why.starts_with("reached --max-per-s") || why.starts_with("limit of the load plan")
            })
    }

    /// The two goals of issue 10 beside the integrity goal every system shares.
    pub fn goals(&self) -> Vec<Value> {
        let not_measured = || self.skip_reason(CLUSTER).unwrap_or_else(|| show(None));
        let cross = self
            .runs
            .iter()
            .find(|r| r["system"] == CLUSTER && r["scenario"] == CROSS_NODE_SCENARIO)
            .and_then(|r| r["p99_ms"].as_f64());
        let ratio = self.ratio();
        let ratio_goal = match ratio {
            Some(r) if self.capped(CLUSTER) || self.capped(SOCKETIO_REDIS) => goal(
                RATIO_GOAL,
                "≥ 1",
                format!(
                    "{} (a ramp stopped at the load plan's cap, not at the bound: no maximum)",
                    show(Some(r))
                ),
                None,
            ),
            Some(r) => goal(
                RATIO_GOAL,
                "≥ 1",
                show(Some(r)),
                Some(r >= GOAL_CLUSTER_PER_SOCKETIO_REDIS),
            ),
            None => goal(RATIO_GOAL, "≥ 1", not_measured(), None),
        };
        vec![
            goal(
                "cross-node end-to-end p99 at 2,000 msg/s, Luukku 2 nodes (ms)",
                "≤ 10",
                cross.map_or_else(not_measured, |p| show(Some(p))),
                cross.map(|p| p <= GOAL_CROSS_NODE_P99_MS),
            ),
            ratio_goal,
        ]
    }
}

const RATIO_GOAL: &str =
    "max sustainable clinic throughput (p99 ≤ 50 ms), Luukku 2 nodes ÷ Socket.IO 2 processes + Redis adapter";

/// The "CPU per message" table: each system's server and services at 2,000 msg/s and at its
/// maximum.
pub fn render_cpu(out: &mut String, report: &Value) {
    let runs = report["runs"].as_array().cloned().unwrap_or_default();
    let maxima = report["max_sustainable"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut systems: Vec<Value> = Vec::new();
    for s in runs.iter().map(|r| &r["system"]) {
        if !systems.contains(s) {
            systems.push(s.clone());
        }
    }
    if systems.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "### CPU per message\n\nCPU microseconds per delivered message: the server's processes \
         (summed over the nodes) and the services they rely on (PostgreSQL, Redis, each with its \
         child processes), at 2,000 msg/s and at the system's maximum.\n"
    );
    let split = |cpu: &Value| {
        let server = cell(&cpu["server"]);
        let services: Vec<String> = cpu
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| *k != "server")
            .map(|(k, v)| format!("{k} {}", cell(v)))
            .collect();
        let services = if services.is_empty() {
            "–".to_owned()
        } else {
            services.join(", ")
        };
        (server, services)
    };
    table(
        out,
        &[
            "system",
            "server µs/msg at 2,000 msg/s",
            "services µs/msg at 2,000 msg/s",
            "max msg/s",
            "server µs/msg at the max",
            "services µs/msg at the max",
        ],
        systems.iter().map(|system| {
            let fixed = runs
                .iter()
                .find(|r| &r["system"] == system && r["scenario"] == CROSS_NODE_SCENARIO)
                .map(|r| r["cpu_us_per_msg"].clone())
                .unwrap_or(Value::Null);
            let best = maxima.iter().find(|m| &m["system"] == system);
            let at_max = best
                .map(|m| m["cpu_us_per_msg"].clone())
                .unwrap_or(Value::Null);
            let (s1, b1) = split(&fixed);
            let (s2, b2) = split(&at_max);
            vec![
                system_name(system),
                s1,
                b1,
                best.map_or_else(|| "–".into(), |m| cell(&m["delivered_per_s"])),
                s2,
                b2,
            ]
        }),
    );
}

/// The Redis pub/sub table (redis-benchmark `PUBLISH` on this machine).
pub fn render_pubsub(out: &mut String, report: &Value) {
    let Some(entries) = report["redis_pubsub"].as_array().filter(|e| !e.is_empty()) else {
        return;
    };
    let _ = writeln!(
        out,
        "### Redis pub/sub on this machine\n\n`redis-benchmark` sending `PUBLISH` to random \
         channels, each channel subscribed by every subscriber connection (as every node \
         subscribes to the conversations of its sessions); Redis pinned like the servers.\n"
    );
    table(
        out,
        &[
            "publish / s",
            "clients × pipeline",
            "channels",
            "subscribers",
            "payload bytes",
            "delivered to each subscriber",
            "Redis CPU µs per publish",
            "p50 / p99 ms",
        ],
        entries.iter().map(|e| {
            vec![
                format!("**{}**", cell(&e["publish_per_s"])),
                format!("{} × {}", cell(&e["clients"]), cell(&e["pipeline"])),
                cell(&e["channels"]),
                cell(&e["subscribers"]),
                cell(&e["payload_bytes"]),
                format!(
                    "{} of {}",
                    cell(&e["received_per_subscriber"]),
                    cell(&e["published"])
                ),
                cell(&e["redis_cpu_us_per_publish"]),
                format!("{} / {}", cell(&e["p50_ms"]), cell(&e["p99_ms"])),
            ]
        }),
    );
}

/// Systems the run could not measure, and why.
pub fn render_skipped(out: &mut String, report: &Value) {
    let Some(skipped) = report["skipped"].as_array().filter(|s| !s.is_empty()) else {
        return;
    };
    let _ = writeln!(out, "### Skipped\n");
    for s in skipped {
        let _ = writeln!(out, "- {}: {}", system_name(&s["system"]), cell(&s["why"]));
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_per_message_covers_server_and_services() {
        let r = json!({"delivered": 20000, "server_cpu_s": 1.5,
            "backing_cpu_s": {"postgresql": 0.5, "redis": 0.1}});
        assert_eq!(
            cpu_per_message(&r),
            json!({"server": 75.0, "postgresql": 25.0, "redis": 5.0})
        );
        assert_eq!(cpu_per_message(&json!({"delivered": 0})), json!({}));
        assert_eq!(cpu_per_message(&json!({"delivered": 10})), json!({}));
    }

    #[test]
    fn a_skipped_cluster_says_why_in_its_goals() {
        let skipped = [json!({"system": CLUSTER, "why": "second node refused"})];
        let run = ClusterRun {
            runs: &[],
            max_sustainable: &[],
            skipped: &skipped,
        };
        let goals = run.goals();
        assert_eq!(goals.len(), 2);
        for g in &goals {
            assert_eq!(g["met"], Value::Null, "{g}");
            let measured = g["measured"].as_str().unwrap_or_default();
            assert!(measured.contains("second node refused"), "{g}");
        }
    }

    #[test]
    fn cluster_goals_are_judged_when_measured() {
        let runs = [json!({"system": CLUSTER, "scenario": CROSS_NODE_SCENARIO, "p99_ms": 7.5})];
        let maxima = [
            json!({"system": CLUSTER, "delivered_per_s": 6000.0, "stopped_because": "p99"}),
            json!({"system": SOCKETIO_REDIS, "delivered_per_s": 4000.0,
                "stopped_because": "p99"}),
        ];
        let run = ClusterRun {
            runs: &runs,
            max_sustainable: &maxima,
            skipped: &[],
        };
        assert_eq!(run.ratio(), Some(1.5));
        let met: Vec<Value> = run.goals().iter().map(|g| g["met"].clone()).collect();
        assert_eq!(met, [Value::Bool(true), Value::Bool(true)]);
    }
}

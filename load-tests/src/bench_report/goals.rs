//! Where the performance goals stand: each goal's target, the measured value and whether it
//! is met (the cluster systems' goals are added in `cluster`).

use super::*;

/// One goal: what, the target, the measured value, and whether it is met (`null`: not
/// measured).
pub(super) fn goal(name: &str, target: &str, measured: String, met: Option<bool>) -> Value {
    json!({"goal": name, "target": target, "measured": measured, "met": met})
}

/// Whether both ramps of a ratio ended at the latency bound (so the ratio compares maxima).
#[derive(Clone, Copy)]
pub(super) struct Uncapped {
    pub(super) relay: bool,
    pub(super) socketio: bool,
}

pub(super) fn goals(
    runs: &[Value],
    idle: &[Value],
    ratios: &Value,
    uncapped: Uncapped,
    failures: &[Value],
    fd_limit: Option<u64>,
) -> Vec<Value> {
    let relay = ratios["luukku_per_relay"].as_f64();
    let socketio = ratios["luukku_per_socketio"].as_f64();
    let ratio_goal = |name: &str, target: &str, value: Option<f64>, goal_ratio: f64, ok: bool| {
        if ok || value.is_none() {
            goal(name, target, show(value), value.map(|r| r >= goal_ratio))
        } else {
            let text = format!(
                "{} (a ramp stopped at the load plan's cap, not at the bound: no maximum)",
                show(value)
            );
            goal(name, target, text, None)
        }
    };
    let quarter = runs
        .iter()
        .find(|r| r["system"] == "luukku" && r["scenario"] == "clinic-quarter");
    let quarter_p99 = quarter.and_then(|r| r["p99_ms"].as_f64());
    let luukku_idle = idle.iter().find(|i| i["system"] == "luukku");
    let per_conn = luukku_idle.and_then(|i| i["rss_bytes_per_conn"].as_f64());
    let conns = luukku_idle.and_then(|i| i["connections"].as_f64());
    let idle_failed = luukku_idle
        .and_then(|i| i["failed"].as_f64())
        .unwrap_or(0.0);
    // Runs past the bound are overloaded (ramp steps by design); a message not delivered
    // within their drain window counts as lost there although it may only be late.
    let judged: Vec<&Value> = runs
        .iter()
        .filter(|r| r.get("within_bound") != Some(&Value::Bool(false)))
        .collect();
    let bad = |r: &Value| {
        ["lost", "duplicated", "reordered"]
            .iter()
            .any(|k| r[*k].as_f64().unwrap_or(0.0) > 0.0)
    };
    let broken: Vec<String> = judged
        .iter()
        .filter(|r| bad(r))
        .map(|r| {
            format!(
                "{} {} @{}: lost {} dup {} reord {}",
                r["system"].as_str().unwrap_or("?"),
                r["scenario"].as_str().unwrap_or("?"),
                r["rate"],
                r["lost"],
                r["duplicated"],
                r["reordered"]
            )
        })
        .collect();
    let overloaded_broken = runs
        .iter()
        .filter(|r| r.get("within_bound") == Some(&Value::Bool(false)))
        .filter(|r| bad(r))
        .count();
    let integrity = if judged.is_empty() {
        (show(None), None)
    } else if broken.is_empty() {
        let mut text = format!("0 in all {} runs within the bound", judged.len());
        if overloaded_broken > 0 {
            let _ = write!(
                text,
                " ({overloaded_broken} overloaded runs past the 50 ms bound had messages not \
                 delivered within their drain window)"
            );
        }
        (text, Some(true))
    } else {
        (broken.join("; "), Some(false))
    };
    vec![
        ratio_goal(
            "max sustainable clinic throughput (p99 ≤ 50 ms), Luukku ÷ relay",
            "≥ 0.6",
            relay,
            GOAL_RELAY_RATIO,
            uncapped.relay,
        ),
        ratio_goal(
            "max sustainable clinic throughput (p99 ≤ 50 ms), Luukku ÷ Socket.IO",
            "≥ 5",
            socketio,
            GOAL_SOCKETIO_RATIO,
            uncapped.socketio,
        ),
        goal(
            "Luukku end-to-end p99 at a quarter of the relay's max rate (ms)",
            "≤ 5",
            show(quarter_p99),
            quarter_p99.map(|p| p <= GOAL_QUARTER_P99_MS),
        ),
        goal(
            "Luukku RSS per idle connection",
            "≤ 8 KiB",
            per_conn.map_or_else(|| show(None), |b| format!("{:.1} KiB", b / 1024.0)),
            per_conn.map(|b| b <= GOAL_IDLE_BYTES),
        ),
        goal(
            "idle connections on one Luukku node",
            "100,000",
            match (conns, fd_limit) {
                (Some(c), Some(limit)) if c < GOAL_IDLE_CONNECTIONS => format!(
                    "{} held, {} failed (this machine's open-files limit is {}: 100,000 \
                     cannot be tried here)",
                    thousands(c),
                    thousands(idle_failed),
                    thousands(limit as f64)
                ),
                (Some(c), _) => format!("{} held, {} failed", thousands(c), thousands(idle_failed)),
                (None, _) => show(None),
            },
            conns.map(|c| c >= GOAL_IDLE_CONNECTIONS && idle_failed == 0.0),
        ),
        goal(
            "lost / duplicated / reordered messages",
            "0 in every run",
            integrity.0,
            if failures.is_empty() {
                integrity.1
            } else {
                // A scenario that failed may have lost messages it could not report.
                Some(false)
            },
        ),
    ]
}

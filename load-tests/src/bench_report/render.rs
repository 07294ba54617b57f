//! The report as Markdown: the tables of docs/performance.md and bench/results/latest.md.

use super::*;

/// The markdown tables (no top-level heading).
pub fn render(report: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Run {} on {}, commit {}{}.\n",
        cell(&report["date"]),
        cell(&report["machine"]),
        cell(&report["commit"]),
        if report["quick"] == Value::Bool(true) {
            " — **quick mode (BENCH_QUICK=1): a smoke test with short steps, not figures to \
             compare**"
        } else {
            ""
        }
    );
    if let Some(notes) = report["notes"].as_str().filter(|n| !n.is_empty()) {
        let _ = writeln!(out, "{notes}\n");
    }
    let _ = writeln!(out, "### Maximum sustainable clinic throughput\n");
    let ms = report["max_sustainable"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let luukku = ms
        .iter()
        .find(|m| m["system"] == "luukku")
        .and_then(|m| m["delivered_per_s"].as_f64());
    table(
        &mut out,
        &[
            "system",
            "delivered msg/s",
            "e2e p99 ms",
            "offered msg/s",
            "Luukku ÷ this",
            "load generator CPU",
            "what ended the ramp",
        ],
        ms.iter().map(|m| {
            let r = match (luukku, m["delivered_per_s"].as_f64()) {
                (Some(l), Some(x)) if x > 0.0 => jnum(Some(round3(l / x))),
                _ => Value::Null,
            };
            let loader = m["loader_cpu_util"]
                .as_f64()
                .map_or_else(|| "–".into(), |u| format!("{:.0} %", u * 100.0));
            vec![
                system_name(&m["system"]),
                format!("**{}**", cell(&m["delivered_per_s"])),
                cell(&m["p99_ms"]),
                cell(&m["offered_per_s"]),
                cell(&r),
                loader,
                cell(&m["stopped_because"]),
            ]
        }),
    );
    let _ = write!(
        out,
        "Ratios: Luukku/relay **{}**, Luukku/Socket.IO **{}**",
        cell(&report["ratios"]["luukku_per_relay"]),
        cell(&report["ratios"]["luukku_per_socketio"])
    );
    let cluster_ratio = &report["ratios"]["luukku_cluster_per_socketio_redis"];
    if !cluster_ratio.is_null() {
        let _ = write!(
            out,
            ", Luukku 2 nodes / Socket.IO 2 processes + Redis **{}**",
            cell(cluster_ratio)
        );
    }
    out.push_str(".\n\n");
    let runs = report["runs"].as_array().cloned().unwrap_or_default();
    let run_row = |r: &Value| {
        vec![
            system_name(&r["system"]),
            cell(&r["scenario"]),
            cell(&r["rate"]),
            cell(&r["delivered_per_s"]),
            cell(&r["p50_ms"]),
            cell(&r["p99_ms"]),
            cell(&r["p999_ms"]),
            cell(&r["ack_p99_ms"]),
            format!(
                "{} / {} / {}",
                cell(&r["lost"]),
                cell(&r["duplicated"]),
                cell(&r["reordered"])
            ),
            cell(&r["server_cpu_s"]),
            cell(&mib(&r["server_rss_bytes"])),
        ]
    };
    let head = [
        "system",
        "scenario",
        "offered msg/s",
        "delivered msg/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "ack p99 ms",
        "lost / dup / reord",
        "server CPU s",
        "server RSS MiB",
    ];
    let _ = writeln!(
        out,
        "### Fixed-rate runs\n\n✗ overloaded: p99 over the 50 ms bound; messages not \
         delivered within the run's drain window count as lost there.\n"
    );
    table(
        &mut out,
        &head,
        runs.iter().filter(|r| r["scenario"] != "ramp").map(|r| {
            let mut row = run_row(r);
            if r.get("within_bound") == Some(&Value::Bool(false)) {
                row[1] = format!("{} ✗ overloaded", row[1]);
            }
            let errors = error_text(&r["errors"]);
            if !errors.is_empty() {
                row[1] = format!("{} (errors: {errors})", row[1]);
            }
            row
        }),
    );
    let _ = writeln!(
        out,
        "### Ramp steps\n\nEach step is a clinic run; ✗ marks a step past the bound (or with \
         errors).\n"
    );
    table(
        &mut out,
        &head,
        runs.iter().filter(|r| r["scenario"] == "ramp").map(|r| {
            let mut row = run_row(r);
            if r.get("within_bound") == Some(&Value::Bool(false)) {
                row[1] = "ramp ✗".into();
            }
            row
        }),
    );
    cluster::render_cpu(&mut out, report);
    if let Some(idle) = report["idle"].as_array().filter(|i| !i.is_empty()) {
        let _ = writeln!(out, "### Idle connections\n");
        table(
            &mut out,
            &[
                "system",
                "connections",
                "RSS per connection",
                "failed",
                "opened per s",
            ],
            idle.iter().map(|i| {
                let per = i["rss_bytes_per_conn"]
                    .as_f64()
                    .map_or_else(|| "–".into(), |b| format!("{:.1} KiB", b / 1024.0));
                vec![
                    system_name(&i["system"]),
                    cell(&i["connections"]),
                    per,
                    cell(&i["failed"]),
                    cell(&i["open_rate_per_s"]),
                ]
            }),
        );
    }
    if let Some(queue) = report["queue"].as_array().filter(|q| !q.is_empty()) {
        let _ = writeln!(
            out,
            "### Queue burst\n\nEstimate error = estimated wait shown − real wait (seconds); \
             positive means clients were told to wait longer than they did.\n"
        );
        table(
            &mut out,
            &[
                "system",
                "conversations → professionals × capacity, hold",
                "assigned / s (staffing allows)",
                "real wait p50 / p90 / max s",
                "first estimate: mean abs / p90 abs / bias s",
                "last estimate: mean abs / p90 abs / bias s",
            ],
            queue.iter().map(|q| {
                let err = |k: &str| {
                    format!(
                        "{} / {} / {}",
                        cell(&q[k]["mae_s"]),
                        cell(&q[k]["p90_abs_s"]),
                        cell(&q[k]["bias_s"])
                    )
                };
                vec![
                    system_name(&q["system"]),
                    format!(
                        "{} → {} × {}, {} s",
                        cell(&q["conversations"]),
                        cell(&q["professionals"]),
                        cell(&q["capacity"]),
                        cell(&q["hold_s"])
                    ),
                    format!(
                        "{} ({})",
                        cell(&q["assignment_rate_per_s"]),
                        cell(&q["staffing_rate_per_s"])
                    ),
                    format!(
                        "{} / {} / {}",
                        cell(&q["wait"]["p50_s"]),
                        cell(&q["wait"]["p90_s"]),
                        cell(&q["wait"]["max_s"])
                    ),
                    err("initial_estimate"),
                    err("last_estimate"),
                ]
            }),
        );
    }
    cluster::render_pubsub(&mut out, report);
    let _ = writeln!(out, "### Goals\n");
    table(
        &mut out,
        &["goal", "target", "measured", "status"],
        report["goals"].as_array().into_iter().flatten().map(|g| {
            let status = match g["met"].as_bool() {
                Some(true) => "met",
                Some(false) => "**not met**",
                None => "not measured",
            };
            vec![
                cell(&g["goal"]),
                cell(&g["target"]),
                cell(&g["measured"]),
                status.into(),
            ]
        }),
    );
    let failures = report["failures"].as_array().cloned().unwrap_or_default();
    if !failures.is_empty() {
        let _ = writeln!(out, "### Failures\n");
        for f in &failures {
            let _ = writeln!(
                out,
                "- {} {}: {}",
                system_name(&f["system"]),
                cell(&f["scenario"]),
                cell(&f["error"])
            );
        }
        out.push('\n');
    }
    cluster::render_skipped(&mut out, report);
    out
}

// ------------------------------------------------------------------- cells and tables

pub(super) fn cell(v: &Value) -> String {
    match v {
        Value::Null => "–".into(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), thousands),
        Value::String(s) => s.replace('|', "\\|"),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        other => other.to_string().replace('|', "\\|"),
    }
}

/// 12345.678 → `12,346`; small values keep up to three significant decimals.
pub(super) fn thousands(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x.abs() >= 100.0 {
        let rounded = x.round() as i64;
        let digits = rounded.unsigned_abs().to_string();
        let mut reversed = String::new();
        for (i, d) in digits.chars().rev().enumerate() {
            if i > 0 && i % 3 == 0 {
                reversed.push(',');
            }
            reversed.push(d);
        }
        if rounded < 0 {
            reversed.push('-');
        }
        reversed.chars().rev().collect()
    } else if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// `code=count, ...` of an errors object (empty when there are none).
pub(super) fn error_text(errors: &Value) -> String {
    errors
        .as_object()
        .map(|e| {
            e.iter()
                .map(|(code, n)| format!("{code}={}", cell(n)))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

pub(super) fn table(out: &mut String, head: &[&str], rows: impl IntoIterator<Item = Vec<String>>) {
    let _ = writeln!(out, "| {} |", head.join(" | "));
    let _ = writeln!(
        out,
        "|{}|",
        head.iter().map(|_| " --- ").collect::<Vec<_>>().join("|")
    );
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out.push('\n');
}

/// A measured figure, or `not measured`.
pub(super) fn show(x: Option<f64>) -> String {
    x.map_or_else(|| "not measured".to_owned(), thousands)
}

pub(super) fn system_name(s: &Value) -> String {
    match s.as_str() {
        Some("luukku") => "Luukku".into(),
        Some("relay") => "relay".into(),
        Some("socketio") => "Socket.IO".into(),
        Some(other) => cluster::name(other).map_or_else(|| cell(s), str::to_owned),
        None => cell(s),
    }
}

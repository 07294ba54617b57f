//! The report built and rendered from result lines, and the docs' bench block filled in.

use super::*;

fn args() -> BenchReportArgs {
    BenchReportArgs {
        input: PathBuf::new(),
        out_dir: PathBuf::new(),
        date: "2026-11-22T10:11:12Z".into(),
        machine: "test box".into(),
        commit: "abc123".into(),
        quick: false,
        notes: String::new(),
        fill: Vec::new(),
        fd_limit: Some(20_000),
    }
}

fn clinic(conversations: u32, rate: f64, delivered: f64, p99: f64, lost: u32) -> Value {
    json!({"scenario": "clinic", "conversations": conversations, "rate_per_s": rate,
        "delivered_per_s": delivered, "lost": lost, "duplicated": 0, "reordered": 0,
        "unacked": 0, "e2e": {"p50_ms": 1.0, "p99_ms": p99, "p999_ms": p99 * 2.0},
        "ack": {"p99_ms": p99}, "server_cpu_s": 3.5, "server_rss_bytes": 10485760,
        "errors": {}})
}

fn ramp(best_delivered: f64, overloaded_lost: u32) -> Value {
    json!({"scenario": "ramp", "bound_ms": 50.0, "best": 0,
    "max_delivered_per_s": best_delivered, "max_p99_ms": 20.0,
    "max_offered_per_s": best_delivered, "stopped_because": "p99 over",
    "steps": [
        {"offered_per_s": best_delivered, "pass": true, "loader_cpu_util": 0.4,
         "result": clinic(100, best_delivered / 200.0, best_delivered, 20.0, 0)},
        {"offered_per_s": best_delivered * 1.5, "pass": false, "loader_cpu_util": 0.6,
         "result": clinic(100, best_delivered / 133.0, best_delivered, 90.0,
                          overloaded_lost)},
    ]})
}

fn line(system: &str, label: &str, result: Value) -> String {
    json!({"system": system, "label": label, "result": result}).to_string()
}

/// A quick run's ramps all end at --max-per-s: the ratios compare no maxima, and the
/// throughput goals must not read as met.
#[test]
fn ramps_that_reached_the_cap_leave_the_ratio_goals_unjudged() {
    let capped = |delivered: f64| {
        let mut r = ramp(delivered, 0);
        r["stopped_because"] = json!("reached --max-per-s 8000");
        r
    };
    let text = [
        line("relay", "ramp", capped(8000.0)),
        line("luukku", "ramp", capped(8000.0)),
        line("socketio", "ramp", ramp(2000.0, 0)),
    ]
    .join("\n");
    let report = build(&text, &args());
    assert_eq!(report["ratios"]["luukku_per_relay"], json!(1.0));
    let goals = report["goals"].as_array().expect("goals");
    for g in &goals[..2] {
        assert_eq!(g["met"], Value::Null, "{g}");
        let measured = g["measured"].as_str().unwrap_or_default();
        assert!(measured.contains("cap"), "{g}");
    }
}

#[test]
fn report_has_runs_ratios_and_goals() {
    let text = [
        line("relay", "ramp", ramp(10000.0, 0)),
        line("luukku", "ramp", ramp(7000.0, 12)),
        line("socketio", "ramp", ramp(1000.0, 0)),
        line("luukku", "clinic-quarter", clinic(250, 5.0, 2500.0, 4.0, 0)),
        line(
            "luukku",
            "idle",
            json!({"scenario": "idle", "connections": 19000, "failed": 0,
                "bytes_per_connection": 7000.0}),
        ),
        "garbage".into(),
        json!({"system": "socketio", "label": "idle", "error": "exit 1"}).to_string(),
    ]
    .join("\n");
    let report = build(&text, &args());
    assert_eq!(report["runs"].as_array().map(Vec::len), Some(7));
    assert_eq!(report["ratios"]["luukku_per_relay"], json!(0.7));
    assert_eq!(report["ratios"]["luukku_per_socketio"], json!(7.0));
    let quarter = &report["runs"][6];
    assert_eq!(quarter["rate"], json!(2500.0));
    assert_eq!(quarter["p99_ms"], json!(4.0));
    let met: Vec<Value> = report["goals"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| g["met"].clone())
        .collect();
    // relay ratio, socketio ratio, quarter p99, rss, 100k, integrity (failed scenario);
    // the two cluster goals are not measured without the cluster systems.
    let mut expected = [true, true, true, true, false, false]
        .map(Value::Bool)
        .to_vec();
    expected.extend([Value::Null, Value::Null]);
    assert_eq!(met, expected);
    assert_eq!(report["skipped_lines"].as_array().map(Vec::len), Some(1));
    assert_eq!(report["failures"].as_array().map(Vec::len), Some(1));
    let md = render(&report);
    assert!(md.contains("| Luukku | **7,000** |"), "{md}");
    assert!(md.contains("ramp ✗"));
    assert!(md.contains("6.8 KiB"));
    assert!(md.contains("socketio") || md.contains("Socket.IO"));
}

#[test]
fn missing_fields_do_not_panic() {
    let text = [
        r#"{"system":"luukku","label":"x","result":{"scenario":"ramp","steps":[{}, 3]}}"#,
        r#"{"system":"luukku","label":"y","result":{"scenario":"clinic"}}"#,
        r#"{"system":"luukku","label":"z","result":{"scenario":"queue","wait":1}}"#,
        r#"{"system":"luukku","label":"w","result":{}}"#,
        r#"{"system":1}"#,
        "[]",
    ]
    .join("\n");
    let report = build(&text, &args());
    let md = render(&report);
    assert!(md.contains("not measured"));
    assert_eq!(report["goals"][5]["met"], Value::Bool(false));
}

#[test]
fn numbers_and_stamps_print_plainly() {
    assert_eq!(thousands(1234567.4), "1,234,567");
    assert_eq!(thousands(-1500.0), "-1,500");
    assert_eq!(thousands(2.50), "2.5");
    assert_eq!(thousands(0.0), "0");
    assert_eq!(file_stamp("2026-11-22T10:11:12Z"), "2026-11-22T101112Z");
    assert_eq!(file_stamp("../"), "undated");
}

#[test]
fn cluster_systems_skips_and_pubsub_are_reported() {
    let mut two_processes = clinic(1000, 1.0, 2000.0, 6.0, 0);
    two_processes["delivered"] = json!(20000);
    two_processes["backing_cpu_s"] = json!({"redis": 0.4});
    let text = [
        line("socketio-redis", "ramp", ramp(4000.0, 0)),
        line("socketio-redis", "clinic-2000", two_processes),
        json!({"system": "luukku-cluster", "label": "all",
            "skipped": "the second node was refused"})
        .to_string(),
        line(
            "redis",
            "pubsub",
            json!({"scenario": "redis-pubsub", "publish_per_s": 150000.0, "clients": 50,
                "pipeline": 1, "channels": 2000, "subscribers": 2, "payload_bytes": 300,
                "published": 100000, "received_per_subscriber": 100000,
                "redis_cpu_us_per_publish": 6.1, "p50_ms": 0.2, "p99_ms": 0.5}),
        ),
    ]
    .join("\n");
    let report = build(&text, &args());
    assert_eq!(report["failures"], json!([]), "{report}");
    assert_eq!(report["skipped"][0]["system"], json!("luukku-cluster"));
    assert_eq!(report["redis_pubsub"][0]["publish_per_s"], json!(150000.0));
    let fixed = &report["runs"][2];
    assert_eq!(fixed["scenario"], json!("clinic-2000"));
    // 3.5 s of server CPU and 0.4 s of Redis over 20,000 messages.
    assert_eq!(
        fixed["cpu_us_per_msg"],
        json!({"server": 175.0, "redis": 20.0})
    );
    let md = render(&report);
    for expected in [
        "| Socket.IO 2 processes + Redis | **4,000** |",
        "### CPU per message",
        "| Socket.IO 2 processes + Redis | 175 | redis 20 |",
        "### Redis pub/sub on this machine",
        "| **150,000** | 50 × 1 |",
        "### Skipped",
        "- Luukku 2 nodes + Redis: the second node was refused",
    ] {
        assert!(md.contains(expected), "{expected} not in\n{md}");
    }
    let cross = &report["goals"][6];
    assert!(
        cross["measured"]
            .as_str()
            .is_some_and(|m| m.contains("second node was refused")),
        "{cross}"
    );
    assert_eq!(cross["met"], Value::Null);
    // Every system's runs count for the integrity goal.
    assert_eq!(report["goals"][5]["met"], Value::Bool(true));
}

#[test]
fn marked_block_is_replaced() {
    let dir = std::env::temp_dir().join(format!("bench-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("doc.md");
    std::fs::write(&file, format!("a\n{BEGIN_MARKER}\nold\n{END_MARKER}\nb\n")).expect("write");
    fill(&file, "new table\n").expect("filled");
    let text = std::fs::read_to_string(&file).expect("read");
    assert_eq!(
        text,
        format!("a\n{BEGIN_MARKER}\n\nnew table\n{END_MARKER}\nb\n")
    );
    std::fs::write(&file, "no markers").expect("write");
    assert!(fill(&file, "x").is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

//! The Grafana dashboards and the alert rules work against the real server: a real Prometheus
//! (Debian's `prometheus`) scrapes every node with deploy/prometheus.yml's relabelling and
//! evaluates deploy/prometheus/alerts.yml, and after a day's worth of chat events in miniature
//! every query of every dashboard (`scripts/check-dashboards.py --exprs`) returns data, every
//! metric they read has moved, and every alert rule evaluates without error.

// A directory of its own, so that cargo does not take it for a test of its own.
#[path = "dashboards/prometheus.rs"]
mod prometheus;
mod support;

use prometheus::{now, Prometheus, SCRAPE};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

/// Scrapes of every node before the queries run, so that rates have samples to work on.
const MIN_SCRAPES: u32 = 5;
/// Metrics the dashboards read that this traffic leaves at zero, and why that is fine.
const QUIET_BY_DESIGN: &[(&str, &str)] = &[
    (
        "luukku_slow_consumers_total",
        "no client here stops reading (server/src/session/tests.rs cuts one off)",
    ),
    (
        "luukku_inbox_overdue",
        "a reply deadline is working days away (server/src/routing/tests.rs drives one past)",
    ),
    (
        "luukku_promise_breaches_total",
        "a reply deadline is working days away (server/src/routing/tests.rs drives one past)",
    ),
];
/// Series the server does not create at zero when it starts (as `Metrics::init_labels` does),
/// so that `increase` cannot see the event that creates one: none now. Should one appear, the
/// traffic leaves it at zero and the test names it; listing it here instead must come with a
/// reason in the change that does.
const NOT_CREATED_AT_START: &[&str] = &[];

#[tokio::test]
async fn every_dashboard_query_returns_data_and_every_alert_rule_evaluates() {
    let queries = dashboard_queries();
    // Client notifications on (the SMS route: a file), so that the traffic sends one.
    let sms = temp_dir().join("sms.jsonl");
    let s = TestServer::start_with(move |c| {
        c.notifications = luukku::config::NotificationsConfig {
            link: Some("https://example.org/asiointi".into()),
            sms_sink: Some(sms),
            ..Default::default()
        }
    })
    .await;
    let nodes = s.node_addrs();
    let prometheus = Prometheus::start(&nodes).await;
    prometheus.wait_for_scrapes(nodes.len(), 1, now()).await;

    let _open = chat_traffic(&s, &prometheus).await;
    // Scrapes that began a second after the traffic ended: its last events and the chats
    // still open are in.
    let ended = now() + SCRAPE.as_secs_f64();
    prometheus
        .wait_for_scrapes(nodes.len(), MIN_SCRAPES, ended)
        .await;

    let mut failing = Vec::new();
    for q in &queries {
        let promql = grafana_to_promql(&q.expr);
        if let Err(why) = prometheus.query_has_data(&promql).await {
            failing.push(format!(
                "{} / {}: {why}\n    {promql}",
                q.dashboard, q.panel
            ));
        }
    }
    assert!(
        failing.is_empty(),
        "{} of {} dashboard queries failed:\n{}",
        failing.len(),
        queries.len(),
        failing.join("\n")
    );

    let quiet = metrics_that_never_moved(&prometheus, &queries).await;
    let unexpected: Vec<&String> = quiet
        .iter()
        .filter(|m| !NOT_CREATED_AT_START.contains(&m.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "the traffic never moved these metrics the dashboards read: {unexpected:?}"
    );
    let fixed: Vec<&&str> = NOT_CREATED_AT_START
        .iter()
        .filter(|m| !quiet.iter().any(|q| q == *m))
        .collect();
    assert!(
        fixed.is_empty(),
        "these now count their first event: take them off NOT_CREATED_AT_START: {fixed:?}"
    );
    prometheus.assert_rules_evaluate().await;
    eprintln!(
        "{} dashboard queries returned data from {} node(s); every alert rule evaluated",
        queries.len(),
        nodes.len()
    );
}

/// One query of a dashboard panel, as `scripts/check-dashboards.py --exprs` prints it.
struct PanelQuery {
    dashboard: String,
    panel: String,
    expr: String,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}

fn dashboard_queries() -> Vec<PanelQuery> {
    let out = Command::new("python3")
        .arg(repo().join("scripts/check-dashboards.py"))
        .arg("--exprs")
        .arg(repo())
        .output()
        .expect("python3 runs scripts/check-dashboards.py");
    assert!(
        out.status.success(),
        "check-dashboards.py --exprs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let queries: Vec<PanelQuery> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("one JSON object a line");
            let field = |k: &str| v[k].as_str().expect("a string field").to_owned();
            PanelQuery {
                dashboard: field("dashboard"),
                panel: field("panel"),
                expr: field("expr"),
            }
        })
        .collect();
    assert!(queries.len() >= 20, "too few queries: {}", queries.len());
    queries
}

/// Grafana's variables as a dashboard with every template variable on "All" sends them.
fn grafana_to_promql(expr: &str) -> String {
    let mut out = expr
        .replace("$__rate_interval", "1m")
        .replace("$__interval", "15s")
        .replace("$__range", "1h");
    while let Some(at) = out.find('$') {
        let rest = &out[at + 1..];
        let braced = rest.starts_with('{');
        let name_len = rest
            .trim_start_matches('{')
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len() - usize::from(braced));
        let len = 1 + name_len + if braced { 2 } else { 0 };
        out.replace_range(at..at + len, ".*");
    }
    out
}

/// Every `luukku_…` metric name in the queries, once each.
fn metric_names(queries: &[PanelQuery]) -> Vec<String> {
    let mut names: Vec<String> = queries
        .iter()
        .flat_map(|q| {
            q.expr
                .match_indices("luukku_")
                .map(|(at, _)| {
                    let rest = &q.expr[at..];
                    let end = rest
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(rest.len());
                    rest[..end].to_owned()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// What a metric did while Prometheus watched: how much a counter (or a histogram's buckets,
/// sum or count) counted, by `increase`, which cannot see an event that created its series; or
/// the highest value a gauge reached.
fn movement(name: &str) -> String {
    if ["_total", "_count", "_sum", "_bucket"]
        .iter()
        .any(|suffix| name.ends_with(suffix))
    {
        format!("sum(increase({name}[10m]))")
    } else {
        format!("max(max_over_time({name}[10m]))")
    }
}

async fn metrics_that_never_moved(p: &Prometheus, queries: &[PanelQuery]) -> Vec<String> {
    let mut quiet = Vec::new();
    for name in metric_names(queries) {
        if QUIET_BY_DESIGN.iter().any(|(n, _)| *n == name)
            || (name == "luukku_tunnelled_connections" && !cluster_selected())
        {
            continue; // only a cluster's doors tunnel
        }
        let result = p.query(&movement(&name)).await.unwrap_or_default();
        let moved = result
            .first()
            .and_then(|r| r["value"][1].as_str())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        if moved <= 0.0 {
            quiet.push(name);
        }
    }
    quiet
}

/// Chats in several services and teams that touch every metric the dashboards read: started,
/// answered, replied to, rated and closed; a patient who waits, one who gives up, a transfer, a
/// hand-back, a refused frame. Returns the connections to keep open while Prometheus scrapes
/// (professionals signed in, a chat in progress).
async fn chat_traffic(s: &TestServer, prometheus: &Prometheus) -> Vec<Conn> {
    let mut nurse1 = s.console("nurse-1").await; // station-a, assigned automatically
    let mut nurse3 = s.console("nurse-3").await; // station-b, takes chats by hand
    let mut social = s.console("social-1").await;
    for (service, team, pro, rating) in [
        ("health-chat", "station-a", &mut nurse1, 5),
        ("social-chat", "social", &mut social, 3),
    ] {
        let (mut client, q) = s.started(service, team).await;
        let c = conv(&q);
        assert_eq!(pro.assigned().await, c);
        talk(&mut client, pro, &c).await;
        close_and_rate(pro, &mut client, &c, rating).await;
    }
    let (patient, nurse2) =
        wait_transfer_and_hand_back(s, prometheus, &mut nurse1, &mut nurse3).await;
    contact_form_answered(s, prometheus, &mut social).await;
    vec![nurse1, nurse2, nurse3, social, patient]
}

/// A contact form lands in the social team's inbox (seen there by Prometheus), is taken and
/// answered while its sender is away: the sender is told by SMS.
async fn contact_form_answered(s: &TestServer, prometheus: &Prometheus, social: &mut Conn) {
    let body = json!({"fields": {"name": "Matti", "message": "Please call me."},
        "contact": {"phone": "+358401234567"}, "client_ref": uuid::Uuid::new_v4().to_string()});
    let (status, v) = post_json(s.addr, "/api/v1/forms/contact-form", &body).await;
    assert_eq!(status, 201, "{v}");
    let c = v["conversation"].as_str().expect("id").to_owned();
    prometheus
        .wait_until("max_over_time(luukku_inbox_open{team=\"social\",status=\"new\"}[1m]) >= 1")
        .await;
    let taken = social
        .request(json!({"type": "take", "conversation": c}), "take-form")
        .await;
    assert_eq!(taken["type"], "assigned", "{taken}");
    social.say(&c, "I will call you this afternoon.").await;
    prometheus
        .wait_until(
            "max_over_time(luukku_notifications_total{channel=\"sms\",outcome=\"sent\"}[1m]) >= 1",
        )
        .await;
}

/// station-b: two patients wait until Prometheus has seen them; one gives up, one is taken,
/// sends a frame the server refuses, is transferred to station-a, handed back by a nurse going
/// away and taken by a colleague (nurse-2, returned with the patient).
async fn wait_transfer_and_hand_back(
    s: &TestServer,
    prometheus: &Prometheus,
    nurse1: &mut Conn,
    nurse3: &mut Conn,
) -> (Conn, Conn) {
    let (mut patient, q) = s.started("stations-chat", "station-b").await;
    let c = conv(&q);
    let (mut leaver, q) = s.started("stations-chat", "station-b").await;
    prometheus
        .wait_until("max_over_time(luukku_queue_oldest_wait_seconds{team=\"station-b\"}[1m]) >= 1")
        .await;
    let left = leaver
        .request(json!({"type": "leave", "conversation": conv(&q)}), "leave")
        .await;
    assert_eq!(left["type"], "ack", "{left}");
    let taken = nurse3
        .request(json!({"type": "accept", "conversation": c}), "acc")
        .await;
    assert_eq!(taken["type"], "assigned", "{taken}");
    talk(&mut patient, nurse3, &c).await;
    let bad = patient
        .request(json!({"type": "shout", "conversation": c}), "bad")
        .await;
    assert_eq!(bad["code"], "bad_frame");

    let to_a = json!({"type": "transfer", "conversation": c, "to_team": "station-a"});
    let moved = nurse3.request(to_a, "t").await;
    assert_eq!(moved["type"], "released", "{moved}");
    assert_eq!(nurse1.assigned().await, c);
    nurse1.say(&c, "Station A here.").await;
    nurse1
        .request(json!({"type": "status", "availability": "away"}), "away")
        .await;
    let back = nurse1
        .request(json!({"type": "release", "conversation": c}), "rel")
        .await;
    assert_eq!(back["reason"], "handed_back", "{back}");
    let mut nurse2 = s.console("nurse-2").await;
    assert_eq!(nurse2.assigned().await, c);
    nurse2.say(&c, "I'll take it from here.").await;
    patient.heard(&c, "I'll take it from here.").await;
    (patient, nurse2)
}

/// A question, the first answer, a follow-up and the reply to it.
async fn talk(client: &mut Conn, pro: &mut Conn, c: &str) {
    for (from_client, body) in [
        (true, "I have a question."),
        (false, "Hello, how can I help?"),
        (true, "Is the lab result in?"),
        (false, "Yes, it is normal."),
    ] {
        if from_client {
            client.say(c, body).await;
            pro.heard(c, body).await;
        } else {
            pro.say(c, body).await;
            client.heard(c, body).await;
        }
    }
}

async fn close_and_rate(pro: &mut Conn, client: &mut Conn, c: &str, rating: u8) {
    let closed = pro
        .request(json!({"type": "close", "conversation": c}), "close")
        .await;
    assert_eq!(closed["type"], "ack", "{closed}");
    client.recv_type("closed").await;
    let rated = client
        .request(
            json!({"type": "feedback", "conversation": c, "rating": rating}),
            "fb",
        )
        .await;
    assert_eq!(rated["type"], "ack", "{rated}");
}

#[test]
fn grafana_variables_become_promql() {
    assert_eq!(
        grafana_to_promql(
            r#"sum by (team) (rate(x{team=~"$team", node=~"${node}"}[$__rate_interval])) / $__range"#
        ),
        r#"sum by (team) (rate(x{team=~".*", node=~".*"}[1m])) / 1h"#
    );
}

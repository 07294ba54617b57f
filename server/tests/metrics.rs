//! `/metrics` tells an operator what is happening: the values move as traffic flows, and the
//! exposition is valid Prometheus text.

mod support;

use serde_json::json;
use support::*;

/// Waits until `name{labels}` equals `want`, then asserts it.
async fn expect_metric(s: &TestServer, name: &str, labels: &[(&str, &str)], want: f64) {
    let got = s.wait_metric_of(name, labels, |v| v == want).await;
    assert_eq!(got, want, "{name}{labels:?}");
}

#[tokio::test]
async fn metrics_follow_a_conversation_from_start_to_feedback() {
    let s = TestServer::start().await;
    let text = s.metrics().await;
    let commits_before = metric_sum(&text, "luukku_storage_commit_seconds_count", &[]);
    let a = [("team", "station-a")];

    let (mut client, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    expect_metric(
        &s,
        "luukku_conversations_started_total",
        &[
            ("service", "health-chat"),
            ("team", "station-a"),
            ("channel", "chat"),
        ],
        1.0,
    )
    .await;
    expect_metric(&s, "luukku_queue_length", &a, 1.0).await;
    expect_metric(&s, "luukku_connections", &[("endpoint", "client")], 1.0).await;
    expect_metric(&s, "luukku_active_conversations", &a, 0.0).await;

    let mut nurse = s.console("nurse-1").await;
    assert_eq!(nurse.assigned().await, c);
    expect_metric(&s, "luukku_queue_length", &a, 0.0).await;
    expect_metric(&s, "luukku_active_conversations", &a, 1.0).await;
    expect_metric(&s, "luukku_connections", &[("endpoint", "console")], 1.0).await;
    expect_metric(&s, "luukku_available_professionals", &a, 1.0).await;
    expect_metric(&s, "luukku_queue_wait_seconds_count", &a, 1.0).await;

    client.say(&c, "hello").await;
    nurse.heard(&c, "hello").await;
    expect_metric(&s, "luukku_messages_total", &[("role", "client")], 1.0).await;
    expect_metric(
        &s,
        "luukku_messages_total",
        &[("role", "professional")],
        0.0,
    )
    .await;
    expect_metric(&s, "luukku_first_response_seconds_count", &a, 0.0).await;

    nurse.say(&c, "hi").await;
    nurse.say(&c, "how can I help?").await;
    expect_metric(
        &s,
        "luukku_messages_total",
        &[("role", "professional")],
        2.0,
    )
    .await;
    expect_metric(&s, "luukku_first_response_seconds_count", &a, 1.0).await;
    let commits = s
        .metric_of("luukku_storage_commit_seconds_count", &[])
        .await;
    assert!(
        commits >= commits_before + 4.0,
        "storage commits {commits_before} → {commits}"
    );
    assert!(
        s.metric_of("luukku_delivery_latency_seconds_count", &[])
            .await
            >= 3.0
    );

    let e = client
        .request(json!({"type": "shout", "conversation": c}), "bad")
        .await;
    assert_eq!(e["code"], "bad_frame");
    expect_metric(
        &s,
        "luukku_frames_rejected_total",
        &[("reason", "bad_frame")],
        1.0,
    )
    .await;

    nurse
        .request(json!({"type": "close", "conversation": c}), "cl")
        .await;
    client.recv_type("closed").await;
    expect_metric(&s, "luukku_active_conversations", &a, 0.0).await;
    expect_metric(
        &s,
        "luukku_conversations_completed_total",
        &[("service", "health-chat")],
        1.0,
    )
    .await;
    let e = client.request(json!({"type": "send", "conversation": c, "client_msg_id": uuid::Uuid::new_v4().to_string(), "body": "wait"}), "late").await;
    assert_eq!(e["code"], "conversation_closed");
    expect_metric(
        &s,
        "luukku_frames_rejected_total",
        &[("reason", "conversation_closed")],
        1.0,
    )
    .await;

    client
        .request(
            json!({"type": "feedback", "conversation": c, "rating": 4}),
            "fb",
        )
        .await;
    expect_metric(
        &s,
        "luukku_feedback_total",
        &[("service", "health-chat"), ("rating", "4")],
        1.0,
    )
    .await;
    let again = client
        .request(
            json!({"type": "feedback", "conversation": c, "rating": 4}),
            "fb-again",
        )
        .await;
    assert_eq!(again["type"], "ack");
    expect_metric(&s, "luukku_feedback_total", &[], 1.0).await;

    drop(client);
    expect_metric(&s, "luukku_connections", &[("endpoint", "client")], 0.0).await;
    drop(nurse);
    expect_metric(&s, "luukku_connections", &[("endpoint", "console")], 0.0).await;
    expect_metric(&s, "luukku_available_professionals", &a, 0.0).await;
    expect_metric(&s, "luukku_connections_opened_total", &[], 2.0).await;
}

#[tokio::test]
async fn transfers_are_counted_by_target_kind() {
    let s = TestServer::start().await;
    let mut nurse = s.console("nurse-1").await;
    let (_client, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    assert_eq!(nurse.assigned().await, c);
    nurse
        .request(
            json!({"type": "transfer", "conversation": c, "to_team": "station-b"}),
            "t",
        )
        .await;
    expect_metric(&s, "luukku_transfers_total", &[("target", "team")], 1.0).await;
    expect_metric(&s, "luukku_queue_length", &[("team", "station-b")], 1.0).await;
    expect_metric(
        &s,
        "luukku_active_conversations",
        &[("team", "station-a")],
        0.0,
    )
    .await;
}

#[tokio::test]
async fn the_exposition_passes_promtool() {
    let s = TestServer::start().await;
    // Some traffic, so that labelled series exist.
    let mut nurse = s.console("nurse-1").await;
    let (mut client, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    assert_eq!(nurse.assigned().await, c);
    client.say(&c, "hello").await;
    nurse.say(&c, "hi").await;
    client.request(json!({"type": "nonsense"}), "x").await;

    let (status, text) = http_get(s.addr, "/metrics").await;
    assert_eq!(status, 200);
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let name = line.split(['{', ' ']).next().unwrap_or_default();
        assert!(
            name.starts_with("luukku_"),
            "metric without the luukku_ prefix: {line}"
        );
    }
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let mut parts = line.split_whitespace().skip(2);
        let (name, kind) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        assert_eq!(
            name.ends_with("_total"),
            kind == "counter",
            "only counters end in _total: {line}"
        );
    }

    use std::io::Write;
    use std::process::{Command, Stdio};
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("NOTE: promtool is not on PATH; skipping `promtool check metrics` (scripts/test.sh installs it)");
            return;
        }
        Err(e) => panic!("cannot run promtool: {e}"),
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool runs");
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What the team leads' dashboards read: the queue's oldest and estimated wait, who is signed
/// in and their capacity, answered conversations, reply times inside a chat, the mean rating,
/// and which node runs the queues with its dependencies up.
#[tokio::test]
async fn dashboard_metrics_follow_queues_staffing_replies_and_ratings() {
    let s = TestServer::start().await;
    let a = [("team", "station-a")];
    expect_metric(&s, "luukku_cluster_primary", &[], 1.0).await;
    expect_metric(
        &s,
        "luukku_dependency_up",
        &[("dependency", "storage")],
        1.0,
    )
    .await;
    expect_metric(&s, "luukku_dependency_up", &[("dependency", "bus")], 1.0).await;

    let (mut client, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    let oldest = s
        .wait_metric_of("luukku_queue_oldest_wait_seconds", &a, |v| v >= 2.0)
        .await;
    assert!(oldest >= 2.0, "oldest wait {oldest}");
    let estimate = s.metric_of("luukku_queue_estimated_wait_seconds", &a).await;
    assert!(
        estimate >= oldest,
        "a newcomer waits at least as long: {estimate} < {oldest}"
    );
    expect_metric(&s, "luukku_signed_in_professionals", &a, 0.0).await;

    let mut nurse = s.console("nurse-1").await;
    assert_eq!(nurse.assigned().await, c);
    expect_metric(&s, "luukku_queue_oldest_wait_seconds", &a, 0.0).await;
    expect_metric(&s, "luukku_signed_in_professionals", &a, 1.0).await;
    expect_metric(&s, "luukku_available_capacity", &a, 4.0).await;

    let labels = [
        ("service", "health-chat"),
        ("team", "station-a"),
        ("channel", "chat"),
    ];
    expect_metric(&s, "luukku_conversations_answered_total", &labels, 0.0).await;
    nurse.say(&c, "hello, nurse here").await;
    expect_metric(&s, "luukku_conversations_answered_total", &labels, 1.0).await;
    expect_metric(&s, "luukku_reply_seconds_count", &a, 0.0).await;
    client.say(&c, "a question").await;
    nurse.heard(&c, "a question").await;
    nurse.say(&c, "an answer").await;
    expect_metric(&s, "luukku_reply_seconds_count", &a, 1.0).await;
    let client_messages = [
        ("role", "client"),
        ("service", "health-chat"),
        ("team", "station-a"),
        ("channel", "chat"),
    ];
    expect_metric(&s, "luukku_messages_total", &client_messages, 1.0).await;
    expect_metric(
        &s,
        "luukku_messages_total",
        &[("role", "professional"), ("service", "health-chat")],
        2.0,
    )
    .await;

    nurse
        .request(json!({"type": "status", "availability": "away"}), "away")
        .await;
    expect_metric(&s, "luukku_available_capacity", &a, 0.0).await;
    expect_metric(&s, "luukku_available_professionals", &a, 0.0).await;
    expect_metric(&s, "luukku_signed_in_professionals", &a, 1.0).await;

    nurse
        .request(json!({"type": "close", "conversation": c}), "cl")
        .await;
    client.recv_type("closed").await;
    for rating in [4, 2] {
        // The second rating of the same conversation replaces nothing: counted once.
        client
            .request(
                json!({"type": "feedback", "conversation": c, "rating": rating}),
                "fb",
            )
            .await;
    }
    let h = [("service", "health-chat")];
    expect_metric(&s, "luukku_feedback_rating_count", &h, 1.0).await;
    expect_metric(&s, "luukku_feedback_rating_sum", &h, 4.0).await;
}

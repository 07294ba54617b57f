//! Retention as a county runs it, on every backend: a chat closed past its service's period is
//! removed whole by the job, a legal hold keeps another until the data-protection officer
//! releases it, the access log keeps its entries about both and still verifies; a dry run only
//! reports; the officer's retention API refuses everyone else with a clear error.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{json, Value};
use support::*;

const SUBJECT: &str = "010190-987H";

/// Period 0 days (removed at the first run after the close) and a run every second.
fn purge_at_once(dry_run: bool) -> impl FnOnce(&mut luukku::config::Config) {
    move |c| {
        c.organisation.retention.conversation_days = Some(0);
        c.retention.interval_s = 1;
        c.retention.dry_run = dry_run;
    }
}

async fn call(
    s: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers: Vec<(&str, &str)> = vec![("content-type", "application/json")];
    if let Some(a) = auth.as_deref() {
        headers.push(("authorization", a));
    }
    let (status, _, text) = http_full(s.addr, method, path, body, &headers).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A chat of the identified patient with nurse-1, one message each way, still open.
async fn chat(s: &TestServer, nurse: &mut Conn, text: &str) -> String {
    let (mut client, _) = s
        .client_hello(
            json!({"type": "hello", "token": s.client_token(SUBJECT, "Maija Meikäläinen")}),
        )
        .await;
    let c = conv(&client.start("health-chat", "station-a").await);
    assert_eq!(nurse.assigned().await, c);
    client.say(&c, text).await;
    nurse.heard(&c, text).await;
    c
}

async fn close(nurse: &mut Conn, c: &str) {
    let closed = nurse
        .request(
            json!({"type": "close", "conversation": c}),
            &format!("close-{c}"),
        )
        .await;
    assert_ne!(closed["type"], "error", "{closed}");
}

#[tokio::test]
async fn a_closed_chat_past_its_period_goes_whole_a_held_one_stays_until_released() {
    let s = TestServer::start_with(purge_at_once(false)).await;
    let dpo = s.token("dpo-1");
    let mut nurse = s.console("nurse-1").await;
    let gone = chat(&s, &mut nurse, "My knee hurts when I walk.").await;
    let held = chat(&s, &mut nurse, "I want to file a complaint.").await;
    let hold_path = format!("/api/v1/conversations/{held}/legal-hold");
    let (status, body) = call(
        &s,
        "PUT",
        &hold_path,
        Some(&dpo),
        Some(r#"{"reason": "complaint 2026/17"}"#),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["in_force"], true, "{body}");
    assert_eq!(body["holds"][0]["set_by"], "dpo-1");
    close(&mut nurse, &gone).await;
    close(&mut nurse, &held).await;

    // The next run removes the one and keeps the other.
    let purged = s
        .wait_metric_of(
            "luukku_retention_purged_total",
            &[("service", "health-chat")],
            |v| v >= 1.0,
        )
        .await;
    assert_eq!(purged, 1.0);
    assert!(s.stored_events(&gone).await.is_empty());
    assert!(s
        .ctx()
        .storage
        .conversation(&cid(&gone))
        .await
        .unwrap()
        .is_none());
    assert!(!s.stored_events(&held).await.is_empty());
    s.wait_metric_of(
        "luukku_retention_held",
        &[("service", "health-chat")],
        |v| v == 1.0,
    )
    .await;
    let (status, report) = call(&s, "GET", "/api/v1/retention", Some(&dpo), None).await;
    assert_eq!(status, 200, "{report}");
    let chat_service = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["service"] == "health-chat")
        .unwrap()
        .clone();
    assert_eq!(
        (chat_service["days"].clone(), chat_service["held"].clone()),
        (json!(0), json!(1))
    );

    // Nobody reads the removed one any more, not even its nurse.
    let history = nurse
        .request(json!({"type": "history", "conversation": gone}), "h-gone")
        .await;
    assert_eq!(history["type"], "error", "{history}");

    // The access log keeps who saw it, and its chain verifies.
    let (status, found) = call(
        &s,
        "GET",
        &format!("/api/v1/access-log?conversation={gone}"),
        Some(&dpo),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(!found["entries"].as_array().unwrap().is_empty(), "{found}");
    let (_, verified) = call(&s, "GET", "/api/v1/access-log/verify", Some(&dpo), None).await;
    assert_eq!(verified["ok"], true, "{verified}");
    s.wait_metric("luukku_access_log_chain_ok", |v| v == 1.0)
        .await;

    // Released, it goes at the next run; the hold's history stays readable, and both acts on
    // the hold are in the access log with the stated reason.
    let (status, body) = call(&s, "DELETE", &hold_path, Some(&dpo), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["in_force"], false);
    s.wait_metric_of(
        "luukku_retention_purged_total",
        &[("service", "health-chat")],
        |v| v >= 2.0,
    )
    .await;
    assert!(s.stored_events(&held).await.is_empty());
    let (status, body) = call(&s, "GET", &hold_path, Some(&dpo), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["holds"][0]["released_by"], "dpo-1", "{body}");
    let (_, found) = call(
        &s,
        "GET",
        &format!("/api/v1/access-log?conversation={held}&professional=dpo-1"),
        Some(&dpo),
        None,
    )
    .await;
    let actions: Vec<(&str, &str)> = found["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["purpose"] == "retention")
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("legal_hold", "complaint 2026/17"),
            ("legal_hold_release", "")
        ],
        "{found}"
    );
}

#[tokio::test]
async fn a_dry_run_reports_what_is_due_and_removes_nothing() {
    let s = TestServer::start_with(purge_at_once(true)).await;
    let mut nurse = s.console("nurse-1").await;
    let c = chat(&s, &mut nurse, "Is the lab open on Saturday?").await;
    close(&mut nurse, &c).await;
    let due = s
        .wait_metric_of("luukku_retention_due", &[("service", "health-chat")], |v| {
            v >= 1.0
        })
        .await;
    assert_eq!(due, 1.0);
    s.wait_metric_of(
        "luukku_retention_runs_total",
        &[("outcome", "dry_run")],
        |v| v >= 2.0,
    )
    .await;
    assert_eq!(
        s.metric_of(
            "luukku_retention_purged_total",
            &[("service", "health-chat")]
        )
        .await,
        0.0
    );
    assert!(!s.stored_events(&c).await.is_empty());
    let (_, report) = call(
        &s,
        "GET",
        "/api/v1/retention",
        Some(&s.token("dpo-1")),
        None,
    )
    .await;
    assert_eq!(report["dry_run"], true, "{report}");
}

#[tokio::test]
async fn retention_requests_without_the_role_or_with_bad_input_are_refused_by_name() {
    let s = TestServer::start().await;
    let dpo = s.token("dpo-1");
    let mut nurse = s.console("nurse-1").await;
    let c = chat(&s, &mut nurse, "Hello").await;
    let path = format!("/api/v1/conversations/{c}/legal-hold");
    let reason = Some(r#"{"reason": "claim"}"#);

    let (status, body) = call(&s, "PUT", &path, None, reason).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (401, json!("unauthorized"))
    );
    let (status, body) = call(&s, "PUT", &path, Some(&s.token("nurse-1")), reason).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("dpo role"),
        "{body}"
    );
    let (status, _) = call(
        &s,
        "GET",
        "/api/v1/retention",
        Some(&s.token("nurse-1")),
        None,
    )
    .await;
    assert_eq!(status, 403);

    for (bad, named) in [
        (r#"{}"#, "reason"),
        (r#"{"reason": "   "}"#, "reason"),
        (r#"{"reason": "a\u0000b"}"#, "control character"),
        (r#"{"reason": "claim", "extra": 1}"#, "extra"),
        ("not json", "not valid"),
    ] {
        let (status, body) = call(&s, "PUT", &path, Some(&dpo), Some(bad)).await;
        assert_eq!(status, 400, "{bad}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(named), "{bad}: {message}");
    }
    let long = json!({"reason": "x".repeat(501)}).to_string();
    let (status, body) = call(&s, "PUT", &path, Some(&dpo), Some(&long)).await;
    assert_eq!(status, 400, "{body}");

    let (status, _) = call(
        &s,
        "PUT",
        "/api/v1/conversations/nope/legal-hold",
        Some(&dpo),
        reason,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(&s, "DELETE", &path, Some(&dpo), None).await;
    assert_eq!(status, 404, "no hold in force yet");
    let (status, _) = call(&s, "PUT", &path, Some(&dpo), reason).await;
    assert_eq!(status, 201);
    let (status, body) = call(&s, "PUT", &path, Some(&dpo), reason).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (409, json!("conflict"))
    );
    // Nothing of the refused requests was stored: one hold.
    let (_, body) = call(&s, "GET", &path, Some(&dpo), None).await;
    assert_eq!(body["holds"].as_array().unwrap().len(), 1, "{body}");

    // A browser releases with a DELETE that has no body and no Content-Length.
    let head = format!(
        "DELETE {path} HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {dpo}\r\nconnection: close\r\n\r\n",
        s.addr
    );
    let mut tcp = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"in_force\":false"), "{answer}");
}

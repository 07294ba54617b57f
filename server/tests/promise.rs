//! A service's reply promise over HTTP: `GET /api/v1/services/{id}/promise` gives the deadline
//! of a contact in the organisation's calendar (Helsinki time, Finnish holidays, closure days),
//! and the services list says which services promise what. Bad input is a 4xx with a JSON
//! error naming the problem.

mod support;

use serde_json::Value;
use support::*;

/// The demo organisation with a non-urgent message service promising 3 working days, and the
/// organisation closed on 28 December 2026.
async fn with_message_service() -> TestServer {
    TestServer::start_with(|c| {
        plain_message_service(c);
        c.organisation.closure_days = vec!["2026-12-28".into()];
    })
    .await
}

/// An identified client (a made-up subject), welcomed.
async fn identified(s: &TestServer) -> Conn {
    let token = s.client_token("demo-subject-1", "Maija Meikäläinen");
    let (c, w) = s
        .client_hello(serde_json::json!({"type": "hello", "token": token}))
        .await;
    assert_eq!(w["identity"]["kind"], "identified");
    c
}

async fn get(s: &TestServer, path: &str) -> (u16, Value) {
    let (status, body) = http_get(s.addr, path).await;
    let v = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    (status, v)
}

#[tokio::test]
async fn the_deadline_of_a_contact_counts_working_days_in_helsinki() {
    let s = with_message_service().await;
    // The example of the issue: Thursday before Easter 2026 → Thursday after, 16:00.
    let (status, v) = get(
        &s,
        "/api/v1/services/nurse-message/promise?at=2026-04-02T10:00:00%2B03:00",
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["service"], "nurse-message");
    assert_eq!(v["working_days"], 3);
    assert_eq!(v["due_at"], "2026-04-09T16:00:00+03:00");
    assert_eq!(v["time_zone"], "Europe/Helsinki");

    // Christmas, then the organisation's own closure day: Wed 23 Dec → Thu 31 Dec.
    let (_, v) = get(
        &s,
        "/api/v1/services/nurse-message/promise?at=2026-12-23T07:00:00Z",
    )
    .await;
    assert_eq!(v["due_at"], "2026-12-31T16:00:00+02:00");

    // An unencoded `+` (a space once decoded) is read as the offset it was.
    let (status, v) = get(
        &s,
        "/api/v1/services/nurse-message/promise?at=2026-04-02T10:00:00+03:00",
    )
    .await;
    assert_eq!(
        (status, v["due_at"].as_str()),
        (200, Some("2026-04-09T16:00:00+03:00"))
    );

    // Without `at`: from now, so later than now.
    let (status, v) = get(&s, "/api/v1/services/nurse-message/promise").await;
    assert_eq!(status, 200);
    let due: jiff::Timestamp = v["due_at"]
        .as_str()
        .expect("due_at")
        .parse()
        .expect("RFC 3339");
    assert!(due > jiff::Timestamp::now());

    // The services list tells the widget which services promise what.
    let (_, list) = get(&s, "/api/v1/services").await;
    let services = list["services"].as_array().expect("services");
    let message = services
        .iter()
        .find(|x| x["id"] == "nurse-message")
        .expect("listed");
    assert_eq!(message["promise"]["working_days"], 3);
    let chat = services
        .iter()
        .find(|x| x["id"] == "health-chat")
        .expect("listed");
    assert!(chat.get("promise").is_none(), "{chat}");
}

#[tokio::test]
async fn bad_requests_get_a_json_error_naming_the_problem() {
    let s = with_message_service().await;
    for (path, status, code) in [
        (
            "/api/v1/services/nurse-message/promise?at=yesterday",
            400,
            "bad_request",
        ),
        (
            "/api/v1/services/nurse-message/promise?at=2026-04-02T10:00:00",
            400,
            "bad_request",
        ),
        ("/api/v1/services/no-such/promise", 404, "not_found"),
        ("/api/v1/services/health-chat/promise", 404, "no_promise"),
    ] {
        let (got, v) = get(&s, path).await;
        assert_eq!(got, status, "{path}: {v}");
        assert_eq!(v["error"]["code"], code, "{path}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{path}: {v}"
        );
    }
}

/// A conversation with a service that promises a reply carries its deadline: in the client's
/// `queued` ("we reply by …"), in the team's inbox and the professional's `assigned`, and
/// after a restart, as stored.
#[tokio::test]
async fn a_conversation_carries_its_reply_deadline_from_start_to_restart() {
    let s = with_message_service().await;
    let promised =
        || async { get(&s, "/api/v1/services/nurse-message/promise").await.1["due_at"].clone() };
    let before = promised().await;
    let mut nurse = s.console("nurse-1").await;
    let mut client = identified(&s).await;
    let q = client.start("nurse-message", "station-a").await;
    let after = promised().await;
    let due = q["due_at"].clone();
    assert!(
        due == before || due == after,
        "queued {due} vs promise {before}/{after}"
    );
    let c = conv(&q);

    // In the team's inbox with its deadline; taken, the nurse's `assigned` carries it.
    let inbox = nurse
        .request(serde_json::json!({"type": "subscribe_inbox"}), "inbox")
        .await;
    let listed = inbox["entries"]
        .as_array()
        .and_then(|es| es.iter().find(|e| e["conversation"] == c.as_str()).cloned())
        .unwrap_or_else(|| panic!("in the inbox: {inbox}"));
    assert_eq!(listed["due_at"], due);
    let assigned = nurse
        .request(
            serde_json::json!({"type": "take", "conversation": c}),
            "take",
        )
        .await;
    assert_eq!(assigned["conversation"], c.as_str());
    assert_eq!(assigned["due_at"], due);
    drop(nurse);

    let s = s.restart().await;
    let mut nurse = s.console("nurse-1").await;
    let inbox = nurse
        .request(serde_json::json!({"type": "subscribe_inbox"}), "inbox")
        .await;
    let listed = inbox["entries"]
        .as_array()
        .and_then(|es| es.iter().find(|e| e["conversation"] == c.as_str()).cloned())
        .unwrap_or_else(|| panic!("in the inbox after the restart: {inbox}"));
    assert_eq!(listed["due_at"], due, "the stored deadline");

    // A live chat has none.
    let (_chat, q) = s.started("health-chat", "station-a").await;
    assert!(q.get("due_at").is_none(), "{q}");
}

/// A non-urgent message is for identified clients: an anonymous one is told to identify, and
/// nothing is stored.
#[tokio::test]
async fn an_anonymous_client_is_told_to_identify_before_a_non_urgent_message() {
    let s = with_message_service().await;
    let mut anonymous = s.client().await;
    let e = anonymous
        .request(
            serde_json::json!({"type": "start", "service": "nurse-message",
                "client_ref": uuid::Uuid::new_v4().to_string()}),
            "start",
        )
        .await;
    assert_eq!(e["type"], "error", "{e}");
    assert_eq!(e["code"], "unauthorized");
    assert!(
        e["message"].as_str().is_some_and(|m| m.contains("identif")),
        "the hint says to identify: {e}"
    );
    assert_eq!(
        s.metric_of(
            "luukku_conversations_started_total",
            &[("service", "nurse-message")]
        )
        .await,
        0.0
    );
    let mut client = identified(&s).await;
    let q = client.start("nurse-message", "station-a").await;
    assert!(q["due_at"].is_string(), "{q}");
}

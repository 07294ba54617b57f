//! A service's reply promise over HTTP: `GET /api/v1/services/{id}/promise` gives the deadline
//! of a contact in the organisation's calendar (Helsinki time, Finnish holidays, closure days),
//! and the services list says which services promise what. Bad input is a 4xx with a JSON
//! error naming the problem.

mod support;

use luukku::organisation::Promise;
use serde_json::Value;
use support::*;

/// The demo organisation with a non-urgent message service promising 3 working days, and the
/// organisation closed on 28 December 2026.
async fn with_message_service() -> TestServer {
    TestServer::start_with(|c| {
        let org = &mut c.organisation;
        let mut s = org.services[0].clone();
        s.id = "nurse-message".into();
        s.channel = "message".into();
        s.opening_hours.clear();
        s.promise = Some(Promise { working_days: 3 });
        org.services.push(s);
        org.closure_days = vec!["2026-12-28".into()];
    })
    .await
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

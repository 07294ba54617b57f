//! End-to-end flows over real WebSockets against the real server.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::*;

/// How long a test listens to make sure something does NOT arrive.
const QUIET: Duration = Duration::from_millis(300);

/// Receives frames until `n` `message` events arrived; returns them in arrival order.
async fn messages(conn: &mut Conn, n: usize) -> Vec<Value> {
    let mut out = Vec::new();
    while out.len() < n {
        let m = conn.recv_type("message").await;
        out.push(m);
    }
    out
}

/// The `queue_snapshot` of `team` that lists `conversation` (or, when `None`, any one).
async fn snapshot_with(conn: &mut Conn, team: &str, conversation: &str) -> Value {
    conn.recv_where(|v| {
        v["type"] == "queue_snapshot"
            && v["team"] == team
            && v["entries"]
                .as_array()
                .is_some_and(|e| e.iter().any(|x| x["conversation"] == conversation))
    })
    .await
    .unwrap_or_else(|| panic!("{conversation} never appeared in {team}'s queue"))
}

#[tokio::test]
async fn anonymous_client_is_auto_assigned_and_both_sides_chat() {
    let s = TestServer::start().await;
    let mut nurse = s.console("nurse-1").await;
    let (mut client, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    assert_eq!(q["team"], "station-a");
    assert!(q["resume_token"].as_str().is_some_and(|t| !t.is_empty()));

    let assigned = nurse.recv_type("assigned").await;
    assert_eq!(assigned["conversation"], c.as_str());
    assert_eq!(assigned["service"], "health-chat");
    assert_eq!(assigned["client"]["identified"], false);
    assert_eq!(assigned["questionnaire"]["duration"], "1-3 days");
    let sys = client
        .recv_where(|v| v["type"] == "system" && v["event"] == "assigned")
        .await
        .expect("assigned event");
    assert_eq!(sys["detail"]["name"], "Nurse One");
    assert!(
        sys["detail"].get("professional").is_none(),
        "client must not see the professional's id"
    );

    let ack = client.say(&c, "I have a fever").await;
    let seq = ack["seq"].as_u64().expect("seq");
    let m = nurse.heard(&c, "I have a fever").await;
    assert_eq!(m["seq"].as_u64(), Some(seq));
    assert_eq!(m["from"]["role"], "client");

    let ack2 = nurse.say(&c, "How high?").await;
    assert_eq!(ack2["seq"].as_u64(), Some(seq + 1));
    let m = client.heard(&c, "How high?").await;
    assert_eq!(m["from"]["name"], "Nurse One");
    assert!(
        m["from"].get("id").is_none(),
        "client must not see the professional's id"
    );
}

#[tokio::test]
async fn one_professional_runs_three_chats_in_parallel_and_the_fourth_waits_for_a_free_place() {
    let s = TestServer::start().await;
    let mut nurse = s.console("nurse-2").await; // station-a, capacity 3
    let mut chats = Vec::new();
    for _ in 0..3 {
        let (client, q) = s.started("health-chat", "station-a").await;
        let c = conv(&q);
        assert_eq!(nurse.assigned().await, c);
        chats.push((client, c));
    }

    for (i, (client, c)) in chats.iter_mut().enumerate() {
        client.say(c, &format!("question {i}")).await;
    }
    let heard = messages(&mut nurse, 3).await;
    for (i, (_, c)) in chats.iter().enumerate() {
        let m = heard
            .iter()
            .find(|m| m["body"] == format!("question {i}").as_str())
            .expect("every question reaches the nurse");
        assert_eq!(
            m["conversation"],
            c.as_str(),
            "question {i} is tagged with its own conversation"
        );
    }

    for (i, (_, c)) in chats.iter().enumerate() {
        nurse.say(c, &format!("answer {i}")).await;
    }
    for (i, (client, c)) in chats.iter_mut().enumerate() {
        let m = client.heard(c, &format!("answer {i}")).await;
        assert_eq!(m["conversation"], c.as_str());
    }
    for (i, (client, c)) in chats.iter_mut().enumerate() {
        client.drain(Duration::from_millis(100)).await;
        for f in &client.seen {
            if let Some(other) = f.get("conversation") {
                assert_eq!(
                    other,
                    c.as_str(),
                    "client {i} got a frame of another conversation: {f}"
                );
            }
            if let Some(body) = f["body"].as_str() {
                assert!(
                    body == format!("question {i}") || body == format!("answer {i}"),
                    "client {i} saw {body:?}"
                );
            }
        }
    }

    // The nurse is at capacity: the 4th chat waits (it was still first in line after the
    // router's dispatch ran) and is not offered.
    let (mut fourth, q4) = s.started("health-chat", "station-a").await;
    let c4 = conv(&q4);
    assert_eq!(q4["position"], 1);
    let status = nurse.request(json!({"type": "status"}), "st").await;
    assert_eq!(status["active"], 3);
    let extra = nurse.drain(QUIET).await;
    assert!(
        !extra.iter().any(|f| f["type"] == "assigned"),
        "a 4th chat was given to a full nurse"
    );

    // Closing one frees a place and the waiting chat is assigned at once.
    let closed = nurse
        .request(
            json!({"type": "close", "conversation": chats[0].1, "summary": "done"}),
            "close-0",
        )
        .await;
    assert_eq!(closed["type"], "ack");
    assert_eq!(nurse.assigned().await, c4);
    let sys = fourth.system_event(&c4, "assigned").await;
    assert_eq!(sys["detail"]["name"], "Nurse Two");
    fourth.say(&c4, "finally").await;
    nurse.heard(&c4, "finally").await;
}

#[tokio::test]
async fn manual_team_waits_for_accept_by_team_or_by_conversation() {
    let s = TestServer::start().await;
    let mut n3 = s.console("nurse-3").await; // station-b (manual), capacity 3
    let snap = n3
        .request(
            json!({"type": "subscribe_queue", "teams": ["station-b"]}),
            "sub",
        )
        .await;
    assert_eq!(snap["type"], "queue_snapshot");
    assert_eq!(snap["entries"], json!([]));

    let (mut c1, q1) = s.started("stations-chat", "station-b").await;
    let id1 = conv(&q1);
    assert_eq!(q1["team"], "station-b");
    assert_eq!(
        q1["position"], 1,
        "manual routing: nobody is given the chat"
    );
    let snap = snapshot_with(&mut n3, "station-b", &id1).await;
    let entry = &snap["entries"][0];
    assert_eq!(entry["service"], "stations-chat");
    assert_eq!(entry["identified"], false);
    assert!(entry["waiting_s"].as_u64().is_some());
    let extra = n3.drain(QUIET).await;
    assert!(
        !extra.iter().any(|f| f["type"] == "assigned"),
        "a manual team's chat was auto-assigned"
    );

    let a = n3
        .request(json!({"type": "accept", "team": "station-b"}), "a1")
        .await;
    assert_eq!(a["type"], "assigned");
    assert_eq!(a["conversation"], id1.as_str());
    assert_eq!(a["service"], "stations-chat");
    let sys = c1.system_event(&id1, "assigned").await;
    assert_eq!(sys["detail"]["name"], "Nurse Three");

    let (_c2, q2) = s.started("stations-chat", "station-b").await;
    let id2 = conv(&q2);
    snapshot_with(&mut n3, "station-b", &id2).await;
    let a = n3
        .request(json!({"type": "accept", "conversation": id2}), "a2")
        .await;
    assert_eq!(a["type"], "assigned");
    assert_eq!(a["conversation"], id2.as_str());

    let e = n3
        .request(json!({"type": "accept", "team": "station-b"}), "a-empty")
        .await;
    assert_eq!(e["type"], "error");
    assert_eq!(e["code"], "not_found");

    let e = n3
        .request(json!({"type": "accept", "team": "station-a"}), "a-other")
        .await;
    assert_eq!(
        e["code"], "forbidden",
        "accepting from a team one is not in"
    );

    let st = n3
        .request(json!({"type": "status", "capacity": 2}), "cap")
        .await;
    assert_eq!(st["capacity"], 2);
    assert_eq!(st["active"], 2);
    let (_c3, q3) = s.started("stations-chat", "station-b").await;
    let id3 = conv(&q3);
    let e = n3
        .request(json!({"type": "accept", "conversation": id3}), "a3")
        .await;
    assert_eq!(e["type"], "error");
    assert_eq!(e["code"], "capacity_full");
    let e = n3
        .request(json!({"type": "accept", "team": "station-b"}), "a4")
        .await;
    assert_eq!(e["code"], "capacity_full");

    c1.say(&id1, "are you there?").await;
    n3.heard(&id1, "are you there?").await;
}

#[tokio::test]
async fn transfer_to_another_team_moves_the_chat_with_its_history() {
    let s = TestServer::start().await;
    let mut n1 = s.console("nurse-1").await;
    let mut n3 = s.console("nurse-3").await;
    n3.request(
        json!({"type": "subscribe_queue", "teams": ["station-b"]}),
        "sub",
    )
    .await;
    let (mut client, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    assert_eq!(n1.assigned().await, c);
    client.say(&c, "I need a doctor's appointment").await;
    n1.heard(&c, "I need a doctor's appointment").await;
    n1.say(&c, "I will pass you to station B").await;
    client.heard(&c, "I will pass you to station B").await;

    let r = n1.request(json!({"type": "transfer", "conversation": c, "to_team": "station-b", "note": "Needs a doctor"}), "t1").await;
    assert_eq!(r["type"], "released");
    assert_eq!(r["conversation"], c.as_str());
    assert_eq!(r["reason"], "transferred");
    let sys = client.system_event(&c, "transferred").await;
    assert_eq!(sys["detail"]["team"], "station-b");
    assert!(
        sys["detail"].get("note").is_none(),
        "the transfer note is internal"
    );

    let snap = snapshot_with(&mut n3, "station-b", &c).await;
    let entry = snap["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["conversation"] == c.as_str())
        .expect("entry")
        .clone();
    assert_eq!(entry["priority"], 1, "transferred chats are served first");

    let a = n3
        .request(json!({"type": "accept", "conversation": c}), "acc")
        .await;
    assert_eq!(a["type"], "assigned");
    assert_eq!(a["team"], "station-b");
    let sys = client.system_event(&c, "assigned").await;
    assert_eq!(sys["detail"]["name"], "Nurse Three");

    let h = n3
        .request(json!({"type": "history", "conversation": c}), "h")
        .await;
    assert_eq!(h["type"], "history");
    let events = h["events"].as_array().expect("events");
    let seqs: Vec<u64> = events.iter().filter_map(|e| e["seq"].as_u64()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "history is gap-free and ascending"
    );
    let bodies: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "message")
        .filter_map(|e| e["body"].as_str())
        .collect();
    assert_eq!(
        bodies,
        [
            "I need a doctor's appointment",
            "I will pass you to station B"
        ]
    );
    let transferred = events
        .iter()
        .find(|e| e["event"] == "transferred")
        .expect("transferred event");
    assert_eq!(
        transferred["detail"]["note"], "Needs a doctor",
        "professionals see the note"
    );

    let e = n1.request(json!({"type": "send", "conversation": c, "client_msg_id": uuid::Uuid::new_v4().to_string(), "body": "still there?"}), "late").await;
    assert_eq!(e["type"], "error");
    assert_eq!(e["code"], "forbidden");

    client.say(&c, "thank you").await;
    n3.heard(&c, "thank you").await;
    n3.say(&c, "Which day suits you?").await;
    client.heard(&c, "Which day suits you?").await;
    let rest = n1.drain(QUIET).await;
    assert!(
        !rest
            .iter()
            .any(|f| f["conversation"] == c.as_str() && f["type"] != "error"),
        "the old nurse still gets the chat: {rest:?}"
    );
}

#[tokio::test]
async fn transfer_to_a_named_professional_waits_for_that_professional_only() {
    let s = TestServer::start().await;
    let mut n1 = s.console("nurse-1").await;
    let (mut client, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    assert_eq!(n1.assigned().await, c);
    let mut n4 = s.console("nurse-4").await; // station-a too, free and available

    let r = n1
        .request(
            json!({"type": "transfer", "conversation": c, "to_professional": "nurse-2"}),
            "t",
        )
        .await;
    assert_eq!(r["type"], "released");
    client.system_event(&c, "transferred").await;

    // nurse-2 is offline: the chat waits reserved for her, and nurse-4 is not given it.
    let frames = n4.drain(QUIET).await;
    assert!(
        !frames.iter().any(|f| f["type"] == "assigned"),
        "a reserved chat went to someone else"
    );
    let e = n4
        .request(json!({"type": "accept", "conversation": c}), "steal")
        .await;
    assert_eq!(e["code"], "forbidden");
    let e = n4
        .request(json!({"type": "accept", "team": "station-a"}), "next")
        .await;
    assert_eq!(
        e["code"], "not_found",
        "a reserved chat is not the next one for others"
    );

    let mut n2 = s.console("nurse-2").await;
    assert_eq!(n2.assigned().await, c);
    let sys = client.system_event(&c, "assigned").await;
    assert_eq!(sys["detail"]["name"], "Nurse Two");
    n2.say(&c, "Hello, this is Nurse Two").await;
    client.heard(&c, "Hello, this is Nurse Two").await;
}

#[tokio::test]
async fn close_sends_the_closing_message_takes_feedback_and_reopen_resumes_the_chat() {
    let s = TestServer::start().await;
    let mut nurse = s.console("nurse-1").await;
    let (mut client, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    assert_eq!(nurse.assigned().await, c);
    client.say(&c, "Can I renew my prescription?").await;
    nurse.say(&c, "Renewed.").await;

    let ack = nurse
        .request(
            json!({"type": "close", "conversation": c, "summary": "Prescription renewed"}),
            "cl",
        )
        .await;
    assert_eq!(ack["type"], "ack");
    let closed_seq = ack["seq"]
        .as_u64()
        .expect("close is acked with the event's seq");
    let released = nurse.recv_type("released").await;
    assert_eq!(released["reason"], "closed");

    let sys = client.system_event(&c, "closed").await;
    assert_eq!(sys["seq"].as_u64(), Some(closed_seq));
    assert!(
        sys["detail"].get("summary").is_none(),
        "the summary is internal"
    );
    let closed = client.recv_type("closed").await;
    assert_eq!(closed["conversation"], c.as_str());
    assert_eq!(
        closed["message"],
        s.ctx().config.organisation.closing_message(None).as_str()
    );

    let e = client.request(json!({"type": "send", "conversation": c, "client_msg_id": uuid::Uuid::new_v4().to_string(), "body": "one more thing"}), "late").await;
    assert_eq!(e["type"], "error");
    assert_eq!(e["code"], "conversation_closed");

    let e = client
        .request(
            json!({"type": "feedback", "conversation": c, "rating": 9}),
            "f9",
        )
        .await;
    assert_eq!(e["type"], "error");
    assert_eq!(e["code"], "bad_frame");
    let ack = client.request(json!({"type": "feedback", "conversation": c, "rating": 5, "comment": "Quick and friendly"}), "f5").await;
    assert_eq!(ack["type"], "ack");
    assert!(ack.get("seq").is_none(), "feedback is not an event");
    let stored = s
        .ctx()
        .storage
        .feedback(&cid(&c))
        .await
        .expect("storage reads");
    assert_eq!(stored, Some((5, Some("Quick and friendly".to_owned()))));
    // A retry (the ack was lost, or a double click) is acknowledged; the first rating stands.
    let again = client
        .request(
            json!({"type": "feedback", "conversation": c, "rating": 1}),
            "f-again",
        )
        .await;
    assert_eq!(
        again["type"], "ack",
        "a repeated rating must not look like a server failure: {again}"
    );
    let stored = s
        .ctx()
        .storage
        .feedback(&cid(&c))
        .await
        .expect("storage reads");
    assert_eq!(stored, Some((5, Some("Quick and friendly".to_owned()))));

    let mut other_team = s.console("nurse-3").await;
    let e = other_team
        .request(json!({"type": "reopen", "conversation": c}), "ro-b")
        .await;
    assert_eq!(
        e["code"], "not_found",
        "only the conversation's team may reopen it, and others cannot tell it exists"
    );

    let a = nurse
        .request(json!({"type": "reopen", "conversation": c}), "ro")
        .await;
    assert_eq!(a["type"], "assigned");
    assert_eq!(a["conversation"], c.as_str());
    assert_eq!(a["status"], "in_progress");
    let sys = client.system_event(&c, "reopened").await;
    assert_eq!(sys["detail"]["name"], "Nurse One");
    client.say(&c, "Thanks for reopening").await;
    nurse.heard(&c, "Thanks for reopening").await;
    nurse.say(&c, "You're welcome").await;
    client.heard(&c, "You're welcome").await;
}

#[tokio::test]
async fn queue_positions_move_up_as_chats_are_assigned() {
    let s = TestServer::start_with(|c| {
        for p in &mut c.organisation.professionals {
            if p.id.as_str() == "nurse-1" {
                p.capacity = 1;
            }
        }
    })
    .await;
    let mut waiting = Vec::new();
    for position in 1..=3 {
        let (client, q) = s.started("health-chat", "station-a").await;
        assert_eq!(q["position"], position);
        assert!(q["estimated_wait_s"].as_u64().is_some());
        waiting.push((client, conv(&q)));
    }
    let mut nurse = s.console("nurse-1").await;
    assert_eq!(nurse.assigned().await, waiting[0].1);
    let c0 = waiting[0].1.clone();
    waiting[0].0.system_event(&c0, "assigned").await;

    let (second, c2) = &mut waiting[1];
    let q2 = second
        .recv_where(|v| v["type"] == "queue" && v["conversation"] == c2.as_str())
        .await
        .expect("queue frame");
    assert_eq!(q2["position"], 1);
    let (third, c3) = &mut waiting[2];
    let q3 = third
        .recv_where(|v| v["type"] == "queue" && v["conversation"] == c3.as_str())
        .await
        .expect("queue frame");
    assert_eq!(q3["position"], 2);
    assert!(q2["estimated_wait_s"].as_u64() <= q3["estimated_wait_s"].as_u64());
}

#[tokio::test]
async fn msgpack_client_and_console_run_a_whole_chat() {
    let s = TestServer::start().await;
    let mut nurse = Conn::connect(&s.ws_url("console"), true).await;
    nurse
        .send(json!({"type": "hello", "token": s.token("nurse-1")}))
        .await;
    let w = nurse.recv_type("welcome").await;
    assert_eq!(w["professional"]["id"], "nurse-1");

    let mut client = Conn::connect(&s.ws_url("client"), true).await;
    client.send(json!({"type": "hello"})).await;
    client.recv_type("welcome").await;
    let q = client.start("health-chat", "station-a").await;
    let c = conv(&q);
    assert_eq!(nurse.assigned().await, c);

    let ack = client.say(&c, "binary hello").await;
    assert!(ack["seq"].as_u64().is_some());
    nurse.heard(&c, "binary hello").await;
    nurse.say(&c, "binary reply").await;
    client.heard(&c, "binary reply").await;
    nurse
        .request(json!({"type": "close", "conversation": c}), "cl")
        .await;
    let closed = client.recv_type("closed").await;
    assert_eq!(closed["conversation"], c.as_str());
    let ack = client
        .request(
            json!({"type": "feedback", "conversation": c, "rating": 4}),
            "fb",
        )
        .await;
    assert_eq!(ack["type"], "ack");
    assert_eq!(client.codec, console_protocol::Codec::MessagePack);
}

#[tokio::test]
async fn http_health_services_and_dev_endpoints_in_demo_mode() {
    let s = TestServer::start().await;
    assert_eq!(http_get(s.addr, "/healthz").await.0, 200);
    assert_eq!(http_get(s.addr, "/readyz").await.0, 200);

    let (status, body) = http_get(s.addr, "/api/v1/services").await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).expect("json");
    let services = v["services"].as_array().expect("services");
    let ids: Vec<&str> = services.iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(
        ids,
        [
            "health-chat",
            "social-chat",
            "stations-chat",
            "nurse-message",
            "sms-chat",
            "contact-form"
        ]
    );
    let health = &services[0];
    assert_eq!(health["teams"], json!(["station-a"]));
    assert_eq!(health["open_now"], true);
    assert!(health["topics"]
        .as_array()
        .expect("topics")
        .iter()
        .any(|t| t["id"] == "medication" && t["name"].is_string()));
    assert!(health["questionnaire"].is_object());
    assert_eq!(services[2]["teams"], json!(["station-a", "station-b"]));

    let (status, body) = http_get(s.addr, "/api/v1/dev/professionals").await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).expect("json");
    let n4 = v["professionals"]
        .as_array()
        .expect("list")
        .iter()
        .find(|p| p["id"] == "nurse-4")
        .expect("nurse-4")
        .clone();
    assert_eq!(n4["name"], "Nurse Four");
    assert_eq!(n4["teams"], json!(["station-a", "station-b"]));

    let (status, body) = http(
        s.addr,
        "POST",
        "/api/v1/dev/token",
        Some(r#"{"professional":"nurse-3"}"#),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    let token = serde_json::from_str::<Value>(&body).expect("json")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let mut console = Conn::connect(&s.ws_url("console"), false).await;
    console.send(json!({"type": "hello", "token": token})).await;
    let w = console.recv_type("welcome").await;
    assert_eq!(w["professional"]["id"], "nurse-3");
    assert_eq!(w["professional"]["teams"], json!(["station-b"]));
}

#[tokio::test]
async fn dev_endpoints_are_gone_outside_demo_mode() {
    let s = TestServer::start_with(|c| {
        c.demo = false;
        c.auth.jwt_secret = Some("a-real-secret-of-at-least-32-characters!".into());
    })
    .await;
    for (method, path, body) in [
        ("GET", "/api/v1/dev/professionals", None),
        (
            "POST",
            "/api/v1/dev/token",
            Some(r#"{"professional":"nurse-1"}"#),
        ),
    ] {
        let (status, body) = http(s.addr, method, path, body, &[]).await;
        assert_eq!(status, 404, "{method} {path}");
        let v: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{path}: body {body:?} is not JSON: {e}"));
        assert_eq!(v["error"]["code"], "not_found");
    }
    assert_eq!(http_get(s.addr, "/healthz").await.0, 200);
    // The configured secret still opens a console.
    let mut nurse = s.console("nurse-1").await;
    nurse.request(json!({"type": "status"}), "st").await;
}

#[tokio::test]
async fn a_service_outside_its_opening_hours_refuses_start() {
    let s = TestServer::start_with(|c| {
        let health = c
            .organisation
            .services
            .iter_mut()
            .find(|s| s.id.as_str() == "health-chat")
            .expect("health-chat");
        // Open from midnight to midnight: never.
        health.opening_hours = vec![luukku::organisation::OpeningHours {
            days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                .map(String::from)
                .to_vec(),
            open: "00:00".into(),
            close: "00:00".into(),
        }];
    })
    .await;
    let (_, body) = http_get(s.addr, "/api/v1/services").await;
    let v: Value = serde_json::from_str(&body).expect("json");
    let open: Vec<(String, bool)> = v["services"]
        .as_array()
        .expect("services")
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap_or("").to_owned(),
                s["open_now"] == true,
            )
        })
        .collect();
    assert!(open.contains(&("health-chat".into(), false)));
    assert!(open.contains(&("social-chat".into(), true)));

    let mut client = s.client().await;
    let e = client
        .request(json!({"type": "start", "service": "health-chat", "team": "station-a", "questionnaire": {"duration": "1-3 days"}}), "st")
        .await;
    assert_eq!(e["type"], "error");
    assert_eq!(e["code"], "service_closed");
    // Another service of the same organisation is open.
    client.start("social-chat", "social").await;
}

#[tokio::test]
async fn reopening_a_chat_that_is_still_open_changes_nothing() {
    let s = TestServer::start_with(|c| {
        for p in &mut c.organisation.professionals {
            if p.id.as_str() == "nurse-1" {
                p.capacity = 2;
            }
        }
    })
    .await;
    let mut nurse = s.console("nurse-1").await;
    let (mut client, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    assert_eq!(nurse.assigned().await, c);

    // A double click on "reopen", or a console that raced with the client.
    let e = nurse
        .request(json!({"type": "reopen", "conversation": c}), "ro")
        .await;
    assert_eq!(e["type"], "error");
    assert_eq!(e["code"], "bad_frame");
    let st = nurse.request(json!({"type": "status"}), "st").await;
    assert_eq!(st["active"], 1, "the nurse still holds the chat");
    let (_, q2) = s.started("health-chat", "station-a").await;
    assert_eq!(nurse.assigned().await, conv(&q2));
    let (_, q3) = s.started("health-chat", "station-a").await;
    assert_eq!(q3["position"], 1, "a full nurse is not given a third chat");
    let extra = nurse.drain(QUIET).await;
    assert!(
        !extra.iter().any(|f| f["type"] == "assigned"),
        "a full nurse was given another chat"
    );
    nurse.say(&c, "still here").await;
    client.heard(&c, "still here").await;
}

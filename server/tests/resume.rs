//! Nothing acknowledged is lost: idempotent retries, resume after a dropped connection or a
//! server restart, and the professional's grace period.

mod support;

use serde_json::json;
use std::time::Duration;
use support::*;

/// How long a test listens to make sure something does NOT arrive.
const QUIET: Duration = Duration::from_millis(300);

/// The seqs of the conversation events (`message`, `note`, `system`) of `conversation` that
/// `conn` has received so far, in arrival order.
fn event_seqs(conn: &Conn, conversation: &str) -> Vec<u64> {
    conn.seen
        .iter()
        .filter(|f| {
            matches!(f["type"].as_str(), Some("message" | "note" | "system"))
                && f["conversation"] == conversation
        })
        .filter_map(|f| f["seq"].as_u64())
        .collect()
}

/// Waits until `conn` has received the event with `seq` in `conversation`.
async fn until_seq(conn: &mut Conn, conversation: &str, seq: u64) {
    if event_seqs(conn, conversation).contains(&seq) {
        return;
    }
    conn.recv_where(|f| {
        f["conversation"] == conversation && f["seq"].as_u64() == Some(seq) && f["type"] != "ack"
    })
    .await
    .unwrap_or_else(|| panic!("event {seq} of {conversation} never arrived"));
}

/// A chat of an anonymous client with nurse-1: (client, nurse, conversation, resume token).
async fn chat(s: &TestServer) -> (Conn, Conn, String, String) {
    let nurse = s.console("nurse-1").await;
    let (client, q) = s.started("health-chat", "station-a").await;
    let mut nurse = nurse;
    let c = conv(&q);
    assert_eq!(nurse.assigned().await, c);
    let token = q["resume_token"].as_str().expect("resume token").to_owned();
    (client, nurse, c, token)
}

async fn client_gone(s: &TestServer) {
    let v = s
        .wait_metric_of("luukku_connections", &[("endpoint", "client")], |v| {
            v == 0.0
        })
        .await;
    assert_eq!(v, 0.0, "the server did not notice the client leave");
}

#[tokio::test]
async fn a_resent_message_is_stored_once_and_acked_alike_even_after_a_restart() {
    let s = TestServer::start().await;
    let (mut client, mut nurse, c, token) = chat(&s).await;
    let id = uuid::Uuid::new_v4().to_string();
    let first = client.say_as(&c, &id, "only once").await;
    let again = client.say_as(&c, &id, "only once").await;
    assert_eq!(first["seq"], again["seq"]);
    assert_eq!(first["at"], again["at"]);

    // Two copies back to back, the second while the first may still be in flight.
    let id2 = uuid::Uuid::new_v4().to_string();
    let frame =
        json!({"type": "send", "conversation": c, "client_msg_id": id2, "body": "twice in a row"});
    client.send(frame.clone()).await;
    client.send(frame).await;
    let a = client
        .recv_where(|v| v["type"] == "ack" && v["client_msg_id"] == id2.as_str())
        .await
        .expect("ack");
    let b = client
        .recv_where(|v| v["type"] == "ack" && v["client_msg_id"] == id2.as_str())
        .await
        .expect("second ack");
    assert_eq!(a["seq"], b["seq"]);
    assert_eq!(a["at"], b["at"]);

    nurse.heard(&c, "only once").await;
    nurse.heard(&c, "twice in a row").await;
    nurse.drain(QUIET).await;
    for body in ["only once", "twice in a row"] {
        let delivered = nurse
            .seen
            .iter()
            .filter(|f| f["type"] == "message" && f["body"] == body)
            .count();
        assert_eq!(delivered, 1, "{body:?} delivered {delivered} times");
    }
    let stored = s.stored_events(&c).await;
    assert_eq!(
        stored
            .iter()
            .filter(|e| e["client_msg_id"] == id.as_str())
            .count(),
        1
    );
    assert_eq!(
        stored
            .iter()
            .filter(|e| e["client_msg_id"] == id2.as_str())
            .count(),
        1
    );

    drop((client, nurse));
    let s = s.restart().await;
    let (mut client, _) = s.client_hello(json!({"type": "hello", "resume": [{"conversation": c, "resume_token": token, "after_seq": b["seq"]}]})).await;
    let after_restart = client.say_as(&c, &id, "only once").await;
    assert_eq!(after_restart["seq"], first["seq"]);
    assert_eq!(after_restart["at"], first["at"]);
    let fresh = client.say(&c, "a new message").await;
    assert_eq!(
        fresh["seq"].as_u64(),
        b["seq"].as_u64().map(|s| s + 1),
        "nothing was stored for the resend"
    );
    let stored = s.stored_events(&c).await;
    assert_eq!(
        stored
            .iter()
            .filter(|e| e["client_msg_id"] == id.as_str())
            .count(),
        1
    );
}

#[tokio::test]
async fn a_retried_start_returns_the_same_conversation_and_resume_token() {
    let s = TestServer::start().await;
    let client_ref = uuid::Uuid::new_v4().to_string();
    let start = json!({"type": "start", "service": "health-chat", "team": "station-a", "client_ref": client_ref, "questionnaire": {"duration": "Over 3 days"}});
    let mut client = s.client().await;
    let q1 = client.request(start.clone(), "s1").await;
    assert_eq!(q1["type"], "queued");
    let q2 = client.request(start.clone(), "s2").await;
    assert_eq!(q2["type"], "queued");
    assert_eq!(q2["conversation"], q1["conversation"]);
    assert_eq!(q2["resume_token"], q1["resume_token"]);
    assert_eq!(q2["team"], q1["team"]);
    assert_eq!(q2["position"], 1, "the retry did not queue a second chat");

    // The retry after a dropped connection (the first answer was lost).
    drop(client);
    let mut again = s.client().await;
    let q3 = again.request(start, "s3").await;
    assert_eq!(q3["conversation"], q1["conversation"]);
    assert_eq!(q3["resume_token"], q1["resume_token"]);

    let c = conv(&q1);
    let mut nurse = s.console("nurse-1").await;
    assert_eq!(nurse.assigned().await, c);
    let extra = nurse.drain(QUIET).await;
    assert!(
        !extra.iter().any(|f| f["type"] == "assigned"),
        "a retried start created a second chat"
    );
    assert_eq!(
        s.metric_of("luukku_conversations_started_total", &[]).await,
        1.0
    );
    again.system_event(&c, "assigned").await;
}

#[tokio::test]
async fn a_client_resumes_after_a_dropped_connection_without_gaps_or_duplicates() {
    let s = TestServer::start().await;
    let (mut client, mut nurse, c, token) = chat(&s).await;
    client.say(&c, "hello").await;
    nurse.heard(&c, "hello").await;
    let seen = nurse.say(&c, "hi, how can I help?").await["seq"]
        .as_u64()
        .expect("seq");
    until_seq(&mut client, &c, seen).await;
    drop(client);
    client_gone(&s).await;

    for i in 1..=3 {
        nurse.say(&c, &format!("while you were away {i}")).await;
    }
    let (mut back, w) = s.client_hello(json!({"type": "hello", "resume": [{"conversation": c, "resume_token": token, "after_seq": seen}]})).await;
    assert_eq!(
        w["conversations"],
        json!([{"conversation": c, "status": "in_progress", "last_seq": seen + 3}])
    );
    until_seq(&mut back, &c, seen + 3).await;
    let live = nurse.say(&c, "are you back?").await["seq"]
        .as_u64()
        .expect("seq");
    assert_eq!(live, seen + 4);
    let m = back.heard(&c, "are you back?").await;
    assert_eq!(m["seq"].as_u64(), Some(live));
    back.drain(Duration::from_millis(100)).await;

    assert_eq!(
        event_seqs(&back, &c),
        (seen + 1..=seen + 4).collect::<Vec<_>>(),
        "every missed event exactly once, in order"
    );
    let bodies: Vec<&str> = back
        .seen
        .iter()
        .filter(|f| f["type"] == "message")
        .filter_map(|f| f["body"].as_str())
        .collect();
    assert_eq!(
        bodies,
        [
            "while you were away 1",
            "while you were away 2",
            "while you were away 3",
            "are you back?"
        ]
    );
    back.say(&c, "yes").await;
    nurse.heard(&c, "yes").await;
}

#[tokio::test]
async fn a_wrong_resume_token_refuses_only_that_conversation() {
    let s = TestServer::start().await;
    let mut nurse = s.console("nurse-1").await;
    let mut client = s.client().await;
    let q1 = client.start("health-chat", "station-a").await;
    let q2 = client.start("health-chat", "station-a").await;
    let (c1, c2) = (conv(&q1), conv(&q2));
    nurse.assigned().await;
    nurse.assigned().await;
    drop(client);
    client_gone(&s).await;
    nurse.say(&c1, "for the first chat").await;
    nurse.say(&c2, "for the second chat").await;

    let (mut back, w) = s
        .client_hello(json!({"type": "hello", "req": "h", "resume": [
            {"conversation": c1, "resume_token": q1["resume_token"], "after_seq": 0},
            {"conversation": c2, "resume_token": q1["resume_token"], "after_seq": 0},
            {"conversation": "no-such-conversation", "resume_token": "guess", "after_seq": 0},
        ]}))
        .await;
    let listed: Vec<&str> = w["conversations"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|x| x["conversation"].as_str())
        .collect();
    assert_eq!(listed, [c1.as_str()]);
    let e2 = back
        .recv_where(|f| f["type"] == "error" && f["conversation"] == c2.as_str())
        .await
        .expect("error for c2");
    assert_eq!(e2["code"], "forbidden");
    let e3 = back
        .recv_where(|f| f["type"] == "error" && f["conversation"] == "no-such-conversation")
        .await
        .expect("error for the unknown one");
    assert_eq!(
        e3["code"], "forbidden",
        "an unknown conversation looks exactly like a foreign one"
    );
    assert_eq!(e3["message"], e2["message"]);

    back.heard(&c1, "for the first chat").await;
    nurse.say(&c2, "second chat again").await;
    nurse.say(&c1, "first chat again").await;
    back.heard(&c1, "first chat again").await;
    back.drain(QUIET).await;
    assert!(
        !back
            .seen
            .iter()
            .any(|f| f["conversation"] == c2.as_str() && f["type"] != "error"),
        "frames of the refused conversation arrived"
    );
    let e = back.request(json!({"type": "send", "conversation": c2, "client_msg_id": uuid::Uuid::new_v4().to_string(), "body": "let me in"}), "x").await;
    assert_eq!(e["code"], "forbidden");
}

#[tokio::test]
async fn a_professional_reconnects_within_the_grace_period_and_resumes() {
    let s = TestServer::start().await;
    let (mut client, mut nurse, c, _) = chat(&s).await;
    client.say(&c, "one").await;
    let seen = nurse.heard(&c, "one").await["seq"].as_u64().expect("seq");
    drop(nurse);
    let v = s
        .wait_metric_of("luukku_connections", &[("endpoint", "console")], |v| {
            v == 0.0
        })
        .await;
    assert_eq!(v, 0.0);
    client.say(&c, "two").await;
    client.say(&c, "three").await;

    let (mut nurse, w) = s
        .console_hello(
            "nurse-1",
            json!({"resume": [{"conversation": c, "after_seq": seen}]}),
        )
        .await;
    let summary = w["conversations"]
        .as_array()
        .expect("list")
        .iter()
        .find(|x| x["conversation"] == c.as_str())
        .expect("the nurse still holds the chat")
        .clone();
    assert_eq!(summary["status"], "in_progress");
    assert_eq!(summary["last_seq"].as_u64(), Some(seen + 2));
    until_seq(&mut nurse, &c, seen + 2).await;
    let live = client.say(&c, "four").await["seq"].as_u64().expect("seq");
    nurse.heard(&c, "four").await;
    nurse.drain(Duration::from_millis(100)).await;
    assert_eq!(
        event_seqs(&nurse, &c),
        (seen + 1..=live).collect::<Vec<_>>()
    );
    let bodies: Vec<&str> = nurse
        .seen
        .iter()
        .filter(|f| f["type"] == "message")
        .filter_map(|f| f["body"].as_str())
        .collect();
    assert_eq!(bodies, ["two", "three", "four"]);
    nurse.say(&c, "sorry, my connection dropped").await;
    client.heard(&c, "sorry, my connection dropped").await;
}

#[tokio::test]
async fn a_restart_loses_nothing_that_was_acknowledged() {
    let s = TestServer::start().await;
    let (mut client, mut nurse, c, token) = chat(&s).await;
    let mut acked = Vec::new();
    for i in 0..5 {
        let body = format!("acked message {i}");
        let seq = client.say(&c, &body).await["seq"].as_u64().expect("seq");
        acked.push((seq, body));
    }
    let seq = nurse.say(&c, "acked reply").await["seq"]
        .as_u64()
        .expect("seq");
    acked.push((seq, "acked reply".to_owned()));
    drop((client, nurse));

    let s = s.restart().await;
    let (mut client, w) = s.client_hello(json!({"type": "hello", "resume": [{"conversation": c, "resume_token": token, "after_seq": 0}]})).await;
    let last = w["conversations"][0]["last_seq"]
        .as_u64()
        .expect("last_seq");
    assert_eq!(w["conversations"][0]["status"], "in_progress");
    assert_eq!(last, seq);
    until_seq(&mut client, &c, last).await;
    assert_eq!(
        event_seqs(&client, &c),
        (1..=last).collect::<Vec<_>>(),
        "the whole conversation, in order"
    );
    for (seq, body) in &acked {
        let m = client
            .seen
            .iter()
            .find(|f| f["type"] == "message" && f["seq"].as_u64() == Some(*seq))
            .unwrap_or_else(|| panic!("acked {seq} lost"));
        assert_eq!(m["body"], body.as_str());
    }

    let (mut nurse, w) = s.console_hello("nurse-1", json!({})).await;
    let listed: Vec<&str> = w["conversations"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|x| x["conversation"].as_str())
        .collect();
    assert_eq!(
        listed,
        [c.as_str()],
        "the nurse still holds the conversation"
    );
    let after = nurse.say(&c, "still here after the restart").await["seq"]
        .as_u64()
        .expect("seq");
    assert_eq!(after, last + 1);
    client.heard(&c, "still here after the restart").await;
    client.say(&c, "great").await;
    nurse.heard(&c, "great").await;
}

#[tokio::test]
async fn after_the_grace_period_the_chat_is_requeued_and_given_to_another_nurse() {
    let s = TestServer::start_with(|c| c.professional_grace = Duration::from_secs(1)).await;
    let (mut client, nurse, c, _) = chat(&s).await;
    client.say(&c, "hello?").await;
    let mut other = s.console("nurse-2").await;
    drop(nurse);

    let requeued = client
        .recv_where(|f| {
            f["type"] == "system"
                && f["event"] == "queued"
                && f["detail"]["reason"] == "professional_disconnected"
        })
        .await
        .expect("the client is told the chat is queued again");
    assert_eq!(requeued["detail"]["team"], "station-a");
    assert_eq!(other.assigned().await, c);
    let sys = client.system_event(&c, "assigned").await;
    assert_eq!(sys["detail"]["name"], "Nurse Two");
    assert!(sys["seq"].as_u64() > requeued["seq"].as_u64());
    other
        .say(&c, "Nurse Two here, I can see your message")
        .await;
    client
        .heard(&c, "Nurse Two here, I can see your message")
        .await;

    let (_, w) = s.console_hello("nurse-1", json!({})).await;
    assert_eq!(
        w["conversations"],
        json!([]),
        "the first nurse no longer holds the chat"
    );
}

#[tokio::test]
async fn a_chat_reserved_for_a_colleague_stays_reserved_across_a_restart() {
    let s = TestServer::start().await;
    let (client, mut nurse, c, token) = chat(&s).await;
    let r = nurse
        .request(
            json!({"type": "transfer", "conversation": c, "to_professional": "nurse-2"}),
            "t",
        )
        .await;
    assert_eq!(r["type"], "released");
    drop((client, nurse));

    let s = s.restart().await;
    let mut other = s.console("nurse-4").await; // station-a, free and available
    let frames = other.drain(QUIET).await;
    assert!(
        !frames.iter().any(|f| f["type"] == "assigned"),
        "after a restart the reserved chat went to someone else"
    );
    let e = other
        .request(json!({"type": "accept", "conversation": c}), "steal")
        .await;
    assert_eq!(e["code"], "forbidden");

    let (mut client, _) = s.client_hello(json!({"type": "hello", "resume": [{"conversation": c, "resume_token": token, "after_seq": 0}]})).await;
    until_seq(&mut client, &c, 3).await; // queued, assigned, transferred
    let mut colleague = s.console("nurse-2").await;
    assert_eq!(colleague.assigned().await, c);
    let sys = client
        .recv_where(|f| f["type"] == "system" && f["seq"] == 4)
        .await
        .expect("the next event");
    assert_eq!(sys["event"], "assigned");
    assert_eq!(sys["detail"]["name"], "Nurse Two");
}

#[tokio::test]
async fn a_chat_requeued_after_the_grace_period_goes_to_the_front_of_the_queue() {
    let s = TestServer::start_with(|c| {
        c.professional_grace = Duration::from_secs(1);
        for p in &mut c.organisation.professionals {
            if ["nurse-1", "nurse-2"].contains(&p.id.as_str()) {
                p.capacity = 1;
            }
        }
    })
    .await;
    let (mut first, nurse, c1, _) = chat(&s).await;
    let (mut second, q2) = s.started("health-chat", "station-a").await;
    let c2 = conv(&q2);
    assert_eq!(q2["position"], 1, "nurse-1 is full");
    drop(nurse);

    first
        .recv_where(|f| {
            f["type"] == "system"
                && f["event"] == "queued"
                && f["detail"]["reason"] == "professional_disconnected"
        })
        .await
        .expect("requeued");
    // Earlier `queue` frames may say that nobody is available now (nurse-1 left); the one
    // that matters moves the new chat behind the requeued one.
    let moved = second
        .recv_where(|f| {
            f["type"] == "queue" && f["conversation"] == c2.as_str() && f["position"] != 1
        })
        .await
        .expect("queue frame");
    assert_eq!(
        moved["position"], 2,
        "the requeued chat went ahead of the new one"
    );

    let mut other = s.console("nurse-2").await;
    assert_eq!(
        other.assigned().await,
        c1,
        "the requeued chat is served first"
    );
    let moved = second
        .recv_where(|f| f["type"] == "queue" && f["conversation"] == c2.as_str())
        .await
        .expect("queue frame");
    assert_eq!(moved["position"], 1);
}

#[tokio::test]
async fn a_waiting_chat_keeps_its_place_across_a_restart() {
    let s = TestServer::start().await;
    let (first, q1) = s.started("health-chat", "station-a").await;
    let (second, q2) = s.started("health-chat", "station-a").await;
    let (c1, c2) = (conv(&q1), conv(&q2));
    drop((first, second));

    let s = s.restart().await;
    let (mut first, w) = s.client_hello(json!({"type": "hello", "resume": [{"conversation": c1, "resume_token": q1["resume_token"], "after_seq": 0}]})).await;
    assert_eq!(w["conversations"][0]["status"], "queued");
    assert_eq!(
        s.metric_of("luukku_queue_length", &[("team", "station-a")])
            .await,
        2.0
    );
    first.say(&c1, "written while waiting").await;

    let mut nurse = s.console("nurse-1").await;
    assert_eq!(
        nurse.assigned().await,
        c1,
        "the longest-waiting chat is served first after a restart too"
    );
    assert_eq!(nurse.assigned().await, c2);
    first.system_event(&c1, "assigned").await;
    let h = nurse
        .request(json!({"type": "history", "conversation": c1}), "h")
        .await;
    assert!(h["events"]
        .as_array()
        .expect("events")
        .iter()
        .any(|e| e["body"] == "written while waiting"));
}

#[tokio::test]
async fn a_clients_other_session_sees_everything_it_sends() {
    let s = TestServer::start().await;
    let (mut tab1, mut nurse, c, token) = chat(&s).await;
    let (mut tab2, _) = s.client_hello(json!({"type": "hello", "resume": [{"conversation": c, "resume_token": token, "after_seq": 0}]})).await;
    until_seq(&mut tab2, &c, 2).await; // queued, assigned
    let seq = tab1.say(&c, "sent from the first tab").await["seq"].as_u64();
    let m = tab2.heard(&c, "sent from the first tab").await;
    assert_eq!(m["seq"].as_u64(), seq);
    nurse.heard(&c, "sent from the first tab").await;
    nurse.say(&c, "to both tabs").await;
    tab1.heard(&c, "to both tabs").await;
    tab2.heard(&c, "to both tabs").await;

    tab2.send(json!({"type": "typing", "conversation": c, "active": true}))
        .await;
    let t = nurse.recv_type("typing").await;
    assert_eq!(t["role"], "client");
    assert_eq!(t["active"], true);
    nurse
        .send(json!({"type": "read", "conversation": c, "seq": seq}))
        .await;
    let r = tab1.recv_type("read").await;
    assert_eq!(r["role"], "professional");
    assert_eq!(r["seq"].as_u64(), seq);
}

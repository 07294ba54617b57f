//! Asynchronous care on the wire: a non-urgent message from an identified client lands in its
//! team's inbox (never the live queue), is taken, answered and closed by a nurse; its reply
//! deadline stands while the organisation owes a reply and restarts when the client writes
//! again; the team is alerted when a client writes; matters take no live-chat places; other
//! teams and colleagues are kept out; complete matters are found in the archive and reopened;
//! the client finds every conversation of theirs in "my conversations" from another device.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::*;

async fn with_message_service() -> TestServer {
    TestServer::start_with(plain_message_service).await
}

/// A client identified as `sub`, welcomed.
async fn identified(s: &TestServer, sub: &str) -> Conn {
    let token = s.client_token(sub, "Maija Meikäläinen");
    let (c, w) = s
        .client_hello(json!({"type": "hello", "token": token}))
        .await;
    assert_eq!(w["identity"]["kind"], "identified");
    c
}

/// Starts a non-urgent message as `client` and writes its first message.
async fn matter(client: &mut Conn, body: &str) -> (String, Value) {
    let q = client
        .request(
            json!({"type": "start", "service": "nurse-message",
                "client_ref": uuid::Uuid::new_v4().to_string()}),
            "start-matter",
        )
        .await;
    assert_eq!(q["type"], "queued", "{q}");
    let c = conv(&q);
    client.say(&c, body).await;
    (c, q)
}

/// The newest `inbox` frame of `team` that satisfies `pred`.
async fn inbox_where(console: &mut Conn, team: &str, pred: impl Fn(&Value) -> bool) -> Value {
    console
        .recv_where(|v| v["type"] == "inbox" && v["team"] == team && pred(v))
        .await
        .unwrap_or_else(|| panic!("no inbox of {team} as expected"))
}

/// The entry of `conversation` in a client's `conversations` list.
fn listed(list: &Value, conversation: &str) -> Value {
    list["conversations"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["conversation"] == conversation))
        .cloned()
        .unwrap_or_else(|| panic!("{conversation} is the client's: {list}"))
}

fn entry<'a>(inbox: &'a Value, conversation: &str) -> Option<&'a Value> {
    inbox["entries"]
        .as_array()?
        .iter()
        .find(|e| e["conversation"] == conversation)
}

#[tokio::test]
async fn a_message_is_taken_from_the_inbox_answered_closed_and_reopened() {
    let s = with_message_service().await;
    let mut nurse = s.console("nurse-1").await;
    let snap = nurse
        .request(
            json!({"type": "subscribe_queue", "teams": ["station-a"]}),
            "q",
        )
        .await;
    assert_eq!(snap["entries"], json!([]));
    let first = nurse
        .request(json!({"type": "subscribe_inbox"}), "inbox")
        .await;
    assert_eq!(first["type"], "inbox", "{first}");

    let mut client = identified(&s, "client-inbox-1").await;
    let (c, q) = matter(&mut client, "Could my prescription be renewed?").await;
    let due = q["due_at"].as_str().expect("we reply by …").to_owned();
    assert_eq!(q["position"], 0, "no live queue place: {q}");

    // In the inbox, New, with its deadline; never offered as a live chat.
    let inbox = inbox_where(&mut nurse, "station-a", |v| entry(v, &c).is_some()).await;
    let e = entry(&inbox, &c).expect("listed");
    assert_eq!(e["status"], "queued");
    assert_eq!(e["channel"], "message");
    assert_eq!(e["due_at"], due.as_str());
    assert_eq!(e["overdue"], false);
    assert!(e.get("assigned_to").is_none(), "{e}");
    assert!(
        e.get("body").is_none() && e.get("name").is_none(),
        "no content: {e}"
    );
    let later = nurse.drain(Duration::from_millis(700)).await;
    assert!(
        later.iter().all(|v| v["type"] != "assigned"
            && !(v["type"] == "queue_snapshot" && v["entries"] != json!([]))),
        "a matter is not routed as a chat: {later:?}"
    );

    // A team member reads it before taking it.
    let h = nurse
        .request(json!({"type": "history", "conversation": c}), "read")
        .await;
    assert!(
        h["events"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["body"] == "Could my prescription be renewed?"),
        "{h}"
    );

    // Taken: In progress, the nurse's.
    let a = nurse
        .request(json!({"type": "take", "conversation": c}), "take")
        .await;
    assert_eq!(a["type"], "assigned", "{a}");
    assert_eq!(a["due_at"], due.as_str());
    let inbox = inbox_where(&mut nurse, "station-a", |v| {
        entry(v, &c).is_some_and(|e| e["status"] == "in_progress")
    })
    .await;
    assert_eq!(entry(&inbox, &c).expect("listed")["assigned_to"], "nurse-1");

    // The reply meets the deadline; the client's next message starts a new one and alerts.
    nurse
        .say(&c, "Renewed: collect it from the pharmacy.")
        .await;
    client
        .heard(&c, "Renewed: collect it from the pharmacy.")
        .await;
    inbox_where(&mut nurse, "station-a", |v| {
        entry(v, &c).is_some_and(|e| e.get("due_at").is_none())
    })
    .await;
    client.say(&c, "Thank you! One more question.").await;
    let alert = nurse.recv_type("inbox_alert").await;
    assert_eq!(alert["conversation"], c.as_str());
    assert_eq!(alert["team"], "station-a");
    let inbox = inbox_where(&mut nurse, "station-a", |v| {
        entry(v, &c).is_some_and(|e| e["due_at"].is_string())
    })
    .await;
    let restarted = entry(&inbox, &c).expect("listed")["due_at"].clone();
    let (old, new): (jiff::Timestamp, jiff::Timestamp) = (
        due.parse().expect("rfc 3339"),
        restarted.as_str().expect("due").parse().expect("rfc 3339"),
    );
    assert!(
        new >= old,
        "restarted from the client's message: {old} → {new}"
    );

    // Closed: Complete, out of the inbox, into the archive; the client is told.
    let closed = nurse
        .request(
            json!({"type": "close", "conversation": c, "summary": "prescription renewed"}),
            "close",
        )
        .await;
    assert_eq!(closed["type"], "ack", "{closed}");
    client.recv_type("closed").await;
    inbox_where(&mut nurse, "station-a", |v| entry(v, &c).is_none()).await;
    let archive = nurse
        .request(json!({"type": "archive", "query": "renewed"}), "archive")
        .await;
    let hit = archive["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["conversation"] == c.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("found by its summary: {archive}"));
    let reference = hit["reference"].as_str().expect("reference").to_owned();
    assert!(reference.starts_with("M-"), "{hit}");
    let by_ref = nurse
        .request(
            json!({"type": "archive", "query": reference}),
            "archive-ref",
        )
        .await;
    assert_eq!(
        by_ref["entries"].as_array().map(Vec::len),
        Some(1),
        "{by_ref}"
    );
    let none = nurse
        .request(
            json!({"type": "archive", "query": "no such words"}),
            "archive-none",
        )
        .await;
    assert_eq!(none["entries"], json!([]));

    // Reopened from the archive: In progress again, back in the inbox, the client may write.
    let r = nurse
        .request(json!({"type": "reopen", "conversation": c}), "reopen")
        .await;
    assert_eq!(r["type"], "assigned", "{r}");
    inbox_where(&mut nurse, "station-a", |v| {
        entry(v, &c).is_some_and(|e| e["status"] == "in_progress")
    })
    .await;
    client.say(&c, "And one more thing.").await;
    nurse.heard(&c, "And one more thing.").await;
}

#[tokio::test]
async fn matters_take_no_live_chat_places_and_stay_inside_their_team() {
    let s = with_message_service().await;
    let mut nurse = s.console("nurse-1").await;
    nurse
        .request(json!({"type": "status", "capacity": 1}), "cap")
        .await;
    let mut client = identified(&s, "client-inbox-2").await;
    let (a, _) = matter(&mut client, "first").await;
    let (b, _) = matter(&mut client, "second").await;
    for c in [&a, &b] {
        let r = nurse
            .request(json!({"type": "take", "conversation": c}), "take")
            .await;
        assert_eq!(r["type"], "assigned", "{r}");
    }
    // Two matters held, capacity 1: a live chat still comes to her.
    let (_chat, q) = s.started("health-chat", "station-a").await;
    assert_eq!(nurse.assigned().await, conv(&q));

    // A colleague of the team may read it but not take a matter someone holds.
    let mut colleague = s.console("nurse-2").await;
    let h = colleague
        .request(json!({"type": "history", "conversation": a}), "read")
        .await;
    assert_eq!(h["type"], "history", "{h}");
    let e = colleague
        .request(json!({"type": "take", "conversation": a}), "take")
        .await;
    assert_eq!(
        (e["type"].as_str(), e["code"].as_str()),
        (Some("error"), Some("forbidden")),
        "{e}"
    );
    let e = colleague
        .request(
            json!({"type": "send", "conversation": a, "client_msg_id": "x1", "body": "hi"}),
            "send",
        )
        .await;
    assert_eq!(e["code"], "forbidden", "{e}");

    // Another team sees nothing: not its inbox, not the matter, word for word as for none.
    let mut other = s.console("nurse-3").await;
    let e = other
        .request(
            json!({"type": "subscribe_inbox", "teams": ["station-a"]}),
            "sub",
        )
        .await;
    assert_eq!(e["code"], "forbidden", "{e}");
    let e = other
        .request(json!({"type": "take", "conversation": b}), "take")
        .await;
    let none = other
        .request(
            json!({"type": "take", "conversation": "no-such-matter"}),
            "take2",
        )
        .await;
    assert_eq!(e["code"], "not_found", "{e}");
    assert_eq!(e["message"], none["message"]);
    let own = other
        .request(json!({"type": "subscribe_inbox"}), "own")
        .await;
    assert_eq!(own["team"], "station-b");
    assert!(
        entry(&own, &a).is_none() && entry(&own, &b).is_none(),
        "{own}"
    );
    let e = other
        .request(json!({"type": "archive", "team": "station-a"}), "arch")
        .await;
    assert_eq!(e["code"], "forbidden", "{e}");
}

#[tokio::test]
async fn a_matter_forwarded_to_a_colleague_is_theirs_to_take() {
    let s = with_message_service().await;
    let mut nurse = s.console("nurse-1").await;
    let mut colleague = s.console("nurse-2").await;
    colleague
        .request(json!({"type": "subscribe_inbox"}), "sub")
        .await;
    let mut client = identified(&s, "client-inbox-3").await;
    let (c, _) = matter(&mut client, "about my care plan").await;
    nurse
        .request(json!({"type": "take", "conversation": c}), "take")
        .await;
    let (reply, _) = nurse
        .request_event(
            json!({"type": "transfer", "conversation": c, "to_team": "station-a",
                "to_professional": "nurse-2", "note": "your client"}),
            "fwd",
            "transferred",
        )
        .await;
    assert_ne!(reply["type"], "error", "{reply}");
    let inbox = inbox_where(&mut colleague, "station-a", |v| {
        entry(v, &c).is_some_and(|e| e["reserved_for"] == "nurse-2")
    })
    .await;
    assert_eq!(entry(&inbox, &c).expect("listed")["status"], "queued");
    let e = nurse
        .request(json!({"type": "take", "conversation": c}), "again")
        .await;
    assert_eq!(e["code"], "forbidden", "{e}");
    let a = colleague
        .request(json!({"type": "take", "conversation": c}), "take")
        .await;
    assert_eq!(a["type"], "assigned", "{a}");
    // The forwarding history stays on the conversation.
    let h = colleague
        .request(json!({"type": "history", "conversation": c}), "h")
        .await;
    let forwarded = h["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["event"] == "transferred")
        .cloned()
        .expect("the forwarding is kept");
    assert_eq!(forwarded["detail"]["to_professional"], "nurse-2");
    assert_eq!(forwarded["detail"]["from_professional"], "nurse-1");
}

#[tokio::test]
async fn the_client_finds_every_conversation_of_theirs_on_another_device() {
    let s = with_message_service().await;
    let mut nurse = s.console("nurse-1").await;
    let mut phone = identified(&s, "client-inbox-4").await;
    let (c, q) = matter(&mut phone, "my question").await;
    drop(phone);
    nurse
        .request(json!({"type": "take", "conversation": c}), "take")
        .await;
    nurse.say(&c, "Here is the answer.").await;
    nurse.say(&c, "And a second thought.").await;

    // Days later, on a laptop.
    let mut laptop = identified(&s, "client-inbox-4").await;
    let list = laptop
        .request(json!({"type": "conversations"}), "mine")
        .await;
    assert_eq!(list["type"], "conversations", "{list}");
    let mine = list["conversations"].as_array().expect("list");
    assert_eq!(mine.len(), 1, "{list}");
    let m = &mine[0];
    assert_eq!(m["conversation"], c.as_str());
    assert_eq!(m["channel"], "message");
    assert_eq!(m["status"], "in_progress");
    assert_eq!(m["unread"], 2, "two answers since the client wrote: {m}");
    assert!(m.get("due_at").is_none(), "answered: nothing owed {m}");
    assert!(
        m["reference"].as_str().is_some_and(|r| r.starts_with("M-")),
        "{m}"
    );
    assert!(q["due_at"].is_string());
    let opened = laptop
        .request(
            json!({"type": "open", "conversation": c, "resume_token": m["resume_token"], "after_seq": 0}),
            "open",
        )
        .await;
    assert_eq!(opened["type"], "ack", "{opened}");
    laptop.heard(&c, "And a second thought.").await;
    laptop.say(&c, "Thanks, understood.").await;
    nurse.heard(&c, "Thanks, understood.").await;

    // Nobody else's: another client lists none and cannot open it; anonymous has no list.
    let mut stranger = identified(&s, "client-inbox-5").await;
    let theirs = stranger
        .request(json!({"type": "conversations"}), "mine")
        .await;
    assert_eq!(theirs["conversations"], json!([]));
    let e = stranger
        .request(
            json!({"type": "open", "conversation": c, "resume_token": "forged", "after_seq": 0}),
            "open",
        )
        .await;
    assert_eq!(e["code"], "forbidden", "{e}");
    let mut anonymous = s.client().await;
    let e = anonymous
        .request(json!({"type": "conversations"}), "mine")
        .await;
    assert_eq!(e["code"], "unauthorized", "{e}");
}

#[tokio::test]
async fn the_inbox_survives_a_restart_and_its_nurse_joins_her_matter_again() {
    let s = with_message_service().await;
    let mut nurse = s.console("nurse-1").await;
    let mut client = identified(&s, "client-inbox-6").await;
    let (taken, _) = matter(&mut client, "taken before the restart").await;
    tokio::time::sleep(Duration::from_millis(5)).await; // contacts a moment apart
    let (new, q) = matter(&mut client, "new before the restart").await;
    nurse
        .request(json!({"type": "take", "conversation": taken}), "take")
        .await;
    drop(nurse);
    drop(client);
    let s = s.restart().await;
    let mut nurse = s.console("nurse-1").await;
    let inbox = nurse
        .request(
            json!({"type": "subscribe_inbox", "teams": ["station-a"]}),
            "sub",
        )
        .await;
    let t = entry(&inbox, &taken).expect("the taken matter");
    assert_eq!(
        (t["status"].as_str(), t["assigned_to"].as_str()),
        (Some("in_progress"), Some("nurse-1"))
    );
    let n = entry(&inbox, &new).expect("the new matter");
    assert_eq!(n["status"], "queued");
    assert_eq!(n["due_at"], q["due_at"]);
    // Both are owed a reply by the same end of day: the older contact first.
    let order: Vec<&str> = inbox["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["conversation"].as_str())
        .collect();
    assert_eq!(order, vec![taken.as_str(), new.as_str()], "{inbox}");
    // Joining her own matter again: `assigned`, and she can answer.
    let a = nurse
        .request(json!({"type": "take", "conversation": taken}), "join")
        .await;
    assert_eq!(a["type"], "assigned", "{a}");
    nurse.say(&taken, "Answered after the restart.").await;
    let stored = s.stored_events(&taken).await;
    assert_eq!(
        stored.iter().filter(|e| e["event"] == "assigned").count(),
        1,
        "joining again stores nothing: {stored:?}"
    );
    assert_eq!(
        s.metric_of(
            "luukku_inbox_open",
            &[("team", "station-a"), ("status", "new")]
        )
        .await,
        1.0
    );
}

/// A contact form sent without any chat lands New in its team's inbox with its deadline, is
/// taken there and its sender's submission read.
#[tokio::test]
async fn a_contact_form_lands_in_its_teams_inbox() {
    let s = TestServer::start().await;
    let mut worker = s.console("social-1").await;
    worker
        .request(json!({"type": "subscribe_inbox"}), "sub")
        .await;
    let body = json!({"fields": {"name": "Matti", "message": "Please call me about housing."},
        "contact": {"email": "matti@example.org"}, "client_ref": uuid::Uuid::new_v4().to_string()});
    let (status, answer) = post_json(s.addr, "/api/v1/forms/contact-form", &body).await;
    assert_eq!(status, 201, "{answer}");
    let c = answer["conversation"].as_str().expect("id").to_owned();
    let inbox = inbox_where(&mut worker, "social", |v| entry(v, &c).is_some()).await;
    let e = entry(&inbox, &c).expect("listed");
    assert_eq!(
        (e["channel"].as_str(), e["status"].as_str()),
        (Some("form"), Some("queued"))
    );
    assert_eq!(e["due_at"], answer["due_at"]);
    let a = worker
        .request(json!({"type": "take", "conversation": c}), "take")
        .await;
    assert_eq!(a["type"], "assigned", "{a}");
    let h = worker
        .request(json!({"type": "history", "conversation": c}), "h")
        .await;
    assert!(
        h["events"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["body"]
                .as_str()
                .is_some_and(|b| b.contains("Please call me about housing."))),
        "{h}"
    );
}

/// A nurse opens a thread with a registered client: it is hers from the start, the client finds
/// it in "my conversations" and replies (and the promise applies to the next reply); one closed
/// right after its message takes no reply; unknown clients and wrong services are refused.
#[tokio::test]
async fn a_nurse_opens_a_thread_with_a_registered_client() {
    let s = with_message_service().await;
    let mut nurse = s.console("nurse-1").await;
    let mut earlier = identified(&s, "client-thread-1").await;
    matter(&mut earlier, "an earlier matter").await; // registered: identified with us before
    drop(earlier);

    let a = nurse
        .request(
            json!({"type": "start_thread", "service": "nurse-message", "client": "client-thread-1",
                "topic": "lab-results", "client_msg_id": uuid::Uuid::new_v4().to_string(),
                "body": "Your lab results are normal. Any questions?"}),
            "thread",
        )
        .await;
    assert_eq!(a["type"], "assigned", "{a}");
    assert_eq!(a["status"], "in_progress");
    let t = a["conversation"].as_str().expect("id").to_owned();
    nurse
        .heard(&t, "Your lab results are normal. Any questions?")
        .await;

    let mut client = identified(&s, "client-thread-1").await;
    let list = client
        .request(json!({"type": "conversations"}), "mine")
        .await;
    let thread = listed(&list, &t);
    assert_eq!(thread["unread"], 1);
    let opened = client
        .request(
            json!({"type": "open", "conversation": t, "resume_token": thread["resume_token"]}),
            "open",
        )
        .await;
    assert_eq!(opened["type"], "ack", "{opened}");
    client
        .heard(&t, "Your lab results are normal. Any questions?")
        .await;
    client.say(&t, "No questions, thank you.").await;
    nurse.heard(&t, "No questions, thank you.").await;
    let inbox = nurse
        .request(json!({"type": "subscribe_inbox"}), "inbox")
        .await;
    let e = entry(&inbox, &t).expect("in the team's inbox");
    assert_eq!(e["assigned_to"], "nurse-1");
    assert!(
        e["due_at"].is_string(),
        "the promise applies to the reply: {e}"
    );

    // Delivered and closed at once: the client reads it but cannot reply.
    let done = nurse
        .request(
            json!({"type": "start_thread", "service": "nurse-message", "client": "client-thread-1",
                "client_msg_id": uuid::Uuid::new_v4().to_string(),
                "body": "The decision on your application is attached.", "close_after": true}),
            "decision",
        )
        .await;
    let d = done["conversation"].as_str().expect("id").to_owned();
    nurse.system_event(&d, "closed").await;
    let list = client
        .request(json!({"type": "conversations"}), "mine2")
        .await;
    let closed = listed(&list, &d);
    assert_eq!(closed["status"], "complete");
    client
        .request(
            json!({"type": "open", "conversation": d, "resume_token": closed["resume_token"]}),
            "open2",
        )
        .await;
    client
        .heard(&d, "The decision on your application is attached.")
        .await;
    let e = client
        .request(
            json!({"type": "send", "conversation": d, "client_msg_id": "late", "body": "?"}),
            "late",
        )
        .await;
    assert_eq!(e["code"], "conversation_closed", "{e}");

    // Refusals, each naming the problem, nothing stored.
    let before = s
        .metric_of(
            "luukku_conversations_started_total",
            &[("service", "nurse-message")],
        )
        .await;
    for (frame, code, field) in [
        (
            json!({"service": "nurse-message", "client": "nobody-knows-me"}),
            "not_found",
            "client",
        ),
        (
            json!({"service": "health-chat", "client": "client-thread-1"}),
            "bad_frame",
            "service",
        ),
        (
            json!({"service": "nurse-message", "client": "client-thread-1", "body": "   "}),
            "bad_frame",
            "body",
        ),
        (
            json!({"service": "nurse-message", "client": "client-thread-1",
                "body": "x".repeat(10_001)}),
            "too_large",
            "body",
        ),
        (
            json!({"service": "no-such-service", "client": "client-thread-1"}),
            "not_found",
            "service",
        ),
        (
            json!({"service": "nurse-message", "client": "client-thread-1", "topic": "nope"}),
            "not_found",
            "topic",
        ),
    ] {
        let mut f = json!({"type": "start_thread", "client_msg_id": "x", "body": "hello"});
        f.as_object_mut()
            .expect("object")
            .extend(frame.as_object().expect("object").clone());
        let e = nurse.request(f.clone(), "bad").await;
        assert_eq!(e["code"], code, "{f}: {e}");
        assert!(e["fields"][field].is_string(), "names {field}: {e}");
    }
    let mut other_team = s.console("social-1").await;
    let e = other_team
        .request(
            json!({"type": "start_thread", "service": "nurse-message", "client": "client-thread-1",
                "client_msg_id": "y", "body": "hello"}),
            "other",
        )
        .await;
    assert_eq!(e["code"], "forbidden", "{e}");
    assert_eq!(
        s.metric_of(
            "luukku_conversations_started_total",
            &[("service", "nurse-message")]
        )
        .await,
        before
    );
}

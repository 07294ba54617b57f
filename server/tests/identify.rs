//! A client that started anonymously identifies inside the chat: it reconnects with an
//! identified token and resumes. The conversation stores the identity with one `identified`
//! event, the professional learns the name (never the subject), and it lasts.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::*;

/// How long a test listens to make sure something does NOT arrive.
const QUIET: Duration = Duration::from_millis(300);

const SUBJECT: &str = "010101-123A";
const NAME: &str = "Maija Meikäläinen";

/// A chat of an anonymous client with nurse-1: (client, nurse, conversation, resume token).
async fn chat(s: &TestServer) -> (Conn, Conn, String, String) {
    let mut nurse = s.console("nurse-1").await;
    let (client, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    assert_eq!(nurse.assigned().await, c);
    let token = q["resume_token"].as_str().expect("resume token").to_owned();
    (client, nurse, c, token)
}

/// A client connection resuming `c` from `after_seq` with an identified token of `sub`.
async fn resume_as(
    s: &TestServer,
    c: &str,
    token: &str,
    after_seq: u64,
    sub: &str,
    name: &str,
) -> (Conn, Value) {
    s.client_hello(json!({"type": "hello", "token": s.client_token(sub, name),
        "resume": [{"conversation": c, "resume_token": token, "after_seq": after_seq}]}))
        .await
}

/// The stored `identified` events of a conversation.
async fn stored_identified(s: &TestServer, c: &str) -> Vec<Value> {
    s.stored_events(c)
        .await
        .into_iter()
        .filter(|e| e["type"] == "system" && e["event"] == "identified")
        .collect()
}

/// The `identified` events `conn` has received for `c`.
fn seen_identified(conn: &Conn, c: &str) -> usize {
    conn.seen
        .iter()
        .filter(|f| f["type"] == "system" && f["event"] == "identified" && f["conversation"] == c)
        .count()
}

fn assert_no_subject(conn: &Conn, who: &str) {
    for f in &conn.seen {
        assert!(
            !f.to_string().contains(SUBJECT),
            "the subject reached the {who}: {f}"
        );
    }
}

#[tokio::test]
async fn the_professional_learns_the_name_when_the_client_identifies() {
    let s = TestServer::start().await;
    let (mut client, mut nurse, c, token) = chat(&s).await;
    let before = client.say(&c, "hello, anonymous still").await["seq"]
        .as_u64()
        .expect("seq");
    let m = nurse.heard(&c, "hello, anonymous still").await;
    assert!(m["from"].get("name").is_none(), "anonymous: no name");
    drop(client);

    let (mut client, w) = resume_as(&s, &c, &token, before, SUBJECT, NAME).await;
    assert_eq!(w["identity"], json!({"kind": "identified", "name": NAME}));
    assert_eq!(
        w["conversations"],
        json!([{"conversation": c, "status": "in_progress", "last_seq": before}])
    );

    // Both sides get the event, with the display name only.
    let e = nurse.system_event(&c, "identified").await;
    assert_eq!(e["seq"].as_u64(), Some(before + 1));
    assert_eq!(e["detail"], json!({"name": NAME}));
    let e = client.system_event(&c, "identified").await;
    assert_eq!(e["seq"].as_u64(), Some(before + 1));
    assert_eq!(e["detail"], json!({"name": NAME}));
    let stored = stored_identified(&s, &c).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["detail"], json!({"name": NAME}));
    let record = s
        .ctx()
        .storage
        .conversation(&cid(&c))
        .await
        .expect("storage reads")
        .expect("stored");
    assert!(record.client.identified);
    assert_eq!(record.client.subject.as_deref(), Some(SUBJECT));
    assert_eq!(record.client.name.as_deref(), Some(NAME));

    // The chat goes on; the client's messages now carry the name.
    client.say(&c, "now identified").await;
    let m = nurse.heard(&c, "now identified").await;
    assert_eq!(m["from"]["name"], NAME);
    nurse.say(&c, "thank you").await;
    client.heard(&c, "thank you").await;

    // A transfer: the colleague's `assigned` carries the identified client.
    let mut n2 = s.console("nurse-2").await;
    let r = nurse
        .request(
            json!({"type": "transfer", "conversation": c, "to_professional": "nurse-2"}),
            "t",
        )
        .await;
    assert_eq!(r["type"], "released");
    let a = n2.recv_type("assigned").await;
    assert_eq!(a["conversation"], c.as_str());
    assert_named(&a["client"]);

    assert_no_subject(&nurse, "professional");
    assert_no_subject(&n2, "colleague");
    assert_no_subject(&client, "client");
}

/// The client as a professional sees it: the name, identified, and nothing personal besides
/// (never the subject; a language and an alias are not personal).
fn assert_named(client: &serde_json::Value) {
    assert_eq!(client["name"], NAME, "{client}");
    assert_eq!(client["identified"], true, "{client}");
    let keys: Vec<&String> = client.as_object().expect("object").keys().collect();
    assert!(
        keys.iter()
            .all(|k| ["name", "identified", "lang", "alias"].contains(&k.as_str())),
        "{client}"
    );
}

#[tokio::test]
async fn the_identity_survives_a_restart() {
    let s = TestServer::start().await;
    let (client, mut nurse, c, token) = chat(&s).await;
    drop(client);
    let (mut client, _) = resume_as(&s, &c, &token, 0, SUBJECT, NAME).await;
    nurse.system_event(&c, "identified").await;
    client.system_event(&c, "identified").await;
    drop((client, nurse));

    let s = s.restart().await;
    let (mut nurse, w) = s.console_hello("nurse-1", json!({})).await;
    let summary = w["conversations"]
        .as_array()
        .expect("list")
        .iter()
        .find(|x| x["conversation"] == c.as_str())
        .expect("the nurse still holds the chat")
        .clone();
    assert_named(&summary["client"]);

    // Back without a token (e.g. the identification expired): resumed, identity unchanged.
    let (mut client, w) = s
        .client_hello(json!({"type": "hello",
            "resume": [{"conversation": c, "resume_token": token, "after_seq": 0}]}))
        .await;
    assert_eq!(w["identity"]["kind"], "anonymous");
    assert_eq!(w["conversations"][0]["conversation"], c.as_str());
    client.say(&c, "after the restart").await;
    let m = nurse.heard(&c, "after the restart").await;
    assert_eq!(m["from"]["name"], NAME);
    assert_eq!(stored_identified(&s, &c).await.len(), 1);
    let record = s
        .ctx()
        .storage
        .conversation(&cid(&c))
        .await
        .expect("storage reads")
        .expect("stored");
    assert!(record.client.identified);
    assert_eq!(record.client.subject.as_deref(), Some(SUBJECT));
    assert_no_subject(&nurse, "professional");
}

#[tokio::test]
async fn another_subject_cannot_resume_an_identified_chat() {
    let s = TestServer::start().await;
    let (client, mut nurse, c, token) = chat(&s).await;
    drop(client);
    let (mut client, _) = resume_as(&s, &c, &token, 0, SUBJECT, NAME).await;
    nurse.system_event(&c, "identified").await;
    let last = client.system_event(&c, "identified").await["seq"]
        .as_u64()
        .expect("seq");

    // Someone else's identity with the right resume token: refused for that conversation.
    let (mut other, w) = s
        .client_hello(json!({"type": "hello", "req": "h",
            "token": s.client_token("020202-456B", "Matti Meikäläinen"),
            "resume": [{"conversation": c, "resume_token": token, "after_seq": 0}]}))
        .await;
    assert_eq!(w["conversations"], json!([]));
    let e = other
        .recv_where(|f| f["type"] == "error")
        .await
        .expect("an error for the conversation");
    assert_eq!(e["code"], "forbidden");
    assert_eq!(e["conversation"], c.as_str());
    let e = other
        .request(
            json!({"type": "send", "conversation": c,
            "client_msg_id": uuid::Uuid::new_v4().to_string(), "body": "let me in"}),
            "x",
        )
        .await;
    assert_eq!(e["code"], "forbidden");

    // Nothing changed: no new event, the first identity stands, the chat goes on.
    nurse.say(&c, "still with you").await;
    client.heard(&c, "still with you").await;
    other.drain(QUIET).await;
    assert!(
        !other
            .seen
            .iter()
            .any(|f| f["conversation"] == c.as_str() && f["type"] != "error"),
        "frames of the refused conversation arrived"
    );
    let events = s.stored_events(&c).await;
    assert_eq!(stored_identified(&s, &c).await.len(), 1);
    assert_eq!(events.len() as u64, last + 1, "only the nurse's message");
    assert!(!nurse.seen.iter().any(|f| f.to_string().contains("Matti")));

    // A chat started identified refuses another subject the same way.
    let (mut started, w) = s
        .client_hello(json!({"type": "hello", "token": s.client_token(SUBJECT, NAME)}))
        .await;
    assert_eq!(w["identity"]["kind"], "identified");
    let q = started.start("health-chat", "station-a").await;
    let (mut other, w) = s
        .client_hello(json!({"type": "hello",
            "token": s.client_token("020202-456B", "Matti Meikäläinen"),
            "resume": [{"conversation": conv(&q), "resume_token": q["resume_token"], "after_seq": 0}]}))
        .await;
    assert_eq!(w["conversations"], json!([]));
    let e = other.recv_type("error").await;
    assert_eq!(
        (e["code"].as_str(), e["conversation"].as_str()),
        (Some("forbidden"), q["conversation"].as_str())
    );
}

#[tokio::test]
async fn identifying_again_with_the_same_identity_stores_one_event() {
    let s = TestServer::start().await;
    let (client, mut nurse, c, token) = chat(&s).await;
    drop(client);
    let (mut first, _) = resume_as(&s, &c, &token, 0, SUBJECT, NAME).await;
    first.system_event(&c, "identified").await;
    nurse.system_event(&c, "identified").await;

    // The same identity again: a reconnect, and two sessions at once.
    drop(first);
    let (mut again, _) = resume_as(&s, &c, &token, 0, SUBJECT, NAME).await;
    let ((mut a, _), (mut b, _)) = tokio::join!(
        resume_as(&s, &c, &token, 0, SUBJECT, NAME),
        resume_as(&s, &c, &token, 0, SUBJECT, NAME),
    );
    let seq = nurse.say(&c, "one of you is enough").await["seq"]
        .as_u64()
        .expect("seq");
    for conn in [&mut again, &mut a, &mut b] {
        conn.heard(&c, "one of you is enough").await;
        conn.drain(QUIET).await;
        assert_eq!(
            seen_identified(conn, &c),
            1,
            "the replay holds the one event"
        );
    }
    nurse.drain(QUIET).await;
    assert_eq!(seen_identified(&nurse, &c), 1);
    assert_eq!(stored_identified(&s, &c).await.len(), 1);
    assert_eq!(s.stored_events(&c).await.len() as u64, seq);
}

/// A patient who identifies while waiting shows as identified in the team's queue (and so to
/// its supervisors) before anybody takes the chat.
#[tokio::test]
async fn a_waiting_client_who_identifies_shows_as_identified_in_the_queue() {
    let s = TestServer::start().await;
    let mut nurse = s.console("nurse-3").await;
    nurse
        .request(
            json!({"type": "subscribe_queue", "teams": ["station-b"]}),
            "sub",
        )
        .await;
    let (client, q) = s.started("stations-chat", "station-b").await;
    let c = conv(&q);
    let token = q["resume_token"].as_str().expect("resume token").to_owned();
    let entry_of = |snap: &Value| {
        snap["entries"]
            .as_array()
            .and_then(|es| es.iter().find(|e| e["conversation"] == c.as_str()).cloned())
    };
    let snap = nurse
        .recv_where(|v| v["type"] == "queue_snapshot" && entry_of(v).is_some())
        .await
        .expect("the chat in the queue");
    assert_eq!(entry_of(&snap).expect("entry")["identified"], false);
    drop(client);

    let (_client, _w) = resume_as(&s, &c, &token, 0, SUBJECT, NAME).await;
    let snap = nurse
        .recv_where(|v| {
            v["type"] == "queue_snapshot" && entry_of(v).is_some_and(|e| e["identified"] == true)
        })
        .await;
    assert!(
        snap.is_some(),
        "the queue never showed the client as identified"
    );
}

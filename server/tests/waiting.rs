//! A patient's wait in the queue, over real WebSockets: leaving the queue, writing while
//! waiting (the team's queue shows a preview), honest places and estimates (nobody available,
//! after a reconnect, after a transfer), and the client's language and stable alias as the
//! professionals see them.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::*;

/// How long a test listens to make sure something does NOT arrive.
const QUIET: Duration = Duration::from_millis(300);

/// Starts a conversation in `team` with a language.
async fn start_in(client: &mut Conn, service: &str, team: &str, lang: &str) -> Value {
    let client_ref = uuid::Uuid::new_v4().to_string();
    client
        .request(
            json!({"type": "start", "service": service, "team": team, "client_ref": client_ref,
                   "lang": lang, "questionnaire": {"duration": "1-3 days"}}),
            "start",
        )
        .await
}

/// The entry of `conversation` in the next `queue_snapshot` of `team` that satisfies `pred`.
async fn entry_where(
    conn: &mut Conn,
    team: &str,
    conversation: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let snap = conn
        .recv_where(|v| {
            v["type"] == "queue_snapshot"
                && v["team"] == team
                && v["entries"].as_array().is_some_and(|e| {
                    e.iter()
                        .any(|x| x["conversation"] == conversation && pred(x))
                })
        })
        .await
        .unwrap_or_else(|| panic!("{conversation} never appeared as expected in {team}'s queue"));
    snap["entries"]
        .as_array()
        .and_then(|e| e.iter().find(|x| x["conversation"] == conversation))
        .cloned()
        .expect("entry")
}

#[tokio::test]
async fn a_patient_who_gives_up_leaves_the_queue_and_is_counted_as_an_abandoned_wait() {
    let s = TestServer::start().await;
    let mut nurse = s.console("nurse-3").await; // station-b: manual
    nurse
        .request(
            json!({"type": "subscribe_queue", "teams": ["station-b"]}),
            "sub",
        )
        .await;
    let mut client = s.client().await;
    let q = start_in(&mut client, "stations-chat", "station-b", "fi").await;
    let c = conv(&q);
    entry_where(&mut nurse, "station-b", &c, |_| true).await;

    let (ack, left) = client
        .request_event(json!({"type": "leave", "conversation": c}), "leave", "left")
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(left["seq"], ack["seq"]);
    assert!(left["detail"]["waited_s"].as_u64().is_some());

    // The nurse's queue no longer lists the ghost, and it cannot be taken.
    nurse
        .recv_where(|v| {
            v["type"] == "queue_snapshot"
                && v["team"] == "station-b"
                && v["entries"]
                    .as_array()
                    .is_some_and(|e| e.iter().all(|x| x["conversation"] != c.as_str()))
        })
        .await
        .expect("the conversation left the queue");
    let refused = nurse
        .request(json!({"type": "accept", "conversation": c}), "acc")
        .await;
    assert_eq!(refused["code"], "not_found");
    let abandoned = s
        .wait_metric_of(
            "luukku_queue_abandoned_total",
            &[("team", "station-b")],
            |v| v == 1.0,
        )
        .await;
    assert_eq!(abandoned, 1.0);

    // Nothing more can be sent into it, and leaving twice is refused.
    let id = uuid::Uuid::new_v4().to_string();
    let e = client
        .request(
            json!({"type": "send", "conversation": c, "client_msg_id": id, "body": "hello?"}),
            "late",
        )
        .await;
    assert_eq!(e["code"], "conversation_closed");
    let again = client
        .request(json!({"type": "leave", "conversation": c}), "leave2")
        .await;
    assert_eq!(again["code"], "conversation_closed");
    let stored = s.stored_events(&c).await;
    assert_eq!(
        stored.iter().filter(|e| e["event"] == "left").count(),
        1,
        "{stored:?}"
    );
}

#[tokio::test]
async fn a_waiting_patient_describes_the_matter_and_the_nurse_sees_it_in_the_queue_and_on_taking_the_chat(
) {
    let s = TestServer::start().await;
    let mut nurse = s.console("nurse-3").await;
    nurse
        .request(
            json!({"type": "subscribe_queue", "teams": ["station-b"]}),
            "sub",
        )
        .await;
    let mut client = s.client().await;
    let q = start_in(&mut client, "stations-chat", "station-b", "sv").await;
    let c = conv(&q);
    let long = "Jag har haft feber i tre dagar och behöver en tid. ".repeat(5);
    let ack = client.say(&c, &long).await;
    assert!(
        ack["seq"].as_u64().is_some(),
        "a waiting patient's message is stored: {ack}"
    );

    let entry = entry_where(&mut nurse, "station-b", &c, |x| x.get("preview").is_some()).await;
    let preview = entry["preview"].as_str().expect("preview");
    assert!(long.starts_with(preview.trim_end_matches('…')));
    assert!(preview.chars().count() <= 141, "{preview}");
    assert_eq!(entry["lang"], "sv");
    let alias = entry["alias"].as_str().expect("alias").to_owned();
    assert_eq!(alias.len(), 4);
    assert!(entry["contact_s"].as_u64().is_some());

    let assigned = nurse
        .request(json!({"type": "accept", "conversation": c}), "acc")
        .await;
    assert_eq!(assigned["type"], "assigned");
    assert_eq!(assigned["client"]["lang"], "sv");
    assert_eq!(assigned["client"]["alias"], alias.as_str());
    assert!(assigned["contact_at"].as_str().is_some());
    let history = nurse
        .request(json!({"type": "history", "conversation": c}), "hist")
        .await;
    let events = history["events"].as_array().expect("events");
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "message" && e["body"] == long.as_str()),
        "the nurse sees what the patient wrote while waiting: {history}"
    );
}

#[tokio::test]
async fn nobody_available_is_said_honestly_and_the_place_follows_the_patient_through_reconnects_and_transfers(
) {
    let s = TestServer::start().await;
    let mut client = s.client().await;
    let q = start_in(&mut client, "stations-chat", "station-b", "en").await;
    let c = conv(&q);
    let token = q["resume_token"].as_str().expect("token").to_owned();
    assert_eq!(q["position"], 1);
    assert_eq!(q["staffed"], false, "nobody of station-b is logged in: {q}");
    assert!(q["waited_s"].as_u64().is_some());

    // A nurse of the team logs in: the patient hears that somebody is available now.
    let mut nurse = s.console("nurse-3").await;
    let update = client
        .recv_where(|v| v["type"] == "queue" && v["staffed"] == true)
        .await
        .expect("a queue update when somebody became available");
    assert_eq!(update["position"], 1);

    // A reconnecting patient gets the current place at once.
    drop(client);
    let (mut back, welcome) = s
        .client_hello(json!({"type": "hello",
            "resume": [{"conversation": c, "resume_token": token, "after_seq": 1}]}))
        .await;
    assert_eq!(welcome["conversations"][0]["status"], "queued");
    let place = back.recv_type("queue").await;
    assert_eq!(place["conversation"], c.as_str());
    assert_eq!(place["position"], 1);
    assert_eq!(place["staffed"], true);

    // Taken, then transferred: the patient waits again and is told the new place.
    nurse
        .request(json!({"type": "accept", "conversation": c}), "acc")
        .await;
    back.system_event(&c, "assigned").await;
    nurse
        .request(
            json!({"type": "transfer", "conversation": c, "to_team": "station-a",
                   "note": "needs a lab referral"}),
            "tr",
        )
        .await;
    back.system_event(&c, "transferred").await;
    let after = back.recv_type("queue").await;
    assert_eq!(after["conversation"], c.as_str());
    assert_eq!(after["position"], 1);
    assert_eq!(after["staffed"], false, "nobody of station-a is logged in");
}

#[tokio::test]
async fn a_stalled_queue_gives_an_estimate_no_shorter_than_a_place_and_repeats_nothing() {
    let s = TestServer::start().await;
    // nurse-3 is available but takes nobody (manual team): the queue stalls.
    let _nurse = s.console("nurse-3").await;
    let mut client = s.client().await;
    let q = start_in(&mut client, "stations-chat", "station-b", "fi").await;
    assert_eq!(q["staffed"], true);
    let first = q["estimated_wait_s"].as_u64().expect("estimate");
    // The estimate never drops below the stall so far; with the default of 120 s per place
    // it stays there until the stall passes it, so nothing new is said in a short while.
    assert!(first >= 120, "{q}");
    assert!(
        client
            .drain(QUIET)
            .await
            .iter()
            .all(|v| v["type"] != "queue"),
        "no repeated place without a change"
    );
}

#[tokio::test]
async fn an_unknown_topic_or_team_at_start_is_not_found() {
    let s = TestServer::start().await;
    let mut client = s.client().await;
    let e = client
        .request(
            json!({"type": "start", "service": "health-chat", "topic": "no-such-topic",
                   "questionnaire": {"duration": "1-3 days"}}),
            "t",
        )
        .await;
    assert_eq!(e["code"], "not_found", "{e}");
    let e = client
        .request(
            json!({"type": "start", "service": "health-chat", "team": "station-b",
                   "questionnaire": {"duration": "1-3 days"}}),
            "t2",
        )
        .await;
    assert_eq!(e["code"], "not_found", "{e}");
    let e = client
        .request(json!({"type": "start", "service": "health-chat"}), "t3")
        .await;
    assert_eq!(
        e["code"], "bad_frame",
        "a missing answer is still bad_frame: {e}"
    );
}

#[tokio::test]
async fn what_a_waiting_patient_wrote_is_still_previewed_after_a_restart() {
    let s = TestServer::start().await;
    let mut client = s.client().await;
    let q = start_in(&mut client, "stations-chat", "station-b", "fi").await;
    let c = conv(&q);
    client.say(&c, "Reseptin uusiminen").await;
    client.say(&c, "Tarvitsen verenpainelääkkeen").await;
    drop(client);

    let s = s.restart().await;
    let mut nurse = s.console("nurse-3").await;
    let first = nurse
        .request(
            json!({"type": "subscribe_queue", "teams": ["station-b"]}),
            "sub",
        )
        .await;
    // The previews are read back just after start-up: in the first snapshot, or in a later one.
    let restored = first["entries"]
        .as_array()
        .and_then(|e| e.iter().find(|x| x["conversation"] == c.as_str()))
        .filter(|x| x.get("preview").is_some())
        .cloned();
    let entry = match restored {
        Some(entry) => entry,
        None => entry_where(&mut nurse, "station-b", &c, |x| x.get("preview").is_some()).await,
    };
    assert_eq!(
        entry["preview"], "Tarvitsen verenpainelääkkeen",
        "the latest one"
    );
}

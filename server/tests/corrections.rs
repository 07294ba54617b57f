//! A nurse's second thoughts and ways out, over real WebSockets: taking back a message sent by
//! mistake, handing chats back to the queue, the colleagues list of the transfer form, and
//! the errors a client author meets on a conversation already complete.

mod support;

use serde_json::json;
use std::time::Duration;
use support::*;

/// A nurse of station-a in a chat with a fresh client; returns (nurse, client, conversation).
async fn chat(s: &TestServer, nurse: &str) -> (Conn, Conn, String) {
    let mut n = s.console(nurse).await;
    let (mut client, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    assert_eq!(n.assigned().await, c);
    client.system_event(&c, "assigned").await;
    (n, client, c)
}

#[tokio::test]
async fn a_message_sent_by_mistake_is_taken_back_on_both_sides_and_stays_in_the_record() {
    let s = TestServer::start().await;
    let (mut nurse, mut client, c) = chat(&s, "nurse-1").await;
    let welcome_window = {
        let (_other, w) = s.console_hello("nurse-2", json!({})).await;
        w["retract_window_s"].as_u64()
    };
    assert_eq!(welcome_window, Some(120));

    let ack = nurse
        .say(&c, "Note to self: results not yet in lab system")
        .await;
    let seq = ack["seq"].as_u64().expect("seq");
    client
        .heard(&c, "Note to self: results not yet in lab system")
        .await;

    let (r, on_nurse) = nurse
        .request_event(
            json!({"type": "retract", "conversation": c, "seq": seq}),
            "r1",
            "retracted",
        )
        .await;
    assert_eq!(r["type"], "ack", "{r}");
    assert_eq!(on_nurse["detail"]["seq"], seq);
    let on_client = client.system_event(&c, "retracted").await;
    assert_eq!(on_client["detail"]["seq"], seq);
    assert_eq!(on_client["detail"]["name"], "Nurse One");
    assert_eq!(on_client["seq"], r["seq"]);

    // Taking it back again answers with the same event and stores nothing new.
    let again = nurse
        .request(
            json!({"type": "retract", "conversation": c, "seq": seq}),
            "r2",
        )
        .await;
    assert_eq!(again["seq"], r["seq"]);
    let stored = s.stored_events(&c).await;
    assert_eq!(
        stored.iter().filter(|e| e["event"] == "retracted").count(),
        1
    );
    assert!(
        stored
            .iter()
            .any(|e| e["seq"] == seq && e["body"] == "Note to self: results not yet in lab system"),
        "the original stays in the record"
    );

    // Only one's own message: the client's is not the nurse's to take back.
    let theirs = client.say(&c, "Thanks").await["seq"].as_u64().expect("seq");
    let e = nurse
        .request(
            json!({"type": "retract", "conversation": c, "seq": theirs}),
            "r3",
        )
        .await;
    assert_eq!(e["code"], "bad_frame", "{e}");
    let e = client
        .request(
            json!({"type": "retract", "conversation": c, "seq": seq}),
            "r4",
        )
        .await;
    assert_eq!(e["code"], "bad_frame", "clients have no retract frame: {e}");
}

#[tokio::test]
async fn after_the_window_a_message_can_no_longer_be_taken_back() {
    let s = TestServer::start_with(|c| c.retract_window = Duration::ZERO).await;
    let (mut nurse, _client, c) = chat(&s, "nurse-1").await;
    let seq = nurse.say(&c, "Your results are fine").await["seq"]
        .as_u64()
        .expect("seq");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let e = nurse
        .request(
            json!({"type": "retract", "conversation": c, "seq": seq}),
            "late",
        )
        .await;
    assert_eq!(e["code"], "bad_frame");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("too late")),
        "{e}"
    );
}

#[tokio::test]
async fn a_nurse_logging_out_hands_her_chats_back_to_the_front_of_the_queue_at_once() {
    let s = TestServer::start().await;
    let (mut nurse, mut client, c) = chat(&s, "nurse-1").await;
    // Away first, so the queue does not give the chat straight back.
    nurse
        .request(json!({"type": "status", "availability": "away"}), "away")
        .await;
    let released = nurse
        .request(json!({"type": "release", "conversation": c}), "rel")
        .await;
    assert_eq!(released["type"], "released", "{released}");
    assert_eq!(released["reason"], "handed_back");
    let queued = client.system_event(&c, "queued").await;
    assert_eq!(queued["detail"]["reason"], "handed_back");
    let place = client.recv_type("queue").await;
    assert_eq!(place["position"], 1);

    // A colleague logging in gets it at once (auto team).
    let mut colleague = s.console("nurse-2").await;
    assert_eq!(colleague.assigned().await, c);
    assert_eq!(
        s.metric_of("luukku_handed_back_total", &[("team", "station-a")])
            .await,
        1.0
    );
    // The first nurse can no longer write into it.
    let id = uuid::Uuid::new_v4().to_string();
    let e = nurse
        .request(
            json!({"type": "send", "conversation": c, "client_msg_id": id, "body": "x"}),
            "gone",
        )
        .await;
    assert_eq!(e["code"], "forbidden");
}

#[tokio::test]
async fn the_transfer_form_gets_team_names_and_colleagues_with_presence_and_load() {
    let s = TestServer::start().await;
    let (mut nurse, _client, _c) = chat(&s, "nurse-1").await;
    let mut away = s.console("nurse-4").await;
    away.request(json!({"type": "status", "availability": "away"}), "a")
        .await;
    let list = nurse
        .request(json!({"type": "colleagues", "lang": "en"}), "col")
        .await;
    assert_eq!(list["type"], "colleagues", "{list}");
    let teams = list["teams"].as_array().expect("teams");
    assert!(teams
        .iter()
        .any(|t| t["id"] == "station-b" && t["name"] == "Health station B"));
    let finnish = nurse.request(json!({"type": "colleagues"}), "fi").await;
    assert!(
        finnish["teams"].as_array().is_some_and(|t| t
            .iter()
            .any(|t| t["id"] == "station-b" && t["name"] != "Health station B")),
        "without lang, the organisation's default language (Finnish): {finnish}"
    );
    let pro = |id: &str| {
        list["professionals"]
            .as_array()
            .and_then(|p| p.iter().find(|x| x["id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("{id} missing from {list}"))
    };
    assert_eq!(pro("nurse-1")["presence"], "available");
    assert_eq!(pro("nurse-1")["active"], 1);
    assert_eq!(pro("nurse-1")["capacity"], 4);
    assert_eq!(pro("nurse-4")["presence"], "away");
    assert_eq!(pro("nurse-3")["presence"], "offline");
    assert_eq!(pro("nurse-3")["teams"], json!(["station-b"]));
}

#[tokio::test]
async fn close_or_transfer_of_a_complete_conversation_is_conversation_closed() {
    let s = TestServer::start().await;
    let (mut nurse, _client, c) = chat(&s, "nurse-1").await;
    nurse
        .request(json!({"type": "close", "conversation": c}), "close")
        .await;
    nurse.recv_type("released").await;
    for (frame, req) in [
        (json!({"type": "close", "conversation": c}), "again"),
        (
            json!({"type": "transfer", "conversation": c, "to_team": "station-b"}),
            "tr",
        ),
    ] {
        let e = nurse.request(frame, req).await;
        assert_eq!(e["code"], "conversation_closed", "{e}");
        assert_eq!(e["conversation"], c.as_str());
    }
    // A professional of another team learns nothing: forbidden, as for an unknown id.
    let mut other = s.console("nurse-3").await;
    let e = other
        .request(json!({"type": "close", "conversation": c}), "x")
        .await;
    assert_eq!(e["code"], "forbidden");
    let e = other
        .request(json!({"type": "close", "conversation": "no-such"}), "y")
        .await;
    assert_eq!(e["code"], "forbidden");
}

#[tokio::test]
async fn a_capacity_of_zero_is_clamped_to_one() {
    let s = TestServer::start().await;
    let mut nurse = s.console("nurse-1").await;
    let st = nurse
        .request(json!({"type": "status", "capacity": 0}), "cap")
        .await;
    assert_eq!(st["type"], "status", "{st}");
    assert_eq!(st["capacity"], 1);
}

//! A shift lead's supervision: live overviews of their teams (queue in summary, presence and
//! load), a team's routing switched at run time and kept over a restart, and a waiting
//! conversation moved to another team with its waiting time. Only supervisors, only for
//! their teams, and never a conversation's content.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::*;

/// A supervisor's console, away so that no chat is routed to it.
async fn lead(s: &TestServer) -> Conn {
    let (mut c, welcome) = s.console_hello("lead-1", json!({})).await;
    assert_eq!(welcome["professional"]["roles"], json!(["supervisor"]));
    c.request(json!({"type": "status", "availability": "away"}), "away")
        .await;
    c
}

/// The overview of `team` now (asked afresh, so no earlier frame matters).
async fn current(c: &mut Conn, team: &str) -> Value {
    let req = format!("now-{team}-{}", uuid::Uuid::new_v4());
    c.send(json!({"type": "supervise", "teams": [team], "req": req}))
        .await;
    overview(c, team, |v| v["req"] == req.as_str()).await
}

/// Waits for an overview of `team` that satisfies `pred`.
async fn overview(c: &mut Conn, team: &str, pred: impl Fn(&Value) -> bool) -> Value {
    c.recv_where(|v| v["type"] == "team_overview" && v["team"] == team && pred(v))
        .await
        .unwrap_or_else(|| panic!("no overview of {team} as expected"))
}

fn waiting_ids(o: &Value) -> Vec<String> {
    o["queue"]
        .as_array()
        .expect("queue")
        .iter()
        .map(|e| e["conversation"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn only_supervisors_supervise_and_only_their_own_teams() {
    let s = TestServer::start().await;
    let (mut nurse, welcome) = s.console_hello("nurse-1", json!({})).await;
    assert!(welcome["professional"].get("roles").is_none());
    for (frame, req) in [
        (json!({"type": "supervise"}), "sup"),
        (
            json!({"type": "set_routing", "team": "station-a", "routing": "manual"}),
            "route",
        ),
        (
            json!({"type": "move", "conversation": "c-x", "to_team": "station-b"}),
            "move",
        ),
    ] {
        let e = nurse.request(frame, req).await;
        assert_eq!(
            (e["type"].as_str(), e["code"].as_str()),
            (Some("error"), Some("forbidden")),
            "{req}: {e}"
        );
    }

    let mut lead = lead(&s).await;
    let e = lead
        .request(json!({"type": "supervise", "teams": ["social"]}), "other")
        .await;
    assert_eq!(e["code"], "forbidden");
    let e = lead
        .request(
            json!({"type": "set_routing", "team": "social", "routing": "manual"}),
            "other-route",
        )
        .await;
    assert_eq!(e["code"], "forbidden");
    let e = lead
        .request(
            json!({"type": "set_routing", "team": "station-a", "routing": "sometimes"}),
            "bad",
        )
        .await;
    assert_eq!(e["code"], "bad_frame");

    // A chat waiting in a team the lead does not supervise cannot be moved by them, and the
    // answer is the one for a conversation that does not exist.
    let (_social, q) = s.started("social-chat", "social").await;
    let e = lead
        .request(
            json!({"type": "move", "conversation": conv(&q), "to_team": "station-a"}),
            "steal",
        )
        .await;
    assert_eq!(e["code"], "not_found");
    let e2 = lead
        .request(
            json!({"type": "move", "conversation": "no-such", "to_team": "station-a"}),
            "ghost",
        )
        .await;
    assert_eq!(e2["code"], "not_found");
    assert_eq!(e["message"], e2["message"]);
}

#[tokio::test]
async fn a_lead_sees_the_queue_and_staffing_live_but_never_what_patients_wrote() {
    let s = TestServer::start().await;
    let mut lead = lead(&s).await;
    lead.send(json!({"type": "supervise", "lang": "en", "req": "sup"}))
        .await;
    let both = lead.drain(Duration::from_millis(500)).await;
    let of = |team: &str| {
        both.iter()
            .find(|v| v["type"] == "team_overview" && v["team"] == team && v["req"] == "sup")
            .cloned()
            .unwrap_or_else(|| panic!("no overview of {team}: {both:?}"))
    };
    let (a, b) = (of("station-a"), of("station-b"));
    assert_eq!(
        (a["waiting"].as_u64(), b["waiting"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(a["routing"], "auto");
    assert_eq!(a["name"], "Health station A", "in the language asked for");
    let lead_row = a["professionals"]
        .as_array()
        .expect("professionals")
        .iter()
        .find(|p| p["id"] == "lead-1")
        .cloned();
    assert!(lead_row.is_some(), "{a}");

    // Nobody available: the patient waits and the team shows as unstaffed.
    let (mut patient, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    let o = overview(&mut lead, "station-a", |v| v["waiting"] == 1).await;
    assert_eq!(o["unstaffed"], true);
    assert_eq!(o["available"], 0);
    let entry = &o["queue"][0];
    assert_eq!(entry["conversation"], c.as_str());
    assert_eq!(entry["service"], "health-chat");
    assert_eq!(entry["channel"], "chat");
    assert_eq!(entry["identified"], false);
    let secret = "my private symptoms in detail";
    patient.say(&c, secret).await;

    // The oldest wait grows with time; the lead's console counts on between frames.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let o = current(&mut lead, "station-a").await;
    assert!(o["oldest_wait_s"].as_u64().expect("wait") >= 2, "{o}");
    assert!(
        o["queue"][0]["waiting_s"].as_u64().expect("wait") >= 2,
        "{o}"
    );

    // A nurse signs in: staffed, her load shown, and she is given the chat.
    let mut nurse = s.console("nurse-1").await;
    assert_eq!(nurse.assigned().await, c);
    let o = overview(&mut lead, "station-a", |v| {
        v["waiting"] == 0
            && v["professionals"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["id"] == "nurse-1" && p["active"] == 1))
    })
    .await;
    assert_eq!(o["unstaffed"], false);
    assert_eq!(o["available"], 1);
    assert_eq!(o["capacity"], 4);
    let row = o["professionals"]
        .as_array()
        .expect("professionals")
        .iter()
        .find(|p| p["id"] == "nurse-1")
        .cloned()
        .expect("nurse-1");
    assert_eq!(row["presence"], "available");
    assert_eq!(row["capacity"], 4);

    // She goes away: the lead sees it.
    nurse
        .request(json!({"type": "status", "availability": "away"}), "away")
        .await;
    let o = overview(&mut lead, "station-a", |v| v["available"] == 0).await;
    assert_eq!(o["unstaffed"], false, "nobody waits: not unstaffed");

    // Nothing the lead received carries what the patient wrote or the client's alias.
    let rest = lead.drain(Duration::from_millis(300)).await;
    for v in rest {
        let text = v.to_string();
        assert!(!text.contains(secret), "a supervisor saw content: {text}");
        assert!(v.get("preview").is_none() && v.get("alias").is_none());
    }
}

#[tokio::test]
async fn manual_routing_holds_chats_until_taken_and_survives_a_restart() {
    let s = TestServer::start().await;
    let mut lead = lead(&s).await;
    let r = lead
        .request(
            json!({"type": "set_routing", "team": "station-a", "routing": "manual"}),
            "manual",
        )
        .await;
    assert_eq!(
        (r["type"].as_str(), r["routing"].as_str()),
        (Some("routing"), Some("manual"))
    );

    let mut nurse = s.console("nurse-1").await;
    let (_patient, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    let quiet = nurse.drain(Duration::from_millis(700)).await;
    assert!(
        !quiet.iter().any(|v| v["type"] == "assigned"),
        "manual routing assigned a chat: {quiet:?}"
    );

    let r = lead
        .request(
            json!({"type": "set_routing", "team": "station-a", "routing": "auto"}),
            "auto",
        )
        .await;
    assert_eq!(r["routing"], "auto");
    assert_eq!(
        nurse.assigned().await,
        c,
        "back on auto: the waiting chat is given out"
    );

    // Station B is configured manual; the lead sets it to auto.
    assert_eq!(current(&mut lead, "station-b").await["routing"], "manual");
    lead.request(
        json!({"type": "set_routing", "team": "station-b", "routing": "auto"}),
        "b-auto",
    )
    .await;
    drop((lead, nurse));
    let s = s.restart().await;
    let mut lead = self::lead(&s).await;
    let b = current(&mut lead, "station-b").await;
    assert_eq!(b["routing"], "auto", "the routing set survives a restart");
    let a = current(&mut lead, "station-a").await;
    assert_eq!(a["routing"], "auto");
}

#[tokio::test]
async fn a_lead_moves_a_waiting_chat_to_another_team_which_takes_it() {
    let s = TestServer::start().await;
    let mut lead = lead(&s).await;
    let (mut patient, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    assert_eq!(
        waiting_ids(&current(&mut lead, "station-a").await),
        std::slice::from_ref(&c)
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let r = lead
        .request(
            json!({"type": "move", "conversation": c, "to_team": "station-b"}),
            "mv",
        )
        .await;
    assert_eq!(
        (r["type"].as_str(), r["team"].as_str()),
        (Some("moved"), Some("station-b")),
        "{r}"
    );
    let b = current(&mut lead, "station-b").await;
    assert_eq!(waiting_ids(&b), std::slice::from_ref(&c));
    assert!(
        b["queue"][0]["waiting_s"].as_u64().expect("wait") >= 1,
        "the chat keeps its waiting time: {b}"
    );
    assert_eq!(current(&mut lead, "station-a").await["waiting"], 0);

    // The patient is told, without who moved it.
    let moved = patient.system_event(&c, "transferred").await;
    assert_eq!(moved["detail"]["team"], "station-b");
    assert!(moved["detail"].get("supervisor").is_none(), "{moved}");

    // Station B (manual routing) takes it from its queue; station A's nurse cannot.
    let mut nurse_a = s.console("nurse-1").await;
    let e = nurse_a
        .request(json!({"type": "accept", "conversation": c}), "take-a")
        .await;
    assert_eq!(e["type"], "error", "{e}");
    let mut nurse_b = s.console("nurse-3").await;
    nurse_b
        .send(json!({"type": "accept", "team": "station-b"}))
        .await;
    assert_eq!(nurse_b.assigned().await, c);
    assert!(!nurse_a
        .drain(Duration::from_millis(300))
        .await
        .iter()
        .any(|v| v["type"] == "assigned"));

    // The record says who moved it from where.
    let events = s.stored_events(&c).await;
    let stored = events
        .iter()
        .find(|e| e["event"] == "transferred")
        .expect("stored move");
    assert_eq!(stored["detail"]["supervisor"], "lead-1");
    assert_eq!(stored["detail"]["from_team"], "station-a");

    // Taken now: not waiting any more, so it cannot be moved.
    let e = lead
        .request(
            json!({"type": "move", "conversation": c, "to_team": "station-a"}),
            "late",
        )
        .await;
    assert_eq!(e["code"], "not_found");
    let e = lead
        .request(
            json!({"type": "move", "conversation": c, "to_team": "nowhere"}),
            "nowhere",
        )
        .await;
    assert_eq!(e["code"], "not_found");
}

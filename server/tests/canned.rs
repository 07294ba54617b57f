//! Canned responses on `/ws/console`: a professional sees their teams' responses (one entry
//! per language) and their own personal ones — never a colleague's — and the personal ones
//! are kept in the database, so they follow the professional to another computer and survive
//! a server restart.

mod support;

use serde_json::{json, Value};
use support::*;

/// `{"type":"canned"}` → the list (the reply echoes `req`).
async fn canned(c: &mut Conn, req: &str) -> Vec<Value> {
    let reply = c.request(json!({"type": "canned"}), req).await;
    assert_eq!(reply["type"], "canned", "{reply}");
    reply["responses"].as_array().expect("responses").clone()
}

fn personal(list: &[Value]) -> Vec<&Value> {
    list.iter().filter(|r| r["scope"] == "personal").collect()
}

fn teams_of(list: &[Value]) -> std::collections::BTreeSet<&str> {
    list.iter()
        .filter(|r| r["scope"] == "team")
        .map(|r| r["team"].as_str().expect("a team response names its team"))
        .collect()
}

fn save(code: &str, lang: &str, body: &str) -> Value {
    json!({"type": "canned_save", "code": code, "title": "My own", "lang": lang, "body": body})
}

#[tokio::test]
async fn a_nurse_sees_her_teams_responses_in_every_language() {
    let s = TestServer::start().await;
    let mut nurse1 = s.console("nurse-1").await;
    let list = canned(&mut nurse1, "c1").await;
    assert_eq!(teams_of(&list), ["station-a"].into());
    assert!(personal(&list).is_empty());
    for lang in ["fi", "sv", "en"] {
        let hello = list
            .iter()
            .find(|r| r["code"] == "hello" && r["lang"] == lang)
            .unwrap_or_else(|| panic!("a greeting in {lang}"));
        assert!(hello["body"]
            .as_str()
            .expect("body")
            .contains("{client_name}"));
        assert!(hello["title"].is_string() && hello["id"].is_string());
    }
    let swedish = list
        .iter()
        .find(|r| r["code"] == "hello" && r["lang"] == "sv")
        .expect("sv");
    assert_eq!(swedish["title"], "Hälsning");

    let mut nurse4 = s.console("nurse-4").await;
    let list = canned(&mut nurse4, "c2").await;
    assert_eq!(teams_of(&list), ["station-a", "station-b"].into());
    let mut social = s.console("social-1").await;
    assert_eq!(
        teams_of(&canned(&mut social, "c3").await),
        ["social"].into()
    );
}

#[tokio::test]
async fn personal_responses_are_private_and_survive_a_restart() {
    let s = TestServer::start().await;
    let mut nurse1 = s.console("nurse-1").await;
    let reply = nurse1
        .request(
            save(
                "labs",
                "fi",
                "Hei {client_name}, tulokset eivät ole vielä valmiita.",
            ),
            "s1",
        )
        .await;
    assert_eq!(reply["type"], "canned", "the full list comes back: {reply}");
    let mine = personal(reply["responses"].as_array().expect("list"))
        .into_iter()
        .cloned()
        .collect::<Vec<_>>();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["code"], "labs");
    assert_eq!(mine[0]["lang"], "fi");
    assert_eq!(mine[0]["title"], "My own");
    assert!(mine[0].get("team").is_none());
    let id = mine[0]["id"].as_str().expect("id").to_owned();
    let teams = teams_of(reply["responses"].as_array().expect("list"));
    assert_eq!(teams, ["station-a"].into(), "team responses too");

    // A colleague in the same team sees the team's responses, never nurse-1's own, and
    // cannot change or delete them.
    let mut nurse2 = s.console("nurse-2").await;
    assert!(personal(&canned(&mut nurse2, "n2").await).is_empty());
    let edit =
        json!({"type": "canned_save", "id": id, "code": "labs", "lang": "fi", "body": "hijacked"});
    let e = nurse2.request(edit, "n2-edit").await;
    assert_eq!(
        (e["type"].as_str(), e["code"].as_str()),
        (Some("error"), Some("not_found"))
    );
    let e = nurse2
        .request(json!({"type": "canned_delete", "id": id}), "n2-del")
        .await;
    assert_eq!(e["code"], "not_found");
    let e = nurse2
        .request(
            json!({"type": "canned_delete", "id": "p-no-such"}),
            "n2-none",
        )
        .await;
    assert_eq!(
        e["code"], "not_found",
        "the same answer as for an id that does not exist"
    );

    // nurse-1 edits her own, adds a Swedish one; another computer of hers sees both.
    let edit = json!({"type": "canned_save", "id": id, "code": "labs", "title": "Labs",
                      "lang": "fi", "body": "Tulokset tulevat huomenna."});
    let reply = nurse1.request(edit, "s2").await;
    let mine = personal(reply["responses"].as_array().expect("list"))
        .into_iter()
        .cloned()
        .collect::<Vec<_>>();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        (mine[0]["id"].as_str(), mine[0]["body"].as_str()),
        (Some(id.as_str()), Some("Tulokset tulevat huomenna."))
    );
    nurse1
        .request(save("labs", "sv", "Svaren kommer i morgon."), "s3")
        .await;
    let mut other_computer = Conn::connect(&s.ws_url("console"), true).await;
    other_computer
        .send(json!({"type": "hello", "token": s.token("nurse-1")}))
        .await;
    other_computer.recv_type("welcome").await;
    let seen = canned(&mut other_computer, "msgpack").await;
    let langs: Vec<&str> = personal(&seen)
        .iter()
        .filter_map(|r| r["lang"].as_str())
        .collect();
    assert_eq!(langs, ["fi", "sv"]);
    drop((nurse1, nurse2, other_computer));

    let s = s.restart().await;
    let mut nurse1 = s.console("nurse-1").await;
    let after = canned(&mut nurse1, "after").await;
    let bodies: Vec<&str> = personal(&after)
        .iter()
        .filter_map(|r| r["body"].as_str())
        .collect();
    assert_eq!(
        bodies,
        ["Tulokset tulevat huomenna.", "Svaren kommer i morgon."]
    );
    let mut nurse2 = s.console("nurse-2").await;
    assert!(personal(&canned(&mut nurse2, "n2-after").await).is_empty());

    let reply = nurse1
        .request(json!({"type": "canned_delete", "id": id}), "del")
        .await;
    assert_eq!(reply["type"], "canned");
    let left: Vec<&str> = personal(reply["responses"].as_array().expect("list"))
        .iter()
        .filter_map(|r| r["lang"].as_str())
        .collect();
    assert_eq!(left, ["sv"]);
}

#[tokio::test]
async fn bad_canned_responses_are_refused_naming_the_problem() {
    let s = TestServer::start().await;
    let mut nurse = s.console("nurse-1").await;
    let long_title = "x".repeat(101);
    let long_body = "y".repeat(2001);
    let cases = [
        (save("", "fi", "b"), "code"),
        (save("Hei!", "fi", "b"), "code"),
        (save(&"a".repeat(33), "fi", "b"), "code"),
        (
            json!({"type": "canned_save", "code": "ok", "title": long_title, "lang": "fi", "body": "b"}),
            "title",
        ),
        (save("ok", "fi", ""), "body"),
        (save("ok", "fi", &long_body), "body"),
        (save("ok", "de", "Hallo"), "lang"),
        (
            json!({"type": "canned_save", "code": "ok", "lang": "fi"}),
            "body",
        ),
    ];
    for (i, (frame, field)) in cases.into_iter().enumerate() {
        let req = format!("bad-{i}");
        let e = nurse.request(frame, &req).await;
        assert_eq!(e["type"], "error", "{field}: {e}");
        assert_eq!(e["code"], "bad_frame", "{field}: {e}");
        let message = e["message"].as_str().expect("message");
        assert!(message.contains(field), "{field}: {message}");
    }
    nurse.request(save("ok", "fi", "Hei"), "first").await;
    let e = nurse.request(save("ok", "fi", "Hei taas"), "twice").await;
    assert_eq!(
        e["code"], "bad_frame",
        "one response per code and language: {e}"
    );
    let team_id = canned(&mut nurse, "list")
        .await
        .iter()
        .find(|r| r["scope"] == "team")
        .and_then(|r| r["id"].as_str().map(str::to_owned))
        .expect("a team response");
    let e = nurse
        .request(json!({"type": "canned_delete", "id": team_id}), "team")
        .await;
    assert_eq!(
        e["code"], "bad_frame",
        "team responses come from the configuration: {e}"
    );
    assert_eq!(personal(&canned(&mut nurse, "still").await).len(), 1);
}

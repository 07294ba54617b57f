//! Red flags: a service's questionnaire marks alarming answers (in the demo, chest pain with
//! difficulty breathing). Such a start is told the emergency guidance at once, in the
//! patient's language, goes first in its queue ahead of patients who came earlier, and is
//! the first a nurse gets, marked urgent; other answers change nothing.

mod support;

use serde_json::{json, Value};
use support::*;

async fn start(s: &TestServer, answers: Value, lang: &str) -> (Conn, Value) {
    let mut c = s.client().await;
    c.send(
        json!({"type": "start", "service": "health-chat", "team": "station-a",
        "client_ref": uuid::Uuid::new_v4().to_string(), "lang": lang,
        "questionnaire": answers, "req": "start"}),
    )
    .await;
    let q = c.recv_type("queued").await;
    (c, q)
}

#[tokio::test]
async fn alarming_answers_get_emergency_guidance_and_go_first() {
    let s = TestServer::start().await;
    let calm = json!({"duration": "1–3 päivää", "chest_pain": true, "breathing": false});
    let (_a, qa) = start(&s, calm.clone(), "fi").await;
    let (_b, qb) = start(&s, json!({"duration": "Alle vuorokauden"}), "fi").await;
    assert!(qa.get("urgent").is_none() && qb.get("urgent").is_none());
    assert_eq!(
        (qa["position"].as_u64(), qb["position"].as_u64()),
        (Some(1), Some(2))
    );

    let alarming = json!({"duration": "Alle vuorokauden", "chest_pain": true, "breathing": true});
    let (_c, qc) = start(&s, alarming, "sv").await;
    let guidance = qc["urgent"].as_str().expect("the guidance, at once");
    assert!(
        guidance.contains("112") && guidance.contains("Ring genast"),
        "{guidance}"
    );
    assert_eq!(
        qc["position"], 1,
        "first in the queue although it came last"
    );
    let urgent = conv(&qc);

    // The first chat a nurse is given is the urgent one, marked so in its history.
    let mut nurse = s.console("nurse-1").await;
    assert_eq!(nurse.assigned().await, urgent);
    let history = nurse
        .request(json!({"type": "history", "conversation": urgent}), "h")
        .await;
    assert_eq!(history["events"][0]["detail"]["urgent"], true, "{history}");
}

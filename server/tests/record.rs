//! The patient record as a nurse and the record's operators meet it, on every backend: a
//! closed chat of a strongly identified patient reaches the FHIR server as a signed,
//! idempotent transaction bundle of `Communication`s that passes the R4 checks — through a
//! refused first attempt — and the nurse sees it delivered; a refusal is shown with the
//! record's reason; an anonymous chat never leaves.
#![allow(clippy::unwrap_used)]

mod support;

use luukku::record::RecordConfig;
use serde_json::{json, Value};
use support::fhir::FhirStandIn;
use support::*;

const HETU: &str = "010190-987H";
const SECRET: &str = "a patient record signing key of 32+ chars";

fn with_record(stand_in: &FhirStandIn) -> impl FnOnce(&mut luukku::config::Config) {
    let config = RecordConfig {
        endpoint: stand_in.url.clone(),
        secret: Some(SECRET.into()),
        ca_file: Some(stand_in.ca_file.clone()),
        timeout_s: 5,
        services: Vec::new(),
    };
    move |c| c.record = Some(config)
}

/// A chat of `subject` (identified) or an anonymous one, closed by nurse-1 after one message
/// each way.
async fn closed_chat(s: &TestServer, nurse: &mut Conn, subject: Option<&str>) -> String {
    let hello = match subject {
        Some(sub) => json!({"type": "hello", "token": s.client_token(sub, "Maija Meikäläinen")}),
        None => json!({"type": "hello"}),
    };
    let (mut client, _) = s.client_hello(hello).await;
    let c = conv(&client.start("health-chat", "station-a").await);
    assert_eq!(nurse.assigned().await, c);
    client.say(&c, "My throat has been sore for a week.").await;
    nurse.heard(&c, "My throat has been sore for a week.").await;
    nurse.say(&c, "Please book a visit; I made a note.").await;
    let closed = nurse
        .request(
            json!({"type": "close", "conversation": c}),
            &format!("close-{c}"),
        )
        .await;
    assert_ne!(closed["type"], "error", "{closed}");
    c
}

/// Waits for the stored `record` event of `c` in `state`.
async fn record_event(s: &TestServer, c: &str, state: &str) -> Value {
    for _ in 0..300 {
        if let Some(e) = s.stored_events(c).await.into_iter().find(|e| {
            e["type"] == "system" && e["event"] == "record" && e["detail"]["state"] == state
        }) {
            return e;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "no record event {state} in {c}: {:?}",
        s.stored_events(c).await
    );
}

fn hmac_hex(t: &str, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(body);
    let tag = ring::hmac::sign(&key, &signed);
    tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_closed_identified_chat_reaches_the_record_signed_once_and_the_nurse_sees_it() {
    let fhir = FhirStandIn::start(vec![(503, "the record is being maintained")]).await;
    let s = TestServer::start_with(with_record(&fhir)).await;
    let mut nurse = s.console("nurse-1").await;
    let c = closed_chat(&s, &mut nurse, Some(HETU)).await;

    // The first attempt is refused with 503 and tried again: the same delivery, twice.
    let got = fhir.wait_for(2).await;
    assert_eq!(got.len(), 2, "{got:?}");
    let key = got[0].header("idempotency-key").unwrap().to_owned();
    assert_eq!(got[1].header("idempotency-key"), Some(key.as_str()));
    for r in &got {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/fhir"));
        assert_eq!(r.header("content-type"), Some("application/fhir+json"));
        let signature = r.header("x-luukku-signature").unwrap();
        let (t, v1) = signature
            .strip_prefix("t=")
            .and_then(|x| x.split_once(",v1="))
            .unwrap();
        assert_eq!(
            v1,
            hmac_hex(t, &r.body),
            "the signature covers the time and the body"
        );
        assert_eq!(r.body, got[0].body, "every attempt sends the same bundle");
    }

    // The bundle: an R4 transaction of the two messages, about the patient by identity code.
    let bundle = got[1].json();
    luukku::record::fhir::check_r4_bundle(&bundle).unwrap();
    assert_eq!(
        (bundle["resourceType"].clone(), bundle["type"].clone()),
        (json!("Bundle"), json!("transaction"))
    );
    let communications: Vec<&Value> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "Communication")
        .collect();
    assert_eq!(communications.len(), 2, "{bundle}");
    let texts: Vec<&str> = communications
        .iter()
        .map(|r| r["payload"][0]["contentString"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "My throat has been sore for a week.",
            "Please book a visit; I made a note."
        ]
    );
    for r in &communications {
        luukku::record::fhir::check_r4_communication(r).unwrap();
        assert_eq!(r["subject"]["identifier"]["value"], HETU, "{r}");
        assert_eq!(r["subject"]["identifier"]["system"], "urn:oid:1.2.246.21");
    }

    // The nurse sees it delivered (their history of the conversation shows the record event);
    // the patient's view never does.
    let delivered = record_event(&s, &c, "delivered").await;
    assert!(delivered["detail"]["close_seq"].as_u64().is_some());
    let history = nurse
        .request(json!({"type": "history", "conversation": c}), "h")
        .await;
    let shown = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["event"] == "record" && e["detail"]["state"] == "delivered");
    assert!(shown, "{history}");
    s.wait_metric_of(
        "luukku_record_deliveries_total",
        &[("outcome", "delivered")],
        |v| v >= 1.0,
    )
    .await;
    assert_eq!(
        s.metric_of("luukku_record_deliveries_total", &[("outcome", "retry")])
            .await,
        1.0
    );
    // Nothing more is sent for it.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(fhir.received().len(), 2);
}

#[tokio::test]
async fn a_refusal_is_shown_with_the_records_reason_and_an_anonymous_chat_never_leaves() {
    let fhir = FhirStandIn::start(vec![(422, "Unknown patient identifier")]).await;
    let s = TestServer::start_with(with_record(&fhir)).await;
    let mut nurse = s.console("nurse-1").await;
    let anonymous = closed_chat(&s, &mut nurse, None).await;
    let refused = closed_chat(&s, &mut nurse, Some(HETU)).await;
    let failed = record_event(&s, &refused, "failed").await;
    assert_eq!(
        failed["detail"]["reason"], "HTTP 422: Unknown patient identifier",
        "{failed}"
    );
    // One request only: the identified one, refused for good (not retried).
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let got = fhir.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(!String::from_utf8_lossy(&got[0].body).contains(&anonymous));
    assert!(s
        .stored_events(&anonymous)
        .await
        .iter()
        .all(|e| e["event"] != "record"));
}

#[tokio::test]
async fn a_delivery_pending_at_a_restart_is_sent_after_it_with_the_same_key() {
    let fhir = FhirStandIn::start(vec![(503, "down"); 1]).await;
    let s = TestServer::start_with(with_record(&fhir)).await;
    let mut nurse = s.console("nurse-1").await;
    let c = closed_chat(&s, &mut nurse, Some(HETU)).await;
    // The first attempt fails; the next waits (backoff) past the restart.
    let first = fhir.wait_for(1).await;
    drop(nurse);
    let s = s.restart().await;
    let delivered = record_event(&s, &c, "delivered").await;
    assert_eq!(delivered["detail"]["state"], "delivered");
    let got = fhir.received();
    assert_eq!(got.len(), 2, "{got:?}");
    let keys: std::collections::HashSet<_> = got
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_owned())
        .collect();
    assert_eq!(
        keys.len(),
        1,
        "one delivery, every attempt under its key: {keys:?}"
    );
    assert_eq!(
        first[0].header("idempotency-key"),
        got.last().unwrap().header("idempotency-key")
    );
}

//! SMS chat (seed 004) end to end against the stand-in provider, which speaks Telnyx's
//! Messaging API v2 — sends, idempotency keys, signed delivery reports and patients' SMS — on
//! every backend (SQLite, PostgreSQL, the 3-node cluster): a contact request → In progress →
//! SMS → sent → delivered → the patient's reply in the same case with the team's alert → case
//! closed → the patient's late SMS gets the organisation's automatic reply and the case stays
//! closed → reopened → SMS again. Bad input is refused before anything is sent; forged and
//! unsigned webhooks are 401; a `kill -9` while SMS wait for the provider's answer sends each
//! exactly once.

mod support;

use base64::Engine as _;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use support::process::{luukku, ready};
use support::smtp::free_addr;
use support::standin::StandIn;
use support::*;

const PATIENT: &str = "+358401234567";

/// A server (or cluster) of the demo organisation with SMS chat through a fresh stand-in.
async fn with_sms() -> (TestServer, StandIn) {
    let addr = free_addr();
    let standin = StandIn::start(free_addr(), &format!("http://{addr}/api/v1/sms/telnyx"));
    let sms = standin.config(addr);
    let s = TestServer::start_with(move |c| {
        c.listen = addr;
        c.sms = Some(sms);
    })
    .await;
    (s, standin)
}

/// A contact request over HTTP with the patient's phone number; returns the conversation.
async fn contact_request(addr: SocketAddr, phone: &str) -> String {
    let body = json!({"fields": {"name": "Matti", "message": "Please call me about my test results."},
        "lang": "fi", "contact": {"phone": phone},
        "client_ref": uuid::Uuid::new_v4().to_string()});
    let (status, v) = post_json(addr, "/api/v1/forms/contact-form", &body).await;
    assert_eq!(status, 201, "{v}");
    v["conversation"].as_str().expect("id").to_owned()
}

/// The nurse's SMS: the stored message (with its `sms`) after the ack.
async fn send_sms(console: &mut Conn, c: &str, body: &str) -> Value {
    let id = uuid::Uuid::new_v4().to_string();
    console
        .send(
            json!({"type": "send", "conversation": c, "client_msg_id": id, "body": body,
            "sms": true, "req": id}),
        )
        .await;
    let ack = console
        .recv_where(|f| f["req"] == id.as_str())
        .await
        .expect("an answer");
    assert_eq!(ack["type"], "ack", "{ack}");
    console
        .recv_where(|f| f["type"] == "message" && f["client_msg_id"] == id.as_str())
        .await
        .expect("the message event")
}

/// Waits for the `sms` state event of message `seq`.
async fn sms_state(console: &mut Conn, seq: u64, state: &str) -> Value {
    console
        .recv_where(|f| {
            f["type"] == "system"
                && f["event"] == "sms"
                && f["detail"]["seq"] == seq
                && f["detail"]["state"] == state
        })
        .await
        .unwrap_or_else(|| panic!("no {state} for message {seq}"))
}

#[tokio::test]
async fn the_004_walk_from_contact_request_to_a_reopened_sms_chat() {
    let (s, standin) = with_sms().await;
    let c = contact_request(s.addr, "040 123 4567").await;
    let mut nurse = s.console("social-1").await;
    let inbox = nurse
        .request(json!({"type": "subscribe_inbox"}), "inbox")
        .await;
    assert_eq!(inbox["type"], "inbox", "{inbox}");
    let a = nurse
        .request(json!({"type": "take", "conversation": c}), "take")
        .await;
    assert_eq!(a["type"], "assigned", "{a}");
    assert_eq!(a["status"], "in_progress", "In progress: {a}");

    // The SMS: stored queued, then sent (the gateway took it), then delivered.
    let m = send_sms(
        &mut nurse,
        &c,
        "Hei Matti, tuloksesi ovat hyvät. Soita tarvittaessa.",
    )
    .await;
    assert_eq!(
        m["sms"],
        json!({"direction": "out", "number": "+358 40 *** **67", "segments": 1,
            "encoding": "gsm7", "state": "queued"}),
        "{m}"
    );
    let seq = m["seq"].as_u64().expect("seq");
    sms_state(&mut nurse, seq, "sent").await;
    let delivered = sms_state(&mut nurse, seq, "delivered").await;
    // Taken again (a reload, another device): `assigned` counts every stored event, so the
    // console knows it has the delivery report.
    let again = nurse
        .request(json!({"type": "take", "conversation": c}), "take-again")
        .await;
    assert_eq!(again["type"], "assigned", "{again}");
    assert_eq!(again["last_seq"], delivered["seq"], "{again}");
    let phone = standin.wait_messages(1).await;
    assert_eq!(phone.len(), 1, "{phone:?}");
    assert_eq!(phone[0]["to"], PATIENT);
    // It is on the patient's phone: not to be taken back.
    let r = nurse
        .request(
            json!({"type": "retract", "conversation": c, "seq": seq}),
            "r",
        )
        .await;
    assert_eq!(r["code"], "bad_frame", "{r}");
    assert!(
        r["message"].as_str().is_some_and(|m| m.contains("SMS")),
        "{r}"
    );
    assert_eq!(phone[0]["from"], support::standin::OUR_NUMBER);
    assert_eq!(
        phone[0]["text"],
        "Hei Matti, tuloksesi ovat hyvät. Soita tarvittaessa."
    );

    // The patient answers from the phone: into the same case, and the team is alerted.
    let v = standin
        .inbound(PATIENT, "Kiitos! Tarvitsenko uuden ajan?")
        .await;
    assert_eq!(v["webhook_status"], 200, "{v}");
    let reply = nurse
        .recv_where(|f| f["type"] == "message" && f["conversation"] == c.as_str())
        .await
        .expect("the patient's SMS");
    assert_eq!(reply["from"]["role"], "client");
    assert_eq!(reply["body"], "Kiitos! Tarvitsenko uuden ajan?");
    assert_eq!(reply["sms"]["direction"], "in");
    assert!(reply["client_msg_id"]
        .as_str()
        .is_some_and(|id| id.starts_with("sms:")));
    let alert = nurse
        .recv_where(|f| f["type"] == "inbox_alert" && f["conversation"] == c.as_str())
        .await;
    assert!(alert.is_some(), "New messages alert");

    // Case close: a later SMS gets the organisation's automatic reply; the case stays closed.
    let closed = nurse
        .request(json!({"type": "close", "conversation": c}), "close")
        .await;
    assert_eq!(closed["type"], "ack", "{closed}");
    standin.inbound(PATIENT, "Vielä yksi kysymys").await;
    let phone = standin.wait_messages(2).await;
    assert_eq!(phone.len(), 2, "{phone:?}");
    assert_eq!(phone[1]["to"], PATIENT);
    assert!(
        phone[1]["text"]
            .as_str()
            .is_some_and(|t| t.contains("päättynyt") && t.contains("112")),
        "the automatic reply: {}",
        phone[1]
    );
    let events = s.stored_events(&c).await;
    assert!(
        !events.iter().any(|e| e["body"] == "Vielä yksi kysymys"),
        "a closed case takes no message"
    );
    let archive = nurse
        .request(
            json!({"type": "archive", "query": c[..8].to_owned()}),
            "arch",
        )
        .await;
    assert_eq!(
        archive["entries"][0]["conversation"],
        c.as_str(),
        "{archive}"
    );

    // Reopened from the archive, the SMS chat continues.
    let r = nurse
        .request(json!({"type": "reopen", "conversation": c}), "reopen")
        .await;
    assert_eq!(r["type"], "assigned", "{r}");
    let m = send_sms(&mut nurse, &c, "Soitan sinulle huomenna.").await;
    let seq = m["seq"].as_u64().expect("seq");
    sms_state(&mut nurse, seq, "delivered").await;
    let phone = standin.wait_messages(3).await;
    assert_eq!(phone[2]["text"], "Soitan sinulle huomenna.");
    assert_eq!(
        s.metric_of(
            "luukku_sms_total",
            &[("service", "contact-form"), ("outcome", "delivered")]
        )
        .await,
        2.0
    );
}

#[tokio::test]
async fn an_sms_that_cannot_go_is_refused_before_anything_is_sent() {
    let (s, standin) = with_sms().await;
    // A landline: refused at the phone field.
    let c = contact_request(s.addr, "09 123 4567").await;
    let mut nurse = s.console("social-1").await;
    let refused = nurse
        .request(
            json!({"type": "send", "conversation": c, "client_msg_id": "x1", "body": "Hei", "sms": true}),
            "s1",
        )
        .await;
    assert_eq!(refused["type"], "error", "{refused}");
    let a = nurse
        .request(json!({"type": "take", "conversation": c}), "take")
        .await;
    assert_eq!(a["type"], "assigned", "{a}");
    let refused = nurse
        .request(
            json!({"type": "send", "conversation": c, "client_msg_id": "x2", "body": "Hei", "sms": true}),
            "s2",
        )
        .await;
    assert_eq!(refused["code"], "bad_frame", "{refused}");
    assert!(
        refused["fields"]["phone"]
            .as_str()
            .is_some_and(|m| m.contains("not a mobile number")),
        "{refused}"
    );
    let c = contact_request(s.addr, "0401234567").await;
    nurse
        .request(json!({"type": "take", "conversation": c}), "take2")
        .await;
    // Empty, over-long (7 messages of GSM-7), and a document: each named.
    for (body, code, field) in [
        ("   ", "bad_frame", None),
        (&"ä".repeat(153 * 6 + 1)[..], "too_large", Some("body")),
    ] {
        let e = nurse
            .request(
                json!({"type": "send", "conversation": c, "client_msg_id": uuid::Uuid::new_v4().to_string(),
                    "body": body, "sms": true}),
                "s3",
            )
            .await;
        assert_eq!(e["code"], code, "{e}");
        if let Some(field) = field {
            assert!(e["fields"][field].is_string(), "{e}");
        }
    }
    // A closed case takes no SMS.
    nurse
        .request(json!({"type": "close", "conversation": c}), "close")
        .await;
    let e = nurse
        .request(
            json!({"type": "send", "conversation": c, "client_msg_id": "x9", "body": "Hei", "sms": true}),
            "s4",
        )
        .await;
    assert_eq!(e["type"], "error", "{e}");
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert!(standin.messages().await.is_empty(), "nothing sent");
    let stored = s.stored_events(&c).await;
    assert!(
        !stored.iter().any(|e| e["sms"].is_object()),
        "nothing stored as SMS: {stored:?}"
    );
}

/// Signs `body` as Telnyx does, with the stand-in's default key unless `seed` is given.
fn signed(seed: [u8; 32], ts: i64, body: &str) -> Vec<(String, String)> {
    let key = ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed).expect("seed");
    let sig = key.sign(format!("{ts}|{body}").as_bytes());
    vec![
        ("content-type".into(), "application/json".into()),
        (
            "telnyx-signature-ed25519".into(),
            base64::engine::general_purpose::STANDARD.encode(sig.as_ref()),
        ),
        ("telnyx-timestamp".into(), ts.to_string()),
    ]
}

async fn post_webhook(
    addr: SocketAddr,
    query: &str,
    body: &str,
    headers: &[(String, String)],
) -> u16 {
    let client = reqwest::Client::new();
    let mut req = client
        .post(format!("http://{addr}/api/v1/sms/telnyx{query}"))
        .body(body.to_owned());
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req.send().await.expect("answer").status().as_u16()
}

#[tokio::test]
async fn webhooks_without_the_providers_signature_or_about_nothing_of_ours_are_refused() {
    let (s, standin) = with_sms().await;
    let now = jiff::Timestamp::now().as_second();
    let report = |id: &str, status: &str| {
        json!({"data": {"event_type": "message.finalized", "id": uuid::Uuid::new_v4().to_string(),
            "occurred_at": "2026-12-03T10:00:00Z", "record_type": "event",
            "payload": {"id": id, "direction": "outbound",
                "to": [{"phone_number": PATIENT, "status": status}], "errors": []}},
            "meta": {"attempt": 1}})
        .to_string()
    };
    let forger = [9u8; 32];
    let body = report("m-unknown", "delivered");
    // Unsigned, forged, stale: 401; the stand-in's key over another body: 401.
    assert_eq!(post_webhook(s.addr, "", &body, &[]).await, 401);
    assert_eq!(
        post_webhook(s.addr, "", &body, &signed(forger, now, &body)).await,
        401
    );
    // A webhook the stand-in itself signed is accepted; a report of an unknown SMS is 404.
    let v = standin
        .inbound(PATIENT, "Hei, onko teillä tänään aikoja?")
        .await;
    assert_eq!(v["webhook_status"], 200, "{v}");
    // The unmatched SMS opened a new matter of the SMS service.
    let mut nurse = s.console("nurse-1").await;
    let inbox = nurse
        .request(
            json!({"type": "subscribe_inbox", "teams": ["station-a"]}),
            "i",
        )
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut entries = inbox["entries"].clone();
    while !entries
        .as_array()
        .is_some_and(|e| e.iter().any(|x| x["channel"] == "sms"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no sms matter: {entries}"
        );
        let f = nurse.recv_type("inbox").await;
        entries = f["entries"].clone();
    }
    // A second SMS before anyone answered joins that matter: no second one.
    let matter = entries
        .as_array()
        .and_then(|e| e.iter().find(|x| x["channel"] == "sms"))
        .and_then(|x| x["conversation"].as_str())
        .expect("the matter")
        .to_owned();
    let v = standin
        .inbound(PATIENT, "Ja vielä: voinko tulla aamulla?")
        .await;
    assert_eq!(v["webhook_status"], 200, "{v}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let events = s.stored_events(&matter).await;
        if events
            .iter()
            .any(|e| e["body"] == "Ja vielä: voinko tulla aamulla?")
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{events:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let inbox = nurse
        .request(
            json!({"type": "subscribe_inbox", "teams": ["station-a"]}),
            "i2",
        )
        .await;
    let sms_matters = inbox["entries"]
        .as_array()
        .map_or(0, |e| e.iter().filter(|x| x["channel"] == "sms").count());
    assert_eq!(sms_matters, 1, "{inbox}");
}

#[tokio::test]
async fn sms_pending_at_a_kill_9_are_each_sent_exactly_once_after_the_restart() {
    let dir = temp_dir();
    let addr = free_addr();
    let standin = StandIn::start(free_addr(), &format!("http://{addr}/api/v1/sms/telnyx"));
    let config = format!("demo = true\n{}", standin.toml(addr));
    let server = luukku(addr, &dir, &config);
    ready(addr).await;
    let c = contact_request(addr, "040 123 4567").await;
    let mut nurse = support::process::console(addr, "social-1").await;
    nurse
        .request(json!({"type": "take", "conversation": c}), "take")
        .await;
    // The provider takes each SMS (it reaches the phone) but holds its answer: the server
    // dies before it hears that they were sent.
    standin.faults(json!({"api_hang_ms": 60_000})).await;
    let mut seqs = Vec::new();
    for i in 0..3 {
        let m = send_sms(&mut nurse, &c, &format!("Viesti {i}")).await;
        seqs.push(m["seq"].as_u64().expect("seq"));
    }
    let reached = standin.wait_messages(1).await;
    assert!(!reached.is_empty(), "the provider got the first one");
    drop(nurse);
    drop(server); // SIGKILL
    standin.faults(json!({})).await;

    let _server = luukku(addr, &dir, &config);
    ready(addr).await;
    let mut nurse = support::process::console(addr, "social-1").await;
    // Every SMS delivered, each reached the phone once.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let phone = standin.messages().await;
        let delivered = seqs.len() == 3 && phone.len() >= 3;
        if delivered || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let phone = standin.messages().await;
    let mut texts: Vec<_> = phone
        .iter()
        .map(|m| m["text"].as_str().unwrap_or("").to_owned())
        .collect();
    texts.sort();
    assert_eq!(
        texts,
        ["Viesti 0", "Viesti 1", "Viesti 2"],
        "each exactly once"
    );
    let history = nurse
        .request(
            json!({"type": "history", "conversation": c, "limit": 100}),
            "h",
        )
        .await;
    // Each is at least sent: a delivery report that came while the server was down may be
    // lost (the provider gives up after its retries), never the SMS.
    let states: Vec<_> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["event"] == "sms" && e["detail"]["state"] != "failed")
        .map(|e| e["detail"]["seq"].as_u64().unwrap_or(0))
        .collect();
    for seq in &seqs {
        assert!(states.contains(seq), "{seq} sent: {history}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The stand-in's default signing seed (docs/sms-standin.md): its webhooks are the provider's.
const STANDIN_SEED: &[u8; 32] = b"luukku sms stand-in test seed 01";

/// The events of the SMS of message `seq` in `history`.
fn sms_events(history: &Value, seq: u64) -> Vec<String> {
    history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["event"] == "sms" && e["detail"]["seq"] == seq)
        .map(|e| e["detail"]["state"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn failed_duplicated_and_lost_reports_and_provider_outages_show_what_happened() {
    let (s, standin) = with_sms().await;
    let c = contact_request(s.addr, "050 765 4321").await;
    let mut nurse = s.console("social-1").await;
    nurse
        .request(json!({"type": "take", "conversation": c}), "take")
        .await;

    // The operator refuses it: failed, with the provider's reason for the nurse.
    standin.faults(json!({"report": "fail"})).await;
    let m = send_sms(&mut nurse, &c, "Ensimmäinen").await;
    let failed = sms_state(&mut nurse, m["seq"].as_u64().expect("seq"), "failed").await;
    assert!(
        failed["detail"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("40002") && r.contains("spam")),
        "{failed}"
    );

    // Every report twice: each state once.
    standin.faults(json!({"report": "duplicate"})).await;
    let dup = send_sms(&mut nurse, &c, "Toinen").await;
    let dup_seq = dup["seq"].as_u64().expect("seq");
    sms_state(&mut nurse, dup_seq, "delivered").await;

    // The provider down for two attempts: sent on the third, once.
    standin.faults(json!({"api_5xx": 2})).await;
    let late = send_sms(&mut nurse, &c, "Kolmas").await;
    sms_state(&mut nurse, late["seq"].as_u64().expect("seq"), "delivered").await;

    // No delivery report at all: it stays sent.
    standin.faults(json!({"report": "lose"})).await;
    let lost = send_sms(&mut nurse, &c, "Neljäs").await;
    let lost_seq = lost["seq"].as_u64().expect("seq");
    sms_state(&mut nurse, lost_seq, "sent").await;

    // A repeated webhook of the patient's SMS is one message.
    standin.faults(json!({})).await;
    let v = standin
        .inbound(&format!("+358{}", "507654321"), "Kiitos viesteistä")
        .await;
    assert_eq!(v["webhook_status"], 200, "{v}");
    let again = reqwest::Client::new()
        .post(format!("{}/_standin/inbound", standin.url))
        .json(
            &json!({"from": "+358507654321", "to": support::standin::OUR_NUMBER,
            "text": "Tuplana", "repeat": true}),
        )
        .send()
        .await
        .expect("stand-in")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(again["repeat_webhook_status"], 200, "{again}");
    tokio::time::sleep(Duration::from_millis(1_500)).await;

    let history = nurse
        .request(
            json!({"type": "history", "conversation": c, "limit": 200}),
            "h",
        )
        .await;
    assert_eq!(
        sms_events(&history, dup_seq),
        ["sent", "delivered"],
        "{history}"
    );
    assert_eq!(sms_events(&history, lost_seq), ["sent"]);
    let bodies: Vec<&str> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == "message" && e["sms"]["direction"] == "in")
        .filter_map(|e| e["body"].as_str())
        .collect();
    assert_eq!(bodies, ["Kiitos viesteistä", "Tuplana"], "{history}");
    let phone: Vec<String> = standin
        .messages()
        .await
        .iter()
        .map(|m| m["text"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(phone, ["Ensimmäinen", "Toinen", "Kolmas", "Neljäs"]);
    assert_eq!(
        s.metric_of(
            "luukku_sms_total",
            &[("service", "contact-form"), ("outcome", "failed")]
        )
        .await,
        1.0
    );
}

#[tokio::test]
async fn every_node_takes_the_providers_webhook_and_refuses_what_is_not_it() {
    let (s, _standin) = with_sms().await;
    let now = jiff::Timestamp::now().as_second();
    for (i, node) in s.node_addrs().into_iter().enumerate() {
        // A patient's SMS signed by the provider, to each node: stored once, a new matter.
        let body = json!({"data": {"event_type": "message.received",
            "id": uuid::Uuid::new_v4().to_string(), "occurred_at": "2026-12-03T10:00:00Z",
            "record_type": "event",
            "payload": {"id": format!("in-{i}-{}", uuid::Uuid::new_v4().simple()),
                "direction": "inbound", "type": "SMS",
                "from": {"phone_number": format!("+35840765432{i}")},
                "to": [{"phone_number": support::standin::OUR_NUMBER}],
                "text": format!("Hei solmulta {i}"), "errors": []}},
            "meta": {"attempt": 1}})
        .to_string();
        let headers = signed(*STANDIN_SEED, now, &body);
        assert_eq!(
            post_webhook(node, "", &body, &headers).await,
            200,
            "node {i}"
        );
        assert_eq!(
            post_webhook(node, "", &body, &headers).await,
            200,
            "a repeat is fine"
        );
        // Unsigned, signed by someone else, too old, and signed nonsense.
        assert_eq!(post_webhook(node, "", &body, &[]).await, 401);
        assert_eq!(
            post_webhook(node, "", &body, &signed([7u8; 32], now, &body)).await,
            401
        );
        assert_eq!(
            post_webhook(node, "", &body, &signed(*STANDIN_SEED, now - 3_600, &body)).await,
            401
        );
        let junk = "{\"data\": 1}";
        assert_eq!(
            post_webhook(node, "", junk, &signed(*STANDIN_SEED, now, junk)).await,
            400
        );
        // A delivery report of no SMS of ours.
        let report = json!({"data": {"event_type": "message.finalized", "id": "e",
            "record_type": "event", "payload": {"id": "not-ours", "direction": "outbound",
            "to": [{"phone_number": PATIENT, "status": "delivered"}], "errors": []}}})
        .to_string();
        let headers = signed(*STANDIN_SEED, now, &report);
        assert_eq!(post_webhook(node, "", &report, &headers).await, 404);
        assert_eq!(
            post_webhook(node, "?sms=nope", &report, &headers).await,
            404
        );
    }
    let nodes = s.node_addrs().len();
    let mut nurse = s.console("nurse-1").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let inbox = nurse
            .request(
                json!({"type": "subscribe_inbox", "teams": ["station-a"]}),
                "i",
            )
            .await;
        let sms = inbox["entries"]
            .as_array()
            .map_or(0, |e| e.iter().filter(|x| x["channel"] == "sms").count());
        if sms == nodes {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "one new matter per node's SMS: {inbox}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        s.metric_of("luukku_sms_webhooks_total", &[("outcome", "bad_signature")])
            .await
            >= 1.0
    );
}

#[tokio::test]
async fn a_reply_that_matches_several_open_cases_goes_to_the_inbox_not_into_one_of_them() {
    let (s, standin) = with_sms().await;
    // Two open contact requests from one phone (a parent writing about two children), each
    // answered by SMS: a reply cannot tell which one it answers.
    let mut worker = s.console("social-1").await;
    let mut cases = Vec::new();
    for i in 0..2 {
        let c = contact_request(s.addr, "040 123 4567").await;
        worker
            .request(json!({"type": "take", "conversation": c}), &format!("t{i}"))
            .await;
        let m = send_sms(&mut worker, &c, &format!("Vastaus {i}")).await;
        sms_state(&mut worker, m["seq"].as_u64().expect("seq"), "sent").await;
        cases.push(c);
    }
    let mut nurse = s.console("nurse-1").await;
    standin.inbound(PATIENT, "Kumpaa tarkoitit?").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let matter = loop {
        let inbox = nurse
            .request(
                json!({"type": "subscribe_inbox", "teams": ["station-a"]}),
                "i",
            )
            .await;
        let found = inbox["entries"].as_array().and_then(|e| {
            e.iter()
                .find(|x| x["channel"] == "sms")
                .map(|x| x["conversation"].as_str().unwrap_or("").to_owned())
        });
        if let Some(found) = found {
            break found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no new matter: {inbox}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(!cases.contains(&matter));
    for c in &cases {
        let events = s.stored_events(c).await;
        assert!(
            !events.iter().any(|e| e["body"] == "Kumpaa tarkoitit?"),
            "not into a case that may be the wrong one"
        );
    }
    let events = s.stored_events(&matter).await;
    assert!(events.iter().any(|e| e["body"] == "Kumpaa tarkoitit?"));
}

#[tokio::test]
async fn with_a_gateway_the_new_message_notification_goes_by_sms_without_the_content() {
    let addr = free_addr();
    let standin = StandIn::start(free_addr(), &format!("http://{addr}/api/v1/sms/telnyx"));
    let sms = standin.config(addr);
    let s = TestServer::start_with(move |c| {
        c.listen = addr;
        c.sms = Some(sms);
        c.notifications.link = Some("https://example.org/asiointi".into());
    })
    .await;
    let c = contact_request(s.addr, "040 123 4567").await;
    let mut worker = s.console("social-1").await;
    worker
        .request(json!({"type": "take", "conversation": c}), "take")
        .await;
    // A plain reply (not by SMS) to a client who is away: told by SMS that there is one.
    worker
        .say(&c, "Tuloksesi ovat valmiit, katso viesti palvelussa.")
        .await;
    let phone = standin.wait_messages(1).await;
    assert_eq!(phone.len(), 1, "{phone:?}");
    assert_eq!(phone[0]["to"], PATIENT);
    let text = phone[0]["text"].as_str().expect("text");
    assert!(text.contains("https://example.org/asiointi"), "{text}");
    assert!(!text.contains("Tuloksesi"), "no content: {text}");
    // Only the first time for the thread.
    worker.say(&c, "Ja toinen viesti.").await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(standin.messages().await.len(), 1);
}

//! The SMS provider stand-in (`luukku-sms-standin`) as Luukku's tests use it: started as a
//! process, spoken to with Telnyx's API over HTTP, its webhooks received by a small warp server
//! and checked against the public key it announces.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::Bytes;
use ring::signature::{UnparsedPublicKey, ED25519};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use warp::http::{HeaderMap, StatusCode};
use warp::Filter;

const API_KEY: &str = "test-api-key";
/// The public key of the documented default seed (docs/sms-standin.md).
const DEFAULT_PUBLIC_KEY: &str = "k0X5bi0Ip2D/jJvLaEwX0XjkTEDKTr1xaaSBii7po5Q=";
/// Long enough for a webhook, its retries included, on a loaded test machine.
const WEBHOOK_WAIT: Duration = Duration::from_secs(10);

/// The stand-in process; killed when dropped, so a failing test leaves nothing behind.
struct Standin {
    child: Child,
    url: String,
    public_key: String,
    http: reqwest::Client,
}

impl Drop for Standin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Standin {
    fn start(webhook: &str) -> Standin {
        let mut child = Command::new(env!("CARGO_BIN_EXE_luukku-sms-standin"))
            .args(["--listen", "127.0.0.1:0", "--api-key", API_KEY])
            .args(["--webhook", webhook])
            .env_remove("STANDIN_SEED")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the stand-in starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("its stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("its first line");
        let announced: Value = serde_json::from_str(&line).expect("one JSON line");
        Standin {
            child,
            url: announced["listening"].as_str().expect("listening").into(),
            public_key: announced["public_key"].as_str().expect("public_key").into(),
            http: reqwest::Client::new(),
        }
    }

    /// `POST /v2/messages` with the body exactly as given.
    async fn send(&self, api_key: &str, key: Option<&str>, body: &str) -> (StatusCode, Value) {
        let mut request = self
            .http
            .post(format!("{}/v2/messages", self.url))
            .bearer_auth(api_key)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let response = request.send().await.expect("answered");
        let status = response.status();
        (status, response.json().await.expect("a JSON body"))
    }

    async fn get(&self, path: &str) -> Value {
        let response = self.http.get(format!("{}{path}", self.url)).send().await;
        response.expect("answered").json().await.expect("JSON")
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .expect("answered");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.expect("JSON")
    }
}

/// One webhook as it arrived.
struct Hook {
    headers: HeaderMap,
    body: Bytes,
}

/// A webhook endpoint answering 500 to its first `failures` requests, then 200.
struct Receiver {
    url: String,
    hooks: mpsc::Receiver<Hook>,
}

impl Receiver {
    async fn start(failures: usize) -> Receiver {
        let (tx, hooks) = mpsc::channel(64);
        let failures = Arc::new(AtomicUsize::new(failures));
        let route = warp::post()
            .and(warp::path("hook"))
            .and(warp::header::headers_cloned())
            .and(warp::body::bytes())
            .then(move |headers: HeaderMap, body: Bytes| {
                let (tx, failures) = (tx.clone(), failures.clone());
                async move {
                    let _ = tx.send(Hook { headers, body }).await;
                    let failing = failures
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    let status = if failing {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    };
                    warp::reply::with_status("", status)
                }
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let addr = listener.local_addr().expect("its address");
        tokio::spawn(warp::serve(route).incoming(listener).run());
        Receiver {
            url: format!("http://{addr}/hook"),
            hooks,
        }
    }

    /// The next webhook, its signature checked against `public_key`; its JSON body.
    async fn next(&mut self, public_key: &str) -> Value {
        let hook = tokio::time::timeout(WEBHOOK_WAIT, self.hooks.recv())
            .await
            .expect("a webhook in time")
            .expect("the receiver runs");
        assert_signed(&hook, public_key);
        serde_json::from_slice(&hook.body).expect("a JSON body")
    }

    async fn nothing_more(&mut self, within: Duration) {
        let more = tokio::time::timeout(within, self.hooks.recv()).await;
        assert!(more.is_err(), "an unexpected webhook arrived");
    }
}

/// Verifies a webhook as Telnyx's SDKs do: Ed25519 over `"{telnyx-timestamp}|{raw body}"`.
fn assert_signed(hook: &Hook, public_key: &str) {
    let header = |name: &str| {
        hook.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{name} header"))
            .to_string()
    };
    assert_eq!(header("content-type"), "application/json");
    let timestamp = header("telnyx-timestamp");
    let age = jiff::Timestamp::now().as_second() - timestamp.parse::<i64>().expect("Unix seconds");
    assert!(
        (0..60).contains(&age),
        "telnyx-timestamp {timestamp} is not now"
    );
    let signature = BASE64
        .decode(header("telnyx-signature-ed25519"))
        .expect("base64 signature");
    let mut signed = format!("{timestamp}|").into_bytes();
    signed.extend_from_slice(&hook.body);
    let key = BASE64.decode(public_key).expect("base64 public key");
    UnparsedPublicKey::new(&ED25519, key)
        .verify(&signed, &signature)
        .expect("the signature verifies with the announced public key");
}

fn sms(to: &str, text: &str) -> String {
    json!({ "from": "+358451112222", "to": to, "text": text }).to_string()
}

#[tokio::test]
async fn a_wrong_key_and_a_landline_looking_number_are_refused_as_telnyx_refuses_them() {
    let receiver = Receiver::start(0).await;
    let standin = Standin::start(&receiver.url);
    assert_eq!(
        standin.public_key, DEFAULT_PUBLIC_KEY,
        "no --seed: the demo key"
    );

    let (status, body) = standin
        .send("wrong-key", None, &sms("+358401234567", "Hei"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["errors"][0]["code"], "10009");
    assert_eq!(body["errors"][0]["title"], "Authentication failed");

    let (status, body) = standin.send(API_KEY, None, &sms("0401234567", "Hei")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["source"]["pointer"], "/to");

    let (status, body) = standin.send(API_KEY, None, &sms("+358401234567", "")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["source"]["pointer"], "/text");

    let (status, _) = standin
        .send(
            API_KEY,
            Some("not a valid key"),
            &sms("+358401234567", "Hei"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    assert_eq!(standin.get("/_standin/messages").await, json!([]));
    assert_eq!(standin.get("/_standin/events").await, json!([]));
}

#[tokio::test]
async fn an_sms_reaches_the_phone_once_and_its_reports_arrive_signed_in_order() {
    let mut receiver = Receiver::start(0).await;
    let standin = Standin::start(&receiver.url);
    let body = sms(
        "+358401234567",
        "Hyvää päivää! Ajanvarauksesi on huomenna klo 9.00.",
    );

    let (status, first) = standin.send(API_KEY, Some("key-1"), &body).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let data = &first["data"];
    let id = data["id"].as_str().expect("an id").to_string();
    assert_eq!(data["record_type"], "message");
    assert_eq!(data["direction"], "outbound");
    assert_eq!(data["to"][0]["phone_number"], "+358401234567");
    assert_eq!(data["to"][0]["status"], "queued");
    assert_eq!(data["encoding"], "GSM-7");
    assert_eq!(data["parts"], 1);

    // The same key and the same bytes: the same answer, and nothing sent again.
    let (status, again) = standin.send(API_KEY, Some("key-1"), &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, first);
    let (status, _) = standin
        .send(
            API_KEY,
            Some("key-1"),
            &sms("+358401234567", "Another text"),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "same key, other body"
    );

    let sent = receiver.next(&standin.public_key).await;
    assert_eq!(sent["data"]["record_type"], "event");
    assert_eq!(sent["data"]["event_type"], "message.sent");
    assert_eq!(sent["data"]["payload"]["id"], id.as_str());
    assert_eq!(sent["data"]["payload"]["to"][0]["status"], "sent");
    assert_eq!(sent["meta"]["attempt"], 1);
    assert_eq!(sent["meta"]["delivered_to"], receiver.url.as_str());
    let finalized = receiver.next(&standin.public_key).await;
    assert_eq!(finalized["data"]["event_type"], "message.finalized");
    assert_eq!(finalized["data"]["payload"]["id"], id.as_str());
    assert_eq!(finalized["data"]["payload"]["to"][0]["status"], "delivered");
    assert_ne!(finalized["data"]["id"], sent["data"]["id"], "two events");
    receiver.nothing_more(Duration::from_millis(1500)).await;

    let messages = standin.get("/_standin/messages").await;
    let messages = messages.as_array().expect("a list");
    assert_eq!(messages.len(), 1, "one SMS reached the phone: {messages:?}");
    assert_eq!(messages[0]["id"], id.as_str());
    assert_eq!(messages[0]["idempotency_key"], "key-1");
    assert_eq!(messages[0]["status"], "delivered");
}

#[tokio::test]
async fn an_outage_answers_5xx_and_sends_nothing() {
    let mut receiver = Receiver::start(0).await;
    let standin = Standin::start(&receiver.url);
    let faults = standin
        .post("/_standin/faults", json!({ "api_5xx": 2 }))
        .await;
    assert_eq!(faults["api_5xx"], 2);

    let body = sms("+358401234567", "Hei");
    for _ in 0..2 {
        let (status, answer) = standin.send(API_KEY, Some("key-outage"), &body).await;
        assert!(status.is_server_error(), "{status}");
        assert!(answer["errors"][0]["code"].is_string(), "{answer}");
    }
    assert_eq!(standin.get("/_standin/messages").await, json!([]));
    receiver.nothing_more(Duration::from_secs(1)).await;

    // The outage is over; the retried key was never stored, so the SMS goes now.
    let (status, _) = standin.send(API_KEY, Some("key-outage"), &body).await;
    assert_eq!(status, StatusCode::OK);
    let listed = standin.get("/_standin/messages").await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_failed_delivery_is_reported_after_the_webhook_is_retried() {
    let mut receiver = Receiver::start(1).await;
    let standin = Standin::start(&receiver.url);
    standin
        .post("/_standin/faults", json!({ "report": "fail" }))
        .await;
    let (status, _) = standin
        .send(API_KEY, None, &sms("+358401234567", "Hei"))
        .await;
    assert_eq!(status, StatusCode::OK);

    let refused = receiver.next(&standin.public_key).await;
    assert_eq!(refused["meta"]["attempt"], 1);
    let retried = receiver.next(&standin.public_key).await;
    assert_eq!(retried["meta"]["attempt"], 2);
    assert_eq!(retried["data"], refused["data"], "the same event, retried");
    let finalized = receiver.next(&standin.public_key).await;
    let payload = &finalized["data"]["payload"];
    assert_eq!(payload["to"][0]["status"], "delivery_failed");
    assert_eq!(payload["errors"][0]["code"], "40002");
}

#[tokio::test]
async fn an_inbound_sms_arrives_as_a_signed_message_received() {
    let mut receiver = Receiver::start(0).await;
    let standin = Standin::start(&receiver.url);
    let answer = standin
        .post(
            "/_standin/inbound",
            json!({ "from": "+358401234567", "to": "+358451112222", "text": "Kiitos, tulen." }),
        )
        .await;
    assert_eq!(answer["webhook_status"], 200);

    let event = receiver.next(&standin.public_key).await;
    assert_eq!(event["data"]["event_type"], "message.received");
    let payload = &event["data"]["payload"];
    assert_eq!(payload["id"], answer["id"]);
    assert_eq!(payload["record_type"], "message");
    assert_eq!(payload["direction"], "inbound");
    assert_eq!(payload["type"], "SMS");
    assert_eq!(payload["from"]["phone_number"], "+358401234567");
    assert_eq!(payload["to"][0]["phone_number"], "+358451112222");
    assert_eq!(payload["to"][0]["status"], "webhook_delivered");
    assert_eq!(payload["text"], "Kiitos, tulen.");
    assert_eq!(payload["encoding"], "GSM-7");
    assert_eq!(payload["parts"], 1);

    // A duplicated delivery: the same event twice, each signed anew.
    let answer = standin
        .post(
            "/_standin/inbound",
            json!({ "from": "+358401234567", "to": "+358451112222", "text": "Ok", "repeat": true }),
        )
        .await;
    let first = receiver.next(&standin.public_key).await;
    let second = receiver.next(&standin.public_key).await;
    assert_eq!(first["data"]["payload"]["id"], answer["id"]);
    assert_eq!(first["data"], second["data"]);
}

//! Every HTTP body parser of the server against generated input: random bytes, random JSON
//! documents built from each endpoint's own field names, and valid bodies mutated field by
//! field — contact forms (JSON and urlencoded), demo tokens, a patient's identification
//! request, the SMS provider's signed webhook, the access report's query, a legal hold's
//! reason. Each answer is a
//! 2xx or a 4xx naming the problem in JSON, never a 5xx and never a dropped connection, and
//! the server serves chats afterwards.
//!
//! Seeded: the seed is printed; `HTTP_PROPS_SEED=<n>` replays a run.

mod support;

use base64::Engine;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};
use std::net::SocketAddr;
use support::smtp::free_addr;
use support::*;

/// Cases per endpoint and kind of input.
const CASES: usize = 120;

/// The stand-in provider's default signing seed (docs/sms-standin.md).
const STANDIN_SEED: &[u8; 32] = b"luukku sms stand-in test seed 01";

/// A request with exactly these body bytes; (status, body). Status 0: no answer.
async fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    s.write_all(&request).await.expect("write");
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn random_bytes(rng: &mut StdRng) -> Vec<u8> {
    let n = rng.gen_range(0..2048);
    (0..n).map(|_| rng.gen()).collect()
}

fn random_string(rng: &mut StdRng) -> String {
    let pick = [
        "",
        " ",
        "a",
        "ä",
        "\u{0}",
        "\"",
        "\\",
        "<script>",
        "😀",
        "1e309",
        "-0",
        "+358401234567",
        "x@y",
        "\u{202e}",
    ];
    match rng.gen_range(0..4) {
        0 => pick[rng.gen_range(0..pick.len())].to_owned(),
        1 => "x".repeat(rng.gen_range(0..70_000)),
        _ => (0..rng.gen_range(0..40))
            .map(|_| char::from_u32(rng.gen_range(0..0x2FFF)).unwrap_or('?'))
            .collect(),
    }
}

/// A random JSON value whose object keys come mostly from `keys`.
fn random_value(rng: &mut StdRng, keys: &[&str], depth: u32) -> Value {
    match rng.gen_range(0..if depth > 4 { 5 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.gen::<bool>()),
        2 => json!(rng.gen::<i64>()),
        3 => json!(rng.gen::<f64>() * 1e300),
        4 => json!(random_string(rng)),
        5 => Value::Array(
            (0..rng.gen_range(0..5))
                .map(|_| random_value(rng, keys, depth + 1))
                .collect(),
        ),
        _ => {
            let mut m = Map::new();
            for _ in 0..rng.gen_range(0..6) {
                let key = if rng.gen_bool(0.8) && !keys.is_empty() {
                    keys[rng.gen_range(0..keys.len())].to_owned()
                } else {
                    random_string(rng)
                };
                m.insert(key, random_value(rng, keys, depth + 1));
            }
            Value::Object(m)
        }
    }
}

/// `valid` with one field (at any depth) replaced, removed or added.
fn mutate(rng: &mut StdRng, valid: &Value, keys: &[&str]) -> Value {
    let mut v = valid.clone();
    mutate_in(rng, &mut v, keys);
    v
}

fn mutate_in(rng: &mut StdRng, v: &mut Value, keys: &[&str]) {
    if let Value::Object(m) = v {
        if !m.is_empty() && rng.gen_bool(0.6) {
            let key = m
                .keys()
                .nth(rng.gen_range(0..m.len()))
                .cloned()
                .unwrap_or_default();
            match rng.gen_range(0..4) {
                0 => {
                    m.remove(&key);
                }
                1 => {
                    m.insert(key, random_value(rng, keys, 3));
                }
                _ => {
                    if let Some(child) = m.get_mut(&key) {
                        mutate_in(rng, child, keys);
                    }
                }
            }
            return;
        }
    }
    *v = random_value(rng, keys, 3);
}

/// A 2xx, or a 4xx with a JSON error naming the problem; never a 5xx or silence.
fn check(what: &str, input: &[u8], (status, body): (u16, String), json_errors: bool) {
    let shown = String::from_utf8_lossy(&input[..input.len().min(300)]).to_string();
    assert!(
        (200..500).contains(&status),
        "{what}: status {status} for {shown:?}: {body}"
    );
    if json_errors && status >= 400 {
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| {
            panic!("{what}: a {status} that is not JSON ({e}) for {shown:?}: {body}")
        });
        // `{"error":{"code","message"}}`, or a form's `{"error":"invalid","fields":{…}}`
        // naming each field's problem.
        let named = v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
            || (v["error"].is_string() && v["fields"].as_object().is_some_and(|f| !f.is_empty()));
        assert!(named, "{what}: an error that names no problem: {body}");
    }
}

fn seed() -> u64 {
    let seed = std::env::var("HTTP_PROPS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("http_props seed: {seed} (replay with HTTP_PROPS_SEED={seed})");
    seed
}

#[tokio::test]
async fn every_body_parser_answers_generated_input_with_2xx_or_a_named_4xx() {
    let mut rng = StdRng::seed_from_u64(seed());
    let addr = free_addr();
    let s = TestServer::start_with(move |c| {
        c.listen = addr;
        c.sms = Some(luukku::sms::SmsConfig::demo(addr));
        c.identification = Some(
            toml::from_str(&format!(
                "issuer = \"http://127.0.0.1:9\"\nclient_id = \"x\"\npublic_url = \"http://{addr}\"\n"
            ))
            .expect("[identification]"),
        );
    })
    .await;
    let (_client, q) = s.started("health-chat", "station-a").await;
    let conversation = conv(&q);
    let resume = q["resume_token"].as_str().expect("resume").to_owned();
    let json_type = vec![("content-type".to_owned(), "application/json".to_owned())];

    // Contact forms: JSON.
    let form_keys = [
        "fields",
        "name",
        "message",
        "contact",
        "email",
        "phone",
        "lang",
        "client_ref",
        "topic",
    ];
    let valid_form = json!({"fields": {"name": "Matti", "message": "Hello"}, "lang": "fi",
        "contact": {"phone": "+358401234567", "email": "m@example.org"}, "client_ref": "r-1"});
    for i in 0..CASES * 3 {
        let body = match i % 3 {
            0 => random_bytes(&mut rng),
            1 => random_value(&mut rng, &form_keys, 0)
                .to_string()
                .into_bytes(),
            _ => mutate(&mut rng, &valid_form, &form_keys)
                .to_string()
                .into_bytes(),
        };
        let answer = raw(
            s.addr,
            "POST",
            "/api/v1/forms/contact-form",
            &json_type,
            &body,
        )
        .await;
        check("form (json)", &body, answer, true);
    }
    // Contact forms: urlencoded, as a browser without JavaScript posts them (HTML answers).
    let form_type = vec![(
        "content-type".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    )];
    for i in 0..CASES * 2 {
        let body = if i % 2 == 0 {
            random_bytes(&mut rng)
        } else {
            let pairs: Vec<String> = (0..rng.gen_range(0..8))
                .map(|_| {
                    let k = form_keys[rng.gen_range(0..form_keys.len())];
                    let v: String =
                        form_urlencoded::byte_serialize(random_string(&mut rng).as_bytes())
                            .collect();
                    format!("{k}={v}")
                })
                .collect();
            pairs.join("&").into_bytes()
        };
        let answer = raw(
            s.addr,
            "POST",
            "/api/v1/forms/contact-form",
            &form_type,
            &body,
        )
        .await;
        check("form (urlencoded)", &body, answer, false);
    }
    // Demo tokens.
    let token_keys = ["professional", "client", "sub", "name"];
    for i in 0..CASES * 2 {
        let body = if i % 2 == 0 {
            random_bytes(&mut rng)
        } else {
            random_value(&mut rng, &token_keys, 0)
                .to_string()
                .into_bytes()
        };
        let answer = raw(s.addr, "POST", "/api/v1/dev/token", &json_type, &body).await;
        check("dev token", &body, answer, true);
    }
    // A patient's identification request (its resume token is valid: the body decides).
    let ident_headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("x-luukku-resume-token".to_owned(), resume.clone()),
    ];
    let valid_ident = json!({"conversation": conversation, "origin": format!("http://{addr}")});
    for i in 0..CASES * 2 {
        let body = match i % 3 {
            0 => random_bytes(&mut rng),
            1 => random_value(&mut rng, &["conversation", "origin"], 0)
                .to_string()
                .into_bytes(),
            _ => mutate(&mut rng, &valid_ident, &["conversation", "origin"])
                .to_string()
                .into_bytes(),
        };
        let answer = raw(s.addr, "POST", "/api/v1/identify", &ident_headers, &body).await;
        check("identify", &body, answer, true);
    }
    // The SMS provider's webhook, signed: the body parser behind the signature.
    let key = ring::signature::Ed25519KeyPair::from_seed_unchecked(STANDIN_SEED).expect("seed");
    let hook_keys = [
        "data",
        "event_type",
        "payload",
        "id",
        "to",
        "from",
        "phone_number",
        "status",
        "text",
        "errors",
        "occurred_at",
        "record_type",
    ];
    let valid_hook = json!({"data": {"event_type": "message.received", "id": "e-1", "occurred_at": "2026-12-03T10:00:00Z",
        "record_type": "event", "payload": {"id": "m-1", "from": {"phone_number": "+358401234567"},
        "to": [{"phone_number": "+358401110000"}], "text": "Hei"}}});
    for i in 0..CASES * 3 {
        let body = match i % 3 {
            0 => random_bytes(&mut rng),
            1 => random_value(&mut rng, &hook_keys, 0)
                .to_string()
                .into_bytes(),
            _ => mutate(&mut rng, &valid_hook, &hook_keys)
                .to_string()
                .into_bytes(),
        };
        let ts = jiff::Timestamp::now().as_second();
        let mut signed = format!("{ts}|").into_bytes();
        signed.extend_from_slice(&body);
        let signature =
            base64::engine::general_purpose::STANDARD.encode(key.sign(&signed).as_ref());
        let headers = vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("telnyx-signature-ed25519".to_owned(), signature),
            ("telnyx-timestamp".to_owned(), ts.to_string()),
        ];
        let answer = raw(s.addr, "POST", "/api/v1/sms/telnyx", &headers, &body).await;
        check("sms webhook", &body, answer, true);
    }
    // The access report's query.
    let dpo = vec![(
        "authorization".to_owned(),
        format!("Bearer {}", s.token("dpo-1")),
    )];
    let query_keys = [
        "client",
        "professional",
        "conversation",
        "from",
        "to",
        "after",
        "limit",
        "format",
    ];
    for _ in 0..CASES * 2 {
        let query: Vec<String> = (0..rng.gen_range(0..6))
            .map(|_| {
                let k = if rng.gen_bool(0.85) {
                    query_keys[rng.gen_range(0..query_keys.len())].to_owned()
                } else {
                    random_string(&mut rng).chars().take(20).collect()
                };
                let v = random_string(&mut rng)
                    .chars()
                    .take(200)
                    .collect::<String>();
                let enc =
                    |t: &str| form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>();
                format!("{}={}", enc(&k), enc(&v))
            })
            .collect();
        let path = format!("/api/v1/access-log?{}", query.join("&"));
        let answer = raw(s.addr, "GET", &path, &dpo, b"").await;
        check("access report", path.as_bytes(), answer, true);
    }
    // A legal hold's reason (a placed hold is released now and then, so both paths run).
    let hold_path = format!("/api/v1/conversations/{conversation}/legal-hold");
    let mut hold_headers = dpo.clone();
    hold_headers.push(("content-type".to_owned(), "application/json".to_owned()));
    let valid_hold = json!({"reason": "complaint 2026/17"});
    for i in 0..CASES * 2 {
        let body = match i % 3 {
            0 => random_bytes(&mut rng),
            1 => random_value(&mut rng, &["reason"], 0)
                .to_string()
                .into_bytes(),
            _ => mutate(&mut rng, &valid_hold, &["reason"])
                .to_string()
                .into_bytes(),
        };
        let answer = raw(s.addr, "PUT", &hold_path, &hold_headers, &body).await;
        check("legal hold", &body, answer, true);
        if i % 10 == 0 {
            let answer = raw(s.addr, "DELETE", &hold_path, &dpo, b"").await;
            check("legal hold release", b"", answer, true);
        }
    }

    // Still serving: a chat starts and its message is stored.
    let (status, _) = http_get(s.addr, "/healthz").await;
    assert_eq!(status, 200);
    let mut nurse = s.console("nurse-1").await;
    let (mut client, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    let _ = nurse.recv_type("assigned").await;
    client.say(&c, "still here").await;
}

//! Bad input gets its documented error or close code, and the server keeps serving everyone
//! else: each test runs a healthy chat alongside and checks it still works after every case.

mod support;

use futures_util::SinkExt;
use serde_json::{json, Value};
use std::time::Duration;
use support::*;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// A conversation id that does not exist.
const FAKE: &str = "0000000000000000000000000000dead";
/// A secret long enough for a non-demo configuration.
const SECRET: &str = "an-integration-test-secret-of-more-than-32-chars";

/// A chat between a client and nurse-1 that must keep working whatever else happens.
struct Healthy {
    client: Conn,
    nurse: Conn,
    conv: String,
    n: u32,
}

impl Healthy {
    async fn open(s: &TestServer) -> Self {
        let nurse = s.console("nurse-1").await;
        Self::with(s, nurse).await
    }

    /// A health-chat conversation auto-assigned to `nurse` (the only one online in station-a).
    async fn with(s: &TestServer, mut nurse: Conn) -> Self {
        let (client, q) = s.started("health-chat", "station-a").await;
        let conv = conv(&q);
        assert_eq!(nurse.assigned().await, conv);
        let mut h = Healthy {
            client,
            nurse,
            conv,
            n: 0,
        };
        h.check().await;
        h
    }

    /// A message each way arrives.
    async fn check(&mut self) {
        self.n += 1;
        let (c, n) = (self.conv.clone(), self.n);
        self.client.say(&c, &format!("client {n}")).await;
        self.nurse.heard(&c, &format!("client {n}")).await;
        self.nurse.say(&c, &format!("nurse {n}")).await;
        self.client.heard(&c, &format!("nurse {n}")).await;
    }
}

/// Sends `frame` with `req` and returns the direct reply echoing it.
async fn ask(c: &mut Conn, mut frame: Value, req: &str) -> Value {
    frame["req"] = json!(req);
    c.send(frame).await;
    c.recv_where(|v| v["req"] == req)
        .await
        .unwrap_or_else(|| panic!("no reply to {req}"))
}

/// Asserts `reply` is an `error` with `code`.
#[track_caller]
fn is_error(reply: &Value, code: &str) {
    assert_eq!(
        (&reply["type"], &reply["code"]),
        (&json!("error"), &json!(code)),
        "expected error {code}, got {reply}"
    );
}

/// Sends raw bytes as a binary WebSocket message.
async fn send_binary(c: &mut Conn, bytes: &[u8]) {
    c.ws.send(Message::Binary(bytes.to_vec().into()))
        .await
        .expect("send");
}

/// A connection that has not said `hello` yet.
async fn raw(s: &TestServer, endpoint: &str) -> Conn {
    Conn::connect(&s.ws_url(endpoint), false).await
}

#[tokio::test]
async fn a_frame_over_the_limit_closes_with_1009() {
    let s = TestServer::start().await;
    let mut h = Healthy::open(&s).await;
    let big = format!(
        "{{\"type\":\"send\",\"conversation\":\"{}\",\"client_msg_id\":\"x\",\"body\":\"{}\"}}",
        h.conv,
        "a".repeat(65 * 1024)
    );

    let mut c = s.client().await;
    c.send_text(&big).await;
    assert_eq!(
        c.close_code().await,
        Some(1009),
        "over the limit after hello"
    );
    h.check().await;

    let mut c = raw(&s, "client").await;
    c.send_text(&big).await;
    assert_eq!(
        c.close_code().await,
        Some(1009),
        "over the limit as the first frame"
    );
    h.check().await;

    let mut c = s.console("nurse-2").await;
    send_binary(&mut c, &vec![0u8; 70 * 1024]).await;
    assert_eq!(c.close_code().await, Some(1009), "console, binary");
    h.check().await;

    // A frame under the limit whose body is longer than a chat message may be: too_large,
    // and the connection stays usable.
    let conv = h.conv.clone();
    h.client
        .send(
            json!({"type": "send", "conversation": conv, "client_msg_id": "long-1",
            "body": "b".repeat(60 * 1024), "req": "long"}),
        )
        .await;
    let e = h.client.recv_type("error").await;
    assert_eq!(e["code"], "too_large", "{e}");
    assert_eq!(e["req"], "long");
    // The longest allowed body is an ordinary message.
    let ack = h.client.say(&conv, &"b".repeat(10_000)).await;
    assert!(ack["seq"].as_u64().is_some(), "{ack}");
    h.check().await;
}

#[tokio::test]
async fn no_hello_in_time_closes_with_4408() {
    let s = TestServer::start_with(|c| c.limits.hello_timeout_s = 1).await;
    let mut h = Healthy::open(&s).await;

    for endpoint in ["client", "console"] {
        let mut c = raw(&s, endpoint).await;
        let started = std::time::Instant::now();
        assert_eq!(
            c.close_code().await,
            Some(4408),
            "{endpoint}: silent connection"
        );
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "{endpoint}: closed before the timeout"
        );
        h.check().await;

        let mut c = raw(&s, endpoint).await;
        c.send(json!({"type": "start", "service": "health-chat", "req": "first"}))
            .await;
        let e = c.next().await.expect("an error before the close");
        is_error(&e, "bad_frame");
        assert_eq!(e["req"], "first", "{e}");
        assert_eq!(
            c.close_code().await,
            Some(4408),
            "{endpoint}: first frame not hello"
        );
        h.check().await;

        let mut c = raw(&s, endpoint).await;
        c.send_text("{\"type\":").await;
        is_error(&c.next().await.expect("error"), "bad_frame");
        assert_eq!(
            c.close_code().await,
            Some(4408),
            "{endpoint}: first frame unreadable"
        );
        h.check().await;
    }
}

#[tokio::test]
async fn unreadable_frames_get_bad_frame_and_the_connection_stays() {
    let s = TestServer::start().await;
    let mut h = Healthy::open(&s).await;
    let c = h.conv.clone();
    for console in [false, true] {
        let conn = if console { &mut h.nurse } else { &mut h.client };
        conn.send_text("{\"type\":\"send\",").await;
        let e = conn.recv_type("error").await;
        is_error(&e, "bad_frame");
        assert!(e.get("req").is_none(), "{e}");
        for junk in ["[1,2,3]", "\"hello\"", "null", "42", "{}"] {
            conn.send_text(junk).await;
            is_error(&conn.recv_type("error").await, "bad_frame");
        }
        is_error(
            &ask(
                conn,
                json!({"type": "frobnicate", "conversation": c}),
                "unknown-type",
            )
            .await,
            "bad_frame",
        );
        is_error(
            &ask(
                conn,
                json!({"type": "send", "conversation": c, "body": "no id"}),
                "missing-field",
            )
            .await,
            "bad_frame",
        );
        is_error(
            &ask(
                conn,
                json!({"type": "send", "conversation": c, "client_msg_id": "m", "body": 42}),
                "wrong-type",
            )
            .await,
            "bad_frame",
        );
        is_error(
            &ask(
                conn,
                json!({"conversation": c, "body": "no type"}),
                "no-type",
            )
            .await,
            "bad_frame",
        );
        is_error(
            &ask(conn, json!({"type": "hello"}), "second-hello").await,
            "bad_frame",
        );
        // Unknown fields are ignored.
        let id = uuid::Uuid::new_v4().to_string();
        let ack = ask(conn, json!({"type": "send", "conversation": c, "client_msg_id": id, "body": "with extras", "extra": {"x": 1}}), "extra").await;
        assert_eq!(ack["type"], "ack", "{ack}");
        h.check().await;
    }
}

#[tokio::test]
async fn binary_garbage_gets_bad_frame_on_either_codec() {
    let s = TestServer::start().await;
    let mut h = Healthy::open(&s).await;
    let garbage: Vec<u8> = (0..512u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();

    // JSON connection, binary message.
    send_binary(&mut h.client, &garbage).await;
    is_error(&h.client.recv_type("error").await, "bad_frame");
    send_binary(&mut h.nurse, &[0xc1, 0xff, 0x00]).await;
    is_error(&h.nurse.recv_type("error").await, "bad_frame");
    h.check().await;

    // MessagePack connections: garbage, truncated maps, a map without a type, JSON text.
    for endpoint in ["client", "console"] {
        let mut m = Conn::connect(&s.ws_url(endpoint), true).await;
        let hello = if endpoint == "client" {
            json!({"type": "hello"})
        } else {
            json!({"type": "hello", "token": s.token("nurse-2")})
        };
        m.send(hello).await;
        m.recv_type("welcome").await;
        let no_type =
            rmp_serde::to_vec_named(&json!({"conversation": "c", "req": "nt"})).expect("encode");
        let mut truncated = rmp_serde::to_vec_named(
            &json!({"type": "typing", "conversation": "c", "active": true}),
        )
        .expect("encode");
        truncated.truncate(truncated.len() / 2);
        for bytes in [
            garbage.as_slice(),
            &[0xc1],
            &truncated,
            &[0x93, 0x01, 0x02, 0x03],
            &no_type,
        ] {
            send_binary(&mut m, bytes).await;
            is_error(&m.recv_type("error").await, "bad_frame");
        }
        m.ws.send(Message::Text("{\"type\":\"hello\"}".into()))
            .await
            .expect("send");
        is_error(&m.recv_type("error").await, "bad_frame");
        let e = ask(&mut m, json!({"type": "frobnicate"}), "mp-unknown").await;
        is_error(&e, "bad_frame");
        h.check().await;
    }
}

/// The error without `req`, with the named conversation replaced, to compare two refusals.
fn refusal(mut e: Value, named: &str) -> Value {
    is_error(&e, "forbidden");
    let o = e.as_object_mut().expect("object");
    o.remove("req");
    if o.get("conversation").is_some_and(|c| c == named) {
        o.insert("conversation".into(), json!("<named>"));
    }
    e
}

#[tokio::test]
async fn frames_for_someone_elses_conversation_are_forbidden_and_reveal_nothing() {
    let s = TestServer::start().await;
    let mut h = Healthy::open(&s).await;
    let target = h.conv.clone();
    let mut social = s.console("social-1").await;
    let (mut other, q) = s.started("social-chat", "social").await;
    let mine = conv(&q);
    assert_eq!(social.assigned().await, mine);

    let client_frames = |c: &str| {
        vec![
            json!({"type": "send", "conversation": c, "client_msg_id": uuid::Uuid::new_v4().to_string(), "body": "XTALK"}),
            json!({"type": "typing", "conversation": c, "active": false}),
            json!({"type": "read", "conversation": c, "seq": 999_999}),
            json!({"type": "feedback", "conversation": c, "rating": 1, "comment": "XTALK"}),
        ]
    };
    for (i, (real, fake)) in client_frames(&target)
        .into_iter()
        .zip(client_frames(FAKE))
        .enumerate()
    {
        let a = refusal(ask(&mut other, real, &format!("r{i}")).await, &target);
        let b = refusal(ask(&mut other, fake, &format!("f{i}")).await, FAKE);
        assert_eq!(
            a, b,
            "a client can tell an existing conversation from a missing one"
        );
    }

    let console_frames = |c: &str| {
        vec![
            json!({"type": "send", "conversation": c, "client_msg_id": uuid::Uuid::new_v4().to_string(), "body": "XTALK"}),
            json!({"type": "note", "conversation": c, "client_msg_id": uuid::Uuid::new_v4().to_string(), "body": "XTALK"}),
            json!({"type": "typing", "conversation": c, "active": false}),
            json!({"type": "read", "conversation": c, "seq": 999_999}),
            json!({"type": "transfer", "conversation": c, "to_team": "social", "note": "XTALK"}),
            json!({"type": "transfer", "conversation": c, "to_professional": "social-2", "note": "XTALK"}),
            json!({"type": "close", "conversation": c, "summary": "XTALK"}),
            json!({"type": "history", "conversation": c}),
        ]
    };
    for (i, (real, fake)) in console_frames(&target)
        .into_iter()
        .zip(console_frames(FAKE))
        .enumerate()
    {
        let a = refusal(ask(&mut social, real, &format!("r{i}")).await, &target);
        let b = refusal(ask(&mut social, fake, &format!("f{i}")).await, FAKE);
        assert_eq!(
            a, b,
            "a professional can tell an existing conversation from a missing one"
        );
    }

    // Another station-a nurse, not assigned: the same refusals (history is team-visible).
    let mut nurse2 = s.console("nurse-2").await;
    for (i, real) in console_frames(&target).into_iter().take(7).enumerate() {
        refusal(ask(&mut nurse2, real, &format!("n{i}")).await, &target);
    }

    // Resuming someone else's conversation: no summary, no replay (client and console).
    let mut spy = raw(&s, "console").await;
    spy.send(json!({"type": "hello", "token": s.token("nurse-2"), "resume": [{"conversation": target, "after_seq": 0}]})).await;
    let w = spy.recv_type("welcome").await;
    assert_eq!(w["conversations"], json!([]), "{w}");
    assert!(
        drain_quiet(&mut spy).await.is_empty(),
        "the console spy received frames"
    );
    let mut spy = raw(&s, "client").await;
    spy.send(json!({"type": "hello", "resume": [{"conversation": target, "resume_token": q["resume_token"], "after_seq": 0}]})).await;
    let w = spy.recv_type("welcome").await;
    assert_eq!(w["conversations"], json!([]), "{w}");
    let e = spy.recv_type("error").await;
    assert_eq!(e["code"], "forbidden", "{e}");
    assert!(
        drain_quiet(&mut spy).await.is_empty(),
        "the client spy received frames"
    );

    h.check().await;
    for (who, conn) in [("client", &h.client), ("nurse", &h.nurse)] {
        for f in &conn.seen {
            let text = f.to_string();
            let stray = text.contains("XTALK")
                || (f["type"] == "read" && f["seq"] == 999_999)
                || (f["type"] == "typing" && f["active"] == false);
            assert!(!stray, "{who} received cross-talk: {f}");
        }
    }
    // The victim's conversation was neither closed nor transferred.
    let stored = s
        .server
        .as_ref()
        .expect("running")
        .ctx
        .storage
        .conversation(&cid(&target))
        .await
        .expect("storage")
        .expect("exists");
    assert_eq!(
        stored.state.assigned_to.as_ref().map(|p| p.as_str()),
        Some("nurse-1")
    );
}

#[tokio::test]
async fn a_client_ref_of_someone_else_does_not_open_their_conversation() {
    let s = TestServer::start().await;
    let mut h = Healthy::open(&s).await;
    let token = s.client_token("010101-123A", "Maija Meikäläinen");
    let mut victim = Conn::connect(&s.ws_url("client"), false).await;
    victim.send(json!({"type": "hello", "token": token})).await;
    victim.recv_type("welcome").await;
    let start = json!({"type": "start", "service": "social-chat", "client_ref": "victim-ref-1"});
    let q = ask(&mut victim, start.clone(), "v").await;
    assert_eq!(q["type"], "queued", "{q}");

    for hello in [
        json!({"type": "hello"}),
        json!({"type": "hello", "token": s.client_token("020202-456B", "Matti")}),
    ] {
        let mut thief = Conn::connect(&s.ws_url("client"), false).await;
        thief.send(hello).await;
        thief.recv_type("welcome").await;
        let e = ask(&mut thief, start.clone(), "t").await;
        is_error(&e, "forbidden");
        assert!(
            !e.to_string()
                .contains(q["resume_token"].as_str().expect("token")),
            "{e}"
        );
        assert!(
            drain_quiet(&mut thief).await.is_empty(),
            "the thief received frames of the victim"
        );
    }
    h.check().await;
}

/// Frames that arrive until the connection has been quiet for a moment.
async fn drain_quiet(c: &mut Conn) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(v) = c.next_within(Duration::from_millis(200)).await {
        out.push(v);
    }
    out
}

/// Signs `claims` with `secret` (HS256).
fn jwt(claims: Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("jwt")
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[tokio::test]
async fn bad_tokens_close_with_4401() {
    let s = TestServer::start_with(|c| c.auth.jwt_secret = Some(SECRET.into())).await;
    let mut h = Healthy::open(&s).await;
    let good = s.token("nurse-2");
    let mut tampered = good.clone();
    let last = tampered.pop().expect("char");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let (head, _) = good.split_once('.').expect("jwt");
    let forged_claims = serde_json::to_vec(
        &json!({"sub": "nurse-1", "aud": "luukku-console", "exp": unix_now() + 3600}),
    )
    .expect("json");
    let forged_payload = base64url(&forged_claims);
    let signature = good.rsplit('.').next().expect("signature");
    let swapped = format!("{head}.{forged_payload}.{signature}");
    let expired = jwt(
        json!({"sub": "nurse-2", "aud": "luukku-console", "exp": unix_now() - 3600}),
        SECRET,
    );
    let other_key = jwt(
        json!({"sub": "nurse-2", "aud": "luukku-console", "exp": unix_now() + 3600}),
        "another-secret-another-secret-another-secret",
    );
    let unknown = jwt(
        json!({"sub": "nobody", "aud": "luukku-console", "exp": unix_now() + 3600}),
        SECRET,
    );
    let client_token = s.client_token("010101-123A", "Maija");
    let console_cases = [
        ("missing", json!({"type": "hello"})),
        ("empty", json!({"type": "hello", "token": ""})),
        ("garbage", json!({"type": "hello", "token": "not a jwt"})),
        (
            "tampered signature",
            json!({"type": "hello", "token": tampered}),
        ),
        (
            "swapped payload",
            json!({"type": "hello", "token": swapped}),
        ),
        ("expired", json!({"type": "hello", "token": expired})),
        (
            "signed with another key",
            json!({"type": "hello", "token": other_key}),
        ),
        (
            "client audience",
            json!({"type": "hello", "token": client_token}),
        ),
        (
            "unknown professional",
            json!({"type": "hello", "token": unknown}),
        ),
    ];
    for (what, hello) in console_cases {
        let mut c = raw(&s, "console").await;
        c.send(hello).await;
        assert_eq!(
            c.close_code().await,
            Some(4401),
            "console hello with a {what} token"
        );
        h.check().await;
    }

    let expired_client = jwt(
        json!({"sub": "x", "name": "X", "aud": "luukku-client", "exp": unix_now() - 3600}),
        SECRET,
    );
    let client_cases = [
        ("garbage", json!({"type": "hello", "token": "not a jwt"})),
        ("console audience", json!({"type": "hello", "token": good})),
        ("expired", json!({"type": "hello", "token": expired_client})),
        ("tampered", json!({"type": "hello", "token": tampered})),
    ];
    for (what, hello) in client_cases {
        let mut c = raw(&s, "client").await;
        c.send(hello).await;
        assert_eq!(
            c.close_code().await,
            Some(4401),
            "client hello with a {what} token"
        );
        h.check().await;
    }
}

fn base64url(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[tokio::test]
async fn an_identified_client_is_named_to_the_professional() {
    let s = TestServer::start().await;
    let mut nurse = s.console("nurse-1").await;
    let mut c = Conn::connect(&s.ws_url("client"), false).await;
    c.send(json!({"type": "hello", "token": s.client_token("010101-123A", "Maija Meikäläinen")}))
        .await;
    let w = c.recv_type("welcome").await;
    assert_eq!(w["identity"]["kind"], "identified", "{w}");
    assert_eq!(w["identity"]["name"], "Maija Meikäläinen", "{w}");
    let q = c.start("health-chat", "station-a").await;
    let a = nurse.recv_type("assigned").await;
    assert_eq!(a["conversation"], q["conversation"]);
    assert_eq!(a["client"]["name"], "Maija Meikäläinen", "{a}");
    assert_eq!(a["client"]["identified"], true, "{a}");
    let m = {
        c.say(&conv(&q), "hello").await;
        nurse.heard(&conv(&q), "hello").await
    };
    assert_eq!(m["from"]["name"], "Maija Meikäläinen", "{m}");
}

/// Whether a WebSocket upgrade with `origin` is refused with 403.
async fn refused(s: &TestServer, origin: Option<&str>) -> bool {
    for endpoint in ["client", "console"] {
        match Conn::try_connect(&s.ws_url(endpoint), false, origin).await {
            Ok(_) => return false,
            Err(WsError::Http(r)) => {
                assert_eq!(r.status().as_u16(), 403, "{origin:?} on {endpoint}");
                let body: Value = serde_json::from_slice(r.body().as_deref().unwrap_or_default())
                    .expect("a JSON body");
                assert_eq!(body["error"]["code"], "forbidden", "{body}");
            }
            Err(e) => panic!("{origin:?} on {endpoint}: {e}"),
        }
    }
    true
}

#[tokio::test]
async fn the_origin_allow_list_is_enforced() {
    let s = TestServer::start().await;
    let mut h = Healthy::open(&s).await;
    for evil in [
        "https://evil.example",
        "http://localhost.evil.example",
        "null",
        "https://127.0.0.1.evil.example:443",
    ] {
        assert!(refused(&s, Some(evil)).await, "{evil} must be refused");
    }
    assert!(
        !refused(&s, Some("http://localhost:1234")).await,
        "demo mode allows localhost"
    );
    assert!(
        !refused(&s, None).await,
        "a request without Origin is accepted"
    );
    let mut c = Conn::try_connect(&s.ws_url("client"), false, Some("http://localhost:5173"))
        .await
        .expect("allowed");
    c.send(json!({"type": "hello"})).await;
    c.recv_type("welcome").await;
    h.check().await;

    let real = TestServer::start_with(|c| {
        c.demo = false;
        c.auth.jwt_secret = Some(SECRET.into());
        c.allowed_origins = vec![
            "https://www.region.example".into(),
            "https://chat.region.example/".into(),
        ];
    })
    .await;
    assert!(real
        .server
        .as_ref()
        .expect("running")
        .ctx
        .config
        .validate()
        .is_ok());
    assert!(!refused(&real, Some("https://www.region.example")).await);
    assert!(
        !refused(&real, Some("https://chat.region.example")).await,
        "a trailing slash in the config still matches"
    );
    assert!(
        !refused(&real, Some(&format!("http://{}", real.addr))).await,
        "the console's own origin"
    );
    assert!(!refused(&real, None).await);
    for evil in [
        "http://localhost:1234",
        "https://evil.example",
        "https://www.region.example.evil.example",
        "http://www.region.example",
    ] {
        assert!(
            refused(&real, Some(evil)).await,
            "{evil} must be refused outside demo mode"
        );
    }
    let mut h2 = Healthy::open(&real).await;
    h2.check().await;
    h.check().await;
}

#[tokio::test]
async fn rate_limits_refuse_bursts_and_close_floods() {
    let s = TestServer::start().await;
    let mut h = Healthy::open(&s).await;
    let burst = config(&s).limits.client_rate.burst as usize;

    // A burst beyond the bucket: the excess is refused, echoing req; none of it is processed.
    let mut c = s.client().await;
    for i in 0..burst + 20 {
        c.send(
            json!({"type": "typing", "conversation": FAKE, "active": true, "req": format!("b{i}")}),
        )
        .await;
    }
    let mut limited = 0;
    for _ in 0..burst + 20 {
        let e = c.next().await.expect("a reply per frame");
        assert_eq!(e["type"], "error", "{e}");
        match e["code"].as_str() {
            Some("rate_limited") => limited += 1,
            Some("forbidden") => {}
            _ => panic!("unexpected {e}"),
        }
    }
    assert!(
        limited >= 10,
        "only {limited} of {} frames were rate limited",
        burst + 20
    );
    h.check().await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    is_error(
        &ask(
            &mut c,
            json!({"type": "typing", "conversation": FAKE, "active": true}),
            "after",
        )
        .await,
        "forbidden",
    );

    // A healthy client that bursts keeps its chat once it backs off.
    for i in 0..burst + 5 {
        h.client
            .send(json!({"type": "read", "conversation": h.conv, "seq": 1, "req": format!("r{i}")}))
            .await;
    }
    is_error(&h.client.recv_type("error").await, "rate_limited");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    h.check().await;

    // Persistent flooding closes the connection with 4429.
    let mut flood = s.client().await;
    for _ in 0..600 {
        if flood
            .ws
            .send(Message::Text(
                "{\"type\":\"typing\",\"conversation\":\"x\",\"active\":true}".into(),
            ))
            .await
            .is_err()
        {
            break;
        }
    }
    assert_eq!(flood.close_code().await, Some(4429));
    h.check().await;

    // The console has its own, larger bucket.
    let console_burst = config(&s).limits.console_rate.burst as usize;
    let mut nurse2 = s.console("nurse-2").await;
    // Written in one flush, so the burst arrives faster than the bucket refills even on a
    // busy machine.
    let typing = json!({"type": "typing", "conversation": FAKE, "active": true}).to_string();
    for _ in 0..console_burst + 50 {
        nurse2
            .ws
            .feed(Message::Text(typing.clone().into()))
            .await
            .expect("queued");
    }
    nurse2.ws.flush().await.expect("sent");
    let limited = drain_quiet(&mut nurse2)
        .await
        .iter()
        .filter(|e| e["code"] == "rate_limited")
        .count();
    assert!(limited >= 10, "console: only {limited} rate limited");
    h.check().await;
}

fn config(s: &TestServer) -> &luukku::Config {
    &s.server.as_ref().expect("running").ctx.config
}

#[tokio::test]
async fn invalid_values_get_their_error_codes() {
    let s = TestServer::start().await;
    let mut h = Healthy::open(&s).await;
    let mut c = s.client().await;
    let start = |service: &str, extra: Value| {
        let mut f =
            json!({"type": "start", "service": service, "questionnaire": {"duration": "1-3 days"}});
        for (k, v) in extra.as_object().expect("object") {
            f[k] = v.clone();
        }
        f
    };
    is_error(
        &ask(&mut c, start("no-such-service", json!({})), "s1").await,
        "not_found",
    );
    is_error(
        &ask(
            &mut c,
            start("health-chat", json!({"topic": "no-such-topic"})),
            "s2",
        )
        .await,
        "not_found",
    );
    is_error(
        &ask(
            &mut c,
            start("health-chat", json!({"team": "social"})),
            "s3",
        )
        .await,
        "not_found",
    );
    is_error(
        &ask(
            &mut c,
            start("health-chat", json!({"questionnaire": {}})),
            "s4",
        )
        .await,
        "bad_frame",
    );
    is_error(
        &ask(
            &mut c,
            start("health-chat", json!({"questionnaire": {"duration": ""}})),
            "s5",
        )
        .await,
        "bad_frame",
    );
    is_error(
        &ask(
            &mut c,
            start("health-chat", json!({"questionnaire": {"duration": null}})),
            "s6",
        )
        .await,
        "bad_frame",
    );
    is_error(
        &ask(
            &mut c,
            json!({"type": "start", "service": "health-chat"}),
            "s7",
        )
        .await,
        "bad_frame",
    );
    h.check().await;

    let conv = h.conv.clone();
    for body in ["", "   ", "\n\t"] {
        let e = ask(&mut h.client, json!({"type": "send", "conversation": conv, "client_msg_id": uuid::Uuid::new_v4().to_string(), "body": body}), "empty").await;
        is_error(&e, "bad_frame");
        let e = ask(&mut h.nurse, json!({"type": "note", "conversation": conv, "client_msg_id": uuid::Uuid::new_v4().to_string(), "body": body}), "empty-note").await;
        is_error(&e, "bad_frame");
    }
    // 0 is clamped to 1 like any capacity out of range; these cannot be read as one at all.
    for capacity in [json!(-1), json!("four")] {
        is_error(
            &ask(
                &mut h.nurse,
                json!({"type": "status", "capacity": capacity}),
                "cap",
            )
            .await,
            "bad_frame",
        );
    }
    let st = ask(
        &mut h.nurse,
        json!({"type": "status", "capacity": 100_000}),
        "cap-big",
    )
    .await;
    assert_eq!(
        (&st["type"], &st["capacity"]),
        (&json!("status"), &json!(config(&s).limits.max_capacity)),
        "{st}"
    );
    is_error(
        &ask(
            &mut h.nurse,
            json!({"type": "status", "availability": "asleep"}),
            "avail",
        )
        .await,
        "bad_frame",
    );
    is_error(
        &ask(
            &mut h.nurse,
            json!({"type": "transfer", "conversation": conv, "to_team": "no-such-team"}),
            "t1",
        )
        .await,
        "not_found",
    );
    is_error(
        &ask(
            &mut h.nurse,
            json!({"type": "transfer", "conversation": conv, "to_professional": "nobody"}),
            "t2",
        )
        .await,
        "not_found",
    );
    is_error(
        &ask(
            &mut h.nurse,
            json!({"type": "transfer", "conversation": conv}),
            "t3",
        )
        .await,
        "bad_frame",
    );
    is_error(
        &ask(
            &mut h.nurse,
            json!({"type": "transfer", "conversation": conv, "to_professional": "nurse-1"}),
            "t4",
        )
        .await,
        "bad_frame",
    );
    is_error(
        &ask(&mut h.nurse, json!({"type": "accept"}), "a1").await,
        "bad_frame",
    );
    is_error(
        &ask(
            &mut h.nurse,
            json!({"type": "accept", "team": "no-such-team"}),
            "a2",
        )
        .await,
        "forbidden",
    );
    is_error(
        &ask(
            &mut h.nurse,
            json!({"type": "subscribe_queue", "teams": ["social"]}),
            "q1",
        )
        .await,
        "forbidden",
    );
    is_error(
        &ask(
            &mut h.client,
            json!({"type": "feedback", "conversation": conv, "rating": 5}),
            "early",
        )
        .await,
        "bad_frame",
    );
    h.check().await;

    // Ratings outside 1-5 after the close; then a valid one is accepted.
    let ack = ask(
        &mut h.nurse,
        json!({"type": "close", "conversation": conv, "summary": "done"}),
        "close",
    )
    .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    h.client.recv_type("closed").await;
    for rating in [json!(0), json!(6), json!(-1), json!(300), json!("five")] {
        is_error(
            &ask(
                &mut h.client,
                json!({"type": "feedback", "conversation": conv, "rating": rating}),
                "fb",
            )
            .await,
            "bad_frame",
        );
    }
    let e = ask(
        &mut h.client,
        json!({"type": "send", "conversation": conv, "client_msg_id": "late", "body": "late"}),
        "late",
    )
    .await;
    is_error(&e, "conversation_closed");
    let ack = ask(
        &mut h.client,
        json!({"type": "feedback", "conversation": conv, "rating": 5, "comment": "thanks"}),
        "fb-ok",
    )
    .await;
    assert_eq!(ack["type"], "ack", "{ack}");

    // The server still serves a new chat.
    let nurse = h.nurse;
    let mut h2 = Healthy::with(&s, nurse).await;
    h2.check().await;
}

#[tokio::test]
async fn plain_http_on_the_websocket_routes_gets_json_errors() {
    let s = TestServer::start().await;
    let mut h = Healthy::open(&s).await;
    let json_error = |(status, body): (u16, String), want: u16| {
        assert_eq!(status, want, "{body}");
        let v: Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body:?}"));
        assert!(v["error"]["code"].is_string(), "{v}");
    };
    json_error(http_get(s.addr, "/ws/client").await, 400);
    json_error(http_get(s.addr, "/ws/console").await, 400);
    json_error(
        http(
            s.addr,
            "GET",
            "/ws/client",
            None,
            &[
                ("upgrade", "websocket"),
                ("connection", "upgrade"),
                ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("sec-websocket-version", "8"),
            ],
        )
        .await,
        400,
    );
    json_error(http_get(s.addr, "/ws/nope").await, 404);
    json_error(http_get(s.addr, "/no/such/route").await, 404);
    json_error(
        http(s.addr, "POST", "/api/v1/dev/token", Some("{not json"), &[]).await,
        400,
    );
    json_error(
        http(
            s.addr,
            "POST",
            "/api/v1/dev/token",
            Some("{\"professional\":\"nobody\"}"),
            &[],
        )
        .await,
        404,
    );
    assert_eq!(http_get(s.addr, "/healthz").await.0, 200);
    h.check().await;
}

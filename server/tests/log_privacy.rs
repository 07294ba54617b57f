//! The server's log never holds personal data: a whole day's kinds of work run against the
//! real binary logging every level of its own code — an identified patient's chat, a contact
//! form with an e-mail address and a phone number, an SMS through the provider, broken frames,
//! refused tokens, the officer's access report — and the log is searched for every message
//! body, identity code, phone number, e-mail address and token that went through it.

mod support;

use serde_json::{json, Value};
use support::process::{luukku_logged, ready};
use support::smtp::free_addr;
use support::standin::StandIn;
use support::*;

const HETU: &str = "131052-308T";
const PHONE: &str = "+358401234599";
const EMAIL: &str = "yksityinen.osoite@example.org";
const SECRETS: [&str; 6] = [
    "SALAINEN-VIESTI-4711",
    "SALAINEN-VASTAUS-0815",
    "SALAINEN-LOMAKE-2222",
    "SALAINEN-TEKSTI-3333",
    "SALAINEN-RIKKI-5555",
    "TOKEN-SALAINEN-6666",
];

async fn dev_token(addr: std::net::SocketAddr, body: Value) -> String {
    let (status, v) = post_json(addr, "/api/v1/dev/token", &body).await;
    assert_eq!(status, 200, "{v}");
    v["token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn no_body_identity_code_phone_number_address_or_token_reaches_the_log() {
    let dir = temp_dir();
    std::fs::create_dir_all(&dir).expect("dir");
    let log = dir.join("server.log");
    let addr = free_addr();
    let standin = StandIn::start(free_addr(), &format!("http://{addr}/api/v1/sms/telnyx"));
    let smtp = free_addr(); // nobody listens: every e-mail notification fails and is logged
    let config = format!(
        "demo = true\n{}\n[notifications]\nsmtp_url = \"smtp://{smtp}\"\n\
         from = \"noreply@example.org\"\nlink = \"https://chat.example.org/\"\n",
        standin.toml(addr)
    );
    let server = luukku_logged(addr, &dir, &config, &log);
    ready(addr).await;
    let mut tokens = Vec::new();

    // An identified patient's chat.
    let nurse_token = dev_token(addr, json!({"professional": "nurse-1"})).await;
    let client_token = dev_token(
        addr,
        json!({"client": {"sub": HETU, "name": "Liisa Luottamus"}}),
    )
    .await;
    tokens.extend([nurse_token.clone(), client_token.clone()]);
    let mut nurse = Conn::connect(&format!("ws://{addr}/ws/console"), false).await;
    nurse
        .send(json!({"type": "hello", "token": nurse_token}))
        .await;
    nurse.recv_type("welcome").await;
    let mut client = Conn::connect(&format!("ws://{addr}/ws/client"), false).await;
    client
        .send(json!({"type": "hello", "token": client_token}))
        .await;
    client.recv_type("welcome").await;
    let q = client.start("health-chat", "station-a").await;
    let c = conv(&q);
    tokens.push(q["resume_token"].as_str().expect("resume").to_owned());
    assert_eq!(nurse.assigned().await, c);
    client.say(&c, SECRETS[0]).await;
    nurse.heard(&c, SECRETS[0]).await;
    nurse.say(&c, SECRETS[1]).await;

    // A contact form with an address and a phone number; the nurse answers by SMS, and the
    // reply's notification cannot be e-mailed (the failure is logged).
    let form = json!({"fields": {"name": "Matti", "message": SECRETS[2]}, "lang": "fi",
        "contact": {"phone": PHONE, "email": EMAIL},
        "client_ref": uuid::Uuid::new_v4().to_string()});
    let (status, v) = post_json(addr, "/api/v1/forms/contact-form", &form).await;
    assert_eq!(status, 201, "{v}");
    let matter = v["conversation"].as_str().expect("id").to_owned();
    let social_token = dev_token(addr, json!({"professional": "social-1"})).await;
    tokens.push(social_token.clone());
    let mut social = Conn::connect(&format!("ws://{addr}/ws/console"), false).await;
    social
        .send(json!({"type": "hello", "token": social_token}))
        .await;
    social.recv_type("welcome").await;
    social
        .request(json!({"type": "take", "conversation": matter}), "take")
        .await;
    let id = uuid::Uuid::new_v4().to_string();
    social
        .send(
            json!({"type": "send", "conversation": matter, "client_msg_id": id,
            "body": SECRETS[3], "sms": true, "req": id}),
        )
        .await;
    social
        .recv_where(|f| f["req"] == id.as_str())
        .await
        .expect("ack");
    standin.wait_messages(1).await;
    // A written reply: its notification to the address cannot be e-mailed (no SMTP server).
    social.say(&matter, SECRETS[1]).await;
    // A landline is refused (the refusal is logged at most without the number).
    let id2 = uuid::Uuid::new_v4().to_string();
    social
        .send(
            json!({"type": "start_thread", "phone": "09 123 4567", "service": "sms-chat",
            "req": id2, "body": SECRETS[3]}),
        )
        .await;
    social
        .recv_where(|f| f["req"] == id2.as_str())
        .await
        .expect("an answer");

    // Broken frames and refused tokens.
    client
        .send_text(&format!(
            r#"{{"type":"send","conversation":7,"body":"{}"}}"#,
            SECRETS[4]
        ))
        .await;
    client.recv_type("error").await;
    client.send_text(&format!("not json {}", SECRETS[4])).await;
    client.recv_type("error").await;
    let mut forged = Conn::connect(&format!("ws://{addr}/ws/console"), false).await;
    forged
        .send(json!({"type": "hello", "token": SECRETS[5]}))
        .await;
    assert_eq!(forged.close_code().await, Some(4401));
    let (status, _) = http(
        addr,
        "GET",
        "/api/v1/access-log?client=x",
        None,
        &[("authorization", &format!("Bearer {}", SECRETS[5]))],
    )
    .await;
    assert_eq!(status, 401);

    // The officer's report about the patient.
    let dpo = dev_token(addr, json!({"professional": "dpo-1"})).await;
    tokens.push(dpo.clone());
    let (status, body) = http(
        addr,
        "GET",
        &format!("/api/v1/access-log?client={HETU}"),
        None,
        &[("authorization", &format!("Bearer {dpo}"))],
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Let the notification worker try (and fail) its e-mails.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    drop(server);
    let text = std::fs::read_to_string(&log).expect("the log");
    assert!(
        text.contains("luukku listening") && text.contains("notification not delivered"),
        "the log was written at every level (else this test proves nothing): {text}"
    );
    let phone_digits = PHONE.trim_start_matches('+');
    let mut found = Vec::new();
    for needle in SECRETS
        .iter()
        .copied()
        .chain([HETU, PHONE, phone_digits, "0401234599", EMAIL, "yksityinen"])
        .chain(tokens.iter().map(String::as_str))
    {
        if text.contains(needle) {
            found.push(needle.to_owned());
        }
    }
    assert!(
        found.is_empty(),
        "personal data in the log: {found:?}\n{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

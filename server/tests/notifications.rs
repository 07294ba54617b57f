//! Notifications of clients who are away, against a real SMTP server (aiosmtpd): the
//! organisation's reply in a matter whose client is not connected sends an e-mail — and the
//! first time for the thread an SMS (to the sink that stands in for the SMS gateway) — that
//! names the service and the link and nothing of the message; a connected client gets none;
//! the outbox survives an SMTP outage and a `kill -9` of the server, and each notification is
//! delivered exactly once.

mod support;

use luukku::config::NotificationsConfig;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use support::process::{luukku, ready};
use support::smtp::{body, free_addr, header, SmtpServer};
use support::*;

const LINK: &str = "https://example.org/asiointi";
const REPLY: &str = "Your appointment is on Monday at 10 — bring your Kela card.";

fn notifications(smtp: std::net::SocketAddr, sms: &Path) -> NotificationsConfig {
    NotificationsConfig {
        smtp_url: Some(format!("smtp://{smtp}")),
        from: Some("noreply@example.org".into()),
        link: Some(LINK.into()),
        sms_sink: Some(sms.to_owned()),
        ..Default::default()
    }
}

/// Sends the contact form over HTTP (nobody stays connected); returns the conversation.
async fn send_form(addr: std::net::SocketAddr, email: &str) -> String {
    let body = json!({"fields": {"name": "Matti", "message": "Please call me."}, "lang": "en",
        "contact": {"email": email, "phone": "+358401234567"},
        "client_ref": uuid::Uuid::new_v4().to_string()});
    let (status, v) = post_json(addr, "/api/v1/forms/contact-form", &body).await;
    assert_eq!(status, 201, "{v}");
    v["conversation"].as_str().expect("id").to_owned()
}

fn sms_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[tokio::test]
async fn a_reply_to_a_client_who_is_away_is_announced_without_its_content() {
    let smtp = SmtpServer::start().await;
    let sms = temp_dir().join("sms.jsonl");
    let config = notifications(smtp.addr, &sms);
    let s = TestServer::start_with(move |c| c.notifications = config).await;
    let c = send_form(s.addr, "matti@example.org").await;
    let mut worker = s.console("social-1").await;
    let a = worker
        .request(json!({"type": "take", "conversation": c}), "take")
        .await;
    assert_eq!(a["type"], "assigned", "{a}");
    worker.say(&c, REPLY).await;
    worker.say(&c, "And one more thing.").await;

    let mails = smtp.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 2, "one e-mail per reply");
    for m in &mails {
        assert_eq!(header(m, "To").as_deref(), Some("matti@example.org"));
        assert_eq!(header(m, "From").as_deref(), Some("noreply@example.org"));
        assert_eq!(
            header(m, "Subject").as_deref(),
            Some("New message: Contact form")
        );
        let text = body(m);
        assert_eq!(
            text.trim(),
            format!("You have a new message from Contact form. Read it at {LINK}."),
            "{m}"
        );
        assert!(
            !m.contains("appointment") && !m.contains("one more"),
            "no content: {m}"
        );
    }
    let ids: std::collections::HashSet<_> = mails
        .iter()
        .filter_map(|m| header(m, "Message-ID"))
        .collect();
    assert_eq!(ids.len(), 2, "distinct Message-IDs");
    // The SMS only the first time for the thread.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let texts = sms_lines(&sms);
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert_eq!(texts[0]["to"], "+358401234567");
    assert!(texts[0]["text"]
        .as_str()
        .is_some_and(|t| t.contains(LINK) && !t.contains("appointment")));
    assert_eq!(
        s.metric_of(
            "luukku_notifications_total",
            &[("channel", "email"), ("outcome", "sent")]
        )
        .await,
        2.0
    );

    // A client connected to the conversation sees the reply: no notification.
    let mut client = s.client().await;
    let f = client
        .request(
            json!({"type": "submit_form", "service": "contact-form", "lang": "en",
                "fields": {"name": "Liisa", "message": "Hello"},
                "contact": {"email": "liisa@example.org"},
                "client_ref": uuid::Uuid::new_v4().to_string()}),
            "form",
        )
        .await;
    assert_eq!(f["type"], "form_received", "{f}");
    let other = f["conversation"].as_str().expect("id").to_owned();
    worker
        .request(json!({"type": "take", "conversation": other}), "take2")
        .await;
    worker.say(&other, "Answered while you are here.").await;
    client.heard(&other, "Answered while you are here.").await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(
        smtp.messages()
            .iter()
            .all(|m| header(m, "To").as_deref() != Some("liisa@example.org")),
        "a connected client is not notified"
    );
}

#[tokio::test]
async fn notifications_pending_at_a_kill_9_are_each_delivered_once_after_the_restart() {
    let smtp_addr = free_addr(); // no SMTP server yet: every e-mail waits
    let dir = temp_dir();
    let sms = dir.join("sms.jsonl");
    let config = format!(
        "demo = true\n[notifications]\nsmtp_url = \"smtp://{smtp_addr}\"\n\
         from = \"noreply@example.org\"\nlink = \"{LINK}\"\nsms_sink = \"{}\"\n",
        sms.display()
    );
    let addr = free_addr();
    let mut server = luukku(addr, &dir, &config);
    ready(addr).await;
    let c = send_form(addr, "pending@example.org").await;
    let token = {
        let (status, body) = http(
            addr,
            "POST",
            "/api/v1/dev/token",
            Some(r#"{"professional":"social-1"}"#),
            &[("content-type", "application/json")],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("json");
        v["token"].as_str().expect("token").to_owned()
    };
    let mut worker = Conn::connect(&format!("ws://{addr}/ws/console"), false).await;
    worker.send(json!({"type": "hello", "token": token})).await;
    worker.recv_type("welcome").await;
    worker
        .request(json!({"type": "take", "conversation": c}), "take")
        .await;
    for i in 0..3 {
        worker.say(&c, &format!("{REPLY} ({i})")).await;
    }
    // The SMS goes out at once; the e-mails fail (no SMTP server) and wait for a retry.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while sms_lines(&sms).is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sms_lines(&sms).len(), 1);
    server.kill9();
    drop(worker);

    let smtp = SmtpServer::start_on(smtp_addr, dir.join("maildir")).await;
    let _server = luukku(addr, &dir, &config);
    ready(addr).await;
    let mails = smtp.wait_for(3, Duration::from_secs(60)).await;
    assert_eq!(mails.len(), 3, "every pending e-mail after the restart");
    // Later rounds send nothing again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), 3, "each once");
    assert!(mails
        .iter()
        .all(|m| header(m, "To").as_deref() == Some("pending@example.org")));
    assert_eq!(sms_lines(&sms).len(), 1, "the SMS once");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A patient who sends a non-urgent message may leave an e-mail address at `start`: the nurse's
/// reply, written after the patient has closed the page, is announced there. A malformed
/// address is refused by name before anything is stored.
#[tokio::test]
async fn a_message_service_client_is_told_at_the_address_they_left() {
    let smtp = SmtpServer::start().await;
    let sms = temp_dir().join("sms.jsonl");
    let config = notifications(smtp.addr, &sms);
    let s = TestServer::start_with(move |c| {
        plain_message_service(c);
        c.notifications = config;
    })
    .await;
    let token = s.client_token("010101-123N", "Maija Meikäläinen");
    let (mut client, _) = s
        .client_hello(json!({"type": "hello", "token": token}))
        .await;
    let refused = client
        .request(
            json!({"type": "start", "service": "nurse-message", "lang": "en",
                "contact": {"email": "maija@"}, "client_ref": uuid::Uuid::new_v4().to_string()}),
            "bad",
        )
        .await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["code"], "bad_frame");
    assert!(refused["fields"]["contact_email"].is_string(), "{refused}");
    let q = client
        .request(
            json!({"type": "start", "service": "nurse-message", "lang": "en",
                "contact": {"email": "maija@example.org"},
                "client_ref": uuid::Uuid::new_v4().to_string()}),
            "start",
        )
        .await;
    assert_eq!(q["type"], "queued", "{q}");
    let c = conv(&q);
    client.say(&c, "Could I renew my prescription?").await;
    drop(client);

    let mut nurse = s.console("nurse-1").await;
    let a = nurse
        .request(json!({"type": "take", "conversation": c}), "take")
        .await;
    assert_eq!(a["type"], "assigned", "{a}");
    // The patient's session has ended (on a cluster door too) before the reply.
    tokio::time::sleep(Duration::from_secs(1)).await;
    nurse.say(&c, REPLY).await;
    let mails = smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(
        header(&mails[0], "To").as_deref(),
        Some("maija@example.org")
    );
    assert!(!mails[0].contains("appointment"), "no content");
    // Only the one conversation was stored: the refused start left nothing.
    let mine = s
        .ctx()
        .storage
        .client_conversations("010101-123N", 10)
        .await
        .expect("reads");
    assert_eq!(mine.len(), 1);
}

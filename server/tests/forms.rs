//! Contact forms end to end: `POST /api/v1/forms/{service}` as JSON and urlencoded, the HTML
//! form for browsers without JavaScript, every refusal naming its field, idempotent retries,
//! identified senders, the `submit_form` frame on the WebSocket, and (in a cluster run) a
//! submission to a door stored by the primary.

mod support;

use serde_json::{json, Value};
use support::{cid, http, http_get, TestServer};

const FORM: &str = "/api/v1/forms/contact-form";

fn json_headers() -> Vec<(&'static str, &'static str)> {
    vec![("content-type", "application/json")]
}

/// POSTs JSON to `path` on `addr`; returns (status, body as JSON).
async fn post_json(addr: std::net::SocketAddr, path: &str, body: Value) -> (u16, Value) {
    let (status, text) = http(addr, "POST", path, Some(&body.to_string()), &json_headers()).await;
    let v = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, v)
}

/// POSTs an urlencoded body; `accept` chooses JSON or HTML.
async fn post_form(s: &TestServer, body: &str, accept: &str) -> (u16, String) {
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("accept", accept),
    ];
    http(s.addr, "POST", FORM, Some(body), &headers).await
}

fn good() -> Value {
    json!({
        "fields": {"name": "Maija Meikäläinen", "message": "Tarvitsen apua\nasumisen kanssa.",
                   "callback": true, "contact_time": "morning"},
        "contact": {"email": "maija@example.fi"},
        "client_ref": uuid::Uuid::new_v4().to_string(),
    })
}

/// The answer of a stored submission: (conversation, reference).
fn received(status: u16, v: &Value) -> (String, String) {
    assert_eq!(status, 201, "{v}");
    let c = v["conversation"].as_str().expect("conversation").to_owned();
    let r = v["reference"].as_str().expect("reference").to_owned();
    assert_eq!(r, format!("F-{}", c[..8].to_ascii_uppercase()));
    assert!(v["due_at"].as_str().is_some_and(|d| d.len() >= 20), "{v}");
    (c, r)
}

#[tokio::test]
async fn a_json_submission_is_stored_as_a_queued_thread_with_its_first_message() {
    let s = TestServer::start().await;
    let (status, v) = post_json(s.addr, FORM, good()).await;
    let (c, _) = received(status, &v);

    let events = s.stored_events(&c).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["event"], "queued");
    assert_eq!(events[1]["type"], "message");
    assert_eq!(events[1]["seq"], 2);
    assert_eq!(events[1]["from"]["role"], "client");
    // The professional reads the form as lines in the organisation's language (Finnish).
    assert_eq!(
        events[1]["body"],
        "Nimi: Maija Meikäläinen\nAsiasi:\nTarvitsen apua\nasumisen kanssa.\n\
         Toivon soittoa: Kyllä\nParas yhteydenottoaika: Aamupäivä"
    );

    let record = s
        .ctx()
        .storage
        .conversation(&cid(&c))
        .await
        .expect("reads")
        .expect("stored");
    assert_eq!(record.channel, "form");
    assert_eq!(record.state.team.as_str(), "social");
    assert!(record.state.due_at_ms.is_some());
    let contact = record.contact.expect("contact");
    assert_eq!(contact.email.as_deref(), Some("maija@example.fi"));
    assert_eq!(contact.phone, None);
    let answers = record.questionnaire.expect("answers");
    assert_eq!(answers["contact_time"], "morning");
    assert_eq!(answers["callback"], true);

    // The social worker who takes it sees how to reach the sender (to call or write back).
    let mut worker = s.console("social-1").await;
    let a = worker
        .request(json!({"type": "take", "conversation": c}), "take")
        .await;
    assert_eq!(a["type"], "assigned", "{a}");
    assert_eq!(a["client"]["contact"], json!({"email": "maija@example.fi"}));
    assert_eq!(a["client"]["identified"], false);
}

#[tokio::test]
async fn the_services_list_describes_the_form() {
    let s = TestServer::start().await;
    let (_, body) = http_get(s.addr, "/api/v1/services?lang=en").await;
    let v: Value = serde_json::from_str(&body).expect("json");
    let form = v["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["id"] == "contact-form")
        .expect("contact-form")
        .clone();
    assert_eq!(form["channel"], "form");
    assert_eq!(form["promise"], json!({"working_days": 5}));
    let fields = form["form"]["fields"].as_array().expect("fields");
    assert_eq!(fields[0]["id"], "name");
    assert_eq!(fields[0]["label"], "Name");
    assert_eq!(fields[0]["kind"], "text");
    assert_eq!(fields[0]["required"], true);
    assert_eq!(fields[1]["max_len"], 2000);
    assert_eq!(
        fields[3]["options"][0],
        json!({"id": "morning", "label": "Morning"})
    );
}

#[tokio::test]
async fn an_urlencoded_submission_is_stored_with_a_normalised_phone() {
    let s = TestServer::start().await;
    let body = "fields%5Bname%5D=Matti+M&message=Soittakaa+minulle&callback=on\
                &contact_phone=040+123+4567&client_ref=url-1";
    let (status, text) = post_form(&s, body, "application/json").await;
    let v: Value = serde_json::from_str(&text).expect("json");
    let (c, _) = received(status, &v);
    let record = s
        .ctx()
        .storage
        .conversation(&cid(&c))
        .await
        .expect("reads")
        .expect("stored");
    let phone = record.contact.and_then(|c| c.phone);
    assert_eq!(phone.as_deref(), Some("+358401234567"));
    let events = s.stored_events(&c).await;
    assert_eq!(
        events[1]["body"],
        "Nimi: Matti M\nAsiasi: Soittakaa minulle\nToivon soittoa: Kyllä"
    );
}

#[tokio::test]
async fn the_form_works_without_javascript() {
    let s = TestServer::start().await;
    let (status, page) = http_get(s.addr, "/forms/contact-form?lang=sv").await;
    assert_eq!(status, 200);
    assert!(page.contains("<html lang=\"sv\">"), "{page}");
    assert!(page.contains("Kontaktformulär"));
    assert!(
        page.contains("Namn *</label>"),
        "required fields are marked"
    );
    assert!(page.contains("action=\"/api/v1/forms/contact-form\""));
    assert!(page.contains("name=\"client_ref\""));
    let (_, fi) = http_get(s.addr, "/forms/contact-form").await;
    assert!(fi.contains("<html lang=\"fi\">") && fi.contains("Lähetä"));

    let html = "text/html,application/xhtml+xml";
    let body = "lang=sv&client_ref=html-1&name=Anna&message=Hej&contact_email=anna%40example.se";
    let (status, page) = post_form(&s, body, html).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Ditt referensnummer: <strong data-reference>F-"),
        "{page}"
    );
    assert!(page.contains("Vi svarar senast"), "the deadline is shown");

    // Problems come back next to their fields, with what was typed (escaped).
    let body = "lang=en&name=%3Cscript%3Ealert(1)%3C%2Fscript%3E&message=++&contact_time=never";
    let (status, page) = post_form(&s, body, html).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("id=\"f-message-error\">empty</p>"), "{page}");
    assert!(page.contains("id=\"f-contact_time-error\">not one of the options"));
    assert!(page.contains("id=\"contact-error\""));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("<script>"));

    let (status, _) = http_get(s.addr, "/forms/health-chat").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn every_bad_input_is_refused_naming_its_field() {
    let s = TestServer::start().await;
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"nickname": "x"}), "nickname", "unknown field"),
        (json!({"name": 5}), "name", "must be text"),
        (json!({"name": null}), "name", "required"),
        (json!({"name": "   "}), "name", "empty"),
        (json!({"name": "two\nlines"}), "name", "single line"),
        (
            json!({"message": "x".repeat(2001)}),
            "message",
            "longer than 2000",
        ),
        (json!({"callback": "perhaps"}), "callback", "true or false"),
        (json!({"contact_time": "never"}), "contact_time", "options"),
    ];
    for (change, key, why) in cases {
        let mut body = good();
        for (k, v) in change.as_object().expect("object") {
            body["fields"][k] = v.clone();
        }
        let (status, v) = post_json(s.addr, FORM, body).await;
        assert_eq!(status, 422, "{key}: {v}");
        assert_eq!(v["error"], "invalid");
        let got = v["fields"][key].as_str().unwrap_or_default();
        assert!(got.contains(why), "{key}: {got:?} should say {why:?}");
    }
    let contact_cases = [
        (json!({"email": "maija@"}), "contact_email", "e-mail"),
        (json!({"phone": "12"}), "contact_phone", "phone"),
        (json!({}), "contact", "e-mail address or a phone number"),
        (
            json!({"email": " "}),
            "contact",
            "e-mail address or a phone number",
        ),
    ];
    for (contact, key, why) in contact_cases {
        let mut body = good();
        body["contact"] = contact;
        let (status, v) = post_json(s.addr, FORM, body).await;
        assert_eq!(status, 422, "{key}: {v}");
        let got = v["fields"][key].as_str().unwrap_or_default();
        assert!(got.contains(why), "{key}: {got:?}");
    }
    // A refused submission stores nothing.
    assert_eq!(
        s.metric_of("luukku_conversations_started_total", &[]).await,
        0.0
    );
}

#[tokio::test]
async fn other_refusals_have_their_own_status() {
    let s = TestServer::start().await;
    let (status, v) = post_json(s.addr, "/api/v1/forms/no-such", good()).await;
    assert_eq!(
        (status, v["error"]["code"].clone()),
        (404, json!("not_found"))
    );
    let (status, v) = post_json(s.addr, "/api/v1/forms/health-chat", good()).await;
    assert_eq!(status, 400, "a chat service takes no form: {v}");
    let (status, _) = http(s.addr, "POST", FORM, Some("{not json"), &json_headers()).await;
    assert_eq!(status, 400);
    let text = [("content-type", "text/plain")];
    let (status, _) = http(s.addr, "POST", FORM, Some("hello"), &text).await;
    assert_eq!(status, 400);
    let huge = json!({"fields": {"message": "x".repeat(40_000)}}).to_string();
    let (status, _) = http(s.addr, "POST", FORM, Some(&huge), &json_headers()).await;
    assert_eq!(status, 413);
    let bad_token = [
        ("content-type", "application/json"),
        ("authorization", "Bearer not-a-token"),
    ];
    let body = good().to_string();
    let (status, _) = http(s.addr, "POST", FORM, Some(&body), &bad_token).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_retried_submission_gets_the_same_answer_and_stores_nothing_twice() {
    let s = TestServer::start().await;
    let body = good();
    let (status, first) = post_json(s.addr, FORM, body.clone()).await;
    let (c, _) = received(status, &first);
    let (status, again) = post_json(s.addr, FORM, body.clone()).await;
    assert_eq!(status, 201);
    assert_eq!(again, first);
    assert_eq!(s.stored_events(&c).await.len(), 2);
    let started = s
        .metric_of("luukku_conversations_started_total", &[("channel", "form")])
        .await;
    assert_eq!(started, 1.0);
}

#[tokio::test]
async fn an_identified_sender_may_leave_out_the_contact() {
    let s = TestServer::start().await;
    let token = s.client_token("010101-123N", "Maija Meikäläinen");
    let auth = format!("Bearer {token}");
    let headers = [
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    let mut body = good();
    body.as_object_mut().expect("object").remove("contact");
    let (status, text) = http(s.addr, "POST", FORM, Some(&body.to_string()), &headers).await;
    let v: Value = serde_json::from_str(&text).expect("json");
    let (c, _) = received(status, &v);
    let record = s
        .ctx()
        .storage
        .conversation(&cid(&c))
        .await
        .expect("reads")
        .expect("stored");
    assert!(record.client.identified);
    assert_eq!(record.client.subject.as_deref(), Some("010101-123N"));
    assert_eq!(record.contact, None);
    let events = s.stored_events(&c).await;
    assert_eq!(events[1]["from"]["name"], "Maija Meikäläinen");
}

#[tokio::test]
async fn the_widget_submits_with_a_frame_and_may_follow_the_thread() {
    let s = TestServer::start().await;
    let mut client = s.client().await;
    let mut frame = good();
    frame["type"] = json!("submit_form");
    frame["service"] = json!("contact-form");
    let r = client.request(frame.clone(), "f1").await;
    assert_eq!(r["type"], "form_received", "{r}");
    let c = r["conversation"].as_str().expect("conversation");
    assert!(r["reference"].as_str().is_some_and(|x| x.starts_with("F-")));
    assert!(r["resume_token"].is_string() && r["due_at"].is_string());
    assert_eq!(s.stored_events(c).await.len(), 2);

    frame["fields"]["name"] = json!("");
    frame["client_ref"] = json!("another");
    let e = client.request(frame, "f2").await;
    assert_eq!(e["type"], "error");
    assert_eq!(e["code"], "bad_frame");
    assert_eq!(e["fields"], json!({"name": "empty"}));

    // A form service is not started as a chat.
    let e = client
        .request(json!({"type": "start", "service": "contact-form"}), "st")
        .await;
    assert_eq!(e["code"], "bad_frame");
}

/// In a cluster run the submission goes to a door: the primary stores it. Elsewhere the one
/// node takes it.
#[tokio::test]
async fn a_door_hands_the_submission_to_the_primary() {
    let s = TestServer::start().await;
    let door = *s.node_addrs().last().expect("a node");
    let (status, v) = post_json(door, FORM, good()).await;
    let (c, _) = received(status, &v);
    assert_eq!(s.stored_events(&c).await.len(), 2);
    let (status, v) = post_json(door, FORM, json!({"fields": {}})).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["fields"]["name"], "required");
}

/// A submission whose conversation was stored but not its message (the node failed between
/// the two writes) is finished by the retry: the message is stored and the answer given.
#[tokio::test]
async fn a_retry_finishes_a_submission_that_was_cut_short() {
    use console_protocol::{ConversationStatus, Event, SystemEvent, SystemKind};
    use luukku::storage::{ClientIdentity, Contact, ConversationRecord, ConversationState};
    let s = TestServer::start().await;
    let id = "0123abcd0123abcd0123abcd0123abcd";
    let answers = json!({"name": "Maija", "message": "Apua"});
    let record = ConversationRecord {
        id: cid(id),
        service: "contact-form".into(),
        topic: None,
        channel: "form".into(),
        client: ClientIdentity::default(),
        questionnaire: serde_json::from_value(answers).ok(),
        resume_token_hash: String::new(),
        client_ref: Some("cut-short".into()),
        created_at_ms: 1_000,
        lang: None,
        contact: Some(Contact {
            email: Some("maija@example.fi".into()),
            phone: None,
        }),
        state: ConversationState {
            status: ConversationStatus::Queued,
            team: "social".into(),
            assigned_to: None,
            queued_at_ms: 1_000,
            priority: 0,
            summary: None,
            reserved_for: None,
            due_at_ms: Some(2_000),
        },
        last_seq: 0,
    };
    let first = Event::System(SystemEvent {
        conversation: cid(id),
        seq: 1,
        at: "2026-12-02T10:00:00Z".into(),
        event: SystemKind::Queued,
        detail: Default::default(),
    });
    s.ctx()
        .storage
        .write(luukku::storage::WriteOp::Create {
            record: Box::new(record),
            first,
        })
        .await
        .expect("stored");

    let mut body = good();
    body["client_ref"] = json!("cut-short");
    let (status, v) = post_json(s.addr, FORM, body).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["conversation"], id);
    assert_eq!(v["reference"], "F-0123ABCD");
    let events = s.stored_events(id).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[1]["body"], "Nimi: Maija\nAsiasi: Apua");
}

/// An anonymous sender who kept the conversation's resume token (the widget keeps it in the
/// browser) finds the matter again with `conversations` — what the team wrote since, unread —
/// while a wrong token lists nothing and an anonymous session holding none is refused.
#[tokio::test]
async fn an_anonymous_sender_holding_the_token_finds_the_reply() {
    let s = TestServer::start().await;
    let mut sender = s.client().await;
    let mut form = good();
    form["type"] = json!("submit_form");
    form["service"] = json!("contact-form");
    let got = sender.request(form, "form").await;
    assert_eq!(got["type"], "form_received", "{got}");
    let c = got["conversation"].as_str().expect("id").to_owned();
    let token = got["resume_token"].as_str().expect("token").to_owned();
    drop(sender);

    let mut worker = s.console("social-1").await;
    let a = worker
        .request(json!({"type": "take", "conversation": c}), "take")
        .await;
    assert_eq!(a["type"], "assigned", "{a}");
    worker.say(&c, "We will call you tomorrow.").await;

    let mut back = s.client().await;
    let refused = back.request(json!({"type": "conversations"}), "none").await;
    assert_eq!(refused["code"], "unauthorized", "{refused}");
    let wrong = back
        .request(
            json!({"type": "conversations", "held": [{"conversation": c, "resume_token": "00"}]}),
            "wrong",
        )
        .await;
    assert_eq!(wrong["conversations"], json!([]), "{wrong}");
    let list = back
        .request(
            json!({"type": "conversations", "held": [{"conversation": c, "resume_token": token}]}),
            "held",
        )
        .await;
    let mine = &list["conversations"][0];
    assert_eq!(mine["conversation"], c.as_str(), "{list}");
    assert_eq!(mine["status"], "in_progress");
    assert_eq!(mine["unread"], 1);
    assert!(mine["reference"]
        .as_str()
        .is_some_and(|r| r.starts_with("F-")));
}

//! A patient identifies strongly inside an anonymous chat through a real OpenID Connect
//! provider (`test-oidc`): the sign-in is bound to that chat (a ticket only its resume token
//! gets), the pop-up's page hands the token to the chat's own origin only, and the chat
//! becomes identified in place — the nurse sees the name and the identity code, the patient
//! the same conversation. A level of assurance below the minimum, an identity code with a
//! wrong check character, a changed ticket, another site and a ticket asked without the
//! chat's token are refused, each saying why.

mod support;

use serde_json::{json, Value};
use support::oidc::{walk_full, Jar, Provider};
use support::smtp::free_addr;
use support::*;

const LOA2: &str = "http://ftn.ficora.fi/2017/loa2";
const LOA3: &str = "http://ftn.ficora.fi/2017/loa3";

fn provider() -> (Provider, std::path::PathBuf) {
    let dir = temp_dir();
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("oidc.json");
    let user = |sub: &str, name: &str, hetu: &str, acr: &str| {
        json!({"sub": sub, "name": name, "given_name": name, "family_name": name,
               "hetu": hetu, "groups": [], "roles": [], "acr": acr})
    };
    let config = json!({"users": [
        user("patient-maija", "Maija Meikäläinen", "020304A901T", LOA3),
        user("patient-matti", "Matti Meikäläinen", "311299-934B", LOA2),
        user("patient-typo", "Teppo Testaaja", "010190-9870", LOA3),
    ]});
    std::fs::write(&file, config.to_string()).expect("config");
    let p = Provider::start(&["--config", file.to_str().expect("path")]);
    (p, dir)
}

async fn server(provider: &Provider) -> TestServer {
    server_with(provider, LOA3, |_| {}).await
}

/// The demo organisation with `[identification]` at `min_acr`, adjusted by `tweak`.
async fn server_with(
    provider: &Provider,
    min_acr: &str,
    tweak: impl FnOnce(&mut luukku::config::Config),
) -> TestServer {
    let addr = free_addr();
    let mut config = luukku::config::Config::demo(temp_dir());
    config.listen = addr;
    let toml = format!(
        "issuer = \"{}\"\nclient_id = \"luukku-ident\"\npublic_url = \"http://{addr}\"\n\
         min_acr = \"{min_acr}\"\nclock_skew_s = 5\n",
        provider.issuer
    );
    config.identification = Some(toml::from_str(&toml).expect("[identification]"));
    tweak(&mut config);
    config.validate().expect("a valid configuration");
    TestServer::start_config(config).await
}

/// Asks for the chat's identification and signs in at the provider as `sub`; the pop-up's
/// last page.
async fn identify(s: &TestServer, conversation: &str, resume: &str, sub: &str) -> (u16, String) {
    let origin = format!("http://{}", s.addr);
    let body = json!({"conversation": conversation, "origin": origin});
    identify_with(s, body, Some(resume), sub).await
}

/// Asks for an identification with `body` (and the resume token, if any) and signs in at the
/// provider as `sub`; the pop-up's last page.
async fn identify_with(
    s: &TestServer,
    body: Value,
    resume: Option<&str>,
    sub: &str,
) -> (u16, String) {
    let origin = format!("http://{}", s.addr);
    let mut headers = vec![("content-type", "application/json")];
    if let Some(r) = resume {
        headers.push(("x-luukku-resume-token", r));
    }
    let (status, _, body) = http_full(
        s.addr,
        "POST",
        "/api/v1/identify",
        Some(&body.to_string()),
        &headers,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let url = serde_json::from_str::<Value>(&body).expect("json")["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let mut jar = Jar::default();
    // To the provider's page asking who signs in …
    let (status, page_url, _) = walk_full(&mut jar, &format!("{origin}{url}"), |_| false)
        .await
        .expect_err("the provider's sign-in page");
    assert_eq!(status, 200);
    // … where the patient chooses (test-oidc's shortcut for the page's button), and back.
    let login = format!("{}/login?user={sub}", page_url.trim_end_matches('/'));
    let callback = walk_full(&mut jar, &login, |u| u.contains("/auth/client/callback"))
        .await
        .expect("back to the chat's server");
    let (status, _, body) = walk_full(&mut jar, &callback, |_| false)
        .await
        .expect_err("the pop-up's last page");
    (status, body)
}

/// The JSON the pop-up's page posts to the chat, and the origin it posts to.
fn posted(page: &str) -> (Value, String) {
    let start = page.find("postMessage(").expect("a message for the chat") + "postMessage(".len();
    let rest = &page[start..];
    let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
    let message = stream.next().expect("message").expect("json");
    let after = &rest[stream.byte_offset()..];
    let origin: Value = serde_json::Deserializer::from_str(after.trim_start_matches([',', ' ']))
        .into_iter::<Value>()
        .next()
        .expect("origin")
        .expect("json");
    (message, origin.as_str().expect("origin").to_owned())
}

#[tokio::test]
async fn a_patient_identifies_inside_the_chat_and_the_nurse_sees_who() {
    let (provider, _dir) = provider();
    let s = server(&provider).await;
    let mut nurse = s.console("nurse-1").await;
    let (mut client, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    let resume = q["resume_token"].as_str().expect("resume").to_owned();
    assert_eq!(nurse.assigned().await, c);
    client.say(&c, "Before identifying.").await;

    let (status, page) = identify(&s, &c, &resume, "patient-maija").await;
    assert_eq!(status, 200, "{page}");
    let (message, origin) = posted(&page);
    assert_eq!(
        origin,
        format!("http://{}", s.addr),
        "only to the chat's origin"
    );
    assert_eq!(message["type"], "luukku-identified");
    assert_eq!(message["conversation"], c.as_str());
    let token = message["token"].as_str().expect("token");

    // The widget resumes the same chat with the token: identified in place.
    drop(client);
    let (mut client, welcome) = s
        .client_hello(json!({"type": "hello", "token": token,
            "resume": [{"conversation": c, "resume_token": resume, "after_seq": 0}]}))
        .await;
    assert_eq!(welcome["identity"]["kind"], "identified", "{welcome}");
    assert_eq!(welcome["conversations"][0]["conversation"], c.as_str());
    let identified = nurse
        .recv_where(|f| f["type"] == "system" && f["event"] == "identified")
        .await
        .expect("the nurse is told");
    assert_eq!(
        identified["detail"]["name"], "Maija Meikäläinen",
        "{identified}"
    );
    client.say(&c, "Now identified.").await;
    nurse.heard(&c, "Now identified.").await;
    // A new console session shows the identity code, verified, to the professional …
    let (_, w) = s.console_hello("nurse-1", json!({})).await;
    let summary = &w["conversations"][0];
    assert_eq!(summary["client"]["identity_code"], "020304A901T", "{w}");
    assert_eq!(summary["client"]["identified"], true);
    // … and never to the patient.
    assert!(
        !client
            .seen
            .iter()
            .any(|f| f.to_string().contains("020304A901T")),
        "the patient's frames never carry their identity code"
    );
}

#[tokio::test]
async fn weak_assurance_a_wrong_identity_code_and_a_foreign_chat_are_refused() {
    let (provider, _dir) = provider();
    let s = server(&provider).await;
    let (client, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    let resume = q["resume_token"].as_str().expect("resume").to_owned();

    // Matti's bank codes are loa2; the organisation asks for loa3.
    let (_, page) = identify(&s, &c, &resume, "patient-matti").await;
    let (message, _) = posted(&page);
    assert_eq!(message["type"], "luukku-identify-failed");
    assert_eq!(message["reason"], "assurance");
    assert!(page.contains("not strong enough"), "{page}");
    // A provider's identity code whose check character is wrong is not taken.
    let (_, page) = identify(&s, &c, &resume, "patient-typo").await;
    let (message, _) = posted(&page);
    assert_eq!(message["reason"], "identity_code");
    assert!(!page.contains("010190-9870"), "the code is never echoed");

    // Nobody gets a sign-in for a chat without its resume token, or for another site.
    let origin = format!("http://{}", s.addr);
    let ask = |resume: &str, origin: &str| {
        let body = json!({"conversation": c, "origin": origin}).to_string();
        let resume = resume.to_owned();
        async move {
            http_full(
                s.addr,
                "POST",
                "/api/v1/identify",
                Some(&body),
                &[
                    ("content-type", "application/json"),
                    ("x-luukku-resume-token", &resume),
                ],
            )
            .await
        }
    };
    let (status, _, body) = ask("", &origin).await;
    assert_eq!(status, 401, "{body}");
    let (status, _, body) = ask(&"0".repeat(64), &origin).await;
    assert_eq!(status, 401, "{body}");
    let (status, _, body) = ask(&resume, "https://evil.example").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("origin"), "{body}");
    // A ticket that was changed is refused without reaching the provider.
    let (status, _, body) =
        http_full(s.addr, "GET", "/auth/client/login?ticket=AAAA", None, &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains("expired"), "{body}");
    // The chat stays anonymous through all of it.
    let (_, welcome) = s
        .client_hello(json!({"type": "hello",
            "resume": [{"conversation": c, "resume_token": resume, "after_seq": 0}]}))
        .await;
    assert_eq!(welcome["identity"]["kind"], "anonymous");
    drop(client);
}

#[tokio::test]
async fn a_service_that_needs_identification_is_started_after_the_pop_up_at_its_own_level() {
    let (provider, _dir) = provider();
    // The organisation takes loa2; its health chat wants loa3.
    let s = server_with(&provider, LOA2, |c| {
        let chat = c
            .organisation
            .services
            .iter_mut()
            .find(|x| x.id.as_str() == "health-chat")
            .expect("health-chat");
        chat.min_acr = Some(LOA3.into());
    })
    .await;
    let origin = format!("http://{}", s.addr);

    // The widget learns it must identify first; an anonymous start is refused, saying so.
    let (_, services) = http_get(s.addr, "/api/v1/services").await;
    let services: Value = serde_json::from_str(&services).expect("json");
    let of = |id: &str| {
        services["services"]
            .as_array()
            .expect("services")
            .iter()
            .find(|x| x["id"] == id)
            .expect("service")
            .clone()
    };
    assert_eq!(of("health-chat")["identification_required"], true);
    assert!(of("social-chat").get("identification_required").is_none());
    let mut anonymous = s.client().await;
    let refused = anonymous
        .request(
            json!({"type": "start", "service": "health-chat", "team": "station-a"}),
            "s0",
        )
        .await;
    assert_eq!(refused["code"], "unauthorized", "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .expect("message")
            .contains("identif"),
        "{refused}"
    );

    // Before any chat: the pop-up for the service. loa2 is not enough for it …
    let for_chat = json!({"service": "health-chat", "origin": origin});
    let (_, page) = identify_with(&s, for_chat.clone(), None, "patient-matti").await;
    let (message, _) = posted(&page);
    assert_eq!(message["type"], "luukku-identify-failed", "{message}");
    assert_eq!(message["reason"], "assurance");
    // … loa3 is; the token comes for no conversation yet.
    let (_, page) = identify_with(&s, for_chat, None, "patient-maija").await;
    let (message, _) = posted(&page);
    assert_eq!(message["type"], "luukku-identified", "{message}");
    assert!(message["conversation"].is_null(), "{message}");
    let token = message["token"].as_str().expect("token");
    let mut nurse = s.console("nurse-1").await;
    let (mut client, welcome) = s
        .client_hello(json!({"type": "hello", "token": token}))
        .await;
    assert_eq!(welcome["identity"]["kind"], "identified");
    let q = client.start("health-chat", "station-a").await;
    assert_eq!(q["type"], "queued", "{q}");
    let assigned = nurse
        .recv_where(|f| f["type"] == "assigned")
        .await
        .expect("assigned");
    assert_eq!(
        assigned["client"]["identity_code"], "020304A901T",
        "{assigned}"
    );

    // Identified at loa2 for another service: not enough for the health chat.
    let for_social = json!({"service": "social-chat", "origin": origin});
    let (_, page) = identify_with(&s, for_social, None, "patient-matti").await;
    let (message, _) = posted(&page);
    let weak = message["token"].as_str().expect("a loa2 token");
    let (mut weak_client, _) = s
        .client_hello(json!({"type": "hello", "token": weak}))
        .await;
    let refused = weak_client
        .request(
            json!({"type": "start", "service": "health-chat", "team": "station-a"}),
            "s1",
        )
        .await;
    assert_eq!(refused["code"], "unauthorized", "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .expect("message")
            .contains("stronger"),
        "{refused}"
    );
    let q = weak_client.start("social-chat", "social").await;
    assert_eq!(q["type"], "queued", "{q}");

    // Asking wrongly is refused, naming what is wrong.
    for (body, named) in [
        (json!({"origin": origin}), "conversation or service"),
        (
            json!({"service": "health-chat", "conversation": "x", "origin": origin}),
            "conversation or service",
        ),
        (json!({"service": "nope", "origin": origin}), "service"),
    ] {
        let (status, _, answer) = http_full(
            s.addr,
            "POST",
            "/api/v1/identify",
            Some(&body.to_string()),
            &[("content-type", "application/json")],
        )
        .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer.contains(named), "{body}: {answer}");
    }
}

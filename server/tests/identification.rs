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
    let addr = free_addr();
    let mut config = luukku::config::Config::demo(temp_dir());
    config.listen = addr;
    let toml = format!(
        "issuer = \"{}\"\nclient_id = \"luukku-ident\"\npublic_url = \"http://{addr}\"\n\
         min_acr = \"{LOA3}\"\nclock_skew_s = 5\n",
        provider.issuer
    );
    config.identification = Some(toml::from_str(&toml).expect("[identification]"));
    TestServer::start_config(config).await
}

/// Asks for the chat's identification and signs in at the provider as `sub`; the pop-up's
/// last page.
async fn identify(s: &TestServer, conversation: &str, resume: &str, sub: &str) -> (u16, String) {
    let origin = format!("http://{}", s.addr);
    let (status, _, body) = http_full(
        s.addr,
        "POST",
        "/api/v1/identify",
        Some(&json!({"conversation": conversation, "origin": origin}).to_string()),
        &[
            ("content-type", "application/json"),
            ("x-luukku-resume-token", resume),
        ],
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

//! The organisation's texts in the patient's language: `GET /api/v1/services` in the language
//! of `?lang=`, else of `Accept-Language`, else the organisation's default (Finnish in the
//! demo), and a configuration with a text in an unknown language refused at start-up.

mod support;

use luukku::organisation::Text;
use serde_json::Value;
use std::collections::BTreeMap;
use support::*;

/// `/api/v1/services` (with optional headers) as JSON; fails unless the status is 200.
async fn services(s: &TestServer, path: &str, headers: &[(&str, &str)]) -> Value {
    let (status, body) = http(s.addr, "GET", path, None, headers).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).expect("json")
}

fn service<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("service {id}"))
}

#[tokio::test]
async fn every_text_comes_in_the_language_asked_for() {
    let s = TestServer::start().await;
    let sv = services(&s, "/api/v1/services?lang=sv", &[]).await;
    assert_eq!(sv["lang"], "sv");
    assert_eq!(sv["languages"], serde_json::json!(["fi", "sv", "en"]));
    assert_eq!(sv["organisation"], "Demovälfärdsområdet");
    let health = service(&sv, "health-chat");
    assert_eq!(health["name"], "Hälsostationens chatt");
    assert!(health["closed_message"]
        .as_str()
        .expect("string")
        .starts_with("Chatten är stängd"));
    let topics: Vec<&str> = health["topics"]
        .as_array()
        .expect("topics")
        .iter()
        .map(|t| t["name"].as_str().expect("a topic name is a string"))
        .collect();
    assert_eq!(topics, ["Förnyelse av recept", "Symtom", "Laboratoriesvar"]);
    let duration = &health["questionnaire"]["questions"][0];
    assert_eq!(duration["id"], "duration");
    assert_eq!(duration["label"], "Hur länge har du haft symtomen?");
    assert_eq!(duration["options"][1], "1–3 dagar");
    assert_eq!(duration["kind"], "choice");
    assert_eq!(duration["required"], true);
    assert!(
        health["questionnaire"]["questions"][1]
            .get("options")
            .is_none(),
        "a yes/no question has no options"
    );

    let en = services(&s, "/api/v1/services?lang=en", &[]).await;
    assert_eq!(service(&en, "health-chat")["name"], "Health station chat");
    assert_eq!(
        service(&en, "social-chat")["topics"][0]["name"],
        "Income support"
    );
    // Ids, teams and the opening state do not depend on the language.
    for id in ["health-chat", "social-chat", "stations-chat"] {
        for key in ["id", "teams", "channel", "open_now"] {
            assert_eq!(service(&sv, id)[key], service(&en, id)[key], "{id} {key}");
        }
    }
}

#[tokio::test]
async fn without_lang_the_accept_language_header_decides_then_finnish() {
    let s = TestServer::start().await;
    let name = |v: &Value| service(v, "health-chat")["name"].clone();

    let plain = services(&s, "/api/v1/services", &[]).await;
    assert_eq!(
        (plain["lang"].clone(), name(&plain)),
        ("fi".into(), "Terveysaseman chat".into())
    );

    let sv_fi = [("accept-language", "sv-FI,sv;q=0.9,en;q=0.8")];
    let v = services(&s, "/api/v1/services", &sv_fi).await;
    assert_eq!(
        (v["lang"].clone(), name(&v)),
        ("sv".into(), "Hälsostationens chatt".into())
    );

    let en_first = [("accept-language", "de-DE,de;q=0.9,en;q=0.8,fi;q=0.5")];
    let v = services(&s, "/api/v1/services", &en_first).await;
    assert_eq!(
        name(&v),
        "Health station chat",
        "German is not served: English is preferred next"
    );

    let v = services(&s, "/api/v1/services?lang=fi", &sv_fi).await;
    assert_eq!(
        name(&v),
        "Terveysaseman chat",
        "?lang= wins over the header"
    );
}

#[tokio::test]
async fn an_unknown_language_falls_back_instead_of_failing() {
    let s = TestServer::start().await;
    let v = services(&s, "/api/v1/services?lang=de", &[]).await;
    assert_eq!(v["lang"], "fi");
    assert_eq!(service(&v, "health-chat")["name"], "Terveysaseman chat");
    let v = services(&s, "/api/v1/services?lang=xx", &[("accept-language", "en")]).await;
    assert_eq!(
        v["lang"], "en",
        "an unknown ?lang= leaves the choice to the header"
    );
    let v = services(&s, "/api/v1/services?lang=sv-FI", &[]).await;
    assert_eq!(v["lang"], "sv", "a regional tag is its language");
    let v = services(&s, "/api/v1/services?lang=", &[]).await;
    assert_eq!(v["lang"], "fi");
}

#[tokio::test]
async fn a_text_missing_in_a_language_falls_back_to_the_default_language() {
    let s = TestServer::start_with(|c| {
        let org = &mut c.organisation;
        org.services[0].name = Text::Translated(BTreeMap::from([
            ("fi".to_owned(), "Vain suomeksi".to_owned()),
            ("en".to_owned(), "English only".to_owned()),
        ]));
        org.services[1].name = "Plain, every language".into();
    })
    .await;
    let v = services(&s, "/api/v1/services?lang=sv", &[]).await;
    assert_eq!(service(&v, "health-chat")["name"], "Vain suomeksi");
    assert_eq!(service(&v, "social-chat")["name"], "Plain, every language");
}

#[tokio::test]
async fn a_text_in_an_unknown_language_stops_the_server_with_exit_code_64() {
    let dir = temp_dir();
    let config = dir.join("luukku.toml");
    let organisation = luukku::organisation::DEMO_ORGANISATION
        .replace("[[", "[[organisation.")
        .replace(
            "en = \"Health station chat\"",
            "en = \"Health station chat\", de = \"Gesundheitszentrum\"",
        );
    let (head, tables) = organisation
        .split_once("\n[[")
        .expect("top-level keys, then tables");
    std::fs::write(
        &config,
        format!(
            "demo = true\ndata_dir = {:?}\n[organisation]\n{head}\n[[{tables}",
            dir.join("data")
        ),
    )
    .expect("write config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_luukku"))
        .arg("--config")
        .arg(&config)
        .arg("--listen")
        .arg("127.0.0.1:0")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    assert!(
        stderr.contains("service health-chat name") && stderr.contains("\"de\""),
        "says which text and which language: {stderr}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_closing_message_comes_in_the_language_the_patient_started_in() {
    let s = TestServer::start().await;
    let mut nurse = s.console("nurse-1").await;
    for (lang, expected) in [
        ("sv", "Tack för att du kontaktade oss"),
        ("fi", "Kiitos yhteydenotostasi"),
    ] {
        let mut client = s.client().await;
        let q = client
            .request(
                serde_json::json!({"type": "start", "service": "health-chat", "lang": lang,
                    "questionnaire": {"duration": "1-3 days"}}),
                "start",
            )
            .await;
        let c = conv(&q);
        let assigned = nurse.recv_type("assigned").await;
        assert_eq!(
            assigned["client"]["lang"], lang,
            "the nurse sees the language"
        );
        nurse
            .request(
                serde_json::json!({"type": "close", "conversation": c}),
                "close",
            )
            .await;
        let closed = client.recv_type("closed").await;
        let message = closed["message"].as_str().expect("message");
        assert!(message.starts_with(expected), "{lang}: {message}");
    }
}

#[tokio::test]
async fn the_widget_on_another_site_may_read_the_services_and_identify_in_demo_mode() {
    let s = TestServer::start().await;
    let origin = [("origin", "https://www.other-region-site.example")];
    let (status, headers, body) =
        http_full(s.addr, "GET", "/api/v1/services?lang=sv", None, &origin).await;
    assert_eq!(status, 200, "{body}");
    let allow = |h: &[(String, String)], name: &str| {
        h.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(allow(&headers, "access-control-allow-origin"), "*");

    let preflight = [
        ("origin", "https://www.other-region-site.example"),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "content-type"),
    ];
    let (status, headers, _) =
        http_full(s.addr, "OPTIONS", "/api/v1/dev/token", None, &preflight).await;
    assert_eq!(status, 204);
    assert_eq!(allow(&headers, "access-control-allow-origin"), "*");
    assert!(allow(&headers, "access-control-allow-methods").contains("POST"));
    assert!(allow(&headers, "access-control-allow-headers").contains("content-type"));
    let (status, headers, body) = http_full(
        s.addr,
        "POST",
        "/api/v1/dev/token",
        Some(r#"{"client":{"sub":"demo-1","name":"Maija"}}"#),
        &origin,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(allow(&headers, "access-control-allow-origin"), "*");
}

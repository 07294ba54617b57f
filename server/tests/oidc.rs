//! Professionals sign in through a real OpenID Connect provider (`test-oidc`, the
//! `oidc-provider` package): the code flow with PKCE through Luukku's own endpoints, teams and
//! roles from the provider's claims (nobody listed in the configuration), a replayed or
//! unknown `state`, a rotated signing key; and the ID token checks themselves against tokens
//! that are forged, expired, for another audience or another sign-in.

mod support;

use luukku::oidc::{Oidc, OidcConfig};
use serde_json::{json, Value};
use support::oidc::{walk, Jar, Provider, CONSOLE_CALLBACK};
use support::smtp::free_addr;
use support::*;

fn oidc_config(issuer: &str, public_url: &str) -> OidcConfig {
    OidcConfig {
        issuer: issuer.to_owned(),
        client_id: "luukku-console".into(),
        client_secret: None,
        public_url: public_url.to_owned(),
        scopes: vec!["profile".into()],
        groups_claim: "groups".into(),
        team_prefix: "team:".into(),
        roles_claim: "roles".into(),
        role_map: Default::default(),
        name_claim: "name".into(),
        clock_skew_s: 0,
        console_token_ttl_s: 3600,
        session_ttl_s: 3600,
    }
}

/// A server whose console signs in through `provider`.
async fn server(provider: &Provider) -> TestServer {
    let addr = free_addr();
    let mut config = luukku::config::Config::demo(temp_dir());
    config.listen = addr;
    config.oidc = Some(oidc_config(&provider.issuer, &format!("http://{addr}")));
    TestServer::start_config(config).await
}

/// Signs in as `sub` through Luukku's endpoints; the console token, or the page refusing.
async fn sign_in(s: &TestServer, jar: &mut Jar, sub: &str) -> Result<String, (u16, String)> {
    let start = format!("http://{}/auth/console/login?login_hint={sub}", s.addr);
    let end = walk(jar, &start, |url| url.contains("/console#token=")).await?;
    Ok(end
        .split_once("#token=")
        .map(|(_, t)| t.to_owned())
        .expect("token"))
}

#[tokio::test]
async fn professionals_sign_in_with_teams_and_roles_from_the_providers_claims() {
    let provider = Provider::start(&[]);
    let s = server(&provider).await;
    let (status, body) = http(s.addr, "GET", "/api/v1/auth", None, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).expect("json")["oidc"],
        true
    );

    // Anna is in no configuration file: her team is the provider's group team:station-a.
    let mut jar = Jar::default();
    let token = sign_in(&s, &mut jar, "nurse-anna")
        .await
        .expect("signed in");
    // Her sign-in is refreshed through the provider without the browser going there.
    let luukku = format!("127.0.0.1:{}", s.addr.port());
    let refresh = jar
        .get(&luukku, "luukku_refresh")
        .expect("refresh cookie")
        .clone();
    let url = format!("http://{}/auth/console/refresh", s.addr);
    let r = support::oidc::http_client()
        .post(&url)
        .header("cookie", format!("luukku_refresh={refresh}"))
        .send()
        .await
        .expect("refresh");
    assert_eq!(r.status().as_u16(), 200);
    let refreshed: Value = r.json().await.expect("json");
    let fresh = refreshed["token"].as_str().expect("token");
    let r = support::oidc::http_client()
        .post(&url)
        .send()
        .await
        .expect("refresh");
    assert_eq!(r.status().as_u16(), 401, "no sign-in, no refresh");
    let mut again = Conn::connect(&s.ws_url("console"), false).await;
    again.send(json!({"type": "hello", "token": fresh})).await;
    assert_eq!(
        again.recv_type("welcome").await["professional"]["id"],
        "nurse-anna"
    );
    drop(again);
    let mut nurse = Conn::connect(&s.ws_url("console"), false).await;
    nurse.send(json!({"type": "hello", "token": token})).await;
    let welcome = nurse.recv_type("welcome").await;
    assert_eq!(welcome["professional"]["id"], "nurse-anna");
    assert_eq!(welcome["professional"]["name"], "Anna Hoitaja");
    assert_eq!(welcome["professional"]["teams"], json!(["station-a"]));
    // She takes chats like anyone listed.
    let (mut client, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    assert_eq!(nurse.assigned().await, c);
    nurse.say(&c, "Hello, this is Anna.").await;
    client.heard(&c, "Hello, this is Anna.").await;

    // The provider's roles give Luukku's: a shift lead supervises, the officer reads the log.
    let lead = sign_in(&s, &mut Jar::default(), "supervisor-pekka")
        .await
        .expect("lead");
    let (mut lead_conn, w) = {
        let mut c = Conn::connect(&s.ws_url("console"), false).await;
        c.send(json!({"type": "hello", "token": lead})).await;
        let w = c.recv_type("welcome").await;
        (c, w)
    };
    assert_eq!(w["professional"]["roles"], json!(["supervisor"]));
    assert_eq!(
        w["professional"]["teams"],
        json!(["station-a", "station-b"])
    );
    let overview = lead_conn
        .request(json!({"type": "supervise", "teams": ["station-a"]}), "sv")
        .await;
    assert_eq!(overview["type"], "team_overview", "{overview}");
    let dpo = sign_in(&s, &mut Jar::default(), "dpo-liisa")
        .await
        .expect("officer");
    let auth = format!("Bearer {dpo}");
    let (status, body) = http(
        s.addr,
        "GET",
        "/api/v1/access-log?professional=nurse-anna",
        None,
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&c), "the officer sees Anna's access: {body}");

    // A patient of the same provider has no team and no role: no console for them.
    let refused = sign_in(&s, &mut Jar::default(), "patient-matti")
        .await
        .expect_err("refused");
    assert_eq!(refused.0, 403, "{}", refused.1);
    assert!(refused.1.contains("no team"), "{}", refused.1);
}

#[tokio::test]
async fn a_replayed_or_foreign_state_is_refused_and_a_rotated_key_is_picked_up() {
    let provider = Provider::start(&[]);
    let s = server(&provider).await;
    let mut jar = Jar::default();
    let start = format!("http://{}/auth/console/login?login_hint=nurse-anna", s.addr);
    let callback = walk(&mut jar, &start, |url| {
        url.contains("/auth/console/callback")
    })
    .await
    .expect("the provider sends the browser back");
    let luukku = format!("127.0.0.1:{}", s.addr.port());
    let sealed = jar
        .get(&luukku, "luukku_signin")
        .expect("sign-in cookie")
        .clone();
    let get = |url: String, cookie: Option<String>| async move {
        let mut r = support::oidc::http_client().get(url);
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        let r = r.send().await.expect("callback");
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        (status, location, r.text().await.unwrap_or_default())
    };
    // Another browser (without this one's cookie) cannot finish this sign-in.
    let (status, _, page) = get(callback.clone(), None).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("expired or was already used"), "{page}");
    // A cookie changed by a single character is refused too.
    let mut forged = sealed.clone().into_bytes();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).expect("ascii");
    let (status, _, _) = get(callback.clone(), Some(format!("luukku_signin={forged}"))).await;
    assert_eq!(status, 400);
    // The right browser finishes it once …
    let cookie = Some(format!("luukku_signin={sealed}"));
    let (status, location, page) = get(callback.clone(), cookie.clone()).await;
    assert_eq!(status, 302, "{page}");
    assert!(location.expect("location").starts_with("/console#token="));
    // … and a replay of the same callback, cookie and all, is refused.
    let (status, _, page) = get(callback, cookie).await;
    assert_eq!(status, 400, "{page}");

    // The provider rotates its signing key and drops the old one: the next sign-in is
    // signed with a key id Luukku has not seen, which makes it fetch the keys again.
    provider.rotate(false).await;
    provider.rotate(true).await;
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let token = sign_in(&s, &mut Jar::default(), "nurse-anna")
        .await
        .expect("after rotation");
    let mut nurse = Conn::connect(&s.ws_url("console"), false).await;
    nurse.send(json!({"type": "hello", "token": token})).await;
    assert_eq!(
        nurse.recv_type("welcome").await["professional"]["id"],
        "nurse-anna"
    );
}

/// An ID token of a sign-in made here with `Oidc` itself (redirect URI `CONSOLE_CALLBACK`).
async fn id_token(oidc: &Oidc, sub: &str) -> (String, String) {
    let auth = oidc
        .authorize(CONSOLE_CALLBACK, Some(sub), None, false)
        .await
        .expect("authorize");
    let back = walk(&mut Jar::default(), &auth.url, |u| {
        u.starts_with(CONSOLE_CALLBACK)
    })
    .await
    .expect("redirected back");
    let url = reqwest::Url::parse(&back).expect("url");
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    let signed = oidc
        .exchange(&code, &auth.pkce_verifier, &auth.nonce, CONSOLE_CALLBACK)
        .await
        .expect("exchange");
    assert_eq!(signed.subject, sub);
    (signed.id_token, auth.nonce)
}

#[tokio::test]
async fn forged_expired_foreign_and_unbound_id_tokens_are_refused() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let provider = Provider::start(&["--ttl-seconds", "2"]);
    let oidc = Oidc::discover(oidc_config(&provider.issuer, "http://127.0.0.1"))
        .await
        .expect("discovered");
    let (token, nonce) = id_token(&oidc, "nurse-anna").await;
    let signed = oidc
        .verify(&token, Some(&nonce))
        .await
        .expect("a good token");
    assert_eq!(signed.list("groups"), ["team:station-a"]);
    assert_eq!(signed.text("hetu"), Some("010190-987H"));
    assert!(signed.acr.is_some());

    let refused =
        |r: Result<_, luukku::oidc::OidcError>| r.map(|_| ()).expect_err("refused").to_string();
    // Another sign-in's nonce.
    assert!(refused(oidc.verify(&token, Some("another-nonce")).await).contains("refused"));
    // A payload changed under the provider's signature (another audience written in).
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&b64.decode(parts[1]).expect("b64")).expect("json");
    payload["groups"] = json!(["team:station-b"]);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(serde_json::to_vec(&payload).expect("json")),
        parts[2]
    );
    assert!(refused(oidc.verify(&forged, Some(&nonce)).await).contains("refused"));
    // Unsigned (`alg: none`).
    let none = format!(
        "{}.{}.",
        b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    assert!(refused(oidc.verify(&none, Some(&nonce)).await).contains("refused"));
    assert!(refused(oidc.verify("not a token", None).await).contains("not a signed JWT"));
    // A token issued to another client (the patients' identification) is not ours.
    let other = Oidc::discover(OidcConfig {
        client_id: "luukku-ident".into(),
        ..oidc_config(&provider.issuer, "http://127.0.0.1")
    })
    .await
    .expect("discovered");
    let why = refused(other.verify(&token, Some(&nonce)).await);
    assert!(why.to_lowercase().contains("audience"), "{why}");
    // Expired: the provider's tokens live 2 s here and no clock skew is allowed.
    tokio::time::sleep(std::time::Duration::from_millis(3_100)).await;
    let why = refused(oidc.verify(&token, Some(&nonce)).await);
    assert!(why.to_lowercase().contains("expire"), "{why}");
}

#[tokio::test]
async fn a_signed_in_professionals_chat_stays_hers_over_a_restart() {
    let provider = Provider::start(&[]);
    let s = server(&provider).await;
    // Anna is in no configuration file: the router knows her from her sign-in only.
    let token = sign_in(&s, &mut Jar::default(), "nurse-anna")
        .await
        .expect("signed in");
    let mut nurse = Conn::connect(&s.ws_url("console"), false).await;
    nurse.send(json!({"type": "hello", "token": token})).await;
    nurse.recv_type("welcome").await;
    let (client, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    assert_eq!(nurse.assigned().await, c);
    nurse.say(&c, "I am looking into it.").await;
    drop((nurse, client));

    let s = s.restart().await;
    // Back within her grace period: the chat is still hers, not back in the queue.
    let mut nurse = Conn::connect(&s.ws_url("console"), false).await;
    nurse.send(json!({"type": "hello", "token": token})).await;
    let welcome = nurse.recv_type("welcome").await;
    let held: Vec<&str> = welcome["conversations"]
        .as_array()
        .expect("conversations")
        .iter()
        .filter_map(|x| x["conversation"].as_str())
        .collect();
    assert_eq!(held, vec![c.as_str()], "{welcome}");
    assert_eq!(welcome["professional"]["name"], "Anna Hoitaja");
    let mut colleague = s.console("nurse-1").await;
    let snapshot = colleague
        .request(
            json!({"type": "subscribe_queue", "teams": ["station-a"]}),
            "q",
        )
        .await;
    assert!(
        !snapshot.to_string().contains(&c),
        "not waiting in the queue: {snapshot}"
    );
    let sent = nurse.say(&c, "Still here after the restart.").await;
    assert_eq!(sent["type"], "ack", "{sent}");
}

//! A patient identifies strongly inside an anonymous chat (`[identification]`): the widget asks
//! for a sign-in bound to its conversation, opens it in a pop-up (strong-authentication
//! dialogues do not work in iframes), the provider authenticates the patient, and the pop-up
//! hands the widget an identified client token, with which it resumes the same conversation —
//! identified in place. Refused: a level of assurance (`acr`) below the organisation's
//! minimum, an identity code whose check character is wrong, a replayed or foreign sign-in.
//!
//! - `POST /api/v1/identify` `{"conversation","origin"}` with the conversation's resume token
//!   (`x-luukku-resume-token`), or `{"service","origin"}` before starting a service that needs
//!   identification → `{"url": "/auth/client/login?ticket=…"}` (a sealed ticket, 5 min,
//!   naming the conversation or the service, the level of assurance it needs — the
//!   organisation's `min_acr`, or the service's own higher one — and the page's origin).
//! - `GET /auth/client/login?ticket=` → 302 to the provider (`acr_values` the minimum), the
//!   sign-in's `state`, `nonce`, PKCE verifier and the ticket in a sealed HttpOnly cookie.
//! - `GET /auth/client/callback` → a page that posts `{type: "luukku-identified",
//!   conversation, token}` (or `luukku-identify-failed` with the reason) to the opener, at the
//!   origin the ticket named only, and closes.

pub use super::config::IdentificationConfig;
use super::login::{cookie_value, html_escape, no_store, Provider};
use crate::context::ServerCtx;
use crate::http::json_error;
use console_protocol::{ConversationId, ResumeToken};
use serde::Deserialize;
use std::sync::Arc;
use warp::http::StatusCode;
use warp::{Filter, Reply};

const COOKIE: &str = "luukku_identify";
const TICKET: &str = "luukku_identify_ticket";
const TICKET_TTL_MS: i64 = 5 * 60 * 1000;
const SIGN_IN_TTL_MS: i64 = 10 * 60 * 1000;
/// How long an identified client token lasts (the chat's session).
const CLIENT_TOKEN_TTL_S: u64 = 12 * 3600;

/// The identification provider and its settings.
pub struct Identification {
    pub config: IdentificationConfig,
    provider: Provider,
}

impl Identification {
    pub fn new(config: IdentificationConfig) -> Identification {
        Identification {
            provider: Provider::new(config.as_oidc()),
            config,
        }
    }
}

#[derive(serde::Serialize, Deserialize)]
struct Ticket {
    /// The chat identified in place; none before a start.
    conversation: Option<String>,
    origin: String,
    /// The lowest level of assurance accepted.
    min_acr: String,
    expires_ms: i64,
}

#[derive(serde::Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    conversation: Option<String>,
    origin: String,
    min_acr: String,
    expires_ms: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartRequest {
    #[serde(default)]
    conversation: Option<String>,
    #[serde(default)]
    service: Option<String>,
    origin: String,
}

/// The higher of the organisation's minimum and `service`'s own.
fn min_acr_for(
    config: &IdentificationConfig,
    service: Option<&crate::organisation::Service>,
) -> String {
    let org = config.min_acr.clone();
    match service.and_then(|s| s.min_acr.clone()) {
        Some(own) if config.rank(Some(&own)) > config.rank(Some(&org)) => own,
        _ => org,
    }
}

pub fn routes(
    ctx: Arc<ServerCtx>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
    let with_ctx = warp::any().map(move || ctx.clone());
    let start = warp::path!("api" / "v1" / "identify")
        .and(warp::post())
        .and(with_ctx.clone())
        .and(warp::header::optional::<String>("x-luukku-resume-token"))
        .and(warp::body::content_length_limit(4096))
        .and(warp::body::bytes())
        .then(
            |ctx: Arc<ServerCtx>, resume: Option<String>, body: bytes::Bytes| async move {
                any_origin(start(&ctx, resume, &body).await)
            },
        );
    // The widget asks from the sites that embed it: the browser's preflight.
    let preflight = warp::path!("api" / "v1" / "identify")
        .and(warp::options())
        .map(|| {
            let mut r =
                warp::reply::with_status(warp::reply(), StatusCode::NO_CONTENT).into_response();
            let h = r.headers_mut();
            h.insert(
                "access-control-allow-methods",
                warp::http::HeaderValue::from_static("POST"),
            );
            h.insert(
                "access-control-allow-headers",
                warp::http::HeaderValue::from_static("x-luukku-resume-token, content-type"),
            );
            h.insert(
                "access-control-max-age",
                warp::http::HeaderValue::from_static("600"),
            );
            any_origin(r)
        });
    let login = warp::path!("auth" / "client" / "login")
        .and(warp::get())
        .and(with_ctx.clone())
        .and(crate::http::api::query_or_empty())
        .then(
            |ctx: Arc<ServerCtx>, q: std::collections::HashMap<String, String>| async move {
                login(&ctx, q.get("ticket").map(String::as_str)).await
            },
        );
    let callback = warp::path!("auth" / "client" / "callback")
        .and(warp::get())
        .and(with_ctx)
        .and(crate::http::api::query_or_empty())
        .and(warp::header::optional::<String>("cookie"))
        .then(
            |ctx: Arc<ServerCtx>, q: std::collections::HashMap<String, String>, cookie| async move {
                callback(&ctx, &q, cookie).await
            },
        );
    start
        .or(preflight)
        .unify()
        .or(login)
        .unify()
        .or(callback)
        .unify()
}

/// Credentials travel in a header the page sets (the resume token), never in cookies, so
/// any site embedding the widget may ask; the ticket binds the page's origin.
fn any_origin(mut r: warp::reply::Response) -> warp::reply::Response {
    r.headers_mut().insert(
        "access-control-allow-origin",
        warp::http::HeaderValue::from_static("*"),
    );
    r
}

async fn start(ctx: &ServerCtx, resume: Option<String>, body: &[u8]) -> warp::reply::Response {
    let Some(ident) = &ctx.identification else {
        return json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "strong identification is not configured",
        );
    };
    let request: StartRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                &format!("body: {e}"),
            )
        }
    };
    let org = &ctx.config.organisation;
    let service = match (&request.conversation, &request.service) {
        (Some(_), Some(_)) | (None, None) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "conversation or service: name the chat to identify in, or the service to start",
            )
        }
        (None, Some(service)) => match org.service(&service.as_str().into()) {
            Some(s) => s,
            None => {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    "service: no such service",
                )
            }
        },
        (Some(id), None) => {
            let conversation = ConversationId(id.clone());
            let Some(token) = resume.filter(|t| !t.trim().is_empty()) else {
                return json_error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "the conversation's resume token is required (x-luukku-resume-token)",
                );
            };
            if !ctx
                .auth
                .check_resume(&conversation, &ResumeToken(token.trim().to_owned()))
            {
                return json_error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "the resume token is not this conversation's",
                );
            }
            let stored = match ctx.storage.conversation(&conversation).await {
                Ok(Some(r)) => r,
                Ok(None) => {
                    return json_error(StatusCode::NOT_FOUND, "not_found", "no such conversation")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "identify: storage unavailable");
                    return json_error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "storage is unavailable; try again",
                    );
                }
            };
            match org.service(&stored.service) {
                Some(s) => s,
                None => return json_error(StatusCode::NOT_FOUND, "not_found", "no such service"),
            }
        }
    };
    let min_acr = min_acr_for(&ident.config, Some(service));
    let origin_ok = request.origin == ident.config.public_url.trim_end_matches('/')
        || ctx
            .config
            .allowed_origins
            .iter()
            .any(|o| o == &request.origin);
    if !origin_ok {
        return json_error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "origin: not one of the organisation's sites",
        );
    }
    let ticket = Ticket {
        conversation: request.conversation,
        origin: request.origin,
        min_acr,
        expires_ms: crate::storage::now_ms() + TICKET_TTL_MS,
    };
    let sealed = ctx
        .auth
        .seal(TICKET, &serde_json::to_string(&ticket).unwrap_or_default());
    let mut r = warp::reply::json(&serde_json::json!({
        "url": format!("/auth/client/login?ticket={sealed}"),
    }))
    .into_response();
    no_store(&mut r);
    r
}

async fn login(ctx: &ServerCtx, ticket: Option<&str>) -> warp::reply::Response {
    let Some(ident) = &ctx.identification else {
        return json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "strong identification is not configured",
        );
    };
    let ticket = ticket
        .and_then(|t| ctx.auth.open(TICKET, t))
        .and_then(|json| serde_json::from_str::<Ticket>(&json).ok())
        .filter(|t| t.expires_ms > crate::storage::now_ms());
    let Some(ticket) = ticket else {
        return page(
            None,
            "The identification link expired. Start it again from the chat.",
            None,
        );
    };
    let oidc = match ident.provider.get().await {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!(error = %e, "identification: the provider is unavailable");
            return page(
                Some(&ticket.origin),
                "The identification service cannot be reached. Try again in a moment.",
                Some("unavailable"),
            );
        }
    };
    let auth = match oidc
        // Each identification authenticates afresh: a provider session (another person's on
        // a shared computer, or a weaker method a moment ago) is never reused silently.
        .authorize(&ident.config.redirect(), None, Some(&ticket.min_acr), true)
        .await
    {
        Ok(a) => a,
        Err(_) => {
            return page(
                Some(&ticket.origin),
                "The identification service cannot be used now.",
                Some("unavailable"),
            )
        }
    };
    let pending = Pending {
        state: auth.state,
        nonce: auth.nonce,
        verifier: auth.pkce_verifier,
        conversation: ticket.conversation,
        origin: ticket.origin,
        min_acr: ticket.min_acr,
        expires_ms: crate::storage::now_ms() + SIGN_IN_TTL_MS,
    };
    let sealed = ctx
        .auth
        .seal(COOKIE, &serde_json::to_string(&pending).unwrap_or_default());
    let mut r = warp::reply::with_status(warp::reply(), StatusCode::FOUND).into_response();
    if let Ok(v) = warp::http::HeaderValue::from_str(&auth.url) {
        r.headers_mut().insert("location", v);
    }
    set_cookie(&mut r, &ident.config, &sealed, SIGN_IN_TTL_MS / 1000);
    r
}

fn set_cookie(
    r: &mut warp::reply::Response,
    config: &IdentificationConfig,
    value: &str,
    max_age_s: i64,
) {
    let secure = if config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{COOKIE}={value}; Path=/auth/client; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure}"
    );
    if let Ok(v) = warp::http::HeaderValue::from_str(&cookie) {
        r.headers_mut().append("set-cookie", v);
    }
    no_store(r);
}

async fn callback(
    ctx: &ServerCtx,
    q: &std::collections::HashMap<String, String>,
    cookies: Option<String>,
) -> warp::reply::Response {
    let Some(ident) = &ctx.identification else {
        return json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "strong identification is not configured",
        );
    };
    let pending = cookie_value(cookies.as_deref(), COOKIE)
        .and_then(|sealed| ctx.auth.open(COOKIE, &sealed))
        .and_then(|json| serde_json::from_str::<Pending>(&json).ok())
        .filter(|p| p.expires_ms > crate::storage::now_ms());
    let finish = |origin: Option<&str>, message: &str, failure: Option<&str>| {
        let mut r = page(origin, message, failure);
        set_cookie(&mut r, &ident.config, "", 0);
        r
    };
    let expired = "The identification expired or was already used. Start it again from the chat.";
    let Some(pending) = pending else {
        return finish(None, expired, None);
    };
    let origin = Some(pending.origin.as_str());
    if let Some(error) = q.get("error") {
        let error: String = error
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(60)
            .collect();
        return finish(
            origin,
            "The identification was cancelled or refused.",
            Some(&error),
        );
    }
    let (Some(state), Some(code)) = (q.get("state"), q.get("code")) else {
        return finish(origin, expired, Some("expired"));
    };
    if !crate::auth::same_secret(&pending.state, state) || !ident.provider.first_use(state) {
        return finish(origin, expired, Some("expired"));
    }
    let oidc = match ident.provider.get().await {
        Ok(o) => o,
        Err(_) => {
            return finish(
                origin,
                "The identification service cannot be reached.",
                Some("unavailable"),
            )
        }
    };
    let signed = match oidc
        .exchange(
            code,
            &pending.verifier,
            &pending.nonce,
            &ident.config.redirect(),
        )
        .await
    {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "identification refused");
            return finish(
                origin,
                "The identification could not be verified.",
                Some("refused"),
            );
        }
    };
    let min = ident.config.rank(Some(&pending.min_acr));
    if ident.config.rank(signed.acr.as_deref()) < min || min.is_none() {
        return finish(
            origin,
            "This identification method is not strong enough for this service. Choose a stronger one (e.g. online banking codes or a mobile certificate).",
            Some("assurance"),
        );
    }
    let hetu = match signed
        .text(&ident.config.hetu_claim)
        .map(crate::identity::hetu::parse)
    {
        Some(Ok(h)) => h,
        Some(Err(e)) => {
            tracing::warn!(problem = %e, "identification: the identity code is not valid");
            return finish(
                origin,
                "The identity code the identification service gave is not valid.",
                Some("identity_code"),
            );
        }
        None => {
            return finish(
                origin,
                "The identification service gave no identity code.",
                Some("identity_code"),
            )
        }
    };
    let name = signed
        .text(&ident.config.name_claim)
        .unwrap_or("")
        .to_owned();
    let token = ctx.auth.mint_client_at(
        hetu.as_str(),
        &name,
        CLIENT_TOKEN_TTL_S,
        signed.acr.as_deref(),
    );
    let mut r = identified_page(&pending.origin, pending.conversation.as_deref(), &token);
    set_cookie(&mut r, &ident.config, "", 0);
    r
}

/// The pop-up's last page: hands the token to the chat (only at its origin) and closes.
fn identified_page(origin: &str, conversation: Option<&str>, token: &str) -> warp::reply::Response {
    let message = serde_json::json!({
        "type": "luukku-identified",
        "conversation": conversation,
        "token": token,
    });
    script_page(
        origin,
        &message,
        "You are identified. You can close this window and return to the chat.",
    )
}

/// A page telling what went wrong; with an origin, the chat is told too.
fn page(origin: Option<&str>, message: &str, failure: Option<&str>) -> warp::reply::Response {
    match (origin, failure) {
        (Some(origin), Some(reason)) => script_page(
            origin,
            &serde_json::json!({"type": "luukku-identify-failed", "reason": reason, "message": message}),
            message,
        ),
        _ => script_page("", &serde_json::Value::Null, message),
    }
}

fn script_page(origin: &str, message: &serde_json::Value, text: &str) -> warp::reply::Response {
    // JSON in a script: `<` escaped so no string can end the script element.
    let json = |v: &serde_json::Value| v.to_string().replace('<', "\\u003c");
    let script = if origin.is_empty() || message.is_null() {
        String::new()
    } else {
        format!(
            "<script>if (window.opener) {{ window.opener.postMessage({}, {}); window.close(); }}</script>",
            json(message),
            json(&serde_json::Value::String(origin.to_owned()))
        )
    };
    let text = html_escape(text);
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Identification</title>\
         </head><body><main><h1>Identification</h1><p id=\"result\">{text}</p></main>{script}</body></html>"
    );
    let mut r = warp::reply::html(body).into_response();
    no_store(&mut r);
    r
}

//! The console's sign-in through the provider, with this server as the relying party (the
//! browser never holds the provider's tokens):
//!
//! - `GET /auth/console/login[?login_hint=]` → 302 to the provider; `state`, `nonce` and the
//!   PKCE verifier go in a sealed, HttpOnly cookie bound to this browser.
//! - `GET /auth/console/callback?code&state` → the cookie must match `state` (used once);
//!   the code is exchanged, the ID token verified, its groups and roles mapped to teams and
//!   roles → 302 to `/console#token=<console JWT>`; the provider's refresh token stays in a
//!   sealed HttpOnly cookie.
//! - `POST /auth/console/refresh` → a new console token through the refresh token.
//! - `GET /api/v1/auth` → whether sign-in through a provider is on (for the console's login).
//!
//! Failures answer a short page (a browser is on the other end) or JSON naming the problem.

use super::{Oidc, OidcConfig, OidcError, SignedIn};
use crate::context::ServerCtx;
use crate::http::json_error;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use warp::http::StatusCode;
use warp::{Filter, Reply};

const STATE_COOKIE: &str = "luukku_signin";
const REFRESH_COOKIE: &str = "luukku_refresh";
/// How long a sign-in may take at the provider.
const SIGN_IN_TTL_MS: i64 = 10 * 60 * 1000;
/// `state`s used on this node, kept for the sign-in's lifetime (a replayed callback).
const USED_REMEMBERED: usize = 10_000;

/// The provider, discovered on first use (and again after a failed discovery).
pub struct Provider {
    config: OidcConfig,
    oidc: tokio::sync::OnceCell<Oidc>,
    used: Mutex<HashSet<String>>,
}

impl Provider {
    pub fn new(config: OidcConfig) -> Provider {
        Provider {
            config,
            oidc: tokio::sync::OnceCell::new(),
            used: Mutex::new(HashSet::new()),
        }
    }

    pub async fn get(&self) -> Result<&Oidc, OidcError> {
        self.oidc
            .get_or_try_init(|| Oidc::discover(self.config.clone()))
            .await
    }

    /// Marks `state` used; false when it was used already.
    pub(super) fn first_use(&self, state: &str) -> bool {
        let mut used = self
            .used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if used.len() >= USED_REMEMBERED {
            used.clear();
        }
        used.insert(state.to_owned())
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    expires_ms: i64,
}

pub fn routes(
    ctx: Arc<ServerCtx>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
    let with_ctx = warp::any().map(move || ctx.clone());
    let info = warp::path!("api" / "v1" / "auth")
        .and(warp::get())
        .and(with_ctx.clone())
        .map(|ctx: Arc<ServerCtx>| {
            let body = warp::reply::json(&serde_json::json!({
                "oidc": ctx.oidc.is_some(),
                "login": ctx.oidc.as_ref().map(|_| "/auth/console/login"),
                "demo": ctx.config.demo,
                "identification": ctx.identification.is_some(),
            }));
            // Public facts the widget reads from the sites that embed it.
            warp::reply::with_header(body, "access-control-allow-origin", "*").into_response()
        });
    let login = warp::path!("auth" / "console" / "login")
        .and(warp::get())
        .and(with_ctx.clone())
        .and(crate::http::api::query_or_empty())
        .then(
            |ctx: Arc<ServerCtx>, q: std::collections::HashMap<String, String>| async move {
                login(&ctx, q.get("login_hint").map(String::as_str)).await
            },
        );
    let callback = warp::path!("auth" / "console" / "callback")
        .and(warp::get())
        .and(with_ctx.clone())
        .and(crate::http::api::query_or_empty())
        .and(warp::header::optional::<String>("cookie"))
        .then(
            |ctx: Arc<ServerCtx>, q: std::collections::HashMap<String, String>, cookie| async move {
                callback(&ctx, &q, cookie).await
            },
        );
    let refresh = warp::path!("auth" / "console" / "refresh")
        .and(warp::post())
        .and(with_ctx)
        .and(warp::header::optional::<String>("cookie"))
        .then(|ctx: Arc<ServerCtx>, cookie| async move { refresh(&ctx, cookie).await });
    info.or(login)
        .unify()
        .or(callback)
        .unify()
        .or(refresh)
        .unify()
}

fn not_configured() -> warp::reply::Response {
    json_error(
        StatusCode::NOT_FOUND,
        "not_found",
        "sign-in through an identity provider is not configured",
    )
}

/// A short page for the browser: what went wrong and a way to start again.
fn page(status: StatusCode, message: &str) -> warp::reply::Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in</title>\
         </head><body><main><h1>Sign-in did not succeed</h1><p>{}</p>\
         <p><a href=\"/console\">Back to the console</a></p></main></body></html>",
        html_escape(message)
    );
    let mut r = warp::reply::with_status(warp::reply::html(body), status).into_response();
    no_store(&mut r);
    r
}

pub(super) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(super) fn no_store(r: &mut warp::reply::Response) {
    r.headers_mut().insert(
        "cache-control",
        warp::http::HeaderValue::from_static("no-store"),
    );
}

fn cookie(config: &OidcConfig, name: &str, value: &str, max_age_s: i64, same_site: &str) -> String {
    let secure = if config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/auth/console; HttpOnly; SameSite={same_site}; Max-Age={max_age_s}{secure}")
}

pub(super) fn cookie_value(header: Option<&str>, name: &str) -> Option<String> {
    header?
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn redirect(location: &str) -> warp::reply::Response {
    let mut r = warp::reply::with_status(warp::reply(), StatusCode::FOUND).into_response();
    if let Ok(v) = warp::http::HeaderValue::from_str(location) {
        r.headers_mut().insert("location", v);
    }
    no_store(&mut r);
    r
}

fn set_cookie(r: &mut warp::reply::Response, value: &str) {
    if let Ok(v) = warp::http::HeaderValue::from_str(value) {
        r.headers_mut().append("set-cookie", v);
    }
}

async fn login(ctx: &ServerCtx, login_hint: Option<&str>) -> warp::reply::Response {
    let Some(provider) = &ctx.oidc else {
        return not_configured();
    };
    let oidc = match provider.get().await {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!(error = %e, "sign-in: the identity provider is unavailable");
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                "The identity provider cannot be reached. Try again in a moment.",
            );
        }
    };
    let hint = login_hint.filter(|h| !h.is_empty() && h.len() <= 200);
    let auth = match oidc
        .authorize(&provider.config.console_redirect(), hint, None, false)
        .await
    {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "sign-in: no authorization request");
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                "The identity provider cannot be used now.",
            );
        }
    };
    let pending = Pending {
        state: auth.state,
        nonce: auth.nonce,
        verifier: auth.pkce_verifier,
        expires_ms: crate::storage::now_ms() + SIGN_IN_TTL_MS,
    };
    let sealed = ctx.auth.seal(
        STATE_COOKIE,
        &serde_json::to_string(&pending).unwrap_or_default(),
    );
    let mut r = redirect(&auth.url);
    // Lax: the provider's redirect back is a top-level navigation from another site.
    set_cookie(
        &mut r,
        &cookie(
            &provider.config,
            STATE_COOKIE,
            &sealed,
            SIGN_IN_TTL_MS / 1000,
            "Lax",
        ),
    );
    r
}

async fn callback(
    ctx: &ServerCtx,
    q: &std::collections::HashMap<String, String>,
    cookies: Option<String>,
) -> warp::reply::Response {
    let Some(provider) = &ctx.oidc else {
        return not_configured();
    };
    let config = &provider.config;
    let expired = "The sign-in expired or was already used. Start it again from the console.";
    let clear = cookie(config, STATE_COOKIE, "", 0, "Lax");
    let fail = |status, message: &str| {
        let mut r = page(status, message);
        set_cookie(&mut r, &clear);
        r
    };
    if let Some(error) = q.get("error") {
        // The provider's own words (`access_denied`, …), short and without markup.
        let error: String = error
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(60)
            .collect();
        return fail(
            StatusCode::UNAUTHORIZED,
            &format!("The identity provider refused the sign-in ({error})."),
        );
    }
    let pending = cookie_value(cookies.as_deref(), STATE_COOKIE)
        .and_then(|sealed| ctx.auth.open(STATE_COOKIE, &sealed))
        .and_then(|json| serde_json::from_str::<Pending>(&json).ok())
        .filter(|p| p.expires_ms > crate::storage::now_ms());
    let (Some(pending), Some(state), Some(code)) = (pending, q.get("state"), q.get("code")) else {
        return fail(StatusCode::BAD_REQUEST, expired);
    };
    let same = crate::auth::same_secret(&pending.state, state);
    if !same || !provider.first_use(state) {
        return fail(StatusCode::BAD_REQUEST, expired);
    }
    let oidc = match provider.get().await {
        Ok(o) => o,
        Err(_) => {
            return fail(
                StatusCode::SERVICE_UNAVAILABLE,
                "The identity provider cannot be reached. Try again in a moment.",
            )
        }
    };
    let signed = match oidc
        .exchange(
            code,
            &pending.verifier,
            &pending.nonce,
            &config.console_redirect(),
        )
        .await
    {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "sign-in refused");
            return fail(StatusCode::UNAUTHORIZED, &e.to_string());
        }
    };
    let Some(token) = console_token(ctx, config, &signed) else {
        return fail(StatusCode::FORBIDDEN, "You are in no team of this organisation and have no role in Luukku. Ask your administrator.");
    };
    let mut r = redirect(&format!("/console#token={token}"));
    set_cookie(&mut r, &clear);
    if let Some(refresh) = &signed.refresh_token {
        let sealed = ctx.auth.seal(REFRESH_COOKIE, refresh);
        let max_age = i64::try_from(config.session_ttl_s).unwrap_or(43_200);
        set_cookie(
            &mut r,
            &cookie(config, REFRESH_COOKIE, &sealed, max_age, "Strict"),
        );
    }
    r
}

async fn refresh(ctx: &ServerCtx, cookies: Option<String>) -> warp::reply::Response {
    let Some(provider) = &ctx.oidc else {
        return not_configured();
    };
    let config = &provider.config;
    let unauthorized = |why: &str| json_error(StatusCode::UNAUTHORIZED, "unauthorized", why);
    let Some(refresh_token) = cookie_value(cookies.as_deref(), REFRESH_COOKIE)
        .and_then(|sealed| ctx.auth.open(REFRESH_COOKIE, &sealed))
    else {
        return unauthorized("no sign-in to refresh; sign in again");
    };
    let oidc = match provider.get().await {
        Ok(o) => o,
        Err(_) => {
            return json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the identity provider cannot be reached",
            )
        }
    };
    let signed = match oidc
        .refresh(&refresh_token, &config.console_redirect())
        .await
    {
        Ok(s) => s,
        Err(e) => {
            tracing::info!(error = %e, "refresh refused");
            return unauthorized("the identity provider ended the sign-in; sign in again");
        }
    };
    let Some(token) = console_token(ctx, config, &signed) else {
        return json_error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "no team or role in this organisation any more",
        );
    };
    let mut r = warp::reply::json(&serde_json::json!({ "token": token })).into_response();
    no_store(&mut r);
    if let Some(next) = &signed.refresh_token {
        let sealed = ctx.auth.seal(REFRESH_COOKIE, next);
        let max_age = i64::try_from(config.session_ttl_s).unwrap_or(43_200);
        set_cookie(
            &mut r,
            &cookie(config, REFRESH_COOKIE, &sealed, max_age, "Strict"),
        );
    }
    r
}

/// The console token for a verified sign-in: the teams its groups name (those the
/// organisation has) and the roles its roles give; none when it gives neither.
fn console_token(ctx: &ServerCtx, config: &OidcConfig, signed: &SignedIn) -> Option<String> {
    let org = &ctx.config.organisation;
    let teams: Vec<String> = signed
        .list(&config.groups_claim)
        .iter()
        .filter_map(|g| g.strip_prefix(config.team_prefix.as_str()))
        .filter(|t| org.team(&(*t).into()).is_some())
        .map(str::to_owned)
        .collect();
    let mut roles: Vec<String> = signed
        .list(&config.roles_claim)
        .iter()
        .filter_map(|r| match config.role_map.get(r) {
            Some(mapped) => Some(mapped.clone()),
            None => crate::organisation::ProfessionalRole::parse(r).map(|r| r.as_str().to_owned()),
        })
        .collect();
    roles.sort();
    roles.dedup();
    if teams.is_empty() && roles.is_empty() {
        return None;
    }
    let name = signed
        .text(&config.name_claim)
        .unwrap_or(&signed.subject)
        .to_owned();
    Some(ctx.auth.mint_signed_in(
        &signed.subject,
        &name,
        teams,
        roles,
        config.console_token_ttl_s,
    ))
}

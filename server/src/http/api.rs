//! Plain HTTP routes: `/healthz`, `/readyz`, `/metrics`, `/api/v1/services`, and in demo mode
//! `/api/v1/dev/professionals` and `/api/v1/dev/token`.

use super::json_error;
use crate::context::ServerCtx;
use crate::organisation::{FieldKind, Form, Organisation, Question};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use warp::http::StatusCode;
use warp::{Filter, Reply};

/// Lifetime of demo tokens.
const DEV_TOKEN_TTL_S: u64 = 12 * 3600;

fn with_ctx(
    ctx: Arc<ServerCtx>,
) -> impl Filter<Extract = (Arc<ServerCtx>,), Error = std::convert::Infallible> + Clone {
    warp::any().map(move || ctx.clone())
}

/// The query parameters, or none when the URL has no query (warp's `query` rejects that).
pub(crate) fn query_or_empty(
) -> impl Filter<Extract = (HashMap<String, String>,), Error = std::convert::Infallible> + Clone {
    warp::query::<HashMap<String, String>>()
        .or(warp::any().map(HashMap::new))
        .unify()
}

#[derive(Deserialize)]
struct TokenRequest {
    professional: Option<String>,
    /// Demo identification of a client: a made-up subject and name.
    client: Option<DemoClient>,
}

#[derive(Deserialize)]
struct DemoClient {
    sub: String,
    name: String,
}

pub fn routes(
    ctx: Arc<ServerCtx>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
    let healthz = warp::path!("healthz")
        .and(warp::get())
        .map(|| warp::reply::json(&serde_json::json!({"status": "ok"})).into_response());
    let readyz = warp::path!("readyz")
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .then(|ctx: Arc<ServerCtx>| async move { super::ready::readyz(&ctx).await });
    let metrics = warp::path!("metrics")
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .map(|ctx: Arc<ServerCtx>| {
            warp::reply::with_header(
                ctx.metrics.render(),
                "content-type",
                "text/plain; version=0.0.4",
            )
            .into_response()
        });
    let promise = warp::path!("api" / "v1" / "services" / String / "promise")
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .and(query_or_empty())
        .map(|id: String, ctx: Arc<ServerCtx>, query| super::promise::promise(ctx, id, query));
    let services = warp::path!("api" / "v1" / "services")
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .and(query_or_empty())
        .and(warp::header::optional::<String>("accept-language"))
        .map(services)
        .map(any_origin);
    let dev_pros = warp::path!("api" / "v1" / "dev" / "professionals")
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .map(|ctx: Arc<ServerCtx>| {
            if !ctx.config.demo {
                return json_error(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "dev endpoints exist only in demo mode",
                );
            }
            let list: Vec<_> = ctx
                .config
                .organisation
                .professionals
                .iter()
                .map(|p| {
                    let mut v = serde_json::json!({"id": p.id, "name": p.name, "teams": p.teams});
                    if !p.roles.is_empty() {
                        v["roles"] = p.role_names().into();
                    }
                    v
                })
                .collect();
            warp::reply::json(&serde_json::json!({ "professionals": list })).into_response()
        });
    let dev_token = warp::path!("api" / "v1" / "dev" / "token")
        .and(warp::post())
        .and(with_ctx(ctx.clone()))
        .and(warp::body::content_length_limit(4096))
        .and(warp::body::json())
        .map(dev_token)
        .map(any_origin);
    // The widget on another site identifies (demo) with a JSON POST: its browser asks first.
    // Matched by hand: `warp::options()` would reject a bad POST body as 405 instead of 400.
    let dev_token_preflight = warp::path!("api" / "v1" / "dev" / "token")
        .and(warp::method())
        .and_then(|m: warp::http::Method| async move {
            if m == warp::http::Method::OPTIONS {
                Ok(())
            } else {
                Err(warp::reject::not_found())
            }
        })
        .untuple_one()
        .and(with_ctx(ctx.clone()))
        .map(|ctx: Arc<ServerCtx>| {
            if !ctx.config.demo {
                return json_error(StatusCode::NOT_FOUND, "not_found", "no such route");
            }
            let r = warp::reply::with_status(warp::reply(), StatusCode::NO_CONTENT);
            let r = warp::reply::with_header(r, "access-control-allow-methods", "POST");
            let r = warp::reply::with_header(r, "access-control-allow-headers", "content-type");
            let r = warp::reply::with_header(r, "access-control-max-age", "600");
            any_origin(r.into_response())
        });
    healthz
        .or(readyz)
        .unify()
        .or(metrics)
        .unify()
        .or(services)
        .unify()
        .or(promise)
        .unify()
        .or(dev_pros)
        .unify()
        .or(dev_token)
        .unify()
        .or(dev_token_preflight)
        .unify()
}

/// Lets any web site read the answer: the services list is public (the widget is embedded on
/// the region's other sites and reads it from there), and demo tokens exist only in demo mode.
/// No credentials are involved, so `*` is safe.
fn any_origin(r: warp::reply::Response) -> warp::reply::Response {
    warp::reply::with_header(r, "access-control-allow-origin", "*").into_response()
}

/// The public services list with every organisation text in one language: `?lang=`, else
/// `Accept-Language`, else the organisation's default (see `Organisation::negotiate`).
fn services(
    ctx: Arc<ServerCtx>,
    query: HashMap<String, String>,
    accept_language: Option<String>,
) -> warp::reply::Response {
    let org = &ctx.config.organisation;
    let lang = org.negotiate(
        query.get("lang").map(String::as_str),
        accept_language.as_deref(),
    );
    let text = |t| org.text(t, Some(lang));
    let now = time::OffsetDateTime::now_utc();
    let list: Vec<_> = org
        .services
        .iter()
        .map(|s| {
            let topics: Vec<_> = s
                .topics
                .iter()
                .map(|t| serde_json::json!({"id": t.id, "name": text(&t.name)}))
                .collect();
            let questions: Vec<_> = s
                .questionnaire
                .iter()
                .map(|q| question(org, q, lang))
                .collect();
            let mut v = serde_json::json!({
                "id": s.id, "name": text(&s.name), "channel": s.channel, "teams": s.teams,
                "topics": topics, "open_now": org.is_open(s, now),
                "closed_message": text(&s.closed_message),
                "questionnaire": { "questions": questions },
            });
            if let Some(p) = s.promise {
                v["promise"] = serde_json::json!({"working_days": p.working_days});
            }
            if let Some(f) = &s.form {
                v["form"] = form(org, f, lang);
            }
            if s.needs_identification() {
                v["identification_required"] = true.into();
            }
            if s.attachments {
                let policy = &org.attachments;
                v["attachments"] = serde_json::json!({
                    "max_bytes": policy.max_bytes, "types": policy.mime_types(),
                });
            }
            v
        })
        .collect();
    let body = serde_json::json!({
        "organisation": text(&org.name), "lang": lang, "languages": org.languages,
        "services": list,
    });
    let reply = warp::reply::with_header(warp::reply::json(&body), "content-language", lang);
    // The answer depends on the header, so caches must keep one copy per language.
    warp::reply::with_header(reply, "vary", "accept-language").into_response()
}

/// One questionnaire question in `lang`: the shape of [`Question`] with plain strings.
fn question(org: &Organisation, q: &Question, lang: &str) -> serde_json::Value {
    let mut v = serde_json::json!({
        "id": q.id, "label": org.text(&q.label, Some(lang)), "kind": q.kind, "required": q.required,
    });
    if !q.options.is_empty() {
        let options: Vec<&str> = q.options.iter().map(|o| org.text(o, Some(lang))).collect();
        v["options"] = options.into();
    }
    v
}

/// A contact form in `lang`: each field's id, label, kind, whether it is required, its
/// longest answer and a choice's options (`{"id","label"}`).
fn form(org: &Organisation, f: &Form, lang: &str) -> serde_json::Value {
    let fields: Vec<_> = f
        .fields
        .iter()
        .map(|field| {
            let mut v = serde_json::json!({
                "id": field.id, "label": org.text(&field.label, Some(lang)),
                "kind": field.kind.as_str(), "required": field.required,
            });
            if !matches!(field.kind, FieldKind::Checkbox | FieldKind::Choice) {
                v["max_len"] = field.max_len().into();
            }
            if !field.options.is_empty() {
                let options: Vec<_> = field
                    .options
                    .iter()
                    .map(|o| serde_json::json!({"id": o.id, "label": org.text(&o.label, Some(lang))}))
                    .collect();
                v["options"] = options.into();
            }
            v
        })
        .collect();
    serde_json::json!({ "fields": fields })
}

fn dev_token(ctx: Arc<ServerCtx>, req: TokenRequest) -> warp::reply::Response {
    if !ctx.config.demo {
        return json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "dev endpoints exist only in demo mode",
        );
    }
    match (req.professional, req.client) {
        (Some(p), _) => {
            if ctx
                .config
                .organisation
                .professional(&p.clone().into())
                .is_none()
            {
                return json_error(StatusCode::NOT_FOUND, "not_found", "no such professional");
            }
            warp::reply::json(
                &serde_json::json!({ "token": ctx.auth.mint_professional(&p, DEV_TOKEN_TTL_S) }),
            )
            .into_response()
        }
        (None, Some(c)) => warp::reply::json(
            &serde_json::json!({ "token": ctx.auth.mint_client(&c.sub, &c.name, DEV_TOKEN_TTL_S) }),
        )
        .into_response(),
        (None, None) => json_error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "give professional or client",
        ),
    }
}

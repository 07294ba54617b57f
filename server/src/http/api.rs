//! Plain HTTP routes: `/healthz`, `/readyz`, `/metrics`, `/api/v1/services`, and in demo mode
//! `/api/v1/dev/professionals` and `/api/v1/dev/token`.

use super::json_error;
use crate::server::ServerCtx;
use serde::Deserialize;
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
        .then(|ctx: Arc<ServerCtx>| async move {
            match ctx.storage.ping().await {
                Ok(()) => {
                    warp::reply::json(&serde_json::json!({"status": "ready"})).into_response()
                }
                Err(e) => json_error(StatusCode::SERVICE_UNAVAILABLE, "not_ready", &e.to_string()),
            }
        });
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
    let services = warp::path!("api" / "v1" / "services")
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .map(services);
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
                .map(|p| serde_json::json!({"id": p.id, "name": p.name, "teams": p.teams}))
                .collect();
            warp::reply::json(&serde_json::json!({ "professionals": list })).into_response()
        });
    let dev_token = warp::path!("api" / "v1" / "dev" / "token")
        .and(warp::post())
        .and(with_ctx(ctx.clone()))
        .and(warp::body::content_length_limit(4096))
        .and(warp::body::json())
        .map(dev_token);
    healthz
        .or(readyz)
        .unify()
        .or(metrics)
        .unify()
        .or(services)
        .unify()
        .or(dev_pros)
        .unify()
        .or(dev_token)
        .unify()
}

fn services(ctx: Arc<ServerCtx>) -> warp::reply::Response {
    let org = &ctx.config.organisation;
    let now = time::OffsetDateTime::now_utc();
    let list: Vec<_> = org
        .services
        .iter()
        .map(|s| {
            serde_json::json!({
                "id": s.id, "name": s.name, "channel": s.channel, "teams": s.teams,
                "topics": s.topics, "open_now": org.is_open(s, now),
                "closed_message": s.closed_message,
                "questionnaire": { "questions": s.questionnaire },
            })
        })
        .collect();
    warp::reply::json(&serde_json::json!({ "organisation": org.name, "services": list }))
        .into_response()
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

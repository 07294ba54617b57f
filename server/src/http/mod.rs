//! The warp routes: WebSocket endpoints (upgraded by `upgrade`), health, metrics, the public
//! services API, contact forms over HTTP (`forms`, through a client session by `bridge`),
//! documents (`attachments`: uploads sent as messages through a session, downloads), the SMS
//! provider's webhook (`sms`) and the demo-only dev endpoints. Errors are JSON bodies with 4xx/5xx codes.

mod access;
pub(crate) mod api;
mod assets;
pub(crate) mod attachments;
mod bridge;
mod forms;
mod forms_page;
mod promise;
pub(crate) mod ready;
mod retention;
mod sms;
mod upgrade;

use crate::context::ServerCtx;
use std::sync::Arc;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

/// A JSON error reply.
pub fn json_error(status: StatusCode, code: &str, message: &str) -> warp::reply::Response {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    warp::reply::with_status(warp::reply::json(&body), status).into_response()
}

/// All routes of the server.
pub fn routes(
    ctx: Arc<ServerCtx>,
    exchange: Option<Arc<crate::tunnel::Exchange>>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = std::convert::Infallible>
       + Clone
       + Send
       + Sync
       + 'static {
    upgrade::routes(ctx.clone(), exchange.clone())
        .or(forms::routes(ctx.clone(), exchange.clone()))
        .unify()
        .or(attachments::routes(ctx.clone(), exchange))
        .unify()
        .or(sms::routes(ctx.clone()))
        .unify()
        .or(access::routes(ctx.clone()))
        .unify()
        .or(retention::routes(ctx.clone()))
        .unify()
        .or(crate::oidc::login::routes(ctx.clone()))
        .unify()
        .or(crate::oidc::patient::routes(ctx.clone()))
        .unify()
        .or(api::routes(ctx))
        .unify()
        .or(assets::routes())
        .unify()
        .recover(recover)
        .unify()
}

async fn recover(r: Rejection) -> Result<warp::reply::Response, std::convert::Infallible> {
    let reply = if r.is_not_found() {
        json_error(StatusCode::NOT_FOUND, "not_found", "no such route")
    } else if r.find::<warp::reject::MethodNotAllowed>().is_some() {
        json_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method not allowed",
        )
    } else if let Some(e) = r.find::<warp::filters::body::BodyDeserializeError>() {
        json_error(StatusCode::BAD_REQUEST, "bad_request", &e.to_string())
    } else if r.find::<warp::reject::PayloadTooLarge>().is_some() {
        json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "request body too large",
        )
    } else {
        json_error(StatusCode::BAD_REQUEST, "bad_request", "bad request")
    };
    Ok(reply)
}

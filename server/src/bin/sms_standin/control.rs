//! The control API under `/_standin/` (not Telnyx's): what reached the phone, the injected
//! faults, an inbound SMS from a patient, replays of sent webhook events, the event log; and
//! `/healthz`. Errors are `{"error": "…"}` with a 4xx/5xx status.

use crate::api::{with_app, App};
use crate::ledger::{Faults, LedgerGone};
use crate::request::is_e164;
use crate::sms::{Direction, Sms};
use crate::webhooks::ResendError;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use uuid::Uuid;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

pub fn routes(app: Arc<App>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let health = warp::path!("healthz")
        .and(warp::get())
        .map(|| warp::reply::json(&json!({ "status": "ok" })).into_response());
    let messages = warp::path!("_standin" / "messages")
        .and(warp::get())
        .and(with_app(app.clone()))
        .then(|app: Arc<App>| async move { answer(app.ledger.messages().await) });
    let faults = warp::path!("_standin" / "faults")
        .and(warp::get())
        .and(with_app(app.clone()))
        .then(|app: Arc<App>| async move { answer(app.ledger.faults().await.map(|f| json!(f))) });
    let set_faults = warp::path!("_standin" / "faults")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(warp::body::bytes())
        .then(set_faults);
    let inbound = warp::path!("_standin" / "inbound")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(warp::body::bytes())
        .then(inbound);
    let replay = warp::path!("_standin" / "replay" / Uuid)
        .and(warp::post())
        .and(with_app(app.clone()))
        .then(replay);
    let events = warp::path!("_standin" / "events")
        .and(warp::get())
        .and(with_app(app))
        .then(|app: Arc<App>| async move { answer(app.ledger.events().await) });
    health
        .or(messages)
        .unify()
        .or(faults)
        .unify()
        .or(set_faults)
        .unify()
        .or(inbound)
        .unify()
        .or(replay)
        .unify()
        .or(events)
        .unify()
}

async fn set_faults(app: Arc<App>, body: Bytes) -> Response {
    let faults: Faults = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("faults: {e}")),
    };
    tracing::info!(?faults, "faults set");
    answer(app.ledger.set_faults(faults).await.map(|f| json!(f)))
}

/// `POST /_standin/inbound`: a patient's SMS to one of our numbers.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Inbound {
    from: String,
    to: String,
    text: String,
    #[serde(default)]
    repeat: bool,
}

async fn inbound(app: Arc<App>, body: Bytes) -> Response {
    let request: Inbound = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("inbound: {e}")),
    };
    if !is_e164(&request.from) || !is_e164(&request.to) {
        return error(
            StatusCode::BAD_REQUEST,
            "inbound: from and to must be +E.164",
        );
    }
    let Some(target) = app.profile_webhook.clone() else {
        return error(
            StatusCode::CONFLICT,
            "inbound: no --webhook, so a received message has nowhere to go",
        );
    };
    let mut sms = Sms::new(
        Direction::Inbound,
        Some(request.from),
        request.to,
        request.text,
    );
    sms.webhook_url = Some(target.clone());
    let (event_id, status, repeated) = app.dispatcher.receive(&sms, &target, request.repeat).await;
    let mut reply = json!({
        "id": sms.id.to_string(),
        "event_id": event_id.to_string(),
        "webhook_status": status,
    });
    if request.repeat {
        reply["repeat_webhook_status"] = json!(repeated);
    }
    warp::reply::json(&reply).into_response()
}

async fn replay(event_id: Uuid, app: Arc<App>) -> Response {
    match app.dispatcher.resend(event_id).await {
        Ok(status) => warp::reply::json(
            &json!({ "event_id": event_id.to_string(), "webhook_status": status }),
        )
        .into_response(),
        Err(ResendError::Unknown) => error(StatusCode::NOT_FOUND, "no such webhook event"),
        Err(ResendError::Gone(g)) => error(StatusCode::INTERNAL_SERVER_ERROR, &g.to_string()),
    }
}

fn answer(result: Result<Value, LedgerGone>) -> Response {
    match result {
        Ok(value) => warp::reply::json(&value).into_response(),
        Err(gone) => error(StatusCode::INTERNAL_SERVER_ERROR, &gone.to_string()),
    }
}

pub fn error(status: StatusCode, message: &str) -> Response {
    warp::reply::with_status(warp::reply::json(&json!({ "error": message })), status)
        .into_response()
}

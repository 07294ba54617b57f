//! The SMS provider's webhook, `POST /api/v1/sms/telnyx`: delivery reports of our SMS and
//! patients' SMS. Any node answers it: the signature is checked (401 otherwise), the report or
//! message is written to storage — idempotently, so a repeated webhook changes nothing — and
//! the answer goes back at once; the SMS worker where the conversations run takes it from
//! there. A report of no SMS of ours is 404, so a provider (or a forger) learns nothing else.

use super::json_error;
use crate::context::ServerCtx;
use crate::sms::gateway::{Delivery, Report, WebhookError};
use crate::sms::telnyx::OUR_ID_PARAM;
use crate::storage::{InboundSms, SmsState};
use std::collections::HashMap;
use std::sync::Arc;
use warp::http::{HeaderMap, StatusCode};
use warp::{Filter, Reply};

/// Largest webhook body taken: an event with one SMS of at most 1600 characters fits many
/// times over.
const MAX_BODY_BYTES: u64 = 64 * 1024;

pub fn routes(
    ctx: Arc<ServerCtx>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "sms" / "telnyx")
        .and(warp::post())
        .and(warp::any().map(move || ctx.clone()))
        .and(warp::query::<HashMap<String, String>>().or(warp::any().map(HashMap::new)).unify())
        .and(warp::header::headers_cloned())
        .and(warp::body::content_length_limit(MAX_BODY_BYTES))
        .and(warp::body::bytes())
        .then(
            |ctx: Arc<ServerCtx>, query: HashMap<String, String>, headers, body: bytes::Bytes| async move {
                webhook(&ctx, query.get(OUR_ID_PARAM).map(String::as_str), &headers, &body).await
            },
        )
}

async fn webhook(
    ctx: &ServerCtx,
    ours: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> warp::reply::Response {
    let count = |outcome: &str| {
        ctx.metrics.sms_webhooks.with_label_values(&[outcome]).inc();
    };
    let Some(gateway) = &ctx.sms else {
        count("unknown");
        return json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no SMS gateway is configured on this server",
        );
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let now_s = jiff::Timestamp::now().as_second();
    let report = match gateway.webhook(&header, body, now_s) {
        Ok(report) => report,
        Err(e) => {
            let (status, outcome) = match e {
                WebhookError::Unsigned => (StatusCode::UNAUTHORIZED, "unsigned"),
                WebhookError::BadSignature => (StatusCode::UNAUTHORIZED, "bad_signature"),
                WebhookError::Stale => (StatusCode::UNAUTHORIZED, "stale"),
                WebhookError::Malformed(_) => (StatusCode::BAD_REQUEST, "malformed"),
            };
            count(outcome);
            let code = if status == StatusCode::UNAUTHORIZED {
                "unauthorized"
            } else {
                "bad_request"
            };
            return json_error(status, code, &e.to_string());
        }
    };
    let stored = match report {
        Report::Ignored => Ok(true),
        Report::Inbound {
            provider_ref,
            from,
            to,
            text,
            received_at_ms,
        } => ctx
            .storage
            .put_inbound_sms(InboundSms {
                provider_ref,
                sender: from,
                receiver: to,
                body: text,
                received_at_ms,
            })
            .await
            .map(|_| true),
        Report::Status {
            provider_ref,
            to,
            state,
            reason,
            ..
        } => {
            status(
                ctx,
                ours,
                &provider_ref,
                to.as_deref(),
                state,
                reason.as_deref(),
            )
            .await
        }
    };
    match stored {
        Ok(true) => {
            count("accepted");
            warp::reply::with_status(
                warp::reply::json(&serde_json::json!({"ok": true})),
                StatusCode::OK,
            )
            .into_response()
        }
        Ok(false) => {
            count("unknown");
            json_error(
                StatusCode::NOT_FOUND,
                "not_found",
                "no SMS of this server has that id",
            )
        }
        Err(e) => {
            count("failed");
            tracing::warn!(error = %e, "an SMS webhook could not be stored; the provider retries");
            json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "storage unavailable; send it again",
            )
        }
    }
}

/// Stores a delivery report; `Ok(false)` when it names no SMS of ours. With our id (from the
/// webhook URL) the report must agree with the SMS: the provider's id once we know it, else
/// the number it went to.
async fn status(
    ctx: &ServerCtx,
    ours: Option<&str>,
    provider_ref: &str,
    to: Option<&str>,
    state: Delivery,
    reason: Option<&str>,
) -> Result<bool, crate::storage::StorageError> {
    let record = match ours {
        Some(id) => ctx.storage.sms(id).await?,
        None => ctx.storage.sms_by_provider_ref(provider_ref).await?,
    };
    let Some(record) = record else {
        return Ok(false);
    };
    let agrees = match &record.provider_ref {
        Some(known) => known == provider_ref,
        None => to == Some(record.sms.recipient.as_str()),
    };
    if !agrees {
        return Ok(false);
    }
    let state = match state {
        Delivery::Sent => SmsState::Sent,
        Delivery::Delivered => SmsState::Delivered,
        Delivery::Failed => SmsState::Failed,
    };
    let now = jiff::Timestamp::now().as_millisecond();
    ctx.storage
        .sms_report(&record.sms.id, Some(provider_ref), state, reason, now)
        .await
}

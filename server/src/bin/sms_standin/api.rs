//! Telnyx's messaging API as the stand-in serves it: `POST /v2/messages` with Bearer
//! authentication, `Idempotency-Key` replays, Telnyx's validation, and the injected outages
//! and held answers. An accepted message's reports go to the `Dispatcher` in a task of its own.

use crate::ledger::{LedgerHandle, Submission, SubmitOutcome};
use crate::request::{check_idempotency_key, check_send};
use crate::sms::mask;
use crate::telnyx_error::Refusal;
use crate::webhooks::Dispatcher;
use bytes::Bytes;
use std::sync::Arc;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

/// What every handler shares.
pub struct App {
    pub api_key: String,
    /// The messaging profile's webhook URL (`--webhook`).
    pub profile_webhook: Option<String>,
    pub ledger: LedgerHandle,
    pub dispatcher: Dispatcher,
}

pub fn with_app(
    app: Arc<App>,
) -> impl Filter<Extract = (Arc<App>,), Error = std::convert::Infallible> + Clone {
    warp::any().map(move || app.clone())
}

/// `POST /v2/messages`.
pub fn routes(app: Arc<App>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("v2" / "messages")
        .and(warp::post())
        .and(with_app(app))
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::header::optional::<String>("idempotency-key"))
        .and(warp::body::bytes())
        .then(send)
}

async fn send(
    app: Arc<App>,
    authorization: Option<String>,
    key: Option<String>,
    body: Bytes,
) -> Response {
    if !authorized(&app.api_key, authorization.as_deref()) {
        tracing::info!("send refused: authentication failed");
        return refusal(&Refusal::authentication_failed());
    }
    if let Some(Err(r)) = key.as_deref().map(check_idempotency_key) {
        return refusal(&r);
    }
    let checked = check_send(&body, app.profile_webhook.as_deref());
    let submission = Submission { key, body, checked };
    let outcome = match app.ledger.submit(submission).await {
        Ok(outcome) => outcome,
        Err(gone) => {
            tracing::error!(error = %gone, "send not decided");
            return refusal(&Refusal::outage(StatusCode::INTERNAL_SERVER_ERROR));
        }
    };
    match outcome {
        SubmitOutcome::Refused(r) => {
            tracing::info!(status = r.status.as_u16(), "send refused");
            refusal(&r)
        }
        SubmitOutcome::Replayed(response) => {
            tracing::info!("send replayed for its Idempotency-Key: nothing sent again");
            json_bytes(StatusCode::OK, response)
        }
        SubmitOutcome::Accepted {
            response,
            hang,
            plan,
        } => {
            tracing::info!(
                id = %plan.sms.id,
                to = %mask(&plan.sms.to),
                parts = plan.sms.segments.parts,
                encoding = plan.sms.segments.encoding.as_str(),
                "sms reached the phone"
            );
            tokio::spawn(app.dispatcher.clone().report(plan));
            if !hang.is_zero() {
                tracing::info!(ms = hang.as_millis() as u64, "holding the answer");
                tokio::time::sleep(hang).await;
            }
            json_bytes(StatusCode::OK, response)
        }
    }
}

/// `Authorization: Bearer <key>`. A plain comparison: a loopback test tool has no timing
/// side channel worth closing.
fn authorized(api_key: &str, header: Option<&str>) -> bool {
    let Some((scheme, token)) = header.and_then(|h| h.trim().split_once(' ')) else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer") && token.trim() == api_key
}

pub fn refusal(r: &Refusal) -> Response {
    warp::reply::with_status(warp::reply::json(&r.body()), r.status).into_response()
}

fn json_bytes(status: StatusCode, body: Bytes) -> Response {
    let mut response = warp::reply::with_status(body.to_vec(), status).into_response();
    response.headers_mut().insert(
        warp::http::header::CONTENT_TYPE,
        warp::http::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::authorized;

    #[test]
    fn only_the_bearer_key_is_authorized() {
        assert!(authorized("KEY1", Some("Bearer KEY1")));
        assert!(authorized("KEY1", Some("bearer KEY1")));
        assert!(!authorized("KEY1", Some("Bearer KEY2")));
        assert!(!authorized("KEY1", Some("Basic KEY1")));
        assert!(!authorized("KEY1", Some("KEY1")));
        assert!(!authorized("KEY1", None));
    }
}

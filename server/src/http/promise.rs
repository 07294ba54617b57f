//! `GET /api/v1/services/{id}/promise[?at=<RFC 3339>]`: the reply deadline of a contact made
//! at `at` (default now) with a service that promises one, for the widget ("we reply by …")
//! and for integrators.

use super::json_error;
use crate::context::ServerCtx;
use std::collections::HashMap;
use std::sync::Arc;
use warp::http::StatusCode;
use warp::Reply;

/// The answer for service `id`.
pub fn promise(
    ctx: Arc<ServerCtx>,
    id: String,
    query: HashMap<String, String>,
) -> warp::reply::Response {
    let org = &ctx.config.organisation;
    let Some(service) = org.services.iter().find(|s| s.id.as_str() == id) else {
        return json_error(StatusCode::NOT_FOUND, "not_found", "no such service");
    };
    let Some(p) = service.promise else {
        return json_error(
            StatusCode::NOT_FOUND,
            "no_promise",
            "this service makes no reply promise (a live chat answers while it is open)",
        );
    };
    let at =
        match query.get("at") {
            None => jiff::Timestamp::now(),
            // An unencoded `+` of the offset arrives as a space: read it as the `+` it was.
            Some(text) => match text.replace(' ', "+").parse::<jiff::Timestamp>() {
                Ok(at) => at,
                Err(_) => return json_error(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    "at must be an RFC 3339 time with an offset, e.g. 2026-04-02T10:00:00+03:00",
                ),
            },
        };
    let calendar = org.calendar_or_utc();
    let due = calendar.due(at, p.working_days);
    let due_at = calendar.rfc3339(due);
    let body = serde_json::json!({
        "service": service.id,
        "working_days": p.working_days,
        "due_at": due_at,
        "time_zone": org.time_zone,
    });
    warp::reply::with_header(warp::reply::json(&body), "access-control-allow-origin", "*")
        .into_response()
}

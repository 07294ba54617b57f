//! Retention for the data-protection officer (role `dpo`): `GET /api/v1/retention` shows each
//! service's period with what is due and held and where the access log begins;
//! `GET|PUT|DELETE /api/v1/conversations/{id}/legal-hold` reads, places and releases a legal
//! hold, which keeps a conversation past its period until released. Placing and releasing are
//! written to the access log (they concern a client's data). Never cached.

use super::access::{no_store, officer_for, Refusal};
use super::json_error;
use crate::context::ServerCtx;
use crate::storage::access::AccessEntry;
use crate::storage::retention::LegalHold;
use crate::storage::StorageError;
use console_protocol::{ConversationId, ProfessionalId};
use std::sync::Arc;
use warp::http::StatusCode;
use warp::{Filter, Reply};

/// The longest reason accepted, in characters.
const MAX_REASON: usize = 500;

pub fn routes(
    ctx: Arc<ServerCtx>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
    let with_ctx = warp::any().map(move || ctx.clone());
    let status = warp::path!("api" / "v1" / "retention")
        .and(warp::get())
        .and(with_ctx.clone())
        .and(warp::header::optional::<String>("authorization"))
        .then(|ctx: Arc<ServerCtx>, auth: Option<String>| async move {
            no_store(retention_status(&ctx, auth).await)
        });
    // PUT carries the reason; GET and DELETE carry no body (a browser sends them without a
    // Content-Length, which a length limit would refuse).
    let put = warp::path!("api" / "v1" / "conversations" / String / "legal-hold")
        .and(warp::put())
        .and(with_ctx.clone())
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::body::content_length_limit(8 * 1024))
        .and(warp::body::bytes())
        .then(
            |id: String, ctx: Arc<ServerCtx>, auth: Option<String>, body: bytes::Bytes| async move {
                let method = warp::http::Method::PUT;
                no_store(legal_hold(&ctx, method, ConversationId(id), auth, &body).await)
            },
        );
    let read_or_release =
        warp::path!("api" / "v1" / "conversations" / String / "legal-hold")
            .and(warp::get().or(warp::delete()).unify())
            .and(warp::method())
            .and(with_ctx)
            .and(warp::header::optional::<String>("authorization"))
            .then(
                |id: String,
                 method: warp::http::Method,
                 ctx: Arc<ServerCtx>,
                 auth: Option<String>| async move {
                    no_store(legal_hold(&ctx, method, ConversationId(id), auth, b"").await)
                },
            );
    status.or(put).unify().or(read_or_release).unify()
}

fn unavailable(e: &StorageError) -> warp::reply::Response {
    tracing::warn!(error = %e, "retention: storage unavailable");
    json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "storage is unavailable; try again",
    )
}

async fn retention_status(ctx: &ServerCtx, auth: Option<String>) -> warp::reply::Response {
    if let Err(refused) = officer_for(ctx, auth, "the retention report") {
        return refused.reply();
    }
    let now = crate::storage::now_ms();
    let org = &ctx.config.organisation;
    let services = match crate::retention::status(&ctx.storage, org, now).await {
        Ok(s) => s,
        Err(e) => return unavailable(&e),
    };
    let anchor = match ctx.storage.access_anchor().await {
        Ok(a) => a,
        Err(e) => return unavailable(&e),
    };
    let services: Vec<_> = services
        .into_iter()
        .map(|s| {
            serde_json::json!({
                "service": s.service, "days": s.days, "due": s.due, "held": s.held,
            })
        })
        .collect();
    warp::reply::json(&serde_json::json!({
        "dry_run": ctx.config.retention.dry_run,
        "interval_s": ctx.config.retention.interval_s,
        "services": services,
        "access_log": {
            "days": org.retention.access_log_days,
            "pruned_until": anchor.map(|a| serde_json::json!({
                "seq": a.seq, "before": crate::conversation::view::rfc3339_of_ms(a.before_ms),
            })),
        },
    }))
    .into_response()
}

fn hold_json(h: &LegalHold) -> serde_json::Value {
    use crate::conversation::view::rfc3339_of_ms;
    serde_json::json!({
        "set_by": h.set_by,
        "reason": h.reason,
        "set_at": rfc3339_of_ms(h.set_at_ms),
        "released_by": h.released_by,
        "released_at": h.released_at_ms.map(rfc3339_of_ms),
    })
}

/// The reason of a `PUT`: a JSON object with a non-empty `reason` of at most [`MAX_REASON`]
/// characters and no control characters.
fn parse_reason(body: &[u8]) -> Result<String, Refusal> {
    let bad = |why: String| Refusal(StatusCode::BAD_REQUEST, "bad_request", why);
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        reason: Option<String>,
    }
    let parsed: Body =
        serde_json::from_slice(body).map_err(|e| bad(format!("the body is not valid: {e}")))?;
    let reason = parsed.reason.unwrap_or_default().trim().to_owned();
    if reason.is_empty() {
        return Err(bad(
            "reason: why the conversation is held is required".into()
        ));
    }
    if reason.chars().count() > MAX_REASON {
        return Err(bad(format!("reason: at most {MAX_REASON} characters")));
    }
    if reason.chars().any(char::is_control) {
        return Err(bad("reason: contains a control character".into()));
    }
    Ok(reason)
}

async fn legal_hold(
    ctx: &ServerCtx,
    method: warp::http::Method,
    conversation: ConversationId,
    auth: Option<String>,
    body: &[u8],
) -> warp::reply::Response {
    use warp::http::Method;
    if ![Method::GET, Method::PUT, Method::DELETE].contains(&method) {
        return json_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "GET, PUT or DELETE",
        );
    }
    let (me, role) = match officer_for(ctx, auth, "a legal hold") {
        Ok(who) => who,
        Err(refused) => return refused.reply(),
    };
    let not_found = || {
        json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such conversation (it may have been removed past its retention period)",
        )
    };
    let now = crate::storage::now_ms();
    let mut stated = None;
    let outcome = match method {
        Method::PUT => {
            let reason = match parse_reason(body) {
                Ok(r) => r,
                Err(refused) => return refused.reply(),
            };
            stated = Some(reason.clone());
            let hold = LegalHold {
                conversation: conversation.clone(),
                set_by: me.clone(),
                reason,
                set_at_ms: now,
                released_by: None,
                released_at_ms: None,
            };
            match ctx.storage.set_legal_hold(hold).await {
                Ok(()) => Ok(StatusCode::CREATED),
                Err(StorageError::NotFound(_)) => return not_found(),
                Err(StorageError::Duplicate(_)) => {
                    return json_error(
                        StatusCode::CONFLICT,
                        "conflict",
                        "a legal hold on this conversation is in force already",
                    )
                }
                Err(e) => Err(e),
            }
        }
        Method::DELETE => match ctx
            .storage
            .release_legal_hold(&conversation, &me, now)
            .await
        {
            Ok(true) => Ok(StatusCode::OK),
            Ok(false) => {
                return json_error(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "no legal hold on this conversation is in force",
                )
            }
            Err(e) => Err(e),
        },
        _ => Ok(StatusCode::OK),
    };
    let status = match outcome {
        Ok(s) => s,
        Err(e) => return unavailable(&e),
    };
    if method != Method::GET {
        let action = if method == Method::PUT {
            "legal_hold"
        } else {
            "legal_hold_release"
        };
        if let Err(e) = log(ctx, &me, role, &conversation, action, stated).await {
            return unavailable(&e);
        }
    }
    let holds = match ctx.storage.legal_holds(&conversation).await {
        Ok(h) => h,
        Err(e) => return unavailable(&e),
    };
    if holds.is_empty() {
        match ctx.storage.conversation(&conversation).await {
            Ok(Some(_)) => {}
            Ok(None) => return not_found(),
            Err(e) => return unavailable(&e),
        }
    }
    let body = serde_json::json!({
        "conversation": conversation,
        "in_force": holds.iter().any(|h| h.released_at_ms.is_none()),
        "holds": holds.iter().map(hold_json).collect::<Vec<_>>(),
    });
    warp::reply::with_status(warp::reply::json(&body), status).into_response()
}

/// The officer's act on a client's data, in the access log.
async fn log(
    ctx: &ServerCtx,
    me: &ProfessionalId,
    role: String,
    conversation: &ConversationId,
    action: &str,
    reason: Option<String>,
) -> Result<(), StorageError> {
    let client = ctx
        .storage
        .conversation(conversation)
        .await?
        .and_then(|r| r.client.subject.filter(|_| r.client.identified));
    let entry = AccessEntry {
        at_ms: crate::storage::now_ms(),
        actor: me.as_str().to_owned(),
        role,
        client,
        conversation: Some(conversation.clone()),
        action: action.to_owned(),
        purpose: "retention".to_owned(),
        basis: "dpo".to_owned(),
        reason,
        outcome: "allowed".to_owned(),
        node: ctx.node_id.clone(),
    };
    ctx.storage.append_access(vec![entry]).await
}

//! The access report of 703/2023 (a client's right to know who accessed their data), for
//! professionals with the `dpo` role: `GET /api/v1/access-log` lists entries (JSON, or CSV for
//! the data-protection officer's export), `GET /api/v1/access-log/verify` walks the whole
//! chain. Each report or export is itself logged before it is answered; answers are never
//! cached.

use super::json_error;
use crate::access::role_of;
use crate::context::ServerCtx;
use crate::storage::access::{verify_stored, AccessEntry, AccessQuery, AccessRecord};
use console_protocol::{ConversationId, ProfessionalId};
use std::collections::HashMap;
use std::sync::Arc;
use warp::http::StatusCode;
use warp::{Filter, Reply};

/// Entries per page when the request names no `limit`, and the most it may name.
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;
/// Entries read per step while verifying the chain.
const VERIFY_PAGE: u32 = 1000;

pub fn routes(
    ctx: Arc<ServerCtx>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
    let with_ctx = warp::any().map(move || ctx.clone());
    let verify = warp::path!("api" / "v1" / "access-log" / "verify")
        .and(warp::get())
        .and(with_ctx.clone())
        .and(warp::header::optional::<String>("authorization"))
        .then(|ctx: Arc<ServerCtx>, auth: Option<String>| async move {
            no_store(verify_chain(&ctx, auth).await)
        });
    let list = warp::path!("api" / "v1" / "access-log")
        .and(warp::get())
        .and(with_ctx)
        .and(super::api::query_or_empty())
        .and(warp::header::optional::<String>("authorization"))
        .then(
            |ctx: Arc<ServerCtx>, query: HashMap<String, String>, auth| async move {
                no_store(report(&ctx, query, auth).await)
            },
        );
    verify.or(list).unify()
}

pub(super) fn no_store(mut response: warp::reply::Response) -> warp::reply::Response {
    response.headers_mut().insert(
        "cache-control",
        warp::http::HeaderValue::from_static("no-store"),
    );
    response
}

/// Why a request is refused: the status, the error code and a message naming the problem.
pub(super) struct Refusal(pub StatusCode, pub &'static str, pub String);

impl Refusal {
    pub(super) fn reply(self) -> warp::reply::Response {
        json_error(self.0, self.1, &self.2)
    }
}

/// The professional with the `dpo` role the bearer token names, or why not.
fn officer(
    ctx: &ServerCtx,
    authorization: Option<String>,
) -> Result<(ProfessionalId, String), Refusal> {
    officer_for(ctx, authorization, "the access report")
}

/// [`officer`] for `what` (named in the refusal).
pub(super) fn officer_for(
    ctx: &ServerCtx,
    authorization: Option<String>,
    what: &str,
) -> Result<(ProfessionalId, String), Refusal> {
    let unauthorized = |why: &str| Refusal(StatusCode::UNAUTHORIZED, "unauthorized", why.into());
    let token = authorization
        .as_deref()
        .and_then(|a| a.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthorized("a professional's bearer token is required"))?;
    let claims = ctx
        .auth
        .verify_professional(token)
        .map_err(|_| unauthorized("the token was refused"))?;
    let professional = crate::auth::professional_of(&ctx.config.organisation, &claims)
        .ok_or_else(|| unauthorized("unknown professional"))?;
    let id = professional.id.clone();
    if !professional.is_dpo() {
        return Err(Refusal(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("{what} needs the dpo role"),
        ));
    }
    Ok((id, role_of(Some(&professional))))
}

/// Reads the query into an [`AccessQuery`]; a parameter that does not parse is named.
fn parse_query(q: &HashMap<String, String>) -> Result<AccessQuery, Refusal> {
    let bad = |name: &str, why: &str| {
        Refusal(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("{name}: {why}"),
        )
    };
    if let Some(unknown) = q.keys().find(|k| {
        ![
            "client",
            "professional",
            "conversation",
            "from",
            "to",
            "after",
            "limit",
            "format",
        ]
        .contains(&k.as_str())
    }) {
        return Err(bad(unknown, "unknown parameter"));
    }
    if let Some((name, _)) = q.iter().find(|(_, v)| v.chars().any(char::is_control)) {
        return Err(bad(name, "contains a control character"));
    }
    let text = |name: &str| {
        q.get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let time = |name: &str| -> Result<Option<i64>, Refusal> {
        text(name)
            .map(|v| {
                v.parse::<jiff::Timestamp>()
                    .map(|t| t.as_millisecond())
                    .map_err(|_| bad(name, "not an RFC 3339 time (e.g. 2026-12-01T00:00:00Z)"))
            })
            .transpose()
    };
    let after_seq = match text("after") {
        None => 0,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| bad("after", "not a non-negative whole number"))?,
    };
    let limit = match text("limit") {
        None => DEFAULT_LIMIT,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| bad("limit", "not a whole number from 1 to 1000"))?,
    };
    match text("format").as_deref() {
        None | Some("json") | Some("csv") => {}
        Some(_) => return Err(bad("format", "json or csv")),
    }
    let query = AccessQuery {
        client: text("client"),
        actor: text("professional"),
        conversation: text("conversation").map(ConversationId),
        from_ms: time("from")?,
        to_ms: time("to")?,
        after_seq,
        limit,
    };
    if query.client.is_none() && query.actor.is_none() && query.conversation.is_none() {
        return Err(bad(
            "client",
            "name a client, a professional or a conversation",
        ));
    }
    Ok(query)
}

async fn report(
    ctx: &ServerCtx,
    q: HashMap<String, String>,
    authorization: Option<String>,
) -> warp::reply::Response {
    let (me, role) = match officer(ctx, authorization) {
        Ok(o) => o,
        Err(refused) => return refused.reply(),
    };
    let query = match parse_query(&q) {
        Ok(query) => query,
        Err(bad) => return bad.reply(),
    };
    let csv = q.get("format").map(String::as_str) == Some("csv");
    // The report is an access to the client's data too: logged before it is read.
    let logged = AccessEntry {
        at_ms: crate::storage::now_ms(),
        actor: me.as_str().to_owned(),
        role,
        client: query.client.clone(),
        conversation: query.conversation.clone(),
        action: if csv { "export" } else { "report" }.to_owned(),
        purpose: "access_report".to_owned(),
        basis: "dpo".to_owned(),
        reason: None,
        outcome: "allowed".to_owned(),
        node: ctx.node_id.clone(),
    };
    if let Err(e) = ctx.storage.append_access(vec![logged]).await {
        tracing::warn!(error = %e, "access report: the access log could not be written");
        ctx.metrics
            .access_log
            .with_label_values(&["unwritten"])
            .inc();
        return unavailable();
    }
    ctx.metrics.access_log.with_label_values(&["allowed"]).inc();
    let records = match ctx.storage.access_log(&query).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "access report: the access log could not be read");
            return unavailable();
        }
    };
    let next_after = (records.len() == query.limit as usize)
        .then(|| records.last().map(|r| r.seq))
        .flatten();
    if csv {
        return warp::reply::with_header(
            warp::reply::with_header(to_csv(&records), "content-type", "text/csv; charset=utf-8"),
            "content-disposition",
            "attachment; filename=\"access-log.csv\"",
        )
        .into_response();
    }
    warp::reply::json(&serde_json::json!({
        "entries": records.iter().map(entry_json).collect::<Vec<_>>(),
        "next_after": next_after,
    }))
    .into_response()
}

fn unavailable() -> warp::reply::Response {
    json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "the access log is unavailable; try again",
    )
}

/// One entry as the report shows it: times in RFC 3339.
fn entry_json(r: &AccessRecord) -> serde_json::Value {
    let e = &r.entry;
    serde_json::json!({
        "seq": r.seq,
        "at": crate::conversation::view::rfc3339_of_ms(e.at_ms),
        "professional": e.actor,
        "role": e.role,
        "client": e.client,
        "conversation": e.conversation,
        "action": e.action,
        "purpose": e.purpose,
        "basis": e.basis,
        "reason": e.reason,
        "outcome": e.outcome,
        "node": e.node,
        "hash": r.hash,
    })
}

/// The entries as CSV (RFC 4180: every field quoted, quotes doubled).
fn to_csv(records: &[AccessRecord]) -> String {
    let mut out = String::from(
        "seq,at,professional,role,client,conversation,action,purpose,basis,reason,outcome,node,hash\r\n",
    );
    for r in records {
        let e = &r.entry;
        let fields = [
            r.seq.to_string(),
            crate::conversation::view::rfc3339_of_ms(e.at_ms),
            e.actor.clone(),
            e.role.clone(),
            e.client.clone().unwrap_or_default(),
            e.conversation
                .as_ref()
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
            e.action.clone(),
            e.purpose.clone(),
            e.basis.clone(),
            e.reason.clone().unwrap_or_default(),
            e.outcome.clone(),
            e.node.clone(),
            r.hash.clone(),
        ];
        let quoted: Vec<String> = fields
            .iter()
            .map(|f| format!("\"{}\"", f.replace('"', "\"\"")))
            .collect();
        out.push_str(&quoted.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Walks the whole chain: `{"ok": true, "entries": N, "head": {...}}`, or where it breaks.
async fn verify_chain(ctx: &ServerCtx, authorization: Option<String>) -> warp::reply::Response {
    if let Err(refused) = officer(ctx, authorization) {
        return refused.reply();
    }
    match verify_stored(&*ctx.storage, VERIFY_PAGE).await {
        Err(e) => {
            tracing::warn!(error = %e, "access log verify: unreadable");
            unavailable()
        }
        Ok(v) => match v.broken {
            None => warp::reply::json(&serde_json::json!({
                "ok": true,
                "entries": v.entries,
                "start": {"seq": v.start.0, "hash": v.start.1},
                "head": {"seq": v.head.0, "hash": v.head.1},
            }))
            .into_response(),
            Some(broken) => {
                tracing::error!(problem = %broken, "the access log's chain is broken");
                warp::reply::json(&serde_json::json!({
                    "ok": false,
                    "verified_until": v.head.0,
                    "problem": broken.to_string(),
                }))
                .into_response()
            }
        },
    }
}

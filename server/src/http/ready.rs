//! `/readyz`: whether this node can serve, asking each dependency at once (the record's
//! database, and in a cluster Redis, and whether the cluster has a primary now). 503 with a JSON body naming every failing dependency, so
//! a load balancer takes the node out and an operator sees why.

use crate::context::ServerCtx;
use std::time::Duration;
use warp::http::StatusCode;
use warp::Reply;

/// Longest wait for one dependency's answer: a balancer polls often, and a dependency that
/// takes longer than this is as good as down for a chat.
const DEPENDENCY_TIMEOUT: Duration = Duration::from_secs(2);

/// The dependencies that do not answer now, each with why.
pub async fn failing(ctx: &ServerCtx) -> Vec<(&'static str, String)> {
    let record = if ctx.config.cluster.uses_postgres() {
        "postgresql"
    } else {
        "sqlite"
    };
    let storage = async {
        match tokio::time::timeout(DEPENDENCY_TIMEOUT, ctx.storage.ping()).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some((record, e.to_string())),
            Err(_) => Some((record, "no answer".to_owned())),
        }
    };
    let bus = async {
        let bus = ctx.bus.as_ref()?;
        match tokio::time::timeout(DEPENDENCY_TIMEOUT, bus.ping()).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(("redis", e.to_string())),
            Err(_) => Some(("redis", "no answer".to_owned())),
        }
    };
    let (storage, bus) = tokio::join!(storage, bus);
    let up = |failed: bool| if failed { 0 } else { 1 };
    let m = &ctx.metrics.dependency_up;
    m.with_label_values(&["storage"]).set(up(storage.is_some()));
    m.with_label_values(&["bus"]).set(up(bus.is_some()));
    // A cluster node serves only while some node is the primary it can run sessions on.
    let primary = ctx.role.as_ref().and_then(|role| match &*role.borrow() {
        crate::context::Role::Waiting => Some((
            "primary",
            "no node of the cluster is the primary right now".to_owned(),
        )),
        _ => None,
    });
    storage.into_iter().chain(bus).chain(primary).collect()
}

/// How often the dependencies are asked for `luukku_dependency_up`.
const PROBE_EVERY: Duration = Duration::from_secs(5);

/// Keeps `luukku_dependency_up` true until the node stops: every few seconds (and on every
/// `/readyz`) each dependency is asked as `/readyz` asks it.
pub async fn probe(ctx: std::sync::Arc<ServerCtx>) {
    let mut every = tokio::time::interval(PROBE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ctx.cancel.cancelled() => return,
            _ = every.tick() => {}
        }
        failing(&ctx).await;
    }
}

/// The `/readyz` answer.
pub async fn readyz(ctx: &ServerCtx) -> warp::reply::Response {
    let failing = failing(ctx).await;
    if failing.is_empty() {
        return warp::reply::json(&serde_json::json!({"status": "ready"})).into_response();
    }
    let names: Vec<&str> = failing.iter().map(|(name, _)| *name).collect();
    let message = failing
        .iter()
        .map(|(name, why)| format!("{name}: {why}"))
        .collect::<Vec<_>>()
        .join("; ");
    let body = serde_json::json!({
        "status": "unavailable",
        "failing": names,
        "error": { "code": "not_ready", "message": message },
    });
    warp::reply::with_status(warp::reply::json(&body), StatusCode::SERVICE_UNAVAILABLE)
        .into_response()
}

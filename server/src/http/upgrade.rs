//! The WebSocket upgrade, done here rather than with warp's `ws()` so that the tungstenite
//! configuration is ours: a 4 KiB read buffer instead of the eager 128 KiB, a bounded write
//! buffer and the frame limit. Checks the Origin allow-list and the connection cap, negotiates
//! the codec, answers 101, and runs the session on the server's task tracker.

use super::json_error;
use crate::context::{Role as NodeRole, ServerCtx};
use crate::session::{self, Endpoint};
use crate::tunnel::{self, Exchange};
use console_protocol::Codec;
use futures_util::future::Either;
use futures_util::{Sink, Stream};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;
use tracing::Instrument;
use warp::http::{HeaderMap, HeaderValue, StatusCode};
use warp::{Filter, Reply};

/// Read buffer per connection: small, since chat frames are small and idle sockets many.
const READ_BUFFER_BYTES: usize = 1024;
/// Frames are buffered up to this much, and written at the latest when a session flushes at
/// the end of a batch: a batch of queued frames goes out in one `send` (one syscall per frame
/// cost a fifth of the server's CPU under load).
const WRITE_BUFFER_BYTES: usize = 8 * 1024;
/// A peer that does not read is cut off once this much is waiting to be written.
const MAX_WRITE_BUFFER_BYTES: usize = 1024 * 1024;

static CONNECTION_IDS: AtomicU64 = AtomicU64::new(1);

/// The tungstenite configuration of every server-side socket.
pub fn ws_config(max_frame: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
        .max_message_size(Some(max_frame))
        .max_frame_size(Some(max_frame))
}

pub fn routes(
    ctx: Arc<ServerCtx>,
    exchange: Option<Arc<Exchange>>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
    warp::path!("ws" / String)
        .and(warp::get())
        .and(warp::header::headers_cloned())
        .and(warp::ext::optional::<OnUpgrade>())
        .and(warp::any().map(move || (ctx.clone(), exchange.clone())))
        .map(upgrade)
}

/// Where a new socket's session runs.
pub(super) enum Serve {
    /// On this node, on this context (one node, or a cluster's primary).
    Here(Arc<ServerCtx>),
    /// On the primary, through a tunnel.
    Tunnel(Arc<Exchange>, String),
}

/// Where a socket accepted now is served, or why none can be.
pub(super) fn serve_where(
    ctx: &Arc<ServerCtx>,
    exchange: &Option<Arc<Exchange>>,
) -> Result<Serve, &'static str> {
    let Some(role) = &ctx.role else {
        return Ok(Serve::Here(ctx.clone()));
    };
    let now = role.borrow().clone();
    match (now, exchange) {
        (NodeRole::Primary(term), _) => Ok(Serve::Here(term)),
        (NodeRole::Door { primary }, Some(ex)) if ex.can_tunnel() => {
            Ok(Serve::Tunnel(ex.clone(), primary))
        }
        (NodeRole::Door { .. }, _) => Err("this node cannot reach the cluster's primary now"),
        (NodeRole::Waiting, _) => Err("the cluster has no primary node right now; retry shortly"),
    }
}

/// Runs a socket's session where `serve` says: here (one node, or a cluster's primary), or
/// through a tunnel to the primary (a door). A plain function returning the session's own
/// future, so that nothing but the socket is kept beside it for as long as it lives.
pub(super) fn serve_socket<S>(
    ws: S,
    endpoint: Endpoint,
    codec: Codec,
    offered: Option<String>,
    serve: Serve,
    ctx: &ServerCtx,
) -> impl std::future::Future<Output = ()> + Send
where
    S: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin + Send,
{
    match serve {
        Serve::Here(ctx) => Either::Left(session::run(ws, endpoint, codec, ctx)),
        Serve::Tunnel(ex, primary) => {
            let (metrics, cancel) = (ctx.metrics.clone(), ctx.cancel.clone());
            Either::Right(tunnel::door::run(
                ws, endpoint, offered, primary, ex, metrics, cancel,
            ))
        }
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn upgrade(
    which: String,
    headers: HeaderMap,
    on_upgrade: Option<OnUpgrade>,
    (ctx, exchange): (Arc<ServerCtx>, Option<Arc<Exchange>>),
) -> warp::reply::Response {
    let endpoint = match which.as_str() {
        "client" => Endpoint::Client,
        "console" => Endpoint::Console,
        _ => return json_error(StatusCode::NOT_FOUND, "not_found", "no such endpoint"),
    };
    let is_ws = header(&headers, "upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
        && header(&headers, "sec-websocket-version") == Some("13");
    let (Some(key), Some(on_upgrade), true) =
        (header(&headers, "sec-websocket-key"), on_upgrade, is_ws)
    else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "expected a WebSocket upgrade (version 13)",
        );
    };
    if !origin_allowed(&ctx, &headers) {
        ctx.metrics
            .frames_rejected
            .with_label_values(&["origin"])
            .inc();
        return json_error(StatusCode::FORBIDDEN, "forbidden", "origin not allowed");
    }
    // Sessions this node runs (a primary's include those of the doors' sockets) and sockets it
    // holds for the primary as a door.
    let m = &ctx.metrics;
    let open: i64 = ["client", "console"]
        .iter()
        .map(|e| {
            m.connections.with_label_values(&[e]).get()
                + m.tunnelled_connections.with_label_values(&[e]).get()
        })
        .sum();
    if open >= ctx.config.limits.max_connections as i64 || ctx.cancel.is_cancelled() {
        return json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "too many connections",
        );
    }
    let serve = match serve_where(&ctx, &exchange) {
        Ok(serve) => serve,
        Err(why) => return json_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", why),
    };
    let offered = header(&headers, "sec-websocket-protocol").map(str::to_owned);
    let (codec, protocol) = Codec::negotiate(offered.as_deref());
    let accept = derive_accept_key(key.as_bytes());
    let conn_id = CONNECTION_IDS.fetch_add(1, Ordering::Relaxed);
    let span = tracing::info_span!("conn", conn_id, endpoint = endpoint.as_str());
    let tracker = ctx.tracker.clone();
    tracker.spawn(
        async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    // Built here rather than captured, so that the task (which lives as long
                    // as the connection) does not keep a copy.
                    let config = ws_config(ctx.config.limits.max_frame_bytes);
                    let ws = WebSocketStream::from_raw_socket(
                        TokioIo::new(upgraded),
                        Role::Server,
                        Some(config),
                    )
                    .await;
                    serve_socket(ws, endpoint, codec, offered, serve, &ctx).await
                }
                Err(e) => tracing::debug!(error = %e, "upgrade failed"),
            }
        }
        .instrument(span),
    );
    let mut res =
        warp::reply::with_status(warp::reply(), StatusCode::SWITCHING_PROTOCOLS).into_response();
    let h = res.headers_mut();
    h.insert("upgrade", HeaderValue::from_static("websocket"));
    h.insert("connection", HeaderValue::from_static("Upgrade"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert("sec-websocket-accept", v);
    }
    if let Some(p) = protocol {
        h.insert("sec-websocket-protocol", HeaderValue::from_static(p));
    }
    res
}

/// A browser's Origin must be allowed; requests without one (non-browser clients) pass.
fn origin_allowed(ctx: &ServerCtx, headers: &HeaderMap) -> bool {
    let Some(origin) = header(headers, "origin") else {
        return true;
    };
    if ctx
        .config
        .allowed_origins
        .iter()
        .any(|o| o.trim_end_matches('/') == origin)
    {
        return true;
    }
    let host_of = |o: &str| o.split_once("://").map(|(_, rest)| rest.to_owned());
    if let (Some(host), Some(o_host)) = (header(headers, "host"), host_of(origin)) {
        if o_host.eq_ignore_ascii_case(host) {
            return true;
        }
    }
    if ctx.config.demo {
        let name = host_of(origin)
            .map(|h| h.rsplit_once(':').map_or(h.clone(), |(n, _)| n.to_owned()))
            .unwrap_or_default();
        return matches!(name.as_str(), "localhost" | "127.0.0.1" | "[::1]");
    }
    false
}

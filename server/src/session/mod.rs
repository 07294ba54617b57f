//! One session task per WebSocket connection: it reads frames (hello first, within the
//! timeout), enforces size and rate limits, hands work to conversation actors and the router,
//! and writes what they deliver through its bounded outbound queue. Generic over the
//! WebSocket's `Sink`/`Stream` so tests can drive it without a socket.

mod canned;
mod client;
mod conn;
mod console;
mod rate;
mod serve;
#[cfg(test)]
mod tests;

use crate::context::ServerCtx;
use crate::delivery::{self, SessionLink};
use console_protocol::{Codec, ServerFrame, SessionId};
use futures_util::{Sink, Stream, StreamExt};
use serve::serve;
use std::future::Future;
use std::sync::Arc;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

pub(crate) use conn::Conn;

/// How long a session that closed for the peer's input waits for the peer's close frame,
/// reading (and discarding) what it still sends. Closing the socket with unread input would
/// reset the connection, and a reset can destroy our close frame before the peer reads it.
const CLOSE_LINGER: std::time::Duration = std::time::Duration::from_secs(2);

/// Which endpoint a session serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Client,
    Console,
}

impl Endpoint {
    /// Metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Client => "client",
            Endpoint::Console => "console",
        }
    }
}

/// How a session ended, for the close frame.
pub(crate) struct CloseReason(pub u16, pub &'static str);

/// What the two endpoints implement.
pub(crate) trait Handler<S>: Send {
    /// Handles one decoded-or-not inbound frame. `Err` closes the session.
    fn on_frame(
        &mut self,
        conn: &mut Conn<S>,
        bytes: &[u8],
    ) -> impl std::future::Future<Output = Result<(), CloseReason>> + Send;
    /// Whether an outbound frame may reach this session (membership check, second line).
    fn admit(&mut self, conn: &Conn<S>, frame: &ServerFrame) -> bool;
    /// Called with the admitted frames just before they are written: a professional's session
    /// logs the client data they show (`access::gate`). Answers, per frame, whether it may be
    /// written; `Err` ends the session without writing them.
    fn before_write(
        &mut self,
        ctx: &ServerCtx,
        frames: &[&ServerFrame],
    ) -> impl std::future::Future<Output = Result<Vec<bool>, CloseReason>> + Send {
        let _ = ctx;
        let all = vec![true; frames.len()];
        async move { Ok(all) }
    }
    /// Cleans up after the socket closed.
    fn on_end(
        &mut self,
        link: SessionLink,
        ctx: Arc<ServerCtx>,
    ) -> impl std::future::Future<Output = ()> + Send;
}

/// Reads the first frame within the hello timeout.
async fn first_frame<S>(ws: &mut S, timeout: std::time::Duration) -> Result<Vec<u8>, CloseReason>
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return Err(CloseReason(4408, "hello timeout")),
            Ok(Some(Err(WsError::Capacity(_)))) => {
                return Err(CloseReason(1009, "frame too large"))
            }
            Ok(None) | Ok(Some(Err(_))) => return Err(CloseReason(1000, "")),
            Ok(Some(Ok(Message::Text(t)))) => return Ok(t.as_bytes().to_vec()),
            Ok(Some(Ok(Message::Binary(b)))) => return Ok(b.to_vec()),
            Ok(Some(Ok(Message::Close(_)))) => return Err(CloseReason(1000, "")),
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// After our close frame: reads until the peer's close frame, the end of the stream or
/// [`CLOSE_LINGER`]. After an oversized frame the socket cannot be read any further, so it
/// only waits, giving the peer time to read the close frame.
async fn linger<S>(ws: &mut S)
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    let deadline = tokio::time::Instant::now() + CLOSE_LINGER;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Err(_) => return,
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(WsError::Capacity(_)))) => return tokio::time::sleep_until(deadline).await,
            Ok(Some(Err(_))) => return,
        }
    }
}

/// Runs one WebSocket session to its end.
///
/// The future lives as long as the connection, so it is kept small: a plain function returning
/// an `async` block, because an `async fn` would keep its `ws` argument in the future beside the
/// connection it is moved into, and the hello and frame handlers are boxed (see
/// [`serve`](fn@serve)).
pub fn run<S>(
    ws: S,
    endpoint: Endpoint,
    codec: Codec,
    ctx: Arc<ServerCtx>,
) -> impl Future<Output = ()> + Send
where
    S: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin + Send,
{
    let (link, rx) = delivery::channel(SessionId(uuid::Uuid::new_v4().simple().to_string()));
    let mut conn = Conn {
        ws,
        codec,
        ctx,
        link,
    };
    async move {
        let metrics = conn.ctx.metrics.clone();
        metrics
            .connections
            .with_label_values(&[endpoint.as_str()])
            .inc();
        metrics
            .connections_opened
            .with_label_values(&[endpoint.as_str()])
            .inc();
        let timeout = conn.ctx.config.hello_timeout();
        // Each result is taken out of its `match` in a `let`, so the spent value does not stay
        // in the future (a partly moved value would, beside the handler in `serve`).
        let result = 'session: {
            let bytes = match first_frame(&mut conn.ws, timeout).await {
                Ok(bytes) => bytes,
                Err(reason) => break 'session Err(reason),
            };
            match endpoint {
                Endpoint::Client => {
                    let handler =
                        match Box::pin(client::ClientSession::hello(&mut conn, &bytes)).await {
                            Ok(h) => h,
                            Err(r) => break 'session Err(r),
                        };
                    drop(bytes);
                    serve(&mut conn, handler, rx, endpoint).await
                }
                Endpoint::Console => {
                    let handler =
                        match Box::pin(console::ConsoleSession::hello(&mut conn, &bytes)).await {
                            Ok(h) => h,
                            Err(r) => break 'session Err(r),
                        };
                    drop(bytes);
                    serve(&mut conn, handler, rx, endpoint).await
                }
            }
        };
        if let Err(CloseReason(code, reason)) = result {
            if code == 1009 {
                metrics
                    .frames_rejected
                    .with_label_values(&["too_large"])
                    .inc();
            }
            if code != 1000 || !reason.is_empty() {
                conn.close(code, reason).await;
            }
            // On shutdown and for slow consumers (who do not read) there is nothing to wait for.
            if code != 1001 && code != 1008 {
                linger(&mut conn.ws).await;
            }
        }
        metrics
            .connections
            .with_label_values(&[endpoint.as_str()])
            .dec();
    }
}

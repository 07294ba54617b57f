//! One session task per WebSocket connection: it reads frames (hello first, within the
//! timeout), enforces size and rate limits, hands work to conversation actors and the router,
//! and writes what they deliver through its bounded outbound queue. Generic over the
//! WebSocket's `Sink`/`Stream` so tests can drive it without a socket.

mod client;
mod console;
pub mod outbound;
mod rate;

use crate::conversation::ConvError;
use crate::server::ServerCtx;
use console_protocol::{
    Codec, ConversationId, Envelope, ErrorCode, ErrorFrame, ServerFrame, SessionId,
};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use outbound::{Outbound, SessionLink, SharedFrame, OUTBOUND_CAPACITY};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_util::sync::CancellationToken;

/// Frames written per flush when the outbound queue has a backlog.
const WRITE_BATCH: usize = 64;
/// Rate-limited frames in a row after which the connection is closed with 4429.
const RATE_STRIKES_BEFORE_CLOSE: u32 = 200;
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

/// The socket plus what every handler needs to answer on it.
pub(crate) struct Conn<S> {
    ws: S,
    pub codec: Codec,
    pub ctx: Arc<ServerCtx>,
    pub link: SessionLink,
}

impl<S> Conn<S>
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    fn message(&self, bytes: bytes::Bytes) -> Message {
        if self.codec.is_binary() {
            Message::Binary(bytes)
        } else {
            match String::from_utf8(bytes.to_vec()) {
                Ok(s) => Message::Text(s.into()),
                Err(_) => Message::Binary(bytes),
            }
        }
    }

    /// Writes a frame built for this session right away.
    pub async fn send(&mut self, req: Option<String>, frame: ServerFrame) -> Result<(), WsError> {
        let bytes = self
            .codec
            .encode(&Envelope::reply(req, frame))
            .unwrap_or_default();
        let m = self.message(bytes.into());
        self.ws.send(m).await
    }

    /// Writes an `error` frame.
    pub async fn error(
        &mut self,
        req: Option<String>,
        code: ErrorCode,
        message: impl Into<String>,
    ) -> Result<(), WsError> {
        self.ctx
            .metrics
            .frames_rejected
            .with_label_values(&[code.as_str()])
            .inc();
        self.send(
            req,
            ServerFrame::Error(ErrorFrame {
                code,
                message: message.into(),
                conversation: None,
            }),
        )
        .await
    }

    /// Writes an `error` frame about a conversation the sender named, as its actor would.
    pub async fn error_about(
        &mut self,
        req: Option<String>,
        conversation: ConversationId,
        e: &ConvError,
    ) -> Result<(), WsError> {
        let code = e.code();
        self.ctx
            .metrics
            .frames_rejected
            .with_label_values(&[code.as_str()])
            .inc();
        self.send(
            req,
            ServerFrame::Error(ErrorFrame {
                code,
                message: e.to_string(),
                conversation: Some(conversation),
            }),
        )
        .await
    }

    async fn feed(&mut self, f: &SharedFrame) -> Result<(), WsError> {
        let m = self.message(f.encoded(self.codec));
        self.ws.feed(m).await
    }

    async fn close(&mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.to_owned().into(),
        };
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(2),
            self.ws.send(Message::Close(Some(frame))),
        )
        .await;
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), self.ws.close()).await;
    }
}

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
pub async fn run<S>(ws: S, endpoint: Endpoint, codec: Codec, ctx: Arc<ServerCtx>)
where
    S: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin + Send,
{
    let metrics = ctx.metrics.clone();
    metrics
        .connections
        .with_label_values(&[endpoint.as_str()])
        .inc();
    metrics
        .connections_opened
        .with_label_values(&[endpoint.as_str()])
        .inc();
    let (tx, rx) = mpsc::channel(OUTBOUND_CAPACITY);
    let link = SessionLink {
        id: SessionId(uuid::Uuid::new_v4().simple().to_string()),
        tx,
        kill: CancellationToken::new(),
    };
    let mut conn = Conn {
        ws,
        codec,
        ctx,
        link,
    };
    let timeout = conn.ctx.config.hello_timeout();
    let hello = first_frame(&mut conn.ws, timeout).await;
    let result = match (hello, endpoint) {
        (Err(reason), _) => Err(reason),
        (Ok(bytes), Endpoint::Client) => {
            match client::ClientSession::hello(&mut conn, &bytes).await {
                Ok(h) => serve(&mut conn, h, rx, endpoint).await,
                Err(r) => Err(r),
            }
        }
        (Ok(bytes), Endpoint::Console) => {
            match console::ConsoleSession::hello(&mut conn, &bytes).await {
                Ok(h) => serve(&mut conn, h, rx, endpoint).await,
                Err(r) => Err(r),
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

async fn serve<S, H>(
    conn: &mut Conn<S>,
    mut handler: H,
    mut rx: mpsc::Receiver<Outbound>,
    endpoint: Endpoint,
) -> Result<(), CloseReason>
where
    S: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin + Send,
    H: Handler<S>,
{
    let rate = match endpoint {
        Endpoint::Client => conn.ctx.config.limits.client_rate,
        Endpoint::Console => conn.ctx.config.limits.console_rate,
    };
    let mut bucket = rate::TokenBucket::new(rate.per_second, rate.burst);
    let mut strikes = 0u32;
    let cancel = conn.ctx.cancel.clone();
    let kill = conn.link.kill.clone();
    let result = loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => break Err(CloseReason(1001, "server shutting down")),
            _ = kill.cancelled() => {
                conn.ctx.metrics.slow_consumers.with_label_values(&[endpoint.as_str()]).inc();
                break Err(CloseReason(1008, "slow_consumer"));
            }
            Some(out) = rx.recv() => {
                if write_outbound(conn, &mut handler, &mut rx, out).await.is_err() {
                    break Ok(());
                }
            }
            msg = conn.ws.next() => {
                let bytes = match msg {
                    Some(Ok(Message::Text(t))) => t.as_bytes().to_vec(),
                    Some(Ok(Message::Binary(b))) => b.to_vec(),
                    Some(Ok(Message::Close(_))) | None => break Ok(()),
                    Some(Ok(_)) => continue,
                    Some(Err(WsError::Capacity(_))) => break Err(CloseReason(1009, "frame too large")),
                    Some(Err(_)) => break Ok(()),
                };
                if !bucket.take() {
                    strikes += 1;
                    if strikes > RATE_STRIKES_BEFORE_CLOSE {
                        break Err(CloseReason(4429, "rate limited"));
                    }
                    let req = conn.codec.peek_req(&bytes);
                    if conn.error(req, ErrorCode::RateLimited, "too many frames; slow down").await.is_err() {
                        break Ok(());
                    }
                    continue;
                }
                strikes = 0;
                if let Err(r) = handler.on_frame(conn, &bytes).await {
                    break Err(r);
                }
            }
        }
    };
    handler.on_end(conn.link.clone(), conn.ctx.clone()).await;
    result
}

async fn write_outbound<S, H>(
    conn: &mut Conn<S>,
    handler: &mut H,
    rx: &mut mpsc::Receiver<Outbound>,
    first: Outbound,
) -> Result<(), WsError>
where
    S: Sink<Message, Error = WsError> + Unpin,
    H: Handler<S>,
{
    let mut next = Some(first);
    let mut written = 0;
    while let Some(out) = next.take() {
        let frames = match out {
            Outbound::Frame(f) => vec![f],
            Outbound::Batch(v) => v,
        };
        for f in frames {
            if handler.admit(conn, &f.frame.frame) {
                conn.feed(&f).await?;
            } else {
                tracing::warn!("dropped a frame for a conversation this session is not in");
            }
            written += 1;
        }
        if written < WRITE_BATCH {
            next = rx.try_recv().ok();
        }
    }
    conn.ws.flush().await
}

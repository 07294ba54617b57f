//! One session task per WebSocket connection: it reads frames (hello first, within the
//! timeout), enforces size and rate limits, hands work to conversation actors and the router,
//! and writes what they deliver through its bounded outbound queue. Generic over the
//! WebSocket's `Sink`/`Stream` so tests can drive it without a socket.

mod canned;
mod client;
mod console;
mod rate;

use crate::context::ServerCtx;
use crate::conversation::ConvError;
use crate::delivery::{self, Next, Outbound, OutboundRx, SessionLink, SharedFrame};
use console_protocol::{
    Codec, ConversationId, Envelope, ErrorCode, ErrorFrame, ServerFrame, SessionId,
};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use std::future::Future;
use std::sync::Arc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

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

    /// Buffers a queued frame (a plain function: its future is part of every idle session's).
    fn feed(&mut self, f: &SharedFrame) -> futures_util::sink::Feed<'_, S, Message> {
        let m = self.message(f.encoded(self.codec));
        self.ws.feed(m)
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
///
/// The future lives as long as the connection, so it is kept small: a plain function returning
/// an `async` block, because an `async fn` would keep its `ws` argument in the future beside the
/// connection it is moved into, and the hello and frame handlers are boxed (see [`serve`]).
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

/// What one wake-up of [`serve`] has to do.
enum Step {
    /// A queued frame to write.
    Write(Outbound),
    /// The queue overflowed.
    CutOff,
    /// A frame from the peer.
    Read(Vec<u8>),
    /// The session is over.
    End(Result<(), CloseReason>),
}

/// The session after its hello: frames in, queued frames out, until either side ends it.
///
/// Most of a connection's life is spent waiting here, so only the wait is inline: handling a
/// frame (whose future takes kilobytes, `start` most) is boxed, and the handler is captured
/// once (an `async fn` would hold its arguments twice).
fn serve<'a, S, H>(
    conn: &'a mut Conn<S>,
    mut handler: H,
    mut rx: OutboundRx,
    endpoint: Endpoint,
) -> impl Future<Output = Result<(), CloseReason>> + Send + 'a
where
    S: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin + Send,
    H: Handler<S> + 'a,
{
    let rate = match endpoint {
        Endpoint::Client => conn.ctx.config.limits.client_rate,
        Endpoint::Console => conn.ctx.config.limits.console_rate,
    };
    let mut bucket = rate::TokenBucket::new(rate.per_second, rate.burst);
    let cancel = conn.ctx.cancel.clone();
    async move {
        let mut strikes = 0u32;
        let result = loop {
            // The wait only decides what to do; the work (which awaits) happens after it, so
            // that the wait's outputs (a tungstenite result is large) are not kept alive
            // across those awaits in every session's future.
            let step = tokio::select! {
                biased;
                _ = cancel.cancelled() => Step::End(Err(CloseReason(1001, "server shutting down"))),
                next = rx.next() => match next {
                    Next::Item(out) => Step::Write(out),
                    Next::CutOff => Step::CutOff,
                },
                msg = conn.ws.next() => match msg {
                    Some(Ok(Message::Text(t))) => Step::Read(t.as_bytes().to_vec()),
                    Some(Ok(Message::Binary(b))) => Step::Read(b.to_vec()),
                    Some(Ok(Message::Close(_))) | None => Step::End(Ok(())),
                    Some(Ok(_)) => continue,
                    Some(Err(WsError::Capacity(_))) => Step::End(Err(CloseReason(1009, "frame too large"))),
                    Some(Err(_)) => Step::End(Ok(())),
                },
            };
            let bytes = match step {
                Step::End(result) => break result,
                Step::CutOff => {
                    conn.ctx
                        .metrics
                        .slow_consumers
                        .with_label_values(&[endpoint.as_str()])
                        .inc();
                    break Err(CloseReason(1008, "slow_consumer"));
                }
                Step::Write(out) => {
                    // Boxed too: one small allocation per batch of writes keeps every idle
                    // session's future a few hundred bytes smaller.
                    let write = write_outbound(conn, &mut handler, &mut rx, out);
                    if Box::pin(write).await.is_err() {
                        break Ok(());
                    }
                    continue;
                }
                Step::Read(bytes) => bytes,
            };
            if !bucket.take() {
                strikes += 1;
                if strikes > RATE_STRIKES_BEFORE_CLOSE {
                    break Err(CloseReason(4429, "rate limited"));
                }
                let req = conn.codec.peek_req(&bytes);
                let refuse = conn.error(req, ErrorCode::RateLimited, "too many frames; slow down");
                if Box::pin(refuse).await.is_err() {
                    break Ok(());
                }
                continue;
            }
            strikes = 0;
            if let Err(r) = Box::pin(handler.on_frame(conn, &bytes)).await {
                break Err(r);
            }
        };
        Box::pin(handler.on_end(conn.link.clone(), conn.ctx.clone())).await;
        result
    }
}

async fn write_outbound<S, H>(
    conn: &mut Conn<S>,
    handler: &mut H,
    rx: &mut OutboundRx,
    first: Outbound,
) -> Result<(), WsError>
where
    S: Sink<Message, Error = WsError> + Unpin,
    H: Handler<S>,
{
    let mut next = Some(first);
    let mut written = 0;
    while let Some(out) = next.take() {
        let (one, batch) = match out {
            Outbound::Frame(f) => (Some(f), Vec::new()),
            Outbound::Batch(v) => (None, v),
        };
        for f in one.into_iter().chain(batch) {
            if handler.admit(conn, &f.frame.frame) {
                conn.feed(&f).await?;
            } else {
                tracing::warn!("dropped a frame for a conversation this session is not in");
            }
            written += 1;
        }
        if written < WRITE_BATCH {
            next = rx.try_next();
        }
    }
    conn.ws.flush().await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::Config;
    use console_protocol::ErrorFrame;
    use futures_util::task::{Context, Poll};
    use std::pin::Pin;
    use std::sync::Mutex;

    /// A socket whose peer sends nothing and takes everything written.
    #[derive(Clone, Default)]
    struct Socket {
        written: Arc<Mutex<Vec<Message>>>,
    }

    impl Stream for Socket {
        type Item = Result<Message, WsError>;
        fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Pending
        }
    }

    impl Sink<Message> for Socket {
        type Error = WsError;
        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WsError>> {
            Poll::Ready(Ok(()))
        }
        fn start_send(self: Pin<&mut Self>, m: Message) -> Result<(), WsError> {
            self.written.lock().unwrap().push(m);
            Ok(())
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WsError>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WsError>> {
            Poll::Ready(Ok(()))
        }
    }

    /// A handler that admits every frame.
    struct Open;

    impl<S: Send> Handler<S> for Open {
        async fn on_frame(&mut self, _: &mut Conn<S>, _: &[u8]) -> Result<(), CloseReason> {
            Ok(())
        }
        fn admit(&mut self, _: &Conn<S>, _: &ServerFrame) -> bool {
            true
        }
        async fn on_end(&mut self, _: SessionLink, _: Arc<ServerCtx>) {}
    }

    fn frame(n: usize) -> Outbound {
        Outbound::Frame(SharedFrame::plain(ServerFrame::Error(ErrorFrame {
            code: ErrorCode::Internal,
            message: format!("frame {n}"),
            conversation: None,
        })))
    }

    /// A session of `Open` on a [`Socket`], with the link to its queue.
    async fn session() -> (
        crate::RunningServer,
        Conn<Socket>,
        OutboundRx,
        std::path::PathBuf,
    ) {
        let dir = std::env::temp_dir().join(format!(
            "luukku-session-test-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = crate::start(Config::demo(&dir), listener).await.unwrap();
        let (link, rx) = delivery::channel(SessionId("test".into()));
        let conn = Conn {
            ws: Socket::default(),
            codec: Codec::Json,
            ctx: server.ctx.clone(),
            link,
        };
        (server, conn, rx, dir)
    }

    #[tokio::test]
    async fn queued_frames_are_written_in_order() {
        let (server, mut conn, rx, dir) = session().await;
        let link = conn.link.clone();
        let written = conn.ws.written.clone();
        for n in 0..3 {
            assert!(link.deliver(frame(n)));
        }
        let batch = [3, 4].map(|n| match frame(n) {
            Outbound::Frame(f) => f,
            Outbound::Batch(_) => unreachable!(),
        });
        assert!(link.deliver(Outbound::Batch(batch.into())));
        let cancel = server.ctx.cancel.clone();
        let ending = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            cancel.cancel();
        });
        let result = serve(&mut conn, Open, rx, Endpoint::Client).await;
        assert!(matches!(result, Err(CloseReason(1001, _))));
        ending.await.unwrap();
        let texts: Vec<String> = written
            .lock()
            .unwrap()
            .iter()
            .map(|m| m.to_text().unwrap().to_owned())
            .collect();
        assert_eq!(texts.len(), 5, "{texts:?}");
        for (n, t) in texts.iter().enumerate() {
            assert!(t.contains(&format!("frame {n}")), "{t}");
        }
        assert!(link.is_gone(), "the queue closes with the session");
        server.shutdown().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_full_queue_closes_the_session_as_a_slow_consumer() {
        let (server, mut conn, rx, dir) = session().await;
        let link = conn.link.clone();
        for n in 0..delivery::OUTBOUND_CAPACITY {
            assert!(link.deliver(frame(n)));
        }
        assert!(!link.deliver(frame(0)), "one more than the queue holds");
        let result = serve(&mut conn, Open, rx, Endpoint::Client).await;
        assert!(matches!(result, Err(CloseReason(1008, "slow_consumer"))));
        assert!(
            conn.ws.written.lock().unwrap().is_empty(),
            "the backlog is dropped"
        );
        let counted = server
            .ctx
            .metrics
            .slow_consumers
            .with_label_values(&["client"])
            .get();
        assert_eq!(counted, 1);
        server.shutdown().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}

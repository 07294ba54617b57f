//! [`Conn`], the socket and what every handler needs to answer on it: frames built for this
//! session written at once, queued frames (from its outbound queue) written in batches with
//! one flush, and the close frame.

use super::{CloseReason, Handler};
use crate::context::ServerCtx;
use crate::conversation::ConvError;
use crate::delivery::{Outbound, OutboundRx, SessionLink, SharedFrame};
use console_protocol::{Codec, ConversationId, Envelope, ErrorCode, ErrorFrame, ServerFrame};
use futures_util::{Sink, SinkExt};
use std::sync::Arc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Frames written per flush when the outbound queue has a backlog.
const WRITE_BATCH: usize = 64;

/// The socket plus what every handler needs to answer on it.
pub(crate) struct Conn<S> {
    pub(super) ws: S,
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
        self.reject(req, code, message.into(), None).await
    }

    /// Writes an `error` frame about a conversation the sender named, as its actor would.
    pub async fn error_about(
        &mut self,
        req: Option<String>,
        conversation: ConversationId,
        e: &ConvError,
    ) -> Result<(), WsError> {
        self.reject(req, e.code(), e.to_string(), Some(conversation))
            .await
    }

    /// Counts a refused frame and answers it with an `error` frame.
    async fn reject(
        &mut self,
        req: Option<String>,
        code: ErrorCode,
        message: String,
        conversation: Option<ConversationId>,
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
                message,
                conversation,
                fields: None,
            }),
        )
        .await
    }

    /// Buffers a queued frame (a plain function: its future is part of every idle session's).
    fn feed(&mut self, f: &SharedFrame) -> futures_util::sink::Feed<'_, S, Message> {
        let m = self.message(f.encoded(self.codec));
        self.ws.feed(m)
    }

    pub(super) async fn close(&mut self, code: u16, reason: &str) {
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

/// How writing the outbound queue ended a session.
pub(super) enum WriteEnd {
    /// The socket is gone.
    Gone,
    /// The handler ended the session (its access log could not be written).
    Close(CloseReason),
}

/// Writes a queued frame and whatever else is queued behind it (up to [`WRITE_BATCH`]),
/// each if the handler admits it and then lets it through `before_write`, then flushes once.
pub(super) async fn write_outbound<S, H>(
    conn: &mut Conn<S>,
    handler: &mut H,
    rx: &mut OutboundRx,
    first: Outbound,
) -> Result<(), WriteEnd>
where
    S: Sink<Message, Error = WsError> + Unpin,
    H: Handler<S>,
{
    let mut frames = Vec::new();
    let mut next = Some(first);
    while let Some(out) = next.take() {
        match out {
            Outbound::Frame(f) => frames.push(f),
            Outbound::Batch(v) => frames.extend(v),
        }
        if frames.len() < WRITE_BATCH {
            next = rx.try_next();
        }
    }
    frames.retain(|f| {
        let admitted = handler.admit(conn, &f.frame.frame);
        if !admitted {
            tracing::warn!("dropped a frame for a conversation this session is not in");
        }
        admitted
    });
    let shown: Vec<&ServerFrame> = frames.iter().map(|f| &f.frame.frame).collect();
    let ctx = conn.ctx.clone();
    let allowed = handler
        .before_write(&ctx, &shown)
        .await
        .map_err(WriteEnd::Close)?;
    for (f, allowed) in frames.iter().zip(allowed) {
        if allowed {
            conn.feed(f).await.map_err(|_| WriteEnd::Gone)?;
        } else if let (Some(req), Some(c)) = (&f.frame.req, f.conversation()) {
            // A refused answer still answers (a history whose conversation was handed to
            // someone else between the actor's decision and this one): the asker is told it
            // may not see it, rather than waiting for ever.
            let e = ConvError::Forbidden;
            let refusal = SharedFrame::new(Envelope::reply(
                Some(req.clone()),
                ServerFrame::Error(ErrorFrame {
                    code: e.code(),
                    message: e.to_string(),
                    conversation: Some(c.clone()),
                    fields: None,
                }),
            ));
            conn.feed(&refusal).await.map_err(|_| WriteEnd::Gone)?;
        }
    }
    conn.ws.flush().await.map_err(|_| WriteEnd::Gone)
}

//! One task per WebSocket connection: it reads frames and hands them to the endpoint's
//! [`Session`], writes that session's direct replies, and writes whatever peers queued in its
//! outbox (pre-serialized bytes, in batches with one flush each).

use crate::hub::{encode, Out, Room};
use console_protocol::{Codec, ConversationId, Envelope, ErrorCode, ErrorFrame, ServerFrame};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::CancellationToken;

/// The first frame must be `hello`, within this time (close 4408 otherwise).
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Outbox frames written per flush.
const WRITE_BATCH: usize = 64;
/// How long the close frame may take to go out.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

pub type Ws = WebSocketStream<TcpStream>;

/// Whether the connection goes on after a frame.
pub enum Flow {
    Continue,
    /// Close with this code and reason.
    Close(u16, &'static str),
}

/// What one endpoint does with its frames.
pub trait Session {
    /// `hello` was received.
    fn greeted(&self) -> bool;
    /// One inbound data frame; direct replies go to `replies`.
    fn on_frame(&mut self, bytes: &[u8], replies: &mut Replies) -> Flow;
    /// A room was assigned to this connection (consoles only).
    fn on_join(&mut self, room: Arc<Room>);
    /// The connection ended.
    fn on_end(&mut self);
}

/// Direct replies to the frame being handled, serialized in the connection's codec.
pub struct Replies {
    codec: Codec,
    out: Vec<Message>,
}

impl Replies {
    fn new(codec: Codec) -> Self {
        Self {
            codec,
            out: Vec::new(),
        }
    }

    /// A reply echoing `req`.
    pub fn send(&mut self, req: Option<String>, frame: ServerFrame) {
        if let Some(message) = encode(self.codec, &Envelope::reply(req, frame)) {
            self.out.push(message);
        }
    }

    /// An `error` reply.
    pub fn error(
        &mut self,
        req: Option<String>,
        code: ErrorCode,
        message: &str,
        conversation: Option<ConversationId>,
    ) {
        let frame = ServerFrame::Error(ErrorFrame {
            code,
            message: message.to_owned(),
            conversation,
            fields: None,
        });
        self.send(req, frame);
    }

    /// `error bad_frame` for a frame that did not decode, echoing its `req` if readable.
    pub fn undecodable(&mut self, bytes: &[u8], e: &console_protocol::CodecError) {
        let req = self.codec.peek_req(bytes);
        self.error(req, ErrorCode::BadFrame, &e.to_string(), None);
    }
}

/// Runs a connection until either side closes it.
pub async fn run<S: Session>(
    mut ws: Ws,
    mut session: S,
    codec: Codec,
    mut outbox: mpsc::Receiver<Out>,
    kill: CancellationToken,
) {
    let mut replies = Replies::new(codec);
    let hello_deadline = tokio::time::sleep(HELLO_TIMEOUT);
    tokio::pin!(hello_deadline);
    let close = loop {
        tokio::select! {
            biased;
            () = kill.cancelled() => break Some((1008, "slow_consumer")),
            () = &mut hello_deadline, if !session.greeted() => break Some((4408, "no hello in time")),
            Some(first) = outbox.recv() => {
                if write_outbox(&mut ws, &mut session, first, &mut outbox).await.is_err() {
                    break None;
                }
            }
            incoming = ws.next() => {
                let message = match incoming {
                    Some(Ok(message)) => message,
                    Some(Err(_)) | None => break None,
                };
                let flow = match &message {
                    Message::Text(text) => session.on_frame(text.as_bytes(), &mut replies),
                    Message::Binary(bytes) => session.on_frame(bytes, &mut replies),
                    Message::Close(_) => {
                        // Sends tungstenite's queued reply to the peer's close.
                        let _ = ws.close(None).await;
                        break None;
                    }
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
                };
                if write_replies(&mut ws, &mut replies).await.is_err() {
                    break None;
                }
                if let Flow::Close(code, reason) = flow {
                    break Some((code, reason));
                }
            }
        }
    };
    session.on_end();
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, ws.close(Some(frame))).await;
    }
}

async fn write_replies(ws: &mut Ws, replies: &mut Replies) -> Result<(), ()> {
    if replies.out.is_empty() {
        return Ok(());
    }
    for message in replies.out.drain(..) {
        ws.feed(message).await.map_err(drop)?;
    }
    ws.flush().await.map_err(drop)
}

/// Writes `first` and whatever else is queued (up to a batch), then flushes once.
async fn write_outbox<S: Session>(
    ws: &mut Ws,
    session: &mut S,
    first: Out,
    outbox: &mut mpsc::Receiver<Out>,
) -> Result<(), ()> {
    let mut next = Some(first);
    let mut written = 0;
    while let Some(out) = next.take() {
        let message = match out {
            Out::Frame(message) => message,
            Out::Join(room, message) => {
                session.on_join(room);
                message
            }
        };
        ws.feed(message).await.map_err(drop)?;
        written += 1;
        if written < WRITE_BATCH {
            next = outbox.try_recv().ok();
        }
    }
    ws.flush().await.map_err(drop)
}

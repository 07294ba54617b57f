//! The HTTP endpoints' way in to conversations: a client or console session over an in-memory
//! socket, run where every WebSocket session of this node runs (here on a single node or the
//! cluster's primary, through the tunnel on a door), so that only the primary writes and every
//! access is decided where it is for WebSocket clients. The bridge says `hello` (with the
//! caller's credentials), sends one request ([`ask`]: a form's `submit_form`, a document's
//! `send`, a `history` read) and returns the frame answering it.

use super::upgrade::{serve_socket, serve_where};
use crate::context::ServerCtx;
use crate::session::Endpoint;
use crate::tunnel::Exchange;
use console_protocol::{
    ClientFrame, ClientHello, Codec, Envelope, ErrorCode, ErrorFrame, FormReceived, ServerFrame,
    SubmitForm,
};
use futures_util::{Sink, Stream};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_util::sync::PollSender;
use tracing::Instrument;

/// Frames buffered each way: the bridge sends two and waits for a handful (welcome, the reply
/// and perhaps an event of the new conversation); the session waits when it is full.
const SOCKET_FRAMES: usize = 16;

/// How long the bridge waits for the session's reply before answering 503.
const REPLY_TIMEOUT: Duration = Duration::from_secs(15);

/// The `req` of the bridge's request, which the reply echoes.
const REQ: &str = "http";

/// The session's side of an in-memory WebSocket: what the bridge sends is read from `rx`,
/// what the session writes goes to `tx`.
pub struct MemorySocket {
    rx: mpsc::Receiver<Message>,
    tx: PollSender<Message>,
}

/// The bridge's side of a [`MemorySocket`].
pub struct Peer {
    pub tx: mpsc::Sender<Message>,
    pub rx: mpsc::Receiver<Message>,
}

/// A connected pair: dropping the [`Peer`] ends the session's stream, as a closed socket.
pub fn socket_pair() -> (MemorySocket, Peer) {
    let (to_session, from_peer) = mpsc::channel(SOCKET_FRAMES);
    let (to_peer, from_session) = mpsc::channel(SOCKET_FRAMES);
    let socket = MemorySocket {
        rx: from_peer,
        tx: PollSender::new(to_peer),
    };
    let peer = Peer {
        tx: to_session,
        rx: from_session,
    };
    (socket, peer)
}

impl Stream for MemorySocket {
    type Item = Result<Message, WsError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx).map(|m| m.map(Ok))
    }
}

impl Sink<Message> for MemorySocket {
    type Error = WsError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        self.tx
            .poll_reserve(cx)
            .map_err(|_| WsError::ConnectionClosed)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), WsError> {
        self.tx
            .send_item(item)
            .map_err(|_| WsError::ConnectionClosed)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        self.tx.close();
        Poll::Ready(Ok(()))
    }
}

/// What the session answered a bridged request.
#[derive(Debug)]
pub enum Answer {
    /// The frame that echoed the request's `req` (its reply or an `error`).
    Reply(Box<ServerFrame>),
    /// The bearer token was refused (the session closed with 4401).
    Unauthorized,
    /// The request was over the server's frame limit (the session closed with 1009).
    TooLarge,
    /// No session could take it, or it did not answer in time.
    Unavailable(&'static str),
}

/// Runs a session of `endpoint` (here or on the primary), says `hello` to it, sends `request`
/// and waits for the frame answering it. Dropping the session's socket ends it.
pub async fn ask(
    ctx: &Arc<ServerCtx>,
    exchange: &Option<Arc<Exchange>>,
    endpoint: Endpoint,
    hello: String,
    request: String,
) -> Answer {
    let serve = match serve_where(ctx, exchange) {
        Ok(serve) => serve,
        Err(why) => return Answer::Unavailable(why),
    };
    let (socket, mut peer) = socket_pair();
    let span = tracing::info_span!("http_bridge", endpoint = ?endpoint);
    let session = serve_socket(socket, endpoint, Codec::Json, None, serve, ctx);
    ctx.tracker.spawn(session.instrument(span));
    for text in [hello, request] {
        if peer.tx.send(Message::text(text)).await.is_err() {
            return Answer::Unavailable("the session ended before the request was sent");
        }
    }
    match tokio::time::timeout(REPLY_TIMEOUT, reply(&mut peer)).await {
        Ok(answer) => answer,
        Err(_) => Answer::Unavailable("no answer in time; try again"),
    }
}

/// Encodes a client or console request with the bridge's `req`.
pub fn encode<T: serde::Serialize>(frame: T) -> String {
    serde_json::to_string(&Envelope::reply(Some(REQ.to_owned()), frame)).unwrap_or_default()
}

/// Encodes a `hello` (without the `req`: its `welcome` is not the answer awaited).
pub fn greeting<T: serde::Serialize>(hello: T) -> String {
    serde_json::to_string(&Envelope::new(hello)).unwrap_or_default()
}

/// What became of a submission.
#[derive(Debug)]
pub enum Outcome {
    /// Stored (or stored before, for a known `client_ref`).
    Received(FormReceived),
    /// The session's `error` frame.
    Refused(ErrorFrame),
    /// The bearer token was refused (the session closed with 4401).
    Unauthorized,
    /// No session could take it, or it did not answer in time.
    Unavailable(&'static str),
}

/// Submits `form` as a client (identified by `token`, else anonymous) and waits for the answer.
pub async fn submit(
    ctx: &Arc<ServerCtx>,
    exchange: &Option<Arc<Exchange>>,
    token: Option<String>,
    form: SubmitForm,
) -> Outcome {
    let hello = greeting(ClientFrame::Hello(ClientHello {
        token,
        resume: Vec::new(),
    }));
    let submit = encode(ClientFrame::SubmitForm(form));
    match ask(ctx, exchange, Endpoint::Client, hello, submit).await {
        Answer::Reply(frame) => match *frame {
            ServerFrame::FormReceived(r) => Outcome::Received(r),
            ServerFrame::Error(e) => Outcome::Refused(e),
            _ => Outcome::Unavailable("the session answered something else"),
        },
        Answer::Unauthorized => Outcome::Unauthorized,
        Answer::TooLarge => Outcome::Refused(ErrorFrame {
            code: ErrorCode::TooLarge,
            message: "the form is larger than this server accepts".into(),
            conversation: None,
            fields: None,
        }),
        Answer::Unavailable(why) => Outcome::Unavailable(why),
    }
}

/// Reads the session's frames until the one echoing the request's `req` (or the session's end).
async fn reply(peer: &mut Peer) -> Answer {
    while let Some(m) = peer.rx.recv().await {
        let text = match m {
            Message::Text(t) => t,
            Message::Close(Some(c)) if u16::from(c.code) == 4401 => return Answer::Unauthorized,
            // Over the server's frame limit (configured below the body limit).
            Message::Close(Some(c)) if u16::from(c.code) == 1009 => return Answer::TooLarge,
            Message::Close(_) => break,
            _ => continue,
        };
        let Ok(envelope) = serde_json::from_str::<Envelope<ServerFrame>>(text.as_str()) else {
            continue;
        };
        if envelope.req.as_deref() == Some(REQ) {
            return Answer::Reply(Box::new(envelope.frame));
        }
    }
    Answer::Unavailable("the session ended without an answer")
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{SinkExt, StreamExt};

    #[tokio::test]
    async fn the_pair_carries_frames_both_ways_and_ends_with_the_peer() {
        let (mut socket, mut peer) = socket_pair();
        peer.tx.send(Message::text("in")).await.expect("send");
        assert_eq!(
            socket.next().await.and_then(Result::ok),
            Some(Message::text("in"))
        );
        socket.send(Message::text("out")).await.expect("send");
        assert_eq!(peer.rx.recv().await, Some(Message::text("out")));
        drop(peer);
        assert!(socket.next().await.is_none());
        assert!(socket.send(Message::text("late")).await.is_err());
    }
}

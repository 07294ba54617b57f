//! The door's side of a tunnel: the socket stays here and its frames go, as they are, to the
//! primary's inbox; what the primary's session writes comes back numbered and is written to
//! the socket in order. A gap, a lost bus or a change of primary closes the socket with 1012
//! (the client reconnects and resumes by `seq`); the primary's own close code is passed on.

use super::wire::Wire;
use super::{Exchange, ToDoor};
use crate::metrics::Metrics;
use crate::session::Endpoint;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_util::sync::CancellationToken;

/// Frames written to the socket per flush when several are waiting.
const WRITE_BATCH: usize = 64;

/// How the tunnel ended.
enum End {
    /// The client closed its socket (or it broke): the primary is told.
    ClientGone,
    /// The primary's session ended with this close.
    Shut(u16, String),
    /// This node ends it (shutdown, a gap, a lost bus, a new primary): the primary is told.
    Abort(u16, String),
}

/// Serves one socket through the primary `primary` until either side ends it.
pub async fn run<S>(
    mut ws: S,
    endpoint: Endpoint,
    protocols: Option<String>,
    primary: String,
    ex: Arc<Exchange>,
    metrics: Arc<Metrics>,
    cancel: CancellationToken,
) where
    S: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin + Send,
{
    let (tunnel, mut rx, mut abort) = ex.register_door(primary.clone());
    let held = metrics
        .tunnelled_connections
        .with_label_values(&[endpoint.as_str()]);
    held.inc();
    let mut sent = 0u64;
    let mut send = |wire: Wire| {
        sent += 1;
        ex.publish(&primary, &ex.node, tunnel, sent, wire);
    };
    send(Wire::Open {
        endpoint: endpoint.as_str().to_owned(),
        protocols,
    });
    let mut expect = 1u64;
    let end = loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => break End::Abort(1001, "server shutting down".into()),
            _ = abort.changed() => {
                let why = *abort.borrow();
                if let Some((code, reason)) = why {
                    break End::Abort(code, reason.into());
                }
            }
            msg = rx.recv() => {
                let Some(mut msg) = msg else {
                    break End::Abort(1012, "tunnel closed".into());
                };
                let mut written = 0;
                let ended = loop {
                    match msg {
                        ToDoor::Out { n, .. } | ToDoor::Shut { n, .. } if n < expect => {}
                        ToDoor::Out { n, .. } | ToDoor::Shut { n, .. } if n > expect => {
                            break Some(End::Abort(1012, "tunnel interrupted; reconnect".into()));
                        }
                        ToDoor::Out { data, binary, .. } => {
                            expect += 1;
                            let m = if binary {
                                Message::Binary(data)
                            } else {
                                match tokio_tungstenite::tungstenite::Utf8Bytes::try_from(data) {
                                    Ok(t) => Message::Text(t),
                                    Err(_) => Message::Binary(bytes::Bytes::new()),
                                }
                            };
                            if ws.feed(m).await.is_err() {
                                break Some(End::ClientGone);
                            }
                            written += 1;
                        }
                        ToDoor::Shut { code, reason, .. } => break Some(End::Shut(code, reason)),
                    }
                    if written >= WRITE_BATCH {
                        break None;
                    }
                    match rx.try_recv() {
                        Ok(next) => msg = next,
                        Err(_) => break None,
                    }
                };
                if ws.flush().await.is_err() {
                    break End::ClientGone;
                }
                if let Some(end) = ended {
                    break end;
                }
            }
            m = ws.next() => match m {
                Some(Ok(Message::Text(t))) => send(Wire::In { data: t.into(), binary: false }),
                Some(Ok(Message::Binary(b))) => send(Wire::In { data: b, binary: true }),
                Some(Err(WsError::Capacity(_))) => break End::Abort(1009, "frame too large".into()),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break End::ClientGone,
                Some(Ok(_)) => {}
            },
        }
    };
    ex.doors.remove(&tunnel);
    held.dec();
    let close = match end {
        End::ClientGone => {
            send(Wire::Gone);
            None
        }
        End::Abort(code, reason) => {
            send(Wire::Gone);
            Some((code, reason))
        }
        End::Shut(code, reason) => Some((code, reason)),
    };
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), ws.send(Message::Close(Some(frame))))
            .await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close()).await;
}

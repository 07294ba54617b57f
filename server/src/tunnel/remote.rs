//! The primary's side of a tunnel: a socket made of the tunnel, on which an ordinary session
//! runs. What the door sent arrives on `rx`; what the session writes is published to the
//! door's inbox, numbered, as it is written (the bus keeps one node's publications in order).

use super::wire::{Envelope, Wire};
use crate::bus::RedisBus;
use futures_util::{Sink, Stream};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// A tunnel, seen by the session on the primary as its WebSocket.
pub(super) struct RemoteSocket {
    bus: Arc<RedisBus>,
    channel: String,
    door: String,
    tunnel: u64,
    /// The `n` of the last message published to the door.
    n: u64,
    rx: mpsc::Receiver<Message>,
    /// Cancelled when the door is gone: the stream ends.
    ended: Pin<Box<WaitForCancellationFutureOwned>>,
    shut: bool,
}

impl RemoteSocket {
    pub(super) fn new(
        bus: Arc<RedisBus>,
        door: String,
        tunnel: u64,
        rx: mpsc::Receiver<Message>,
        end: CancellationToken,
    ) -> Self {
        RemoteSocket {
            channel: bus.channels.node(&door),
            bus,
            door,
            tunnel,
            n: 0,
            rx,
            ended: Box::pin(end.cancelled_owned()),
            shut: false,
        }
    }

    fn send(&mut self, wire: Wire) {
        self.n += 1;
        let e = Envelope {
            door: self.door.clone(),
            tunnel: self.tunnel,
            n: self.n,
            wire,
        };
        self.bus.publish(self.channel.clone(), e.encode());
    }

    fn shut(&mut self, code: u16, reason: String) {
        if !self.shut {
            self.shut = true;
            self.send(Wire::Shut { code, reason });
        }
    }
}

impl Stream for RemoteSocket {
    type Item = Result<Message, WsError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Poll::Ready(m) = self.rx.poll_recv(cx) {
            return Poll::Ready(m.map(Ok));
        }
        match self.ended.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Sink<Message> for RemoteSocket {
    type Error = WsError;

    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        if self.shut {
            return Poll::Ready(Err(WsError::ConnectionClosed));
        }
        Poll::Ready(Ok(()))
    }

    fn start_send(mut self: Pin<&mut Self>, m: Message) -> Result<(), WsError> {
        if self.shut {
            return Err(WsError::ConnectionClosed);
        }
        match m {
            Message::Text(t) => self.send(Wire::Out {
                data: t.into(),
                binary: false,
            }),
            Message::Binary(b) => self.send(Wire::Out {
                data: b,
                binary: true,
            }),
            Message::Close(frame) => {
                let (code, reason) = frame
                    .map(|f| (u16::from(f.code), f.reason.to_string()))
                    .unwrap_or((1000, String::new()));
                self.shut(code, reason);
            }
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        self.shut(1000, String::new());
        Poll::Ready(Ok(()))
    }
}

impl Drop for RemoteSocket {
    fn drop(&mut self) {
        // A session that ended without closing (its door went away) still tells the door.
        self.shut(1011, "session ended".into());
    }
}

use std::future::Future;

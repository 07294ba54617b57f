//! The session after its hello: one loop waits for the peer's frames, the outbound queue and
//! shutdown, enforces the rate limit, and hands each frame to the endpoint's [`Handler`].

use super::conn::{write_outbound, Conn, WriteEnd};
use super::{rate, CloseReason, Endpoint, Handler};
use crate::delivery::{Next, Outbound, OutboundRx};
use console_protocol::ErrorCode;
use futures_util::{Sink, Stream, StreamExt};
use std::future::Future;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Rate-limited frames in a row after which the connection is closed with 4429.
const RATE_STRIKES_BEFORE_CLOSE: u32 = 200;

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
pub(super) fn serve<'a, S, H>(
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
                    match Box::pin(write).await {
                        Ok(()) => continue,
                        Err(WriteEnd::Gone) => break Ok(()),
                        Err(WriteEnd::Close(reason)) => break Err(reason),
                    }
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

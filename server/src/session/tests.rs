//! The session loop driven through channels and a stand-in socket: queued frames are written
//! in order, and a full queue cuts the session off as a slow consumer.
#![allow(clippy::unwrap_used)]

use super::serve::serve;
use super::{CloseReason, Conn, Endpoint, Handler};
use crate::config::Config;
use crate::context::ServerCtx;
use crate::delivery::{self, Outbound, OutboundRx, SessionLink, SharedFrame};
use console_protocol::{Codec, ErrorCode, ErrorFrame, ServerFrame, SessionId};
use futures_util::task::{Context, Poll};
use futures_util::{Sink, Stream};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

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
        fields: None,
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

/// A handler whose gate refuses every frame (the access policy said no).
struct Refusing;

impl<S: Send> Handler<S> for Refusing {
    async fn on_frame(&mut self, _: &mut Conn<S>, _: &[u8]) -> Result<(), CloseReason> {
        Ok(())
    }
    fn admit(&mut self, _: &Conn<S>, _: &ServerFrame) -> bool {
        true
    }
    async fn before_write(
        &mut self,
        _: &ServerCtx,
        frames: &[&ServerFrame],
    ) -> Result<Vec<bool>, CloseReason> {
        Ok(vec![false; frames.len()])
    }
    async fn on_end(&mut self, _: SessionLink, _: Arc<ServerCtx>) {}
}

#[tokio::test]
async fn a_refused_answer_is_answered_with_forbidden_and_other_refused_frames_are_dropped() {
    let (server, mut conn, rx, dir) = session().await;
    let link = conn.link.clone();
    let written = conn.ws.written.clone();
    let history = console_protocol::History {
        conversation: "c1".into(),
        events: Vec::new(),
    };
    assert!(link.reply(Some("h1".into()), ServerFrame::History(history.clone())));
    assert!(link.frame(SharedFrame::plain(ServerFrame::History(history))));
    let cancel = server.ctx.cancel.clone();
    let ending = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        cancel.cancel();
    });
    let _ = serve(&mut conn, Refusing, rx, Endpoint::Client).await;
    ending.await.unwrap();
    let frames: Vec<serde_json::Value> = written
        .lock()
        .unwrap()
        .iter()
        .filter_map(|m| m.to_text().ok().and_then(|t| serde_json::from_str(t).ok()))
        .filter(|v: &serde_json::Value| v["type"] != "closing")
        .collect();
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0]["type"], "error");
    assert_eq!(frames[0]["req"], "h1");
    assert_eq!(frames[0]["code"], "forbidden");
    assert_eq!(frames[0]["conversation"], "c1");
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

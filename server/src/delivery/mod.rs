//! What actors hand to a session: frames encoded at most once per codec and shared by every
//! recipient, and the [`SessionLink`] through which they are delivered without blocking.
//!
//! The queue behind a link is a mutex-guarded `VecDeque` with the capacity checked by hand
//! rather than a `tokio::sync::mpsc` channel: an idle session's queue costs one small
//! allocation and nothing for its items, where a tokio channel allocates about 1.3 KiB up front
//! (a cache-padded channel and a first block of 32 slots), plus a cancellation token for the
//! cut-off. Every connection has a queue, most of them idle.

use bytes::Bytes;
use console_protocol::{Codec, ConversationId, Envelope, ServerFrame, SessionId};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};

/// Frames a session may have queued before it counts as a slow consumer. Large enough for a
/// burst of fan-out to a professional with many chats, small enough to bound memory.
pub const OUTBOUND_CAPACITY: usize = 256;

/// A server frame, serialized lazily once per codec and shared between recipients.
#[derive(Debug)]
pub struct SharedFrame {
    pub frame: Envelope<ServerFrame>,
    json: OnceLock<Bytes>,
    msgpack: OnceLock<Bytes>,
}

impl SharedFrame {
    /// Wraps a frame.
    pub fn new(frame: Envelope<ServerFrame>) -> Arc<Self> {
        Arc::new(SharedFrame {
            frame,
            json: OnceLock::new(),
            msgpack: OnceLock::new(),
        })
    }

    /// Wraps a frame without `req`.
    pub fn plain(frame: ServerFrame) -> Arc<Self> {
        Self::new(Envelope::new(frame))
    }

    /// The encoding for `codec` (computed on first use).
    pub fn encoded(&self, codec: Codec) -> Bytes {
        let cell = match codec {
            Codec::Json => &self.json,
            Codec::MessagePack => &self.msgpack,
        };
        cell.get_or_init(|| Bytes::from(codec.encode(&self.frame).unwrap_or_default()))
            .clone()
    }

    /// The conversation this frame belongs to, if any.
    pub fn conversation(&self) -> Option<&ConversationId> {
        frame_conversation(&self.frame.frame)
    }
}

/// The conversation a server frame is about.
pub fn frame_conversation(f: &ServerFrame) -> Option<&ConversationId> {
    Some(match f {
        ServerFrame::Queued(x) => &x.conversation,
        ServerFrame::Queue(x) => &x.conversation,
        ServerFrame::Ack(x) => &x.conversation,
        ServerFrame::Message(x) | ServerFrame::Note(x) => &x.conversation,
        ServerFrame::System(x) => &x.conversation,
        ServerFrame::Typing(x) => &x.conversation,
        ServerFrame::Read(x) => &x.conversation,
        ServerFrame::Closed(x) => &x.conversation,
        ServerFrame::Assigned(x) => &x.conversation,
        ServerFrame::Released(x) => &x.conversation,
        ServerFrame::History(x) => &x.conversation,
        ServerFrame::Error(x) => return x.conversation.as_ref(),
        _ => return None,
    })
}

/// One item of a session's outbound queue.
#[derive(Debug)]
pub enum Outbound {
    Frame(Arc<SharedFrame>),
    /// A replay: many frames in one queue slot.
    Batch(Vec<Arc<SharedFrame>>),
}

/// A queue emptied with more slots than this gives its memory back (an idle session keeps
/// none, a busy one keeps what its bursts need).
const KEEP_SLOTS: usize = 16;

/// The state shared by a session's [`SessionLink`]s and its [`OutboundRx`].
#[derive(Debug, Default)]
struct Queue {
    state: Mutex<QueueState>,
}

#[derive(Debug, Default)]
struct QueueState {
    items: VecDeque<Outbound>,
    /// The session task waiting for an item or the cut-off.
    waker: Option<Waker>,
    /// The session could not keep up and is to close (`slow_consumer`).
    cut_off: bool,
    /// The session stopped reading its queue (it ended).
    closed: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // No code panics while holding the lock; a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A new session's outbound queue: the link that actors deliver through and the session's
/// end, which reads it.
pub fn channel(id: SessionId) -> (SessionLink, OutboundRx) {
    let queue = Arc::new(Queue::default());
    (
        SessionLink {
            id,
            queue: queue.clone(),
        },
        OutboundRx { queue },
    )
}

/// How actors reach a session: a bounded queue ([`OUTBOUND_CAPACITY`] items) that cuts the
/// session off when it is full.
#[derive(Debug, Clone)]
pub struct SessionLink {
    pub id: SessionId,
    queue: Arc<Queue>,
}

impl SessionLink {
    /// Hands over a frame without waiting. A full queue cuts the session off (it will resume
    /// by `seq`); returns false when the frame was not queued.
    pub fn deliver(&self, item: Outbound) -> bool {
        let mut state = self.queue.lock();
        if state.closed || state.cut_off {
            return false;
        }
        let queued = state.items.len() < OUTBOUND_CAPACITY;
        if queued {
            state.items.push_back(item);
        } else {
            state.cut_off = true;
        }
        let waker = state.waker.take();
        drop(state);
        if let Some(w) = waker {
            w.wake();
        }
        queued
    }

    /// Delivers one frame.
    pub fn frame(&self, f: Arc<SharedFrame>) -> bool {
        self.deliver(Outbound::Frame(f))
    }

    /// Delivers a frame built just for this session.
    pub fn reply(&self, req: Option<String>, f: ServerFrame) -> bool {
        self.frame(SharedFrame::new(Envelope::reply(req, f)))
    }

    /// True once the session has gone or was cut off.
    pub fn is_gone(&self) -> bool {
        let state = self.queue.lock();
        state.closed || state.cut_off
    }
}

/// What a session reads from its queue.
#[derive(Debug)]
pub enum Next {
    Item(Outbound),
    /// The queue overflowed: the session is to close with `slow_consumer`.
    CutOff,
}

/// The session's end of its queue. Dropping it closes the queue: links see the session gone
/// and what was still queued is dropped.
#[derive(Debug)]
pub struct OutboundRx {
    queue: Arc<Queue>,
}

impl OutboundRx {
    /// The next item, in order; the cut-off comes before anything still queued.
    pub async fn next(&mut self) -> Next {
        poll_fn(|cx| self.poll_next(cx)).await
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Next> {
        let mut state = self.queue.lock();
        if state.cut_off {
            return Poll::Ready(Next::CutOff);
        }
        if let Some(item) = pop(&mut state) {
            return Poll::Ready(Next::Item(item));
        }
        if !state
            .waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            state.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// The next queued item, if there is one right now.
    pub fn try_next(&mut self) -> Option<Outbound> {
        pop(&mut self.queue.lock())
    }
}

fn pop(state: &mut QueueState) -> Option<Outbound> {
    let item = state.items.pop_front()?;
    if state.items.is_empty() && state.items.capacity() > KEEP_SLOTS {
        state.items = VecDeque::new();
    }
    Some(item)
}

impl Drop for OutboundRx {
    fn drop(&mut self) {
        let mut state = self.queue.lock();
        state.closed = true;
        state.waker = None;
        let items = std::mem::take(&mut state.items);
        drop(state);
        drop(items);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use console_protocol::ErrorCode;

    fn item(n: usize) -> Outbound {
        Outbound::Frame(SharedFrame::plain(ServerFrame::Error(
            console_protocol::ErrorFrame {
                code: ErrorCode::Internal,
                message: n.to_string(),
                conversation: None,
                fields: None,
            },
        )))
    }

    fn number(next: Next) -> String {
        match next {
            Next::Item(Outbound::Frame(f)) => match &f.frame.frame {
                ServerFrame::Error(e) => e.message.clone(),
                other => panic!("unexpected {other:?}"),
            },
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn items_arrive_in_order_and_wake_the_reader() {
        let (link, mut rx) = channel(SessionId("s".into()));
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..3 {
                got.push(number(rx.next().await));
            }
            (got, rx)
        });
        tokio::task::yield_now().await;
        for n in 0..3 {
            assert!(link.deliver(item(n)));
        }
        let (got, mut rx) = reader.await.expect("reader");
        assert_eq!(got, ["0", "1", "2"]);
        assert!(rx.try_next().is_none());
        assert!(!link.is_gone());
    }

    #[tokio::test]
    async fn a_full_queue_cuts_the_session_off_before_its_backlog() {
        let (link, mut rx) = channel(SessionId("s".into()));
        for n in 0..OUTBOUND_CAPACITY {
            assert!(link.deliver(item(n)), "item {n} fits");
        }
        assert!(!link.is_gone());
        assert!(!link.deliver(item(OUTBOUND_CAPACITY)), "the queue is full");
        assert!(link.is_gone());
        assert!(matches!(rx.next().await, Next::CutOff));
        assert!(
            !link.deliver(item(0)),
            "nothing is queued after the cut-off"
        );
    }

    #[tokio::test]
    async fn a_queue_whose_session_ended_refuses_items() {
        let (link, mut rx) = channel(SessionId("s".into()));
        assert!(link.deliver(item(0)));
        let shared = match rx.try_next() {
            Some(Outbound::Frame(f)) => f,
            other => panic!("unexpected {other:?}"),
        };
        assert!(link.deliver(Outbound::Frame(shared.clone())));
        drop(rx);
        assert!(link.is_gone());
        assert_eq!(Arc::strong_count(&shared), 1, "the queued copy was dropped");
        assert!(!link.deliver(item(1)));
    }

    #[test]
    fn an_emptied_queue_gives_back_a_large_buffer() {
        let (link, mut rx) = channel(SessionId("s".into()));
        for n in 0..100 {
            assert!(link.deliver(item(n)));
        }
        while rx.try_next().is_some() {}
        assert_eq!(rx.queue.lock().items.capacity(), 0);
        for n in 0..3 {
            assert!(link.deliver(item(n)));
        }
        while rx.try_next().is_some() {}
        assert!(
            rx.queue.lock().items.capacity() > 0,
            "a small buffer is kept"
        );
    }
}

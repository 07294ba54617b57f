//! What actors hand to a session: frames encoded at most once per codec and shared by every
//! recipient, and the [`SessionLink`] through which they are delivered without blocking.

use bytes::Bytes;
use console_protocol::{Codec, ConversationId, Envelope, ServerFrame, SessionId};
use std::sync::{Arc, OnceLock};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

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

/// How actors reach a session: a bounded queue plus a token that cuts the session off.
#[derive(Debug, Clone)]
pub struct SessionLink {
    pub id: SessionId,
    pub tx: mpsc::Sender<Outbound>,
    /// Cancelled when the session cannot keep up; the session then closes (`slow_consumer`).
    pub kill: CancellationToken,
}

impl SessionLink {
    /// Hands over a frame without waiting. A full queue cuts the session off (it will resume
    /// by `seq`); returns false when the frame was not queued.
    pub fn deliver(&self, item: Outbound) -> bool {
        match self.tx.try_send(item) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.kill.cancel();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
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
        self.tx.is_closed() || self.kill.is_cancelled()
    }
}

//! One actor per conversation ([`ConversationHandle`] → `actor::Conversation`): it owns the
//! status, participants, seq counter and typing state, writes every event to storage in seq
//! order and fans it out to the subscribed sessions only after the commit. `hub` maps ids to
//! handles and loads conversations from storage on demand.

mod actor;
pub mod hub;
#[cfg(test)]
pub(crate) mod tests;
pub mod view;

use crate::delivery::SessionLink;
use crate::storage::{ClientIdentity, StorageError};
use console_protocol::{
    ClientMsgId, ConversationId, ConversationSummary, ErrorCode, ProfessionalId, ResumeToken,
    ServiceId, TeamId, TopicId,
};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

pub use hub::Hub;

/// Commands a conversation may have queued. Sessions `send().await` into it (back-pressure);
/// 64 absorbs a burst from a professional's several sessions without much memory per actor.
const MAILBOX_CAPACITY: usize = 64;

/// Why a conversation refused a command.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConvError {
    #[error("not a participant of this conversation")]
    Forbidden,
    #[error("no such conversation")]
    NotFound,
    #[error("conversation is closed")]
    Closed,
    #[error("{0}")]
    BadState(&'static str),
    #[error("message body is too long")]
    TooLarge,
    #[error("storage failed")]
    Storage,
    #[error("conversation stopped")]
    Gone,
}

impl ConvError {
    /// The protocol error code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            ConvError::Forbidden => ErrorCode::Forbidden,
            ConvError::NotFound => ErrorCode::NotFound,
            ConvError::Closed => ErrorCode::ConversationClosed,
            ConvError::BadState(_) => ErrorCode::BadFrame,
            ConvError::TooLarge => ErrorCode::TooLarge,
            ConvError::Storage | ConvError::Gone => ErrorCode::Internal,
        }
    }
}

impl From<StorageError> for ConvError {
    fn from(_: StorageError) -> Self {
        ConvError::Storage
    }
}

/// A professional as the conversation records them.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfessionalRef {
    pub id: ProfessionalId,
    pub name: String,
    pub teams: Vec<TeamId>,
}

/// Who sent a command.
#[derive(Debug, Clone)]
pub enum Who {
    Client,
    Professional(ProfessionalRef),
}

/// The sender of a command: who, through which session, answering which `req`.
#[derive(Debug, Clone)]
pub struct Origin {
    pub who: Who,
    pub link: SessionLink,
    pub req: Option<String>,
}

/// What a router needs to (re)queue a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueTicket {
    pub conversation: ConversationId,
    pub team: TeamId,
    pub service: ServiceId,
    pub topic: Option<TopicId>,
    pub identified: bool,
    pub priority: i32,
    pub queued_at_ms: i64,
    /// Reserved for this professional (transfer to a named colleague).
    pub for_professional: Option<ProfessionalId>,
    /// Unix milliseconds of the client's first contact (not restarted by transfers).
    pub contact_at_ms: i64,
    /// The client's language.
    pub lang: Option<String>,
}

impl QueueTicket {
    /// The ticket of a stored conversation in its current state.
    pub fn of(r: &crate::storage::ConversationRecord) -> Self {
        QueueTicket {
            conversation: r.id.clone(),
            team: r.state.team.clone(),
            service: r.service.clone(),
            topic: r.topic.clone(),
            identified: r.client.identified,
            priority: r.state.priority,
            queued_at_ms: r.state.queued_at_ms,
            for_professional: r.state.reserved_for.clone(),
            contact_at_ms: r.created_at_ms,
            lang: r.lang.clone(),
        }
    }
}

/// Where a conversation stands in its queue, as the client is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// 1-based.
    pub position: u32,
    pub estimated_wait_s: u64,
    /// Somebody of the team is logged in and available.
    pub staffed: bool,
    /// Seconds since it entered this queue.
    pub waited_s: u64,
}

/// Why a conversation goes back to its team queue from a professional.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequeueReason {
    /// The professional's grace period ran out.
    Disconnected,
    /// The professional handed it back (e.g. when logging out).
    HandedBack,
}

impl RequeueReason {
    /// `detail.reason` of the `queued` event.
    pub fn detail(self) -> &'static str {
        match self {
            Self::Disconnected => "professional_disconnected",
            Self::HandedBack => "handed_back",
        }
    }

    /// `reason` of the professional's `released` frame.
    pub fn released(self) -> &'static str {
        match self {
            Self::Disconnected => "requeued",
            Self::HandedBack => "handed_back",
        }
    }
}

/// Author kind of a posted text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostKind {
    Message,
    Note,
}

type Reply<T> = oneshot::Sender<Result<T, ConvError>>;

enum Cmd {
    AttachClient {
        link: SessionLink,
        token: ResumeToken,
        after_seq: Option<u64>,
        identity: Option<ClientIdentity>,
        reply: Reply<ConversationSummary>,
    },
    AttachProfessional {
        link: SessionLink,
        professional: ProfessionalId,
        after_seq: Option<u64>,
        reply: Reply<ConversationSummary>,
    },
    Detach {
        link: SessionLink,
    },
    Post {
        origin: Origin,
        kind: PostKind,
        client_msg_id: ClientMsgId,
        body: String,
        received: Instant,
    },
    Typing {
        origin: Origin,
        active: bool,
    },
    Read {
        origin: Origin,
        seq: u64,
    },
    Assign {
        professional: ProfessionalRef,
        links: Vec<SessionLink>,
        req: Option<String>,
        reopen: bool,
        reply: Reply<()>,
    },
    Transfer {
        origin: Origin,
        to_team: TeamId,
        to_professional: Option<ProfessionalId>,
        note: Option<String>,
        reply: Reply<QueueTicket>,
    },
    Close {
        origin: Origin,
        summary: Option<String>,
        reply: Reply<()>,
    },
    Requeue {
        professional: ProfessionalId,
        reason: RequeueReason,
        req: Option<String>,
        reply: Reply<QueueTicket>,
    },
    Leave {
        origin: Origin,
        reply: Reply<bool>,
    },
    Retract {
        origin: Origin,
        seq: u64,
    },

    Feedback {
        origin: Origin,
        rating: u8,
        comment: Option<String>,
    },
    History {
        origin: Origin,
        before_seq: Option<u64>,
        limit: u32,
    },
    QueuePosition {
        place: Place,
    },
    Ticket {
        reply: Reply<QueueTicket>,
    },
}

/// A cloneable handle to one conversation actor.
#[derive(Clone)]
pub struct ConversationHandle {
    pub id: ConversationId,
    tx: mpsc::Sender<Cmd>,
    generation: u64,
}

impl ConversationHandle {
    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Cmd) -> Result<T, ConvError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| ConvError::Gone)?;
        rx.await.map_err(|_| ConvError::Gone)?
    }

    async fn tell(&self, cmd: Cmd) -> Result<(), ConvError> {
        self.tx.send(cmd).await.map_err(|_| ConvError::Gone)
    }

    /// Subscribes a client session holding `token`; events after `after_seq` are replayed first.
    ///
    /// `identity` is who the session authenticated as (`None`: anonymous). It identifies a
    /// conversation whose client is still anonymous (the `identified` event follows after its
    /// commit); a conversation identified as another subject refuses it with `Forbidden`.
    pub async fn attach_client(
        &self,
        link: SessionLink,
        token: ResumeToken,
        after_seq: Option<u64>,
        identity: Option<ClientIdentity>,
    ) -> Result<ConversationSummary, ConvError> {
        self.call(|reply| Cmd::AttachClient {
            link,
            token,
            after_seq,
            identity,
            reply,
        })
        .await
    }

    /// Subscribes a session of the assigned professional.
    pub async fn attach_professional(
        &self,
        link: SessionLink,
        professional: ProfessionalId,
        after_seq: Option<u64>,
    ) -> Result<ConversationSummary, ConvError> {
        self.call(|reply| Cmd::AttachProfessional {
            link,
            professional,
            after_seq,
            reply,
        })
        .await
    }

    /// Queues an attach of the assigned professional without waiting (the router uses this to
    /// keep attaches ordered after its assignments); the answer arrives on the returned receiver.
    pub async fn attach_professional_ordered(
        &self,
        link: SessionLink,
        professional: ProfessionalId,
        after_seq: Option<u64>,
    ) -> oneshot::Receiver<Result<ConversationSummary, ConvError>> {
        let (reply, rx) = oneshot::channel();
        let _ = self
            .tx
            .send(Cmd::AttachProfessional {
                link,
                professional,
                after_seq,
                reply,
            })
            .await;
        rx
    }

    /// Unsubscribes a session.
    pub async fn detach(&self, link: SessionLink) {
        let _ = self.tell(Cmd::Detach { link }).await;
    }

    /// Stores and delivers a message or note; the ack (or error) goes to the origin's session.
    pub async fn post(
        &self,
        origin: Origin,
        kind: PostKind,
        client_msg_id: ClientMsgId,
        body: String,
    ) -> Result<(), ConvError> {
        self.tell(Cmd::Post {
            origin,
            kind,
            client_msg_id,
            body,
            received: Instant::now(),
        })
        .await
    }

    /// Relays a typing indicator to the other side.
    pub async fn typing(&self, origin: Origin, active: bool) -> Result<(), ConvError> {
        self.tell(Cmd::Typing { origin, active }).await
    }

    /// Relays a read receipt to the other side.
    pub async fn read(&self, origin: Origin, seq: u64) -> Result<(), ConvError> {
        self.tell(Cmd::Read { origin, seq }).await
    }

    /// Queues an assignment (or a reopen) to `professional`; answered after the commit.
    pub async fn assign(
        &self,
        professional: ProfessionalRef,
        links: Vec<SessionLink>,
        req: Option<String>,
        reopen: bool,
    ) -> oneshot::Receiver<Result<(), ConvError>> {
        let (reply, rx) = oneshot::channel();
        let _ = self
            .tx
            .send(Cmd::Assign {
                professional,
                links,
                req,
                reopen,
                reply,
            })
            .await;
        rx
    }

    /// Takes the conversation from its professional and returns what to queue it with.
    pub async fn transfer(
        &self,
        origin: Origin,
        to_team: TeamId,
        to_professional: Option<ProfessionalId>,
        note: Option<String>,
    ) -> Result<QueueTicket, ConvError> {
        self.call(|reply| Cmd::Transfer {
            origin,
            to_team,
            to_professional,
            note,
            reply,
        })
        .await
    }

    /// Closes the case.
    pub async fn close(&self, origin: Origin, summary: Option<String>) -> Result<(), ConvError> {
        self.call(|reply| Cmd::Close {
            origin,
            summary,
            reply,
        })
        .await
    }

    /// Takes the conversation from its professional (who did not come back, or handed it
    /// back) and returns what to queue it with.
    pub async fn requeue(
        &self,
        professional: ProfessionalId,
        reason: RequeueReason,
        req: Option<String>,
    ) -> Result<QueueTicket, ConvError> {
        self.call(|reply| Cmd::Requeue {
            professional,
            reason,
            req,
            reply,
        })
        .await
    }

    /// The client leaves; answers after the commit whether it was still waiting (and so must
    /// leave its queue). The client's session gets the ack.
    pub async fn leave(&self, origin: Origin) -> Result<bool, ConvError> {
        self.call(|reply| Cmd::Leave { origin, reply }).await
    }

    /// A professional takes back their message `seq` (the ack or error goes to the session).
    pub async fn retract(&self, origin: Origin, seq: u64) -> Result<(), ConvError> {
        self.tell(Cmd::Retract { origin, seq }).await
    }

    /// Stores a client's rating.
    pub async fn feedback(
        &self,
        origin: Origin,
        rating: u8,
        comment: Option<String>,
    ) -> Result<(), ConvError> {
        self.tell(Cmd::Feedback {
            origin,
            rating,
            comment,
        })
        .await
    }

    /// Sends stored events to the origin's session.
    pub async fn history(
        &self,
        origin: Origin,
        before_seq: Option<u64>,
        limit: u32,
    ) -> Result<(), ConvError> {
        self.tell(Cmd::History {
            origin,
            before_seq,
            limit,
        })
        .await
    }

    /// Tells waiting clients their place in the queue (never blocks the router).
    pub fn queue_position(&self, place: Place) {
        let _ = self.tx.try_send(Cmd::QueuePosition { place });
    }

    /// What to queue this conversation with, if it is waiting.
    pub async fn ticket(&self) -> Result<QueueTicket, ConvError> {
        self.call(|reply| Cmd::Ticket { reply }).await
    }
}

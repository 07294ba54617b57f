//! The conversation actor's mailbox: the commands its handle sends, with a `oneshot` for the
//! answer where the sender waits for one.

use super::{ConvError, Origin, Place, PostKind, ProfessionalRef, QueueTicket, RequeueReason};
use crate::delivery::SessionLink;
use crate::storage::ClientIdentity;
use console_protocol::{ClientMsgId, ConversationSummary, ProfessionalId, ResumeToken, TeamId};
use std::time::Instant;
use tokio::sync::oneshot;

/// Commands a conversation may have queued. Sessions `send().await` into it (back-pressure);
/// 64 absorbs a burst from a professional's several sessions without much memory per actor.
pub(super) const MAILBOX_CAPACITY: usize = 64;

pub(super) type Reply<T> = oneshot::Sender<Result<T, ConvError>>;

pub(super) enum Cmd {
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
        /// Tickets of documents to attach (see `Auth::attachment_ticket`).
        attachments: Vec<String>,
        /// A professional's message goes to the client's phone by SMS too.
        sms: bool,
        received: Instant,
    },
    /// A patient's SMS, matched to this conversation by their number: posted as the client's
    /// message (once per provider message id); refused with `Closed` in a complete case.
    InboundSms {
        origin: Origin,
        provider_ref: String,
        number: String,
        body: String,
        received: Instant,
    },
    /// The organisation's SMS of message `seq` moved to `state` (`sent`, `delivered`,
    /// `failed`): a `system` `sms` event, answered after its commit.
    /// The transcript up to `close_seq` reached the patient record, or did not.
    RecordState {
        close_seq: u64,
        state: &'static str,
        reason: Option<String>,
        reply: Reply<()>,
    },
    /// Remove the conversation past its retention period (see `Conversation::purge`).
    Purge {
        closed_before_ms: i64,
        reply: Reply<bool>,
    },
    SmsState {
        seq: u64,
        state: &'static str,
        reason: Option<String>,
        reply: Reply<()>,
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
    /// A supervisor moves the waiting conversation to another team's queue.
    Move {
        supervisor: ProfessionalId,
        to_team: TeamId,
        reply: Reply<QueueTicket>,
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
        /// The professional stated why they read it (outside care and team).
        stated: bool,
    },
    QueuePosition {
        place: Place,
    },
    Ticket {
        reply: Reply<QueueTicket>,
    },
}

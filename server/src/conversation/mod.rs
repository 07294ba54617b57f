//! One actor per conversation ([`ConversationHandle`] → `actor::Conversation`): it owns the
//! status, participants, seq counter and typing state, writes every event to storage in seq
//! order and fans it out to the subscribed sessions only after the commit. The `handle` sends
//! it `command`s; `hub` maps ids to handles and loads conversations from storage on demand.

mod actor;
mod command;
mod handle;
pub mod hub;
pub mod inbox;
#[cfg(test)]
pub(crate) mod tests;
pub mod view;

/// Longest message or note body, in characters (a chat message, not a document).
pub const MAX_BODY_CHARS: usize = 10_000;

use crate::auth::Auth;
use crate::delivery::SessionLink;
use crate::metrics::Metrics;
use crate::organisation::Organisation;
use crate::storage::{SharedStorage, StorageError};
use console_protocol::{ConversationId, ErrorCode, ProfessionalId, ServiceId, TeamId, TopicId};
use std::sync::Arc;
use std::time::Duration;

pub use handle::ConversationHandle;
pub use hub::Hub;
pub use inbox::{InboxChange, InboxFeed, InboxItem};

/// What every conversation actor shares.
pub struct HubDeps {
    pub storage: SharedStorage,
    pub metrics: Arc<Metrics>,
    pub auth: Arc<Auth>,
    /// The organisation: its automatic closing message, in each conversation's language.
    pub organisation: Arc<Organisation>,
    /// How long after sending a professional may take back their own message.
    pub retract_window: Duration,
    /// Where asynchronous conversations tell the team inbox of their changes.
    pub inbox: InboxFeed,
    /// How clients who are away are told of the organisation's messages.
    pub notifications: crate::config::NotificationsConfig,
    /// The SMS gateway's settings (longest SMS, countries), when SMS chat is on.
    pub sms: Option<Arc<crate::sms::SmsConfig>>,
    /// Where closed identified conversations go (the patient record), when configured.
    pub record: Option<Arc<crate::record::RecordConfig>>,
}

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
    /// A refusal in its own words, naming the field it concerns (for the console to show it
    /// there), e.g. an SMS to a landline.
    #[error("{message}")]
    Refused {
        code: ErrorCode,
        field: Option<&'static str>,
        message: String,
    },
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
            ConvError::Refused { code, .. } => *code,
            ConvError::Storage | ConvError::Gone => ErrorCode::Internal,
        }
    }
}

impl From<StorageError> for ConvError {
    fn from(_: StorageError) -> Self {
        ConvError::Storage
    }
}

/// A new conversation of `service` for `client`, waiting New in `team` (its queue, or its
/// inbox when the service is asynchronous), with the reply deadline of the service's promise
/// counted from `contact_ms`. Each way in (a chat's `start`, a contact form, a patient's SMS)
/// adds what it knows: topic, answers, language, contact, `client_ref`.
pub fn new_waiting(
    org: &Organisation,
    service: &crate::organisation::Service,
    team: TeamId,
    client: crate::storage::ClientIdentity,
    contact_ms: i64,
) -> crate::storage::ConversationRecord {
    let (_, ms) = view::now();
    let due_at_ms = jiff::Timestamp::from_millisecond(contact_ms)
        .ok()
        .and_then(|contact| org.due(service, contact))
        .map(|due| due.as_millisecond());
    crate::storage::ConversationRecord {
        id: ConversationId(uuid::Uuid::new_v4().simple().to_string()),
        service: service.id.clone(),
        topic: None,
        channel: service.channel.clone(),
        client,
        questionnaire: None,
        resume_token_hash: String::new(),
        client_ref: None,
        created_at_ms: ms,
        lang: None,
        contact: None,
        state: crate::storage::ConversationState {
            status: console_protocol::ConversationStatus::Queued,
            team,
            assigned_to: None,
            queued_at_ms: ms,
            priority: 0,
            summary: None,
            reserved_for: None,
            due_at_ms,
        },
        last_seq: 0,
    }
}

/// The `system` `queued` event (seq 1) that opens a waiting conversation.
pub fn opening_event(record: &crate::storage::ConversationRecord) -> console_protocol::Event {
    let mut detail = serde_json::Map::new();
    detail.insert("team".into(), record.state.team.to_string().into());
    if record.state.priority >= crate::organisation::URGENT_PRIORITY {
        detail.insert("urgent".into(), true.into());
    }
    console_protocol::Event::System(console_protocol::SystemEvent {
        conversation: record.id.clone(),
        seq: 1,
        at: view::rfc3339_of_ms(record.created_at_ms),
        event: console_protocol::SystemKind::Queued,
        detail,
    })
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
    /// The reply deadline (Unix milliseconds) of a service that promises one.
    pub due_at_ms: Option<i64>,
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
            due_at_ms: r.state.due_at_ms,
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

//! Every frame of protocol v1. Inbound frames are [`ClientFrame`] (`/ws/client`) and
//! [`ConsoleFrame`] (`/ws/console`); everything the server sends is a [`ServerFrame`].
//! Each travels inside an [`Envelope`] that carries the optional `req` correlation id.

pub use crate::canned::*;
pub use crate::forms::*;
use crate::ids::*;
pub use crate::inbound::*;
pub use crate::inbox::*;
pub use crate::supervision::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Questionnaire answers: question id → answer (a string, number, boolean or list).
pub type Answers = BTreeMap<String, serde_json::Value>;

/// A frame plus the optional `req` that the server's direct reply echoes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<F> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub req: Option<String>,
    #[serde(flatten)]
    pub frame: F,
}

impl<F> Envelope<F> {
    /// A frame without `req`.
    pub fn new(frame: F) -> Self {
        Self { req: None, frame }
    }

    /// A frame answering the request `req`.
    pub fn reply(req: Option<String>, frame: F) -> Self {
        Self { req, frame }
    }
}

// ---------------------------------------------------------------- outbound

/// Every frame the server sends, on either endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Welcome(Welcome),
    Queued(Queued),
    Queue(QueuePosition),
    Ack(Ack),
    Message(MessageEvent),
    Note(MessageEvent),
    System(SystemEvent),
    Typing(Typing),
    Read(ReadReceipt),
    Closed(Closed),
    Error(ErrorFrame),
    Status(StatusUpdate),
    QueueSnapshot(QueueSnapshot),
    Assigned(Assigned),
    Released(Released),
    History(History),
    /// Extension: the answer to `colleagues`.
    Colleagues(Colleagues),
    /// Extension: the professional's canned responses.
    Canned(CannedList),
    /// Extension (supervisors): one team's queue and staffing.
    TeamOverview(TeamOverview),
    /// Extension (supervisors): the answer to `set_routing`.
    Routing(SetRouting),
    /// Extension (supervisors): the answer to `move`.
    Moved(Moved),
    /// Extension: one team's inbox of open asynchronous matters.
    Inbox(InboxSnapshot),
    /// Extension: a client wrote in an asynchronous matter of the team.
    InboxAlert(InboxAlert),
    /// Extension: the answer to `archive`.
    Archive(Archive),
    /// Extension (client): the answer to `conversations`.
    Conversations(MyConversations),
    /// Extension: the answer to `submit_form`.
    FormReceived(FormReceived),
}

/// Reply to `hello` on both endpoints (the fields of the other endpoint are absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Welcome {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub professional: Option<ProfessionalInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    #[serde(default)]
    pub conversations: Vec<ConversationSummary>,
    /// Extension (console): seconds after sending during which a professional may take back
    /// their own message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retract_window_s: Option<u64>,
    /// Extension (console): SMS chat is on: the longest SMS a professional may send, in
    /// messages (segments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_max_segments: Option<u32>,
}

/// Who the client is, as far as the server knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub kind: IdentityKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Anonymous or strongly identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    Anonymous,
    Identified,
}

/// A professional as shown to the console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfessionalInfo {
    pub id: ProfessionalId,
    pub name: String,
    pub teams: Vec<TeamId>,
    /// Extension: roles beyond taking chats (`supervisor`); absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

/// One conversation in a `welcome`; the console gets the context fields too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub conversation: ConversationId,
    pub status: ConversationStatus,
    pub last_seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<TopicId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub questionnaire: Option<Answers>,
    /// Extension (console): when the client first made contact (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_at: Option<String>,
    /// Extension: the reply deadline (RFC 3339, the organisation's local time) of a
    /// conversation with a service that promises one (`message`, `form`, `sms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
}

/// Status of a conversation: queued (New) → in_progress → complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    Queued,
    InProgress,
    Complete,
}

impl ConversationStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::InProgress => "in_progress",
            Self::Complete => "complete",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(Self::Queued),
            "in_progress" => Some(Self::InProgress),
            "complete" => Some(Self::Complete),
            _ => None,
        }
    }
}

/// A started conversation waits in a team queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queued {
    pub conversation: ConversationId,
    pub resume_token: ResumeToken,
    pub team: TeamId,
    pub position: u32,
    pub estimated_wait_s: u64,
    /// Extension: false while nobody of the team is logged in and available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staffed: Option<bool>,
    /// Extension: seconds since the conversation entered this queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waited_s: Option<u64>,
    /// Extension: the reply deadline (RFC 3339, the organisation's local time) when the
    /// service promises one: "we reply by …".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
    /// Extension: the answers were alarming (a red flag of the service): the emergency
    /// guidance to show the client at once, in their language. The conversation is first in
    /// its queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgent: Option<String>,
}

/// The waiting client's new place in the queue (`"type":"queue"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuePosition {
    pub conversation: ConversationId,
    pub position: u32,
    pub estimated_wait_s: u64,
    /// Extension: false while nobody of the team is logged in and available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staffed: Option<bool>,
    /// Extension: seconds since the conversation entered this queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waited_s: Option<u64>,
}

/// A frame was durably stored (or, for feedback, accepted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    pub conversation: ConversationId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<ClientMsgId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// Who wrote an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Client,
    Professional,
    System,
}

/// The author of a message: clients never see a professional's `id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Author {
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A stored `message` or `note` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageEvent {
    pub conversation: ConversationId,
    pub seq: u64,
    pub at: String,
    pub from: Author,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<ClientMsgId>,
    /// Extension: documents sent with the message (uploaded over HTTP, fetched from
    /// `/api/v1/attachments/{id}` by the conversation's participants).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentRef>,
    /// Extension: the message went to the client's phone by SMS (`out`), or came from it
    /// (`in`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<SmsInfo>,
}

/// Extension: how a message travelled by SMS. An `out` SMS is `queued` when its message is
/// stored; `system` `sms` events (`detail.seq`, `detail.state`, *`detail.reason`*) move it to
/// `sent` (the gateway took it), `delivered` or `failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsInfo {
    /// `out` (the organisation's SMS) or `in` (the client's).
    pub direction: String,
    /// The phone number, masked (`+358 40 *** **67`).
    pub number: String,
    /// The messages (segments) the text takes.
    pub segments: u32,
    /// `gsm7` or `ucs2`.
    pub encoding: String,
    /// An `out` SMS's state when the message was stored (`queued`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// A document attached to a message: what participants see of it. The type is the one the
/// server found in the content, never the sender's claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    pub id: String,
    /// The file name the sender gave, cleaned of path parts and control characters.
    pub name: String,
    /// MIME type, e.g. `application/pdf`.
    #[serde(rename = "type")]
    pub mime: String,
    /// Bytes.
    pub size: u64,
}

/// What a `system` event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemKind {
    Queued,
    Assigned,
    Transferred,
    Closed,
    Reopened,
    /// Extension: the anonymous client identified inside the chat (`detail.name`).
    Identified,
    /// Extension: the client left (gave up waiting, or ended the chat).
    Left,
    /// Extension: a professional took back their message `detail.seq`.
    Retracted,
    /// Extension: the SMS of message `detail.seq` moved to `detail.state` (`sent`,
    /// `delivered`, `failed` with `detail.reason`). Professionals only.
    Sms,
    /// Extension: the transcript up to the `closed` event `detail.close_seq` reached the
    /// patient record (`detail.state` `delivered`) or did not (`failed`, `detail.reason`).
    /// Professionals only.
    Record,
}

impl SystemKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Assigned => "assigned",
            Self::Transferred => "transferred",
            Self::Closed => "closed",
            Self::Reopened => "reopened",
            Self::Identified => "identified",
            Self::Left => "left",
            Self::Retracted => "retracted",
            Self::Sms => "sms",
            Self::Record => "record",
        }
    }
}

/// A stored status change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemEvent {
    pub conversation: ConversationId,
    pub seq: u64,
    pub at: String,
    pub event: SystemKind,
    #[serde(default)]
    pub detail: serde_json::Map<String, serde_json::Value>,
}

/// A stored event of a conversation, as listed in `history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Message(MessageEvent),
    Note(MessageEvent),
    System(SystemEvent),
}

impl Event {
    /// The event's per-conversation sequence number.
    pub fn seq(&self) -> u64 {
        match self {
            Event::Message(m) | Event::Note(m) => m.seq,
            Event::System(s) => s.seq,
        }
    }

    /// The conversation the event belongs to.
    pub fn conversation(&self) -> &ConversationId {
        match self {
            Event::Message(m) | Event::Note(m) => &m.conversation,
            Event::System(s) => &s.conversation,
        }
    }
}

impl std::convert::From<Event> for ServerFrame {
    fn from(e: Event) -> Self {
        match e {
            Event::Message(m) => ServerFrame::Message(m),
            Event::Note(m) => ServerFrame::Note(m),
            Event::System(s) => ServerFrame::System(s),
        }
    }
}

/// The case was closed; the client gets the organisation's automatic message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Closed {
    pub conversation: ConversationId,
    pub message: String,
}

/// An error; never reveals another conversation's content or existence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorFrame {
    pub code: ErrorCode,
    pub message: String,
    /// Extension: the conversation the error is about, when the sender named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<ConversationId>,
    /// Extension: a refused `submit_form`'s problems, field id → why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
}

/// Error codes of protocol v1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadFrame,
    Unauthorized,
    Forbidden,
    NotFound,
    ConversationClosed,
    CapacityFull,
    ServiceClosed,
    RateLimited,
    TooLarge,
    Internal,
}

impl ErrorCode {
    /// Every code, in the order PROTOCOL.md lists them.
    pub const ALL: [ErrorCode; 10] = [
        Self::BadFrame,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::ConversationClosed,
        Self::CapacityFull,
        Self::ServiceClosed,
        Self::RateLimited,
        Self::TooLarge,
        Self::Internal,
    ];

    /// The wire name (also used as a metrics label).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadFrame => "bad_frame",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::ConversationClosed => "conversation_closed",
            Self::CapacityFull => "capacity_full",
            Self::ServiceClosed => "service_closed",
            Self::RateLimited => "rate_limited",
            Self::TooLarge => "too_large",
            Self::Internal => "internal",
        }
    }
}

/// The waiting conversations of one team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueSnapshot {
    pub team: TeamId,
    pub entries: Vec<QueueEntry>,
}

/// One waiting conversation, as the console lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueEntry {
    pub conversation: ConversationId,
    pub service: ServiceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<TopicId>,
    pub waiting_s: u64,
    pub identified: bool,
    /// Extension: higher is served first (transfers and requeues keep their place).
    /// Omitted on the wire when 0, so a plain entry looks exactly like PROTOCOL.md's example.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub priority: i32,
    /// Extension: seconds since the client first made contact (not restarted by a transfer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_s: Option<u64>,
    /// Extension: the client's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Extension: the client's short stable reference (see [`ClientInfo::alias`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Extension: the start of the client's latest message while waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

/// The client as the professional sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub identified: bool,
    /// Extension: the client's language (`fi`, `sv`, `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Extension: a short reference, stable for the conversation and the same for every
    /// professional ("Anonymous 4821").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Extension (professionals only): how the client can be reached outside the conversation
    /// (a contact form's sender, a client who left an address at `start`): to call back, or to
    /// answer an anonymous sender who cannot read replies in the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<crate::forms::FormContact>,
    /// Extension (professionals only): the personal identity code of a client identified
    /// strongly, its check character verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_code: Option<String>,
}

/// A conversation was given to this professional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assigned {
    pub conversation: ConversationId,
    pub service: ServiceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<TopicId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamId>,
    pub client: ClientInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub questionnaire: Option<Answers>,
    pub last_seq: u64,
    /// Extension: `in_progress`, or `complete` when shown read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ConversationStatus>,
    /// Extension: when the client first made contact (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_at: Option<String>,
    /// Extension: the reply deadline (RFC 3339) when the service promises one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
}

/// The conversation left this professional (transfer, requeue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Released {
    pub conversation: ConversationId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Stored events, in seq order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub conversation: ConversationId,
    pub events: Vec<Event>,
}

/// Extension: the organisation's teams and the professionals with presence and load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Colleagues {
    pub teams: Vec<TeamInfo>,
    pub professionals: Vec<Colleague>,
}

/// A team as the console names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamInfo {
    pub id: TeamId,
    pub name: String,
}

/// A professional with presence and load, for the transfer form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Colleague {
    pub id: ProfessionalId,
    pub name: String,
    pub teams: Vec<TeamId>,
    pub presence: Presence,
    pub active: u32,
    pub capacity: u32,
}

/// Whether a professional is logged in and taking chats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Available,
    Away,
    Offline,
}

//! Every frame of protocol v1. Inbound frames are [`ClientFrame`] (`/ws/client`) and
//! [`ConsoleFrame`] (`/ws/console`); everything the server sends is a [`ServerFrame`].
//! Each travels inside an [`Envelope`] that carries the optional `req` correlation id.

use crate::ids::*;
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

// ---------------------------------------------------------------- inbound, client endpoint

/// A frame a client (patient) sends on `/ws/client`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Hello(ClientHello),
    Start(Start),
    Send(SendMessage),
    Typing(Typing),
    Read(ReadReceipt),
    Feedback(Feedback),
    /// Extension: the patient gives up waiting, or leaves the chat.
    Leave(Leave),
}

/// First frame of a client session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ClientHello {
    /// JWT from the identity provider; omitted for anonymous clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Conversations to resume.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resume: Vec<Resume>,
}

/// Resume one conversation from `after_seq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resume {
    pub conversation: ConversationId,
    /// Required on `/ws/client`; ignored on `/ws/console` (membership decides there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_token: Option<ResumeToken>,
    #[serde(default)]
    pub after_seq: u64,
}

/// Start a conversation with a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Start {
    pub service: ServiceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<TopicId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub questionnaire: Option<Answers>,
    /// Makes a retried start idempotent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ref: Option<String>,
    /// Extension: the patient's language (`fi`, `sv`, `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// Extension: the patient leaves a conversation (gives up waiting, or ends the chat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leave {
    pub conversation: ConversationId,
}

/// A message (or, on the console, an internal note) to store and deliver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendMessage {
    pub conversation: ConversationId,
    pub client_msg_id: ClientMsgId,
    pub body: String,
}

/// Typing indicator; `role` is set by the server when relaying.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Typing {
    pub conversation: ConversationId,
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// Read receipt up to `seq`; `role` is set by the server when relaying.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadReceipt {
    pub conversation: ConversationId,
    pub seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// A rating 1–5 after the conversation closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    pub conversation: ConversationId,
    pub rating: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

// ---------------------------------------------------------------- inbound, console endpoint

/// A frame a professional sends on `/ws/console`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ConsoleFrame {
    Hello(ConsoleHello),
    Status(StatusUpdate),
    SubscribeQueue(SubscribeQueue),
    Accept(Accept),
    Send(SendMessage),
    Typing(Typing),
    Read(ReadReceipt),
    Note(SendMessage),
    Transfer(Transfer),
    Close(Close),
    Reopen(Reopen),
    History(HistoryRequest),
    /// Extension: take back one's own message within the retract window.
    Retract(Retract),
    /// Extension: hand a held conversation back to its team queue.
    Release(Release),
    /// Extension: teams and colleagues with their presence and load.
    Colleagues(ColleaguesRequest),
    /// Extension: list the professional's canned responses.
    Canned(CannedRequest),
    /// Extension: create or edit a personal canned response.
    CannedSave(CannedSave),
    /// Extension: delete a personal canned response.
    CannedDelete(CannedDelete),
    /// Extension (supervisors): follow one's teams live (`team_overview` frames).
    Supervise(Supervise),
    /// Extension (supervisors): set how a team's queue hands out conversations.
    SetRouting(SetRouting),
    /// Extension (supervisors): move a waiting conversation to another team's queue.
    Move(Move),
}

/// Extension: a supervisor asks for the overview of `teams` (default: every team of theirs),
/// now and whenever it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Supervise {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<Vec<TeamId>>,
    /// The language for team names (the console's); the organisation's default otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// How a team's queue hands out conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingMode {
    /// The longest-waiting conversation goes to the least-loaded available professional.
    Auto,
    /// Professionals pick from the queue.
    Manual,
}

impl RoutingMode {
    /// The wire name (`auto`, `manual`), also the stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Manual => "manual",
        }
    }
}

/// Extension: a supervisor sets a team's routing (also the server's reply, `routing`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetRouting {
    pub team: TeamId,
    pub routing: RoutingMode,
}

/// Extension: a supervisor moves a waiting conversation to `to_team`'s queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Move {
    pub conversation: ConversationId,
    pub to_team: TeamId,
}

/// Extension: take back message `seq` (one's own, within the retract window).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Retract {
    pub conversation: ConversationId,
    pub seq: u64,
}

/// Extension: hand a held conversation back to the front of its team queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub conversation: ConversationId,
}

/// Extension: ask for the teams and colleagues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ColleaguesRequest {
    /// The language for team names (the console's); the organisation's default otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// First frame of a console session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ConsoleHello {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Extension: replay assigned conversations from `after_seq` after a reconnect.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resume: Vec<Resume>,
}

/// Availability and capacity (console → server and the server's echo).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct StatusUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<Availability>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// Set by the server: how many conversations the professional holds now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<u32>,
}

/// Whether a professional takes new conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    Available,
    Away,
}

/// Subscribe to queue snapshots of teams.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscribeQueue {
    pub teams: Vec<TeamId>,
}

/// Take the next conversation of a team, or a chosen one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Accept {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<ConversationId>,
}

/// Move a conversation to another team or a named professional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transfer {
    pub conversation: ConversationId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_team: Option<TeamId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_professional: Option<ProfessionalId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Close a case with an optional summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Close {
    pub conversation: ConversationId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

/// Reopen a complete conversation; it is assigned to the reopener.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reopen {
    pub conversation: ConversationId,
}

/// Ask for stored events before `before_seq` (newest first cut, returned in order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRequest {
    pub conversation: ConversationId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
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

// ---------------------------------------------------------------- canned responses (ext)

/// Ask for the canned responses (`{"type":"canned"}`): the team ones and one's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CannedRequest {}

/// Create a personal canned response, or edit one's own when `id` is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CannedSave {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// 1–32 characters of `a-z`, `0-9`, `_`, `-`.
    pub code: String,
    /// At most 100 characters; may be empty.
    #[serde(default)]
    pub title: String,
    /// One of the organisation's languages.
    pub lang: String,
    /// 1–2000 characters; may hold `{client_name}`, `{professional_name}`, `{team}`.
    pub body: String,
}

/// Delete one's own canned response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CannedDelete {
    pub id: String,
}

/// Whose a canned response is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CannedScope {
    /// From the organisation configuration, for every member of `team`.
    Team,
    /// The professional's own.
    Personal,
}

/// One canned response in one language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CannedResponse {
    /// Opaque; a personal response's id is what `canned_save` and `canned_delete` take.
    pub id: String,
    pub scope: CannedScope,
    /// The team, for `scope: team`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamId>,
    pub code: String,
    pub title: String,
    pub lang: String,
    pub body: String,
}

/// The professional's canned responses: their teams' (one entry per language), then their own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CannedList {
    pub responses: Vec<CannedResponse>,
}

// ---------------------------------------------------------------- supervision (ext)

/// Extension: one team as its supervisors see it — the queue in summary (never content or the
/// client's name), who is signed in with their load, and the routing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamOverview {
    pub team: TeamId,
    pub name: String,
    pub routing: RoutingMode,
    /// Conversations waiting.
    pub waiting: u32,
    /// How long the longest-waiting one has waited (0 when nobody waits).
    pub oldest_wait_s: u64,
    /// The wait a client queued now would be told.
    pub estimated_wait_s: u64,
    /// Clients wait and nobody of the team is available.
    pub unstaffed: bool,
    /// Professionals of the team available now.
    pub available: u32,
    /// Conversations the team's signed-in professionals hold.
    pub active: u32,
    /// Summed capacity of the available professionals.
    pub capacity: u32,
    /// The waiting conversations in queue order.
    pub queue: Vec<OverviewEntry>,
    /// Every professional of the team, with presence and load.
    pub professionals: Vec<TeamMember>,
}

/// Extension: a waiting conversation in summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewEntry {
    pub conversation: ConversationId,
    pub service: ServiceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<TopicId>,
    pub channel: String,
    pub waiting_s: u64,
    pub identified: bool,
}

/// Extension: a professional of a team with presence and load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamMember {
    pub id: ProfessionalId,
    pub name: String,
    pub presence: Presence,
    pub active: u32,
    pub capacity: u32,
}

/// Extension: a waiting conversation moved to `team`'s queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Moved {
    pub conversation: ConversationId,
    pub team: TeamId,
}

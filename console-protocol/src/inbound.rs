//! What clients (`/ws/client`) and professionals (`/ws/console`) send: the inbound frames
//! of each endpoint.

use crate::frames::*;
use crate::ids::*;
use serde::{Deserialize, Serialize};

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
    /// Extension: "my conversations" of an identified client.
    Conversations(ConversationsRequest),
    /// Extension: join one of one's own conversations during the session.
    Open(OpenConversation),
    /// Extension: a filled-in contact form of a `form` service.
    SubmitForm(crate::forms::SubmitForm),
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
    /// Extension: where the client wants to be told of the organisation's reply while they are
    /// away (an e-mail address and/or a phone number); never the reply itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<crate::forms::FormContact>,
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
    /// May be empty when the message carries a document.
    pub body: String,
    /// Extension: documents to attach, each the signed ticket the server's upload endpoint
    /// made for this conversation (a client cannot make one). Used by that endpoint itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
    /// Extension (console): send the message to the client's phone by SMS too. Only while the
    /// case is In progress and held by the sender; always so in an `sms` conversation.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sms: bool,
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
    /// Extension: follow one's teams' inboxes of asynchronous matters (`inbox` frames).
    SubscribeInbox(SubscribeInbox),
    /// Extension: take an inbox matter (or join one's own).
    Take(Take),
    /// Extension: search the archive of complete asynchronous matters.
    Archive(ArchiveRequest),
    /// Extension: open a thread with a registered client.
    StartThread(StartThread),
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
    /// Extension: why a professional outside the care relationship and the conversation's
    /// team reads it (1–300 characters), written to the access log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

//! Asynchronous care (extension): the team inbox of non-urgent messages, contact forms and SMS
//! matters on the console, the archive of complete ones, and the client's own list of
//! conversations ("my conversations").

use crate::frames::ConversationStatus;
use crate::ids::*;
use serde::{Deserialize, Serialize};

/// Extension: follow the inbox of `teams` (default: every team of the professional's), now and
/// whenever it changes (`inbox` frames, one per team).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SubscribeInbox {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<Vec<TeamId>>,
}

/// Extension: make an inbox matter one's own and join it (status New → In progress), or join
/// one that already is one's own (after a reconnect). Answered with `assigned`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Take {
    pub conversation: ConversationId,
}

/// Extension: a professional opens a thread with a registered client (known by the identity
/// provider's subject) in a `message` service of their team, with a first message. Answered
/// with `assigned` (the thread is theirs, In progress), then the message's `ack`; with
/// `close_after` the thread is closed right after the message (a document, a decision).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartThread {
    pub service: ServiceId,
    /// The client's subject at the identity provider (a `message` service).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client: String,
    /// Extension: the mobile number of a new SMS conversation (an `sms` service), instead of
    /// `client`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<TopicId>,
    pub client_msg_id: ClientMsgId,
    pub body: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub close_after: bool,
}

/// Extension: one team's open asynchronous matters, due and overdue first (`"type":"inbox"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxSnapshot {
    pub team: TeamId,
    pub entries: Vec<InboxEntry>,
}

/// One open asynchronous matter in a team's inbox. No content and no client name: those are
/// read by opening the matter (`history`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxEntry {
    pub conversation: ConversationId,
    pub service: ServiceId,
    /// `message`, `form` or `sms`.
    pub channel: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<TopicId>,
    /// `queued` (New) or `in_progress`.
    pub status: ConversationStatus,
    /// Who has taken it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<ProfessionalId>,
    /// Forwarded to this professional: only they may take it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_for: Option<ProfessionalId>,
    pub identified: bool,
    /// The reply deadline while the organisation owes a reply (RFC 3339, local time); absent
    /// once it has replied, until the client writes again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
    /// The deadline has passed without a reply.
    pub overdue: bool,
    /// The deadline is less than a day away.
    pub due_soon: bool,
    /// When the client first made contact (RFC 3339, UTC).
    pub contact_at: String,
    /// The latest event (RFC 3339, UTC).
    pub updated_at: String,
}

/// Extension: a client wrote in an asynchronous matter of the team ("new messages"), sent to
/// everyone following the team's inbox, whoever holds the matter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxAlert {
    pub conversation: ConversationId,
    pub team: TeamId,
    pub service: ServiceId,
}

/// Extension: search the complete asynchronous matters of one's teams, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ArchiveRequest {
    /// Matches the reference, service, topic or closing summary (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// Extension: the answer to `archive`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Archive {
    pub entries: Vec<ArchiveEntry>,
}

/// One complete matter in the archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchiveEntry {
    pub conversation: ConversationId,
    /// The reference the client was told (`M-…`, `F-…`).
    pub reference: String,
    pub service: ServiceId,
    pub channel: String,
    pub team: TeamId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<TopicId>,
    pub identified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Who closed it (held it last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<ProfessionalId>,
    pub contact_at: String,
}

/// Extension (client): list one's own conversations; identified clients only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ConversationsRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Conversations this device holds resume tokens for (an anonymous contact form's sender
    /// coming back in the same browser): listed too, when the token is the conversation's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<HeldConversation>,
}

/// A conversation and its resume token, as a device keeps them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldConversation {
    pub conversation: ConversationId,
    pub resume_token: crate::ResumeToken,
}

/// Extension (client): the answer to `conversations` ("my conversations"), newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyConversations {
    pub conversations: Vec<MyConversation>,
}

/// One of the client's conversations, live or asynchronous.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyConversation {
    pub conversation: ConversationId,
    pub reference: String,
    pub service: ServiceId,
    pub channel: String,
    pub status: ConversationStatus,
    pub last_seq: u64,
    /// The organisation's messages after the client's last message.
    pub unread: u32,
    /// "We reply by …" while the organisation owes a reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
    pub contact_at: String,
    pub updated_at: String,
    /// What `open` (or a `hello` resume) needs to join it.
    pub resume_token: ResumeToken,
}

/// Extension (client): join one of one's own conversations (from "my conversations") during a
/// session and receive its events after `after_seq`; the same as resuming it in `hello`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenConversation {
    pub conversation: ConversationId,
    pub resume_token: ResumeToken,
    #[serde(default)]
    pub after_seq: u64,
}

/// The reference a client is told for a conversation: a letter for its channel and the first
/// eight characters of its id, upper-case (`M-1A2B3C4D`).
pub fn reference(channel: &str, conversation: &ConversationId) -> String {
    let letter = match channel {
        "message" => 'M',
        "form" => 'F',
        "sms" => 'S',
        _ => 'C',
    };
    let id: String = conversation
        .as_str()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(8)
        .collect();
    format!("{letter}-{}", id.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_the_channel_and_the_id() {
        let id = ConversationId("1a2b3c4d5e6f".into());
        assert_eq!(reference("message", &id), "M-1A2B3C4D");
        assert_eq!(reference("form", &id), "F-1A2B3C4D");
        assert_eq!(reference("chat", &id), "C-1A2B3C4D");
    }
}

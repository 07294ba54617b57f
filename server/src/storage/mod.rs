//! Durable storage behind the [`Storage`] trait: conversations and their events with a
//! gap-free per-conversation `seq`, professionals' personal canned responses, and the SMS sent
//! through the gateway and received from patients. `sqlite` is
//! the embedded backend, `postgres` the cluster's; each has one writer that commits in groups
//! and answers each write only after the commit is durable. `contract` is the test suite every
//! backend must pass.

pub mod access;
#[cfg(test)]
pub(crate) mod contract;
#[cfg(test)]
pub mod flaky;
pub mod postgres;
pub mod record;
pub mod retention;
pub mod sms;
pub mod sqlite;

use async_trait::async_trait;
use console_protocol::{
    Answers, ConversationId, ConversationStatus, Event, ProfessionalId, ServiceId, TeamId, TopicId,
};
use std::sync::Arc;

pub use sms::{InboundSms, SmsOut, SmsRecord, SmsState};

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database: {0}")]
    Database(String),
    #[error("duplicate: {0}")]
    Duplicate(String),
    /// A fenced append lost: another writer appended to the conversation first, so the
    /// writer's view of it is stale (it catches up and retries). Only backends shared by
    /// several writers return it; SQLite never does.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("storage writer stopped")]
    Closed,
    #[error("corrupt record: {0}")]
    Corrupt(String),
    #[error("not found: {0}")]
    NotFound(String),
}

/// Who the client of a conversation is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClientIdentity {
    /// The identity provider's subject, for identified clients.
    pub subject: Option<String>,
    /// Display name shown to professionals.
    pub name: Option<String>,
    pub identified: bool,
}

/// How the sender of a contact form can be reached. Personal data: never logged.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// E.164, e.g. `+358401234567`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl Contact {
    /// The JSON a backend stores in its `contact` column (`None` for no contact).
    pub fn to_column(contact: &Option<Contact>) -> Result<Option<String>, StorageError> {
        contact
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StorageError::Database(format!("encode contact: {e}")))
    }

    /// Reads the `contact` column back.
    pub fn from_column(column: Option<&str>) -> Result<Option<Contact>, StorageError> {
        column
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| StorageError::Corrupt(format!("contact: {e}")))
    }
}

/// The mutable state of a conversation, written whole with each state-changing event (and
/// published with it to the other nodes of a cluster).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConversationState {
    pub status: ConversationStatus,
    pub team: TeamId,
    pub assigned_to: Option<ProfessionalId>,
    /// Unix milliseconds when it (last) entered a queue.
    pub queued_at_ms: i64,
    /// Higher is served first.
    pub priority: i32,
    pub summary: Option<String>,
    /// While queued after a transfer to a named professional: only they may take it.
    pub reserved_for: Option<ProfessionalId>,
    /// Unix milliseconds of the reply deadline, for a service with a reply promise.
    pub due_at_ms: Option<i64>,
}

/// Everything stored about one conversation apart from its events.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationRecord {
    pub id: ConversationId,
    pub service: ServiceId,
    pub topic: Option<TopicId>,
    pub channel: String,
    pub client: ClientIdentity,
    pub questionnaire: Option<Answers>,
    /// SHA-256 (hex) of the resume token; the token itself is never stored.
    pub resume_token_hash: String,
    /// The client's idempotency key for `start`.
    pub client_ref: Option<String>,
    pub created_at_ms: i64,
    /// The client's language (`fi`, `sv`, `en`), when they said.
    pub lang: Option<String>,
    /// How to reach the sender of a contact form, when they gave it.
    pub contact: Option<Contact>,
    pub state: ConversationState,
    /// Highest stored seq (0 when none). Filled in by loads; ignored on create.
    pub last_seq: u64,
}

/// A professional's own canned response (quick reply), kept so it follows them between
/// computers.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonalCanned {
    /// Opaque, made by the server (`p-…`).
    pub id: String,
    pub professional: ProfessionalId,
    pub code: String,
    pub title: String,
    /// One of the organisation's languages.
    pub lang: String,
    pub body: String,
    /// Unix milliseconds of the last save.
    pub updated_at_ms: i64,
}

/// One durable write. The writer applies a group of these in one transaction.
// `Append` is nearly every op and the largest; boxing it would cost an allocation per
// message to save bytes in the rare small ones.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// A new conversation and its first event (seq 1 of that conversation), both or neither:
    /// a conversation is never stored without the event that opened it. The event is stored
    /// with the record's state; `record.last_seq` is ignored.
    Create {
        record: Box<ConversationRecord>,
        first: Event,
    },
    /// Append one event; when `state` is set the conversation's state is replaced too.
    Append {
        event: Event,
        state: Option<ConversationState>,
    },
    /// The anonymous client identified inside the chat: the conversation's client identity is
    /// replaced and `event` (the `identified` system event) appended, both or neither.
    Identify {
        event: Event,
        client: ClientIdentity,
    },
    /// A client's rating of a complete conversation.
    Feedback {
        conversation: ConversationId,
        rating: u8,
        comment: Option<String>,
        at_ms: i64,
    },
    /// Stores a professional's canned response: a new one, or with `replace` an edit of one of
    /// their own (same `id` and `professional`, else [`StorageError::NotFound`]). A second
    /// response of the same professional with the same code and language is a
    /// [`StorageError::Duplicate`].
    SaveCanned {
        response: Box<PersonalCanned>,
        replace: bool,
    },
    /// Deletes one of `professional`'s canned responses ([`StorageError::NotFound`] when they
    /// have none with that id).
    DeleteCanned {
        id: String,
        professional: ProfessionalId,
    },
    /// An `Append` together with notifications of the event (e.g. "you have a new message"),
    /// all in one commit: the notifications are stored only if the event is.
    AppendNotify {
        event: Event,
        state: Option<ConversationState>,
        notifications: Vec<Notification>,
        /// SMS the event carries to the client through the gateway, stored like the
        /// notifications: only if the event is.
        sms: Vec<SmsOut>,
        /// The transcript's delivery to the patient record (with a `closed` event).
        records: Vec<record::RecordDelivery>,
    },
    /// A notification was delivered.
    OutboxSent { id: String, at_ms: i64 },
    /// A delivery attempt failed: try again at `next_attempt_ms`, or give up when `give_up`.
    OutboxRetry {
        id: String,
        attempts: u32,
        next_attempt_ms: i64,
        error: String,
        give_up: bool,
    },
    /// Stores an uploaded document (SQLite's writer; PostgreSQL writes it from any node).
    PutAttachment(Box<Attachment>),
    /// Removes a document no message names.
    DeleteAttachment { id: String },
    /// Removes the documents uploaded before `before_ms` that no stored message names.
    SweepAttachments { before_ms: i64 },
    /// Stores an SMS that no event carries (an automatic reply); the same `id` again changes
    /// nothing.
    QueueSms(SmsOut),
    /// The gateway accepted the SMS: `provider_ref` is kept (unless one is stored already) and
    /// a `queued` one becomes `sent` (a report that moved it further stands).
    SmsAccepted {
        id: String,
        provider_ref: String,
        at_ms: i64,
    },
    /// Handing the SMS to the gateway failed: a `queued` one is due again at
    /// `next_attempt_ms`, with `attempts` and the error kept.
    SmsRetry {
        id: String,
        attempts: u32,
        next_attempt_ms: i64,
        error: String,
    },
    /// The SMS is given up (a permanent refusal, too many attempts): `failed` with `reason`,
    /// unless it is already `delivered` or `failed`.
    SmsFailed {
        id: String,
        reason: String,
        at_ms: i64,
    },
    /// The conversation was told that the SMS is in `state`.
    SmsAnnounced { id: String, state: SmsState },
    /// A delivery report (SQLite's writer; PostgreSQL writes it from any node): see
    /// [`Storage::sms_report`]. Fails with [`StorageError::NotFound`] when no SMS has `id`.
    SmsReport {
        id: String,
        provider_ref: Option<String>,
        state: SmsState,
        reason: Option<String>,
        at_ms: i64,
    },
    /// Stores an SMS a patient sent (SQLite's writer; PostgreSQL writes it from any node);
    /// fails with [`StorageError::Duplicate`], changing nothing, when its `provider_ref` is
    /// stored already.
    PutInboundSms(InboundSms),
    /// The worker handled an inbound SMS (`outcome`: `posted`, `new_matter`, `closed_reply`,
    /// ...): it is no longer pending. A second one changes nothing.
    SmsInboundHandled {
        provider_ref: String,
        outcome: String,
    },
    /// Access-log entries (SQLite's writer chains them; PostgreSQL appends them through
    /// `Storage::append_access` on any node, never through its fenced writer).
    AppendAccess(Vec<access::AccessEntry>),
    /// A supervisor set how a team's queue hands out conversations (`auto` or `manual`):
    /// it replaces the configured routing until set again, on every node and after restarts.
    SetRouting {
        team: TeamId,
        routing: String,
        by: ProfessionalId,
        at_ms: i64,
    },
    /// Removes a conversation with everything stored of it (events, documents, rating,
    /// notifications, SMS, patient-record deliveries) — only if it is complete, was closed
    /// before `closed_before_ms` and no legal hold keeps it; else
    /// [`StorageError::NotFound`], changing nothing. The access log keeps its entries about it.
    Purge {
        conversation: ConversationId,
        closed_before_ms: i64,
    },
    /// SQLite's writer: see [`Storage::set_legal_hold`] (PostgreSQL writes it from any node).
    SetLegalHold(retention::LegalHold),
    /// SQLite's writer: see [`Storage::release_legal_hold`]; [`StorageError::NotFound`] when
    /// no hold is in force.
    ReleaseLegalHold {
        conversation: ConversationId,
        by: ProfessionalId,
        at_ms: i64,
    },
    /// SQLite's writer: see [`Storage::prune_access`].
    PruneAccess { before_ms: i64, at_ms: i64 },
    /// SQLite's writer: see [`Storage::purge_inbound_sms`].
    PurgeInboundSms { before_ms: i64 },
    /// An attempt at delivering a transcript ended: `state` `delivered`, `failed` (given up,
    /// with `reason`), or still `queued` and due again at `next_attempt_ms`. Only a `queued`
    /// delivery changes.
    RecordOutcome {
        id: String,
        state: record::DeliveryState,
        attempts: u32,
        next_attempt_ms: i64,
        reason: Option<String>,
        at_ms: i64,
    },
    /// The conversation was told that the delivery is in `state`.
    RecordAnnounced {
        id: String,
        state: record::DeliveryState,
    },
}

/// A notification for a client, kept in the outbox until a worker sent it: written in the same
/// commit as the event it announces, so none is lost and none exists for an event that was
/// not stored. Personal data (the recipient): never logged.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Unique; also the e-mail's `Message-ID` local part, so a receiver can drop a resend.
    pub id: String,
    pub conversation: ConversationId,
    /// `email` or `sms`.
    pub channel: String,
    /// An e-mail address or an E.164 phone number.
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at_ms: i64,
    /// Stored only when the conversation has no notification of this channel yet (the SMS
    /// sent the first time for a thread).
    pub first_of_channel: bool,
}

/// A document uploaded to a conversation for one message (the one with `client_msg_id`); shown
/// only once that message names it. Personal data (content, name): never logged.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub id: String,
    pub conversation: ConversationId,
    pub client_msg_id: String,
    pub name: String,
    /// The type found in the content.
    pub mime: String,
    /// SHA-256 of `data`, hex.
    pub sha256: String,
    pub data: Vec<u8>,
    pub uploaded_at_ms: i64,
}

/// A notification in the outbox with its delivery attempts so far.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub notification: Notification,
    pub attempts: u32,
}

/// The storage backend.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Applies `op` and returns only after it is durably committed.
    /// An `Append` whose (conversation, seq) or (conversation, client_msg_id) exists already
    /// fails with [`StorageError::Duplicate`] and changes nothing.
    async fn write(&self, op: WriteOp) -> Result<(), StorageError>;
    /// Hands `op` to the writer now and returns a receipt that resolves after its commit.
    /// Ops submitted one after another commit in that order (the actor relies on this to
    /// keep a conversation's seqs gap-free while several commits are in flight).
    async fn submit(&self, op: WriteOp) -> Result<Receipt, StorageError>;
    /// One conversation with its `last_seq`.
    async fn conversation(
        &self,
        id: &ConversationId,
    ) -> Result<Option<ConversationRecord>, StorageError>;
    /// The conversation a client started with this `client_ref`, if any.
    async fn conversation_by_client_ref(
        &self,
        client_ref: &str,
    ) -> Result<Option<ConversationRecord>, StorageError>;
    /// Every conversation whose status is not `complete` (to rebuild queues at start-up), by
    /// `queued_at_ms`, then id.
    async fn open_conversations(&self) -> Result<Vec<ConversationRecord>, StorageError>;
    /// The complete asynchronous conversations (channels `message`, `form`, `sms`) of `teams`,
    /// newest contact first, at most `limit`; with `query`, only those whose id starts with it
    /// (a reference's id part) or whose service, topic or closing summary contains it,
    /// ignoring case.
    async fn archive(
        &self,
        teams: &[TeamId],
        query: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ConversationRecord>, StorageError>;
    /// The conversations of the identified client `subject`, newest contact first, at most
    /// `limit`.
    async fn client_conversations(
        &self,
        subject: &str,
        limit: u32,
    ) -> Result<Vec<ConversationRecord>, StorageError>;
    /// Notifications not yet sent nor given up whose next attempt is due at `now_ms`, oldest
    /// first, at most `limit`.
    async fn outbox_due(&self, now_ms: i64, limit: u32) -> Result<Vec<OutboxItem>, StorageError>;
    /// SMS still `queued` and not accepted by the gateway (no `provider_ref`) whose next
    /// attempt is due at `now_ms`, oldest first, at most `limit`.
    async fn sms_due(&self, now_ms: i64, limit: u32) -> Result<Vec<SmsRecord>, StorageError>;
    /// SMS of a message (`seq > 0`) whose state changed since the conversation was last told
    /// (`announced != state`), oldest first, at most `limit`.
    async fn sms_unannounced(&self, limit: u32) -> Result<Vec<SmsRecord>, StorageError>;
    /// One stored SMS.
    async fn sms(&self, id: &str) -> Result<Option<SmsRecord>, StorageError>;
    /// The SMS the gateway accepted under `provider_ref`.
    async fn sms_by_provider_ref(
        &self,
        provider_ref: &str,
    ) -> Result<Option<SmsRecord>, StorageError>;
    /// A delivery report from the provider's webhook. Every node may (a door too): it writes
    /// no event. The state moves only forward by [`SmsState::rank`] (a final one never
    /// changes, an equal or lower one changes nothing); a move to `failed` keeps `reason`;
    /// `provider_ref` is kept when none is stored yet. `false` when no SMS has `id`, else
    /// `true`, also when nothing changed (a repeated report).
    async fn sms_report(
        &self,
        id: &str,
        provider_ref: Option<&str>,
        state: SmsState,
        reason: Option<&str>,
        at_ms: i64,
    ) -> Result<bool, StorageError>;
    /// Stores an SMS a patient sent, pending until the worker handled it; every node may.
    /// Whether it was new (a repeated webhook of the same `provider_ref` stores nothing).
    async fn put_inbound_sms(&self, sms: InboundSms) -> Result<bool, StorageError>;
    /// Inbound SMS not yet handled, oldest first, at most `limit`.
    async fn inbound_sms_pending(&self, limit: u32) -> Result<Vec<InboundSms>, StorageError>;
    /// The conversations that sent an SMS of a message (`seq > 0`) to `number`, each once with
    /// its current status, and the open `sms` conversations whose contact is that number (a
    /// matter a patient's SMS opened, before any SMS of ours); the one with the most recent SMS
    /// (or opened last) first. To find the case a patient's SMS answers.
    async fn sms_cases(
        &self,
        number: &str,
    ) -> Result<Vec<(ConversationId, ConversationStatus)>, StorageError>;
    /// Events with `seq > after_seq`, ascending, at most `limit`.
    async fn events_after(
        &self,
        id: &ConversationId,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<Event>, StorageError>;
    /// The `limit` newest events with `seq < before_seq`, returned ascending.
    async fn events_before(
        &self,
        id: &ConversationId,
        before_seq: u64,
        limit: u32,
    ) -> Result<Vec<Event>, StorageError>;
    /// Every stored message or note of the conversation that has a `client_msg_id`:
    /// (client_msg_id, seq, at), by seq. A conversation actor restored from storage loads them
    /// once to recognise resends; keeping each `client_msg_id` once per conversation is the
    /// actor's job (it is the one writer of its conversation), not an index's.
    async fn client_msg_ids(
        &self,
        id: &ConversationId,
    ) -> Result<Vec<(String, u64, String)>, StorageError>;
    /// The stored rating of a conversation, if any.
    async fn feedback(
        &self,
        id: &ConversationId,
    ) -> Result<Option<(u8, Option<String>)>, StorageError>;
    /// A professional's personal canned responses, ordered by code and language.
    async fn canned_responses(
        &self,
        professional: &ProfessionalId,
    ) -> Result<Vec<PersonalCanned>, StorageError>;
    /// Stores an uploaded document. Every node may (a door too): a document is not part of a
    /// conversation's event order, and nobody sees it before a message names it.
    async fn put_attachment(&self, attachment: Attachment) -> Result<(), StorageError>;
    /// A stored document.
    async fn attachment(&self, id: &str) -> Result<Option<Attachment>, StorageError>;
    /// Removes a document no message names (its message was refused).
    async fn delete_attachment(&self, id: &str) -> Result<(), StorageError>;
    /// Removes every document uploaded before `before_ms` that no stored message names (its
    /// upload ended before the message was sent: a crash, a lost connection).
    async fn sweep_attachments(&self, before_ms: i64) -> Result<(), StorageError>;
    /// Appends access-log entries, chained after the last stored one, and answers only once
    /// they are durable. Every node may (a door serving a download too).
    async fn append_access(&self, entries: Vec<access::AccessEntry>) -> Result<(), StorageError>;
    /// The access-log entries matching `query`, oldest first.
    async fn access_log(
        &self,
        query: &access::AccessQuery,
    ) -> Result<Vec<access::AccessRecord>, StorageError>;
    /// Complete conversations of `service` closed before `closed_before_ms` that no legal hold
    /// keeps, oldest close first, at most `limit`.
    async fn retention_due(
        &self,
        service: &ServiceId,
        closed_before_ms: i64,
        limit: u32,
    ) -> Result<Vec<ConversationId>, StorageError>;
    /// How many conversations of `service` closed before `closed_before_ms` are due for
    /// purging and how many a legal hold keeps.
    async fn retention_counts(
        &self,
        service: &ServiceId,
        closed_before_ms: i64,
    ) -> Result<retention::RetentionCounts, StorageError>;
    /// Places a legal hold; every node may. [`StorageError::NotFound`] when no such
    /// conversation is stored, [`StorageError::Duplicate`] when a hold is in force already.
    async fn set_legal_hold(&self, hold: retention::LegalHold) -> Result<(), StorageError>;
    /// Releases the hold in force; `false` when there is none.
    async fn release_legal_hold(
        &self,
        conversation: &ConversationId,
        by: &ProfessionalId,
        at_ms: i64,
    ) -> Result<bool, StorageError>;
    /// The holds of a conversation, in force or released, oldest first.
    async fn legal_holds(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<retention::LegalHold>, StorageError>;
    /// Removes the access-log entries older than `before_ms` from the start of the log —
    /// never the newest entry — behind an anchor holding the last removed entry's hash, so what
    /// stays still verifies (see [`Storage::access_anchor`]). Answers how many were removed.
    async fn prune_access(&self, before_ms: i64, at_ms: i64) -> Result<u64, StorageError>;
    /// Where the stored access log begins: the latest anchor, none before any prune.
    async fn access_anchor(&self) -> Result<Option<retention::AccessAnchor>, StorageError>;
    /// Removes the patients' SMS handled before `before_ms` (their text lives on in the
    /// conversation they went to, until that is purged). Answers how many.
    async fn purge_inbound_sms(&self, before_ms: i64) -> Result<u64, StorageError>;
    /// Transcript deliveries still `queued` whose next attempt is due at `now_ms`, oldest
    /// first, at most `limit`.
    async fn record_due(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<record::RecordDeliveryRow>, StorageError>;
    /// Deliveries whose final state the conversation was not told yet, oldest first.
    async fn record_unannounced(
        &self,
        limit: u32,
    ) -> Result<Vec<record::RecordDeliveryRow>, StorageError>;
    /// The deliveries of a conversation, oldest first.
    async fn record_deliveries(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<record::RecordDeliveryRow>, StorageError>;
    /// The routing supervisors set per team (team, `auto` or `manual`), by team.
    async fn team_routing(&self) -> Result<Vec<(TeamId, String)>, StorageError>;
    /// Answers when the backend is usable (for `/readyz`).
    async fn ping(&self) -> Result<(), StorageError>;
    /// Waits until every write handed over so far is committed, then stops the writer.
    async fn close(&self);
}

/// Resolves once a submitted write is committed (or failed).
pub type Receipt = tokio::sync::oneshot::Receiver<Result<(), StorageError>>;

/// The pattern of an archive search: `query` lower-cased, LIKE's wildcards escaped with `\`
/// (for the `%…%` and `…%` forms the backends build from it).
pub(crate) fn like_pattern(query: &str) -> String {
    query
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The id part of a reference (`M-1A2B3C4D` → `1a2b3c4d`), else the query itself.
pub(crate) fn reference_id(pattern: &str) -> &str {
    match pattern.split_once('-') {
        Some((letter, id)) if letter.len() == 1 && !id.is_empty() => id,
        _ => pattern,
    }
}

/// Unix milliseconds now, for a write that carries no time of its own (when an inbound SMS was
/// handled).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A shared storage backend.
pub type SharedStorage = Arc<dyn Storage>;

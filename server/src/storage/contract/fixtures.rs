//! What the contract tests (and a backend's own tests) store: conversation records, events and
//! canned responses built from a few arguments, and short ways to read them back.

use crate::storage::{
    ClientIdentity, Contact, ConversationRecord, ConversationState, PersonalCanned, Storage,
    WriteOp,
};
use console_protocol::{
    Author, ConversationId, ConversationStatus, Event, MessageEvent, Role, SystemEvent, SystemKind,
};

/// The state of a conversation waiting in the `station-a` queue since 1 000 ms.
pub(crate) fn queued() -> ConversationState {
    ConversationState {
        status: ConversationStatus::Queued,
        team: "station-a".into(),
        assigned_to: None,
        queued_at_ms: 1_000,
        priority: 0,
        summary: None,
        reserved_for: None,
        // A reply deadline three days on: stored and read back with the rest of the state.
        due_at_ms: Some(1_000 + 3 * 86_400_000),
    }
}

/// A queued conversation of an identified client, every optional field filled in.
pub(crate) fn record(id: &str, client_ref: Option<&str>) -> ConversationRecord {
    let mut questionnaire = console_protocol::Answers::new();
    questionnaire.insert("q1".into(), serde_json::json!("answer"));
    ConversationRecord {
        id: id.into(),
        service: "health-chat".into(),
        topic: Some("medication".into()),
        channel: "web".into(),
        client: ClientIdentity {
            subject: Some("subject-1".into()),
            name: Some("Client One".into()),
            identified: true,
        },
        questionnaire: Some(questionnaire),
        resume_token_hash: "ab".repeat(32),
        client_ref: client_ref.map(Into::into),
        created_at_ms: 999,
        lang: Some("fi".into()),
        contact: Some(Contact {
            email: Some("client.one@example.org".into()),
            phone: Some("+358401234567".into()),
        }),
        state: queued(),
        last_seq: 0,
    }
}

/// The client's message `seq` of `conversation`, sent with `client_msg_id`.
pub(crate) fn message(conversation: &str, seq: u64, client_msg_id: &str) -> Event {
    Event::Message(MessageEvent {
        conversation: conversation.into(),
        seq,
        at: format!("2026-11-21T10:00:{:02}Z", seq % 60),
        from: Author {
            role: Role::Client,
            id: None,
            name: Some("Client One".into()),
        },
        body: format!("message {seq}"),
        client_msg_id: Some(client_msg_id.into()),
        attachments: Vec::new(),
        sms: None,
    })
}

/// A system event `kind` as event `seq` of `conversation`.
pub(crate) fn system(conversation: &str, seq: u64, kind: SystemKind) -> Event {
    Event::System(SystemEvent {
        conversation: conversation.into(),
        seq,
        at: format!("2026-11-21T10:01:{:02}Z", seq % 60),
        event: kind,
        detail: serde_json::Map::new(),
    })
}

/// Appends `event` without changing the conversation's state.
pub(crate) fn append(event: Event) -> WriteOp {
    WriteOp::Append { event, state: None }
}

/// A new conversation whose first event is the message `m1`.
pub(crate) fn create(id: &str, client_ref: Option<&str>) -> WriteOp {
    create_with(record(id, client_ref), message(id, 1, "m1"))
}

/// A new conversation `record` opened by `first`.
pub(crate) fn create_with(record: ConversationRecord, first: Event) -> WriteOp {
    WriteOp::Create {
        record: Box::new(record),
        first,
    }
}

/// The stored seqs of conversation `id`.
pub(crate) async fn seqs(storage: &dyn Storage, id: &str) -> Vec<u64> {
    let events = storage.events_after(&id.into(), 0, 10_000).await;
    events.expect("events").iter().map(Event::seq).collect()
}

/// (seq, at) of the stored message with this `client_msg_id`.
pub(crate) async fn find(
    storage: &dyn Storage,
    id: &ConversationId,
    client_msg_id: &str,
) -> Option<(u64, String)> {
    storage
        .client_msg_ids(id)
        .await
        .expect("client_msg_ids")
        .into_iter()
        .find(|(c, _, _)| c == client_msg_id)
        .map(|(_, seq, at)| (seq, at))
}

/// A canned response of `professional`, titled after its code.
pub(crate) fn canned(
    id: &str,
    professional: &str,
    code: &str,
    lang: &str,
    body: &str,
) -> PersonalCanned {
    PersonalCanned {
        id: id.into(),
        professional: professional.into(),
        code: code.into(),
        title: format!("{code} title"),
        lang: lang.into(),
        body: body.into(),
        updated_at_ms: 1_000,
    }
}

/// Saves `response`: a new one, or with `replace` an edit.
pub(crate) fn save_canned(response: PersonalCanned, replace: bool) -> WriteOp {
    WriteOp::SaveCanned {
        response: Box::new(response),
        replace,
    }
}

/// (code, body) of each of `professional`'s canned responses, in the listed order.
pub(crate) async fn canned_bodies(
    storage: &dyn Storage,
    professional: &str,
) -> Vec<(String, String)> {
    let list = storage.canned_responses(&professional.into()).await;
    let list = list.expect("canned responses");
    list.into_iter().map(|c| (c.code, c.body)).collect()
}
